#include "synccore/client.h"

#include <algorithm>

namespace lv {

Client::Client(ClientConfig config, DatagramSocket& socket)
    : m_config(std::move(config)), m_transport(m_config.transport, socket), m_prediction(m_config.tuning)
{
}

Client::~Client() = default;

void Client::resetSession()
{
    m_records.clear();
    m_remotes.clear();
    m_prediction = PredictionBuffer(m_config.tuning);
    m_clock = ServerClock();
    m_localPlayer.reset();
    m_lastProcessed = 0;
    m_unacked.clear();
    m_ticking = false;
}

void Client::connect(const ConnectToken& token, const Address& server, TimeUs now)
{
    ConnectToken one = token;
    one.servers = {server};
    connect(one, now);
}

void Client::connect(const ConnectToken& token, TimeUs now)
{
    m_token = token;
    if (m_token.servers.size() > kMaxTokenServers)
        m_token.servers.resize(kMaxTokenServers);
    m_serverIndex = 0;
    m_failedInRound = 0;
    resetSession();
    m_lastDisconnect = DisconnectReason::None;
    m_lastDeny = DenyReason::None;
    if (!m_token.servers.empty())
        m_transport.connect(m_token, m_token.servers[0], now);
}

bool Client::failOver(TimeUs now)
{
    if (m_token.servers.size() < 2 || ++m_failedInRound >= m_token.servers.size())
        return false;
    m_serverIndex = (m_serverIndex + 1) % m_token.servers.size();
    ++m_stats.failovers;
    resetSession();
    m_transport.connect(m_token, m_token.servers[m_serverIndex], now);
    return true;
}

void Client::disconnect(TimeUs now)
{
    m_transport.disconnect(now);
    resetSession();
}

void Client::setInput(std::int8_t forward, std::int8_t right, std::uint16_t yaw, std::int16_t pitch, std::uint16_t buttons)
{
    m_latched.moveForward = forward;
    m_latched.moveRight = right;
    m_latched.yaw = yaw;
    m_latched.pitch = pitch;
    m_latched.buttons = buttons;
}

std::optional<ControlMessage> Client::takeControl()
{
    if (m_control.empty())
        return std::nullopt;
    ControlMessage m = std::move(m_control.front());
    m_control.pop_front();
    return m;
}

TimeUs Client::interpolationDelay() const
{
    return m_delayModel.compute(m_clock.jitter(), m_snapshotHz, m_delayOverrideMs);
}

std::optional<std::array<double, 3>> Client::renderPosition(std::uint16_t index, TimeUs now) const
{
    auto it = m_remotes.find(index);
    if (it == m_remotes.end() || !m_clock.valid())
        return std::nullopt;
    return it->second.positionAt(m_clock.serverTimeAt(now) - interpolationDelay());
}

void Client::handleControl(std::span<const std::uint8_t> data, TimeUs now)
{
    auto message = decodeControl(data);
    if (!message) {
        ++m_stats.decodeErrors;
        return;
    }
    if (message->kind == ControlMessage::Kind::Redirect) {
        ++m_stats.redirects;
        // A fresh session at the target, with the token the server gave for it (our own may have
        // expired by now); the handshake gives the session keys of its own either way. Leave
        // politely so the old region frees the slot at once, not after a timeout.
        // The target goes first in the list; the token's other servers stay behind it as
        // fallbacks.
        std::vector<Address> servers{message->target};
        for (const Address& a : m_token.servers)
            if (a != message->target && a != m_transport.serverAddress() && servers.size() < kMaxTokenServers)
                servers.push_back(a);
        if (message->token)
            m_token = *message->token;
        m_token.servers = std::move(servers);
        m_serverIndex = 0;
        m_failedInRound = 0;
        m_transport.disconnect(now);
        resetSession();
            m_transport.connect(m_token, message->target, now);
    } else if (message->kind == ControlMessage::Kind::Kick) {
        m_transport.disconnect(now);
        resetSession();
    }
    m_control.push_back(std::move(*message));
}

void Client::handleSnapshot(std::span<const std::uint8_t> data, TimeUs now)
{
    ++m_stats.snapshotsReceived;
    BitReader reader(data);
    auto header = readSnapshotHeader(reader);
    if (!header) {
        ++m_stats.decodeErrors;
        return;
    }
    auto record = decodeSnapshot(reader, [this](Tick tick) -> const SnapshotRecord* {
        auto it = std::lower_bound(m_records.begin(), m_records.end(), tick,
                                   [](const SnapshotRecord& r, Tick t) { return tickBefore(r.tick, t); });
        return it != m_records.end() && it->tick == tick ? &*it : nullptr;
    });
    if (!record || !reader.atPaddedEnd()) {
        ++m_stats.decodeErrors;
        return;
    }
    if (!m_records.empty() && !tickBefore(m_records.back().tick, record->tick)) {
        ++m_stats.snapshotsLate;  // reordered: a newer one is already applied and acknowledged
        return;
    }
    ++m_stats.snapshotsDecoded;
    m_records.push_back(*record);
    while (m_records.size() > m_config.snapshotHistory)
        m_records.pop_front();
    const SnapshotRecord& r = m_records.back();

    m_tickHz = r.tickHz;
    m_snapshotHz = header->snapshotHz;
    m_delayOverrideMs = header->interpolationDelayOverrideMs;
    m_predictionEnabled = header->predictionEnabled;
    m_clock.onSnapshot(r.timeUs(), r.tickHz, r.epochTick, r.epochTimeUs, now);
    m_lastProcessed = std::max(m_lastProcessed, header->lastProcessedInput);
    while (!m_unacked.empty() && m_unacked.front().sequence <= m_lastProcessed)
        m_unacked.pop_front();

    if (!m_localPlayer || *m_localPlayer != header->localPlayer) {
        m_localPlayer = header->localPlayer;
        m_prediction = PredictionBuffer(m_config.tuning);
    }
    // Remote players: feed interpolation; forget those that left the view.
    for (auto it = m_remotes.begin(); it != m_remotes.end();) {
        const PlayerState* s = r.find(it->first);
        it = (!s || s->id.index == m_localPlayer->index) ? m_remotes.erase(it) : std::next(it);
    }
    for (const PlayerState& s : r.entities) {
        if (s.id == *m_localPlayer) {
            if (m_predictionEnabled) {
                m_prediction.reconcile(s, header->lastProcessedInput, r.tickHz);  // counts and sizes corrections itself
            } else {
                m_prediction.reset(s);
            }
            continue;
        }
        auto& buffer = m_remotes[s.id.index];
        if (auto newest = buffer.newest(); newest && newest->id.generation != s.id.generation)
            buffer = InterpolationBuffer();
        buffer.add(r.timeUs(), s);
    }
    m_stats.corrections = m_prediction.corrections();
    m_stats.largestCorrectionMetres = m_prediction.largestCorrectionMetres();
    if (m_observer)
        m_observer(r, *header);
    if (!m_ticking) {
        m_ticking = true;
        m_nextTickAt = now;
    }
}

void Client::clientTick(TimeUs now)
{
    InputCommand input = m_latched;
    input.sequence = m_nextSequence++;
    input.tick = m_clock.tickAt(m_clock.serverTimeAt(now));
    // What the player sees of the others: server time minus the interpolation delay, as a
    // 1/256-tick counter modulo 2^32 (the server only uses its difference to now).
    input.viewTime256 = m_clock.tick256At(m_clock.serverTimeAt(now) - interpolationDelay());
    if (m_predictionEnabled && m_prediction.initialised())
        m_prediction.apply(input, m_tickHz);
    m_unacked.push_back(input);
    while (m_unacked.size() > 256)
        m_unacked.pop_front();

    InputMessage message;
    if (!m_records.empty())
        message.ackedSnapshot = m_records.back().tick;
    message.correctionsTotal = static_cast<std::uint32_t>(m_prediction.corrections());
    const std::size_t count = std::min(m_unacked.size(), std::clamp<std::size_t>(m_config.inputRedundancy, 1, kMaxInputsPerMessage));
    for (std::size_t i = 0; i < count; ++i)
        message.commands.push_back(m_unacked[m_unacked.size() - 1 - i]);
    BitWriter writer;
    writeInputMessage(writer, message);
    if (m_transport.send(writer.finish(), now).ok())
        ++m_stats.inputsSent;
}

void Client::advance(TimeUs now)
{
    const TimeUs elapsed = m_lastAdvance ? now - m_lastAdvance : 0;
    m_lastAdvance = now;
    m_transport.receive(now);
    while (auto event = m_transport.pollEvent()) {
        switch (event->kind) {
        case TransportEvent::Kind::Message:
            if (!event->data.empty() && event->data[0] == static_cast<std::uint8_t>(MessageType::Snapshot))
                handleSnapshot(event->data, now);
            else
                ++m_stats.decodeErrors;
            break;
        case TransportEvent::Kind::Reliable:
            handleControl(event->data, now);
            break;
        case TransportEvent::Kind::Disconnected: {
            m_lastDisconnect = event->reason;
            m_lastDeny = event->denyReason;
            // The server is gone, unreachable or will not take us now: another may. A deny for
            // a protocol mismatch would be the same everywhere.
            const bool serverSide = event->reason == DisconnectReason::Timeout || event->reason == DisconnectReason::ConnectTimeout
                                    || event->reason == DisconnectReason::ClosedByPeer || event->reason == DisconnectReason::ServerReset
                                    || (event->reason == DisconnectReason::Denied && event->denyReason != DenyReason::VersionMismatch);
            if (!serverSide || !failOver(now))
                resetSession();
            break;
        }
        case TransportEvent::Kind::Connected:
            m_failedInRound = 0;
            break;
        }
    }
    if (connected() && now - m_transport.lastReceive() > m_config.failoverSilence && m_token.servers.size() > 1) {
        m_transport.disconnect(now);  // leave politely, in case it is only slow
        m_lastDisconnect = DisconnectReason::Timeout;
        if (!failOver(now))
            resetSession();
    }
    if (m_ticking && connected()) {
        const TimeUs interval = kMicrosPerSecond / std::max(1, m_tickHz);
        if (now - m_nextTickAt > seconds(1))
            m_nextTickAt = now;  // host stalled: do not replay a second of inputs at once
        while (now >= m_nextTickAt) {
            clientTick(now);
            m_nextTickAt += interval;
        }
    }
    m_prediction.decayOffset(elapsed);
    m_transport.update(now);
}

} // namespace lv
