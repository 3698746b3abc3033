#pragma once

#include "synccore/bots.h"
#include "synccore/client.h"
#include "synccore/conditioner.h"
#include "synccore/server.h"

#include <memory>
#include <vector>

namespace lv {

/// A group of bots in a local session.
struct BotGroup {
    int count = 0;
    Platform platform = Platform::Pc;
    BotBehaviour behaviour;
    /// Client tick rate differs per platform in cross-play (e.g. mobile at 20 Hz input): 0 = server rate.
    int inputHz = 0;
};

struct SessionConfig {
    std::vector<BotGroup> groups;
    RuntimeKnobs knobs;
    ConditionerSettings uplink;    ///< client -> server, every client
    ConditionerSettings downlink;  ///< server -> client, every client
    std::uint64_t seed = 1;
    TimeUs step = millis(1);       ///< host loop granularity
    WorldConfig world;
};

/// A server plus N bot clients over conditioned in-memory links, all in this thread. Step it as
/// fast as possible (tests, benchmarks) or pace advanceTo() with a real clock (sandbox).
/// Same config and seed: byte-identical traffic.
class LocalSession {
public:
    explicit LocalSession(SessionConfig config);
    ~LocalSession();

    /// Runs the loop up to `now` in steps of config.step.
    void advanceTo(TimeUs now);
    void runFor(TimeUs duration) { advanceTo(m_now + duration); }
    /// Runs for `duration` paced by the steady clock (the sandbox's real-time mode): each step
    /// waits until its wall-clock time. The only place sync-core reads a clock, on request.
    void runRealtime(TimeUs duration);
    TimeUs now() const { return m_now; }

    /// New link conditions for every client (both directions); applies to datagrams sent from now.
    void setConditions(const ConditionerSettings& uplink, const ConditionerSettings& downlink);
    Server& server() { return *m_server; }
    std::size_t clientCount() const { return m_bots.size(); }
    Client& client(std::size_t i);
    BotBrain& brain(std::size_t i);
    MemoryNetwork& network() { return m_network; }
    /// The session's cluster token key, so more regions or clients can join it.
    const Key& tokenKey() const { return m_tokenKey; }
    /// A token for another client of this session's cluster.
    ConnectToken issueToken(std::uint64_t clientId, Platform platform, std::optional<Vec3i> spawn) const;
    Address serverAddress() const { return m_serverAddress; }
    /// FNV-1a digest over every datagram sent by anyone (order, sizes and bytes), and their count:
    /// equal digests mean byte-identical traffic.
    std::uint64_t trafficDigest() const { return m_digest; }
    std::uint64_t datagramsSent() const { return m_datagrams; }

private:
    struct Bot;
    SessionConfig m_config;
    MemoryNetwork m_network;
    Key m_tokenKey{};
    std::unique_ptr<DatagramSocket> m_serverSocket;
    Address m_serverAddress;
    std::unique_ptr<Server> m_server;
    std::vector<std::unique_ptr<Bot>> m_bots;
    TimeUs m_now = 0;
    std::uint64_t m_digest = 0xcbf29ce484222325ULL;
    std::uint64_t m_datagrams = 0;
    friend class DigestSocket;
};

} // namespace lv
