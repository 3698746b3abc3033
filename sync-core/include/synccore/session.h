#pragma once

#include "synccore/simcluster.h"

#include <memory>
#include <vector>

namespace lv {

struct SessionConfig {
    std::vector<BotGroup> groups;
    RuntimeKnobs knobs;
    ConditionerSettings uplink;    ///< client -> server, every client
    ConditionerSettings downlink;  ///< server -> client, every client
    std::uint64_t seed = 1;
    TimeUs step = millis(1);       ///< host loop granularity
    WorldConfig world;
};

/// A server plus N bot clients over conditioned in-memory links, all in this thread: a SimCluster
/// of one region, stepped as fast as possible (tests, benchmarks).
/// Same config and seed: byte-identical traffic.
class LocalSession {
public:
    explicit LocalSession(SessionConfig config);
    ~LocalSession();

    /// Runs the loop up to `now` in steps of config.step.
    void advanceTo(TimeUs now) { m_cluster.advanceTo(now); }
    void runFor(TimeUs duration) { advanceTo(now() + duration); }
    TimeUs now() const { return m_cluster.now(); }

    /// New link conditions for every client (both directions); applies to datagrams sent from now.
    void setConditions(const ConditionerSettings& uplink, const ConditionerSettings& downlink) { m_cluster.setConditions(0, uplink, downlink); }
    Server& server() { return m_cluster.server(0); }
    std::size_t clientCount() const { return m_cluster.clientCount(0); }
    Client& client(std::size_t i) { return m_cluster.client(0, i); }
    BotBrain& brain(std::size_t i) { return m_cluster.brain(0, i); }
    MemoryNetwork& network() { return m_cluster.network(); }
    /// The session's cluster token key, so more regions or clients can join it.
    const Key& tokenKey() const { return m_cluster.tokenKey(); }
    /// A token for another client of this session's cluster.
    ConnectToken issueToken(std::uint64_t clientId, Platform platform, std::optional<Vec3i> spawn) const
    {
        return m_cluster.issueToken(clientId, platform, spawn);
    }
    Address serverAddress() const { return m_cluster.serverAddress(0); }
    /// FNV-1a digest over every datagram sent by anyone (order, sizes and bytes), and their count:
    /// equal digests mean byte-identical traffic.
    std::uint64_t trafficDigest() const { return m_cluster.trafficDigest(); }
    std::uint64_t datagramsSent() const { return m_cluster.datagramsSent(); }

private:
    static SimClusterConfig clusterConfig(SessionConfig config);
    SimCluster m_cluster;
};

} // namespace lv
