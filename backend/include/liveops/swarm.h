#pragma once

#include "synccore/bots.h"
#include "synccore/client.h"
#include "synccore/conditioner.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lv::liveops {

/// A kind of player in a swarm: platform, how they move and press, how often they sample input
/// (like LocalSession's BotGroup, with a label for reports and no count: bots are dealt round-robin).
struct SwarmGroup {
    std::string label;
    Platform platform = Platform::Pc;
    BotBehaviour behaviour;
    int inputHz = 30;  ///< how often the player's input changes (a 60 Hz PC vs a 20 Hz phone)
    /// Client frames per second (network read, prediction, render), honoured by SimulatedWorld;
    /// BotSwarm reads a socket as soon as it is readable. 0 = every host step.
    int frameHz = 0;
};

struct SwarmConfig {
    Address server;                 ///< region to connect to
    /// Servers of the same region to fall back on, in order: every bot's token lists `server`
    /// then these, so players of a server that dies play on at the next (syncbot --server A,B,C).
    std::vector<Address> fallbacks;
    int count = 10;                 ///< bot clients, each with its own UDP socket
    Key tokenKey{};                 ///< the cluster's connect-token key (the swarm acts as its own matchmaker)
    ConditionerSettings network;    ///< applied both ways on every bot's socket (demo regions differ here)
    std::uint64_t seed = 1;
    std::uint64_t firstClientId = 1;
    Platform platform = Platform::Pc;
    TimeUs tokenLifetime = seconds(3600);
    bool adjustableNetwork = false; ///< condition sockets even when `network` is empty, so setNetwork() works later
    std::vector<SwarmGroup> groups; ///< bots are dealt round-robin into these; empty = one group of `platform`
};

/// Figures for one group of a swarm: what a QA report compares between kinds of players.
struct GroupReport {
    std::string label;
    std::size_t clients = 0;
    std::size_t connected = 0;
    double rttP50Ms = 0.0;
    std::uint64_t corrections = 0;
    double largestCorrectionMetres = 0.0;
    double visiblePerClient = 0.0;               ///< players in the latest snapshot, mean over connected clients
    double otherPlatformVisiblePerClient = 0.0;  ///< of those, on another platform (0 with cross-play off)
};

/// What the swarm's clients measured, over all of them.
struct SwarmReport {
    std::size_t clients = 0;
    std::size_t connected = 0;                   ///< connected and receiving snapshots
    std::map<std::string, std::size_t> byServer; ///< connected clients per server address
    double rttP50Ms = 0.0, rttP95Ms = 0.0, rttP99Ms = 0.0;  ///< over the clients' smoothed RTTs
    double lossPercent = 0.0;                    ///< mean over connected clients
    std::uint64_t corrections = 0;
    std::uint64_t redirects = 0;
    std::uint64_t failovers = 0;                 ///< moved on to their token's next server
    std::uint64_t snapshots = 0;
    std::uint64_t bytesReceived = 0;             ///< all clients, since start
    std::uint64_t bytesSent = 0;
    std::uint64_t disconnects = 0;               ///< sessions that ended other than by redirect
};

/// Lifts the soft open-file limit to the hard one: one socket per bot adds up.
void raiseOpenFileLimit();

/// What one bot's game client shows: its own player as predicted, everyone else as interpolated.
struct ClientView {
    bool connected = false;
    std::optional<EntityId> local;
    PlayerState predicted;
    std::vector<std::pair<std::uint16_t, std::array<double, 3>>> remotes;  ///< entity index, position in metres
    std::uint64_t corrections = 0;
    double largestCorrectionMetres = 0.0;
    double interpolationDelayMs = 0.0;
};

/// Adds game clients up into per-group figures (BotSwarm and SimulatedWorld report alike).
class GroupTally {
public:
    explicit GroupTally(const std::vector<SwarmGroup>& groups);
    void add(std::size_t group, const Client& client);
    std::vector<GroupReport> reports();

private:
    const std::vector<SwarmGroup>& m_groups;
    std::vector<GroupReport> m_out;
    std::vector<std::vector<double>> m_rtts;
};

/// What a game client shows at `now`: its own player as predicted, everyone else as interpolated.
ClientView viewOf(const Client& client, TimeUs now);

/// N real game clients over UDP, moved by bot brains, on one thread. The thread sleeps in epoll
/// until a socket is readable or the next client tick is due, so a thousand clients cost little.
/// Redirects (failover) are honoured by the engine's client: it reconnects to the target with the
/// same token.
class BotSwarm {
public:
    static std::unique_ptr<BotSwarm> start(const SwarmConfig& config, std::string& error);
    ~BotSwarm();  ///< disconnects every client politely, then stops
    BotSwarm(const BotSwarm&) = delete;
    BotSwarm& operator=(const BotSwarm&) = delete;

    SwarmReport report() const;
    /// Figures per group (in SwarmConfig::groups order).
    std::vector<GroupReport> groupReports() const;
    /// What bot `bot` (0-based) shows now.
    ClientView view(std::size_t bot) const;
    /// Changes the network every bot sees, both ways, from now on (only for a swarm started with
    /// a non-empty `network` or `adjustableNetwork`: plain sockets have no conditioner).
    void setNetwork(const ConditionerSettings& network);

private:
    struct Bot {
        std::unique_ptr<DatagramSocket> socket;  // UdpSocket, or ConditionedSocket around one
        UdpSocket* udp = nullptr;
        ConditionedSocket* conditioned = nullptr;
        std::unique_ptr<Client> client;
        std::unique_ptr<BotBrain> brain;
        std::uint64_t disconnects = 0;
        ClientState lastState = ClientState::Disconnected;
        std::size_t group = 0;
        TimeUs nextDecide = 0;
    };
    explicit BotSwarm(SwarmConfig config) : m_config(std::move(config)) {}
    void run();
    /// Bot `i`'s token: its client id, lifetime and platform, listing the swarm's servers with
    /// `first` in front (where it is now, after a redirect) and the others after it in order.
    ConnectToken tokenFor(std::size_t i, std::optional<Vec3i> spawn, const Address& first) const;

    SwarmConfig m_config;
    std::vector<Bot> m_bots;
    int m_epoll = -1;
    mutable std::mutex m_mutex;  // guards the bots between the loop and report()
    std::atomic<bool> m_running{true};
    std::thread m_thread;
};

} // namespace lv::liveops
