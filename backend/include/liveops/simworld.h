#pragma once

#include "liveops/regionhost.h"
#include "liveops/swarm.h"
#include "synccore/simcluster.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lv::liveops {

struct SimulatedRegionSpec {
    std::string name;
    int bots = 20;                 ///< dealt round-robin into the world's groups
    ConditionerSettings network;   ///< what the region's bots see, both ways
};

struct SimulatedWorldConfig {
    std::vector<SimulatedRegionSpec> regions;
    std::vector<SwarmGroup> groups;  ///< kinds of player, the same in every region
    std::uint64_t seed = 1;
    TimeUs step = millis(1);
};

/// One change made to a running world, at the simulated time it took effect.
struct WorldChange {
    /// Kick and Move: support acting on one player (KickPlayer, MovePlayer).
    enum class Kind { Knobs, Fault, Network, Kick, Move };
    TimeUs at = 0;
    std::size_t region = 0;
    Kind kind = Kind::Knobs;
    RuntimeKnobs knobs;             ///< Kind::Knobs
    ConditionerSettings network;    ///< Kind::Fault (what the server sends) or Kind::Network (the bots' links)
    std::uint64_t clientId = 0;     ///< Kind::Kick, Kind::Move
    Address target;                 ///< Kind::Move: where the player is sent
    std::string reason;             ///< Kind::Kick, Kind::Move: what the player is told
    bool operator==(const WorldChange&) const = default;
};

/// Everything needed to run a world again exactly: its setup, every change at its time, how long
/// it ran, and the traffic digest it reached (SimCluster::trafficDigest) as the check.
struct WorldRecording {
    SimulatedWorldConfig config;
    std::vector<WorldChange> changes;
    TimeUs duration = 0;
    std::uint64_t digest = 0;
    std::uint64_t datagrams = 0;
};

/// The simulated cluster as fast as the CPU allows: the recording's changes applied at their
/// times, up to its duration. `digest` and `datagrams` of the result are what this run reached;
/// equal to the recording's when the engine behaves as it did when recording.
WorldRecording rerun(const WorldRecording& recording);

/// The sandbox's regions and players: a SimCluster (every server and bot on one simulated
/// network) run on its own thread, paced by the wall clock. Every change lands between two
/// steps and is recorded with its simulated time, so the whole session replays byte for byte.
/// A replaying world applies a recording's changes instead of its callers' and stops at the
/// recording's end. Thread-safe.
class SimulatedWorld {
public:
    static std::unique_ptr<SimulatedWorld> start(SimulatedWorldConfig config);
    static std::unique_ptr<SimulatedWorld> replay(WorldRecording recording);
    ~SimulatedWorld();
    SimulatedWorld(const SimulatedWorld&) = delete;
    SimulatedWorld& operator=(const SimulatedWorld&) = delete;

    const SimulatedWorldConfig& config() const { return m_config; }
    /// The cluster's view of region `i` (index in config().regions); must not outlive the world.
    std::unique_ptr<RegionRuntime> region(std::size_t i);
    /// The network region `i`'s bots see from the next step on (ignored while replaying).
    void setNetwork(std::size_t region, const ConditionerSettings& network);
    void setKnobs(std::size_t region, const RuntimeKnobs& knobs);
    void setFault(std::size_t region, const ConditionerSettings& outgoing);
    std::optional<PlayerLocation> findPlayer(std::size_t region, std::uint64_t clientId) const;
    /// Kick and move act at the next step (and are recorded); false when the player is not there.
    bool kick(std::size_t region, std::uint64_t clientId, const std::string& reason);
    bool movePlayer(std::size_t region, std::uint64_t clientId, const Address& target, const std::string& reason);

    std::vector<GroupReport> groupReports(std::size_t region) const;
    ClientView view(std::size_t region, std::size_t bot) const;
    std::vector<PlayerState> truth(std::size_t region) const;

    /// How far simulated time trails the wall clock (more players than this machine steps in
    /// real time); the session stays exact, only slower.
    TimeUs lag() const;

    /// The session so far: setup, changes, simulated time and digest now.
    WorldRecording recording() const;
    bool replaying() const { return m_script.has_value(); }
    struct ReplayProgress {
        TimeUs now = 0;
        TimeUs end = 0;
        bool finished = false;
        bool identical = false;  ///< finished with the recording's digest and datagram count
    };
    ReplayProgress replayProgress() const;
    /// The SimCluster a world config runs as (each region's bots split evenly over the groups).
    static SimClusterConfig clusterConfigFor(const SimulatedWorldConfig& config);

private:
    class Region;
    explicit SimulatedWorld(SimulatedWorldConfig config, std::optional<WorldRecording> script);
    void run();
    void apply(const WorldChange& change);           // holds m_mutex
    void request(WorldChange change);
    RegionSample sample(std::size_t region);

    SimulatedWorldConfig m_config;
    std::optional<WorldRecording> m_script;
    mutable std::mutex m_mutex;                      // guards everything below
    SimCluster m_cluster;
    std::vector<WorldChange> m_pending;              // callers' changes, applied at the next step
    std::vector<WorldChange> m_changes;              // applied, in order
    std::size_t m_scriptNext = 0;
    std::vector<RuntimeKnobs> m_knobs;               // latest requested, per region
    std::vector<TimeUs> m_lastSampleAt;
    std::chrono::steady_clock::time_point m_origin;  // wall-clock moment of simulated time 0
    std::atomic<bool> m_running{true};
    std::thread m_thread;                            // last: starts after everything above exists
};

} // namespace lv::liveops
