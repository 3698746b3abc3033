#pragma once

#include "synccore/interpolation.h"
#include "synccore/messages.h"
#include "synccore/prediction.h"
#include "synccore/snapshot.h"
#include "synccore/transport.h"

#include <deque>
#include <functional>
#include <map>
#include <optional>

namespace lv {

struct ClientConfig {
    TransportConfig transport;
    MovementTuning tuning;
    std::size_t inputRedundancy = 6;  ///< input commands per packet (the newest unacknowledged ones)
    std::size_t snapshotHistory = 128;
    /// Connected, and nothing heard from the server for this long while the token lists another
    /// server: that one is tried (a server that died is left in about this time, not after the
    /// transport's timeout). Snapshots arrive many times a second, so a live server is never
    /// this quiet.
    TimeUs failoverSilence = seconds(2);
};

struct ClientStats {
    std::uint64_t snapshotsReceived = 0;
    std::uint64_t snapshotsDecoded = 0;
    std::uint64_t snapshotsLate = 0;     ///< older than one already decoded: dropped
    std::uint64_t decodeErrors = 0;
    std::uint64_t inputsSent = 0;
    std::uint64_t redirects = 0;
    std::uint64_t failovers = 0;         ///< moved on to the token's next server (the last one lost or unreachable)
    std::uint64_t corrections = 0;
    double largestCorrectionMetres = 0.0;
};

/// A game client: connects with a token, sends its player's input every tick (predicting it at
/// once), decodes snapshots against the baselines it acknowledged, reconciles, and interpolates
/// everyone else. The host owns the loop: setInput() whenever, advance(now) often.
class Client {
public:
    Client(ClientConfig config, DatagramSocket& socket);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void connect(const ConnectToken& token, const Address& server, TimeUs now);
    /// Connects to the token's servers in order: when one cannot be reached, refuses (full,
    /// admissions closed, maintenance), closes or falls silent, the next is tried with the same
    /// token; after every server failed once since the last connection, the client stays
    /// disconnected (lastDisconnect() says why). Needs at least one server in the token.
    void connect(const ConnectToken& token, TimeUs now);
    void disconnect(TimeUs now);
    /// The input sampled at each client tick until changed.
    void setInput(std::int8_t forward, std::int8_t right, std::uint16_t yaw, std::int16_t pitch, std::uint16_t buttons);
    void advance(TimeUs now);

    ClientState state() const { return m_transport.state(); }
    bool connected() const { return state() == ClientState::Connected; }
    Address serverAddress() const { return m_transport.serverAddress(); }
    std::optional<EntityId> localPlayer() const { return m_localPlayer; }
    bool predictionEnabled() const { return m_predictionEnabled; }
    /// The local player as shown: predicted (or the newest server state when prediction is off).
    const PlayerState& localState() const { return m_prediction.predicted(); }
    const PredictionBuffer& prediction() const { return m_prediction; }
    const SnapshotRecord* latestSnapshot() const { return m_records.empty() ? nullptr : &m_records.back(); }
    /// Where a remote player is drawn now (interpolated at the adaptive delay).
    std::optional<std::array<double, 3>> renderPosition(std::uint16_t index, TimeUs now) const;
    TimeUs interpolationDelay() const;
    const ServerClock& clock() const { return m_clock; }
    const LinkStats& linkStats() const { return m_transport.linkStats(); }
    const TransportCounters& transportCounters() const { return m_transport.counters(); }
    const ClientStats& stats() const { return m_stats; }
    /// Control messages received (redirect, kick, maintenance), oldest first, until taken.
    std::optional<ControlMessage> takeControl();
    /// Why the last connection ended (None while connected or never connected).
    DisconnectReason lastDisconnect() const { return m_lastDisconnect; }
    DenyReason lastDeny() const { return m_lastDeny; }

    using SnapshotObserver = std::function<void(const SnapshotRecord& record, const SnapshotHeader& header)>;
    void setSnapshotObserver(SnapshotObserver observer) { m_observer = std::move(observer); }

private:
    void handleSnapshot(std::span<const std::uint8_t> data, TimeUs now);
    void handleControl(std::span<const std::uint8_t> data, TimeUs now);
    void clientTick(TimeUs now);
    void resetSession();
    /// Moves on to the token's next untried server; false when none is left this round.
    bool failOver(TimeUs now);

    ClientConfig m_config;
    ClientTransport m_transport;
    ConnectToken m_token;
    std::size_t m_serverIndex = 0;   // in m_token.servers: the one being tried or used
    std::size_t m_failedInRound = 0; // servers that failed since the last successful connection
    std::deque<SnapshotRecord> m_records;
    std::map<std::uint16_t, InterpolationBuffer> m_remotes;
    PredictionBuffer m_prediction;
    ServerClock m_clock;
    InterpolationDelay m_delayModel;
    std::optional<EntityId> m_localPlayer;
    bool m_predictionEnabled = true;
    int m_tickHz = 30;
    int m_snapshotHz = 20;
    int m_delayOverrideMs = 0;
    std::uint32_t m_lastProcessed = 0;
    std::uint32_t m_nextSequence = 1;
    std::deque<InputCommand> m_unacked;
    InputCommand m_latched;
    TimeUs m_nextTickAt = 0;
    TimeUs m_lastAdvance = 0;
    bool m_ticking = false;
    std::deque<ControlMessage> m_control;
    ClientStats m_stats;
    DisconnectReason m_lastDisconnect = DisconnectReason::None;
    DenyReason m_lastDeny = DenyReason::None;
    SnapshotObserver m_observer;
};

} // namespace lv
