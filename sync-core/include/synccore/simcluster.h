#pragma once

#include "synccore/bots.h"
#include "synccore/client.h"
#include "synccore/conditioner.h"
#include "synccore/server.h"

#include <memory>
#include <vector>

namespace lv {

/// A group of bots: how many, on which platform, how they play.
struct BotGroup {
    int count = 0;
    Platform platform = Platform::Pc;
    BotBehaviour behaviour;
    /// How often the player's input changes (cross-play: a 60 Hz PC pad, a 20 Hz phone): 0 = server tick rate.
    int inputHz = 0;
    /// Client frames per second: the game client's loop (read the network, predict, render) runs
    /// this often, so a 30 fps phone sees packets up to a frame late. 0 = every host step.
    int frameHz = 0;
};

/// One region of a simulated cluster: its own server, its own bots and their network.
struct SimRegionConfig {
    std::vector<BotGroup> groups;
    RuntimeKnobs knobs;
    ConditionerSettings uplink;    ///< bot -> server, every bot of the region
    ConditionerSettings downlink;  ///< server -> bot
};

struct SimClusterConfig {
    std::vector<SimRegionConfig> regions;
    std::uint64_t seed = 1;
    TimeUs step = millis(1);       ///< host loop granularity
    WorldConfig world;
    /// A bot whose session ended comes back this long after with a fresh token; 0 = never.
    TimeUs reconnectAfter = 0;
};

/// Regions (a server each) and their bot clients on one simulated network, all on the caller's
/// thread, time advanced only by the caller. Same config and seed, and the same changes at the
/// same simulated times: byte-identical traffic. Redirects (failover) between regions are followed,
/// since every region shares the cluster's token key and the network.
class SimCluster {
public:
    explicit SimCluster(SimClusterConfig config);
    ~SimCluster();
    SimCluster(const SimCluster&) = delete;
    SimCluster& operator=(const SimCluster&) = delete;

    /// Runs the loop up to `now` in steps of config.step.
    void advanceTo(TimeUs now);
    TimeUs now() const { return m_now; }
    TimeUs step() const { return m_config.step; }

    std::size_t regionCount() const { return m_regions.size(); }
    Server& server(std::size_t region);
    const Server& server(std::size_t region) const;
    Address serverAddress(std::size_t region) const;
    /// New link conditions for a region's bots (both directions); applies to datagrams sent from now.
    void setConditions(std::size_t region, const ConditionerSettings& uplink, const ConditionerSettings& downlink);
    /// A drill: every datagram the region's server sends also passes `outgoing` ({} ends it).
    void setFault(std::size_t region, const ConditionerSettings& outgoing);

    std::size_t clientCount(std::size_t region) const;
    Client& client(std::size_t region, std::size_t i);
    const Client& client(std::size_t region, std::size_t i) const;
    BotBrain& brain(std::size_t region, std::size_t i);
    /// Index into the region's groups of bot `i`.
    std::size_t groupOf(std::size_t region, std::size_t i) const;
    /// Sessions bots lost and came back from (reconnectAfter), over the whole cluster.
    std::uint64_t reconnects() const { return m_reconnects; }

    MemoryNetwork& network() { return m_network; }
    /// The cluster's token key (derived from the seed), so more clients can join it.
    const Key& tokenKey() const { return m_tokenKey; }
    ConnectToken issueToken(std::uint64_t clientId, Platform platform, std::optional<Vec3i> spawn) const;
    /// FNV-1a digest over every datagram sent by anyone (order, ports, sizes and bytes), and their
    /// count: equal digests mean byte-identical traffic.
    std::uint64_t trafficDigest() const { return m_digest; }
    std::uint64_t datagramsSent() const { return m_datagrams; }

private:
    struct Bot;
    struct Region;
    std::unique_ptr<DatagramSocket> digested(std::unique_ptr<DatagramSocket> socket);
    void advanceBot(Bot& bot);

    SimClusterConfig m_config;
    MemoryNetwork m_network;
    Key m_tokenKey{};
    std::vector<std::unique_ptr<Region>> m_regions;
    TimeUs m_now = 0;
    std::uint64_t m_digest = 0xcbf29ce484222325ULL;
    std::uint64_t m_datagrams = 0;
    std::uint64_t m_reconnects = 0;
    friend class DigestSocket;
};

} // namespace lv
