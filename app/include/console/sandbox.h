#pragma once

#include "liveops/client.h"
#include "liveops/simworld.h"
#include "synccore/conditioner.h"

#include <QString>
#include <QTemporaryDir>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "liveops/simworld.h"

namespace lv::liveops {
class Cluster;
class ApiServer;
} // namespace lv::liveops

namespace lv::console {

struct SandboxRegion {
    std::string name;
    int bots = 20;
    ConditionerSettings network;  ///< what that region's bots see, both ways; changeable live
};

/// What the sandbox's bots are like.
enum class SandboxScenario {
    Standard,       ///< PC players, one input pattern
    CrossPlay,      ///< PC (60 Hz input, 120 fps), console (30 Hz, 60 fps), mobile (20 Hz, 30 fps, partial stick)
    Accessibility,  ///< typical, slow, bursty and assisted input patterns side by side
};

struct SandboxConfig {
    std::vector<SandboxRegion> regions;
    SandboxScenario scenario = SandboxScenario::Standard;
    std::chrono::milliseconds telemetryInterval{500};
    std::uint64_t seed = 1;  ///< same seed, same changes at the same times: the same session
    /// eu-west / us-east / ap-south with 20 bots each on increasingly distant networks.
    static SandboxConfig standard();
    /// `regions` regions (1..8) of `bots` bots each, each farther away than the one before.
    static SandboxConfig sized(int regions, int bots);
};

QString scenarioName(SandboxScenario scenario);
std::optional<SandboxScenario> scenarioFromName(const QString& name);
/// The kinds of player a scenario puts in every region.
std::vector<liveops::SwarmGroup> scenarioGroups(SandboxScenario scenario);

/// A sandbox session as a QA bug report attaches it: the scenario and the world's recording.
struct SandboxRecording {
    SandboxScenario scenario = SandboxScenario::Standard;
    liveops::WorldRecording world;
};

/// syncd's service started in-process for QA: a Cluster whose regions and bots run in a
/// SimulatedWorld (deterministic, paced by the wall clock, every change recorded), the API served
/// on an in-process gRPC channel only. The console reaches it through the same client code as a
/// live cluster. A sandbox started from a recording replays it exactly.
class Sandbox {
public:
    static std::unique_ptr<Sandbox> start(const SandboxConfig& config, QString& error);
    static std::unique_ptr<Sandbox> replay(const SandboxRecording& recording, QString& error);
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    /// Options for a client of this sandbox (in-process channel, the sandbox's admin token).
    liveops::client::ClientOptions clientOptions() const;
    /// Live conditioner controls: the network a region's bots see from now on (not while replaying).
    bool setNetwork(const std::string& region, const ConditionerSettings& network);
    /// The session so far, ready to save.
    SandboxRecording recording() const;
    bool replaying() const { return m_world->replaying(); }
    liveops::SimulatedWorld::ReplayProgress replayProgress() const { return m_world->replayProgress(); }
    /// How far the session trails real time (too many bots for this machine).
    std::chrono::milliseconds lag() const { return std::chrono::milliseconds(m_world->lag() / 1000); }
    const SandboxConfig& config() const { return m_config; }

    /// One moment of a region for the sync view: the server's truth and what its first bot's
    /// client shows (own player predicted, others interpolated).
    struct SyncFrame {
        std::vector<PlayerState> truth;
        liveops::ClientView observer;
    };
    SyncFrame syncFrame(const std::string& region) const;

    /// QA figures per region and group of players (the scenario's groups).
    struct GroupFigures {
        std::string region;
        liveops::GroupReport figures;
    };
    std::vector<GroupFigures> figures() const;
    liveops::Cluster& cluster() { return *m_cluster; }

private:
    Sandbox() = default;
    static std::unique_ptr<Sandbox> launch(const SandboxConfig& config, std::unique_ptr<liveops::SimulatedWorld> world, QString& error);
    std::optional<std::size_t> indexOf(const std::string& region) const;
    SandboxConfig m_config;
    QTemporaryDir m_dir;  // the store lives and dies with the sandbox
    std::string m_token;
    std::unique_ptr<liveops::SimulatedWorld> m_world;  // outlives the cluster, which holds views of its regions
    std::unique_ptr<liveops::Cluster> m_cluster;
    std::unique_ptr<liveops::ApiServer> m_api;
};

} // namespace lv::console
