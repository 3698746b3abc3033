#pragma once

#include "synccore/knobs.h"
#include "synccore/messages.h"
#include "synccore/metrics.h"
#include "synccore/transport.h"
#include "synccore/world.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace lv {

struct ServerConfig {
    TransportConfig transport;
    Key tokenKey{};
    RuntimeKnobs knobs;
    WorldConfig world;
    int capacity = 4096;            ///< players admitted at most (1..kMaxCapacity; the transport gets as many slots)
    /// Lifetime of the fresh token a Redirect carries (the target admits the player with it).
    TimeUs redirectTokenLifetime = seconds(30);
    /// Lag compensation rewinds a player's shot at most its RTT plus interpolation delay plus this.
    TimeUs lagCompensationMargin = millis(100);
    std::uint64_t seed = 1;         ///< spawn placement when a token carries no spawn point
    /// How late the tick loop may fall behind before it skips ticks instead of catching up.
    TimeUs maxCatchUp = millis(250);
};

/// The most players one region server can hold (entity indices are 16-bit).
constexpr int kMaxCapacity = 65535;
/// An empty string when the configuration can run, else a message naming the problem.
std::string validateServerConfig(const ServerConfig& config);

/// The deepest rewind (1/256 tick) a shot may claim: the player's RTT, plus the interpolation
/// delay its client runs at (the override, else one snapshot interval), plus `margin` (which
/// covers the jitter part of an adaptive delay).
std::uint32_t rewindLimit256(TimeUs rtt, const RuntimeKnobs& knobs, TimeUs margin);

/// Token user data layout understood by the server (32 bytes): [0] platform, [1..4] spawn x and
/// [5..8] spawn y (little-endian int32, position units), [9] 1 if a spawn point is given.
std::array<std::uint8_t, kTokenUserDataSize> makeUserData(Platform platform, std::optional<Vec3i> spawn);

/// A connected player as support looks it up (where is player X, and how is their link).
struct ConnectedPlayer {
    std::uint64_t clientId = 0;
    EntityId entity;
    Address address;
    TimeUs connectedAt = 0;  ///< the host's clock (what advance() is given)
    TimeUs rtt = 0;          ///< smoothed
    double lossPercent = 0.0;
};

/// How long a kicked client has to leave by itself before the server ends its session.
constexpr TimeUs kKickGrace = millis(300);
/// How long a kicked client id is refused when it reconnects (its token may still be valid).
constexpr TimeUs kKickBan = seconds(60);

/// An authoritative region server: the transport, the world, and the schedule that ties them
/// (fixed ticks, snapshots at the snapshot rate). The host owns the loop and calls advance(now).
class Server {
public:
    Server(ServerConfig config, DatagramSocket& socket);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Receives everything that has arrived, runs every tick due by `now`, sends snapshots.
    void advance(TimeUs now);
    /// When the next tick is due (hosts sleep until then or until a packet arrives).
    TimeUs nextTickAt() const { return m_nextTickAt; }

    /// Applies new knobs (validated by the caller with validateKnobs). Rates apply from the next
    /// tick; admissions, maintenance and failover act at once.
    void setKnobs(const RuntimeKnobs& knobs, TimeUs now);
    const RuntimeKnobs& knobs() const { return m_world.knobs(); }

    ServerWorld& world() { return m_world; }
    const ServerWorld& world() const { return m_world; }
    std::size_t playerCount() const { return m_clients.size(); }
    /// Metrics accumulated since the last take (the host picks the window).
    RegionMetrics takeMetrics();
    const RegionMetrics& metrics() const { return m_metrics; }
    const TransportCounters& transportCounters() const { return m_transport.counters(); }

    /// Sends a reliable control message to every connected client.
    void broadcast(const ControlMessage& message);
    /// Redirects every connected client to `target` (failover, drain), each with a fresh token for
    /// it (ServerConfig::redirectTokenLifetime), so players whose own token expired are admitted too.
    void redirectAll(const Address& target, const std::string& reason);
    /// Ends every connection (shutdown).
    void disconnectAll(TimeUs now);

    /// The connected player with token client id `clientId`, if any.
    std::optional<ConnectedPlayer> findPlayer(std::uint64_t clientId) const;
    /// Tells the client it was kicked (`reason` is shown to the player), ignores its inputs, and
    /// ends its session after kKickGrace if it has not left by then; the client id is refused for
    /// kKickBan. False when no such player is connected.
    bool kick(std::uint64_t clientId, const std::string& reason);
    /// Redirects one player to `target` with a fresh token for it (MovePlayer). False when no
    /// such player is connected.
    bool redirect(std::uint64_t clientId, const Address& target, const std::string& reason);

    /// Observers for tests and tools: every snapshot record sent, per client id.
    using SnapshotObserver = std::function<void(std::uint64_t clientId, const SnapshotRecord& record)>;
    void setSnapshotObserver(SnapshotObserver observer) { m_snapshotObserver = std::move(observer); }
    /// The entity of a connected client (by token client id).
    std::optional<EntityId> playerOf(std::uint64_t clientId) const;

private:
    struct ClientSlot {
        std::uint64_t clientId = 0;
        std::array<std::uint8_t, kTokenUserDataSize> userData{};  // from the token: carried into redirect tokens
        EntityId player;
        std::unique_ptr<ClientView> view;
        std::uint32_t correctionsReported = 0;
        std::uint64_t lostSeen = 0;    // link totals already folded into the metrics
        std::uint64_t ackedSeen = 0;
        TimeUs connectedAt = 0;
        std::optional<TimeUs> kickedAt;  // inputs ignored; the session ends at kickedAt + kKickGrace
    };
    void sendRedirect(int client, const ClientSlot& slot, const Address& target, const std::string& reason);
    void sendKick(int client, ClientSlot& slot, const std::string& reason);
    void endKickedSessions();
    void foldLinkTotals(ClientSlot& slot, const LinkStats& stats);
    void handleEvent(TransportEvent& event, TimeUs now);
    void handleInput(int client, ClientSlot& slot, std::span<const std::uint8_t> data);
    void tick();
    void sendSnapshots();
    void applyAdmission();

    ServerConfig m_config;
    ServerTransport m_transport;
    ServerWorld m_world;
    std::map<int, ClientSlot> m_clients;
    RegionMetrics m_metrics;
    TransportCounters m_countersSeen;
    TimeUs m_nextTickAt = 0;
    TimeUs m_lastNow = 0;
    std::uint64_t m_shotsClampedSeen = 0;
    std::uint64_t m_inputsDroppedSeen = 0;
    bool m_started = false;
    std::uint64_t m_spawnCounter = 0;
    std::string m_redirectedTo;
    std::map<std::uint64_t, TimeUs> m_bannedUntil;  // kicked client ids; bounded by expiry (pruned each advance)
    std::uint64_t m_tokensIssued = 0;
    SnapshotObserver m_snapshotObserver;
};

} // namespace lv
