#include "synccore/server.h"

#include "synccore/conditioner.h"
#include "synccore/messages.h"

#include <chrono>
#include <ctime>
#include <cstring>

namespace lv {

std::array<std::uint8_t, kTokenUserDataSize> makeUserData(Platform platform, std::optional<Vec3i> spawn)
{
    std::array<std::uint8_t, kTokenUserDataSize> data{};
    data[0] = static_cast<std::uint8_t>(platform);
    if (spawn) {
        for (int i = 0; i < 4; ++i) {
            data[static_cast<std::size_t>(1 + i)] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(spawn->x) >> (8 * i));
            data[static_cast<std::size_t>(5 + i)] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(spawn->y) >> (8 * i));
        }
        data[9] = 1;
    }
    return data;
}

namespace {
ControlMessage maintenanceNotice()
{
    ControlMessage m;
    m.kind = ControlMessage::Kind::MaintenanceNotice;
    m.seconds = 60;
    m.text = "Maintenance is starting; please finish your match.";
    return m;
}

/// The transport gets exactly as many slots as the region admits players.
ServerConfig withSlots(ServerConfig config)
{
    config.transport.maxClients = std::clamp(config.capacity, 1, kMaxCapacity);
    return config;
}
} // namespace

std::string validateServerConfig(const ServerConfig& config)
{
    if (config.capacity < 1 || config.capacity > kMaxCapacity)
        return "capacity " + std::to_string(config.capacity) + " is out of range: a region holds 1.." + std::to_string(kMaxCapacity) + " players";
    if (std::string knobs = validateKnobs(config.knobs); !knobs.empty())
        return knobs;
    return {};
}

std::uint32_t rewindLimit256(TimeUs rtt, const RuntimeKnobs& knobs, TimeUs margin)
{
    const TimeUs interpolation = knobs.interpolationDelayOverrideMs > 0 ? millis(knobs.interpolationDelayOverrideMs)
                                                                        : kMicrosPerSecond / std::max(1, knobs.snapshotHz);
    const TimeUs total = std::max<TimeUs>(0, rtt) + interpolation + std::max<TimeUs>(0, margin);
    return static_cast<std::uint32_t>(std::min<TimeUs>(total * knobs.tickHz * 256 / kMicrosPerSecond, 0x7FFFFFFF));
}

Server::Server(ServerConfig config, DatagramSocket& socket)
    : m_config(withSlots(std::move(config))), m_transport(m_config.transport, m_config.tokenKey, socket),
      m_world(m_config.knobs, m_config.world)
{
    m_transport.setRttObserver([this](int, TimeUs rtt) { m_metrics.rttUs.record(static_cast<std::uint64_t>(std::max<TimeUs>(rtt, 0))); });
    applyAdmission();
}

Server::~Server() = default;

void Server::applyAdmission()
{
    const RuntimeKnobs& k = m_world.knobs();
    if (k.maintenanceMode)
        m_transport.setDenyReason(DenyReason::Maintenance);
    else if (!k.admissionsOpen || !k.failoverTarget.empty())
        m_transport.setDenyReason(DenyReason::AdmissionsClosed);
    else if (static_cast<int>(m_clients.size()) >= m_config.capacity)
        m_transport.setDenyReason(DenyReason::Full);
    else
        m_transport.setDenyReason(DenyReason::None);
}

void Server::setKnobs(const RuntimeKnobs& knobs, TimeUs now)
{
    const RuntimeKnobs old = m_world.knobs();
    m_world.setKnobs(knobs);
    applyAdmission();
    if (knobs.maintenanceMode && !old.maintenanceMode)
        broadcast(maintenanceNotice());
    if (!knobs.failoverTarget.empty() && knobs.failoverTarget != m_redirectedTo) {
        if (auto target = Address::parse(knobs.failoverTarget))
            redirectAll(*target, "failover");
    }
    if (knobs.failoverTarget.empty())
        m_redirectedTo.clear();
    if (knobs.tickHz != old.tickHz)
        m_nextTickAt = now + kMicrosPerSecond / knobs.tickHz;
}

void Server::broadcast(const ControlMessage& message)
{
    const auto bytes = encodeControl(message);
    for (auto& [client, slot] : m_clients)
        (void)m_transport.sendReliable(client, bytes);
}

void Server::redirectAll(const Address& target, const std::string& reason)
{
    m_redirectedTo = target.toString();
    for (auto& [client, slot] : m_clients)
        sendRedirect(client, slot, target, reason);
}

void Server::sendRedirect(int client, const ClientSlot& slot, const Address& target, const std::string& reason)
{
    const TimeUs expires = m_lastNow + m_config.transport.tokenClockOffset + m_config.redirectTokenLifetime;
    ControlMessage m;
    m.kind = ControlMessage::Kind::Redirect;
    m.target = target;
    m.text = reason;
    std::optional<std::array<std::uint8_t, 32>> seed;
    if (m_config.transport.randomSeed) {  // deterministic simulations only
        seed.emplace();
        for (int i = 0; i < 8; ++i) {
            (*seed)[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(*m_config.transport.randomSeed >> (8 * i));
            (*seed)[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(++m_tokensIssued >> (8 * i));
        }
    }
    m.token = issueConnectToken(m_config.tokenKey, m_config.transport.protocolId, slot.clientId, expires, slot.userData, seed);
    (void)m_transport.sendReliable(client, encodeControl(m));
}

std::optional<ConnectedPlayer> Server::findPlayer(std::uint64_t clientId) const
{
    for (const auto& [client, slot] : m_clients) {
        if (slot.clientId != clientId || slot.kickedAt)
            continue;
        const LinkStats& link = m_transport.linkStats(client);
        ConnectedPlayer p;
        p.clientId = clientId;
        p.entity = slot.player;
        p.address = m_transport.clientAddress(client);
        p.connectedAt = slot.connectedAt;
        p.rtt = link.smoothedRtt;
        p.lossPercent = link.lossPercent;
        return p;
    }
    return std::nullopt;
}

bool Server::kick(std::uint64_t clientId, const std::string& reason)
{
    bool found = false;
    for (auto& [client, slot] : m_clients)
        if (slot.clientId == clientId && !slot.kickedAt) {
            sendKick(client, slot, reason);
            found = true;
        }
    if (found)
        m_bannedUntil[clientId] = m_lastNow + kKickBan;
    return found;
}

void Server::sendKick(int client, ClientSlot& slot, const std::string& reason)
{
    ControlMessage m;
    m.kind = ControlMessage::Kind::Kick;
    m.text = reason;  // encodeControl keeps what fits
    (void)m_transport.sendReliable(client, encodeControl(m));
    slot.kickedAt = m_lastNow;
}

void Server::endKickedSessions()
{
    if (m_bannedUntil.empty())
        return;  // no kick in the last kKickBan: nothing to end or expire
    for (auto& [client, slot] : m_clients)
        if (slot.kickedAt && m_lastNow - *slot.kickedAt >= kKickGrace)
            m_transport.disconnect(client, m_lastNow);  // its Disconnected event removes the slot
    for (auto it = m_bannedUntil.begin(); it != m_bannedUntil.end();)
        it = it->second <= m_lastNow ? m_bannedUntil.erase(it) : std::next(it);
}

bool Server::redirect(std::uint64_t clientId, const Address& target, const std::string& reason)
{
    for (auto& [client, slot] : m_clients)
        if (slot.clientId == clientId && !slot.kickedAt) {
            sendRedirect(client, slot, target, reason);
            return true;
        }
    return false;
}

void Server::disconnectAll(TimeUs now)
{
    m_transport.disconnectAll(now);
    for (auto& [client, slot] : m_clients)
        m_world.despawn(slot.player);
    m_metrics.disconnects += m_clients.size();
    m_clients.clear();
}

std::optional<EntityId> Server::playerOf(std::uint64_t clientId) const
{
    for (const auto& [client, slot] : m_clients)
        if (slot.clientId == clientId)
            return slot.player;
    return std::nullopt;
}

RegionMetrics Server::takeMetrics()
{
    RegionMetrics out = std::move(m_metrics);
    m_metrics = RegionMetrics{};
    return out;
}

void Server::handleEvent(TransportEvent& event, TimeUs now)
{
    switch (event.kind) {
    case TransportEvent::Kind::Connected: {
        const auto platform = event.userData[0] < kPlatformCount ? static_cast<Platform>(event.userData[0]) : Platform::Pc;
        Vec3i spawn;
        if (event.userData[9] == 1) {
            std::uint32_t x = 0, y = 0;
            for (int i = 0; i < 4; ++i) {
                x |= std::uint32_t{event.userData[static_cast<std::size_t>(1 + i)]} << (8 * i);
                y |= std::uint32_t{event.userData[static_cast<std::size_t>(5 + i)]} << (8 * i);
            }
            spawn = {static_cast<std::int32_t>(x), static_cast<std::int32_t>(y), 0};
        } else {
            // Deterministic ring of spawn points around the origin.
            Rng rng(m_config.seed + m_spawnCounter++);
            spawn = {static_cast<std::int32_t>(rng.range(-20, 20) * kPositionUnitsPerMetre),
                     static_cast<std::int32_t>(rng.range(-20, 20) * kPositionUnitsPerMetre), 0};
        }
        auto player = m_world.spawn(platform, spawn);
        if (!player) {
            m_transport.disconnect(event.client, 0);
            ++m_metrics.refusedConnects;
            return;
        }
        ClientSlot slot;
        slot.clientId = event.clientId;
        slot.userData = event.userData;
        slot.player = *player;
        slot.view = std::make_unique<ClientView>(*player);
        slot.connectedAt = now;
        ClientSlot& admitted = m_clients[event.client] = std::move(slot);
        ++m_metrics.connects;
        if (auto ban = m_bannedUntil.find(event.clientId); ban != m_bannedUntil.end() && ban->second > now) {
            sendKick(event.client, admitted, "kicked: you may not rejoin yet");
            break;
        }
        applyAdmission();
        const RuntimeKnobs& k = m_world.knobs();
        if (k.maintenanceMode)
            (void)m_transport.sendReliable(event.client, encodeControl(maintenanceNotice()));
        break;
    }
    case TransportEvent::Kind::Disconnected: {
        auto it = m_clients.find(event.client);
        if (it != m_clients.end()) {
            foldLinkTotals(it->second, event.finalStats);  // what it lost up to its last packet counts
            m_world.despawn(it->second.player);
            m_clients.erase(it);
            ++m_metrics.disconnects;
            applyAdmission();
        }
        break;
    }
    case TransportEvent::Kind::Message: {
        auto it = m_clients.find(event.client);
        if (it != m_clients.end() && !it->second.kickedAt)
            handleInput(event.client, it->second, event.data);
        break;
    }
    case TransportEvent::Kind::Reliable:
        break;  // clients send no control messages yet
    }
}

void Server::handleInput(int, ClientSlot& slot, std::span<const std::uint8_t> data)
{
    BitReader reader(data);
    auto message = readInputMessage(reader);
    if (!message || !reader.atPaddedEnd()) {
        ++m_metrics.malformedPackets;  // authenticated but not a valid input: count and drop
        return;
    }
    if (message->ackedSnapshot)
        slot.view->acknowledge(*message->ackedSnapshot);
    // Oldest first, so the queue sees them in order.
    for (auto it = message->commands.rbegin(); it != message->commands.rend(); ++it)
        m_world.queueInput(slot.player, *it);
    if (message->correctionsTotal > slot.correctionsReported) {
        m_metrics.corrections += message->correctionsTotal - slot.correctionsReported;
        slot.correctionsReported = message->correctionsTotal;
    }
}

namespace {
/// CPU time of the calling thread: what a tick costs, whatever else the machine runs meanwhile
/// (wall time would charge the tick for being preempted).
TimeUs threadCpuNow()
{
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<TimeUs>(t.tv_sec) * kMicrosPerSecond + t.tv_nsec / 1000;
}
} // namespace

void Server::tick()
{
    const auto started = std::chrono::steady_clock::now();  // measures our own cost only
    const TimeUs cpuStarted = threadCpuNow();
    for (auto& [client, slot] : m_clients)
        m_world.setRewindLimit(slot.player, rewindLimit256(m_transport.linkStats(client).smoothedRtt, m_world.knobs(),
                                                           m_config.lagCompensationMargin));
    m_world.step();
    const RuntimeKnobs& k = m_world.knobs();
    sendSnapshots();
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    m_metrics.tickTimeUs.record(static_cast<std::uint64_t>(std::max<TimeUs>(0, threadCpuNow() - cpuStarted)));
    ++m_metrics.ticks;
    if (elapsed > kMicrosPerSecond / k.tickHz)
        ++m_metrics.overrunTicks;  // late by the wall clock: what players feel
}

void Server::sendSnapshots()
{
    const RuntimeKnobs& k = m_world.knobs();
    // Room for the transport's reliable section and our header.
    const std::size_t budget = snapshotBudgetBits(k, kMaxPayloadSize - 300);
    BitWriter writer;
    for (auto& [client, slot] : m_clients) {
        if (!snapshotDue(m_world.tick(), k.tickHz, k.snapshotHz, slot.player.index))
            continue;
        writer.clear();
        SnapshotHeader header;
        header.lastProcessedInput = m_world.lastProcessedInput(slot.player);
        header.localPlayer = slot.player;
        header.predictionEnabled = k.predictionEnabled;
        header.interpolationDelayOverrideMs = static_cast<std::uint16_t>(k.interpolationDelayOverrideMs);
        header.snapshotHz = static_cast<std::uint8_t>(k.snapshotHz);
        writeSnapshotHeader(writer, header);
        const auto out = slot.view->buildSnapshot(m_world, writer, budget);
        const auto bytes = writer.finish();
        if (m_transport.send(client, bytes, m_lastNow).ok()) {
            ++m_metrics.snapshotsSent;
            m_metrics.snapshotBits += out.bits;
            m_metrics.entitiesSent += out.record.entities.size();
        }
        if (m_snapshotObserver)
            m_snapshotObserver(slot.clientId, out.record);
    }
}

void Server::advance(TimeUs now)
{
    m_lastNow = now;
    if (!m_started) {
        m_started = true;
        m_nextTickAt = now + kMicrosPerSecond / m_world.knobs().tickHz;
    }
    m_transport.receive(now);
    while (auto event = m_transport.pollEvent())
        handleEvent(*event, now);

    const TimeUs interval = kMicrosPerSecond / m_world.knobs().tickHz;
    if (now - m_nextTickAt > m_config.maxCatchUp) {
        // Far behind (host stalled): skip rather than burn CPU catching up on stale ticks.
        const TimeUs skipped = (now - m_nextTickAt) / interval;
        m_metrics.overrunTicks += static_cast<std::uint64_t>(skipped);
        m_nextTickAt += skipped * interval;
        m_world.creditSkippedTicks(static_cast<std::size_t>(skipped));  // the input budget follows server time
    }
    while (now >= m_nextTickAt) {
        tick();
        m_nextTickAt += kMicrosPerSecond / m_world.knobs().tickHz;
    }
    m_transport.update(now);
    endKickedSessions();

    // Fold transport counters into the region metrics as deltas.
    const TransportCounters& c = m_transport.counters();
    m_metrics.packetsIn += c.packetsIn - m_countersSeen.packetsIn;
    m_metrics.packetsOut += c.packetsOut - m_countersSeen.packetsOut;
    m_metrics.bytesIn += c.bytesIn - m_countersSeen.bytesIn;
    m_metrics.bytesOut += c.bytesOut - m_countersSeen.bytesOut;
    m_metrics.malformedPackets += (c.malformed + c.authFailed + c.replayed) - (m_countersSeen.malformed + m_countersSeen.authFailed + m_countersSeen.replayed);
    m_metrics.rejectedTokens += (c.tokensForged + c.tokensExpired + c.tokensReplayed) - (m_countersSeen.tokensForged + m_countersSeen.tokensExpired + m_countersSeen.tokensReplayed);
    m_metrics.refusedConnects += c.refused - m_countersSeen.refused;
    m_countersSeen = c;
    // Per-link totals are cumulative: fold each link's growth since last time (a sum over the
    // links connected now would shrink whenever a client leaves, and undercount loss under churn).
    for (auto& [client, slot] : m_clients)
        foldLinkTotals(slot, m_transport.linkStats(client));
    m_metrics.shotsClamped += m_world.shotsClamped() - m_shotsClampedSeen;
    m_shotsClampedSeen = m_world.shotsClamped();
    m_metrics.inputsDropped += m_world.inputsDropped() - m_inputsDroppedSeen;
    m_inputsDroppedSeen = m_world.inputsDropped();
}

void Server::foldLinkTotals(ClientSlot& slot, const LinkStats& stats)
{
    m_metrics.packetsLost += stats.packetsLost - slot.lostSeen;
    m_metrics.packetsAcked += stats.packetsAcked - slot.ackedSeen;
    slot.lostSeen = stats.packetsLost;
    slot.ackedSeen = stats.packetsAcked;
}

} // namespace lv
