#include "synccore/transport.h"

#include "link.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace lv {

using detail::Link;
using detail::PacketKind;
using detail::PacketType;
using detail::Refusal;

namespace {
constexpr std::size_t kPrivateSize = kSealedTokenSize - 16;  // clientId, expiry, two keys, user data
constexpr int kDisconnectRedundancy = 3;

void tokenAd(std::uint8_t (&ad)[16], std::uint64_t protocolId, TimeUs expiresAt)
{
    detail::putU64(ad, protocolId);
    detail::putU64(ad + 8, static_cast<std::uint64_t>(expiresAt));
}

void count(TransportCounters& c, Refusal r)
{
    switch (r) {
    case Refusal::Malformed: ++c.malformed; break;
    case Refusal::AuthFailed: ++c.authFailed; break;
    case Refusal::Replayed: ++c.replayed; break;
    case Refusal::None: break;
    }
}
} // namespace

Key generateKey()
{
    detail::ensureSodium();
    Key k;
    randombytes_buf(k.data(), k.size());
    return k;
}

ConnectToken issueConnectToken(const Key& tokenKey, std::uint64_t protocolId, std::uint64_t clientId, TimeUs expiresAt,
                               std::span<const std::uint8_t> userData, const std::optional<std::array<std::uint8_t, 32>>& seed)
{
    detail::ensureSodium();
    ConnectToken t;
    t.protocolId = protocolId;
    t.clientId = clientId;
    t.expiresAt = expiresAt;
    std::array<std::uint8_t, 24 + 32 + 32> random{};
    if (seed)
        randombytes_buf_deterministic(random.data(), random.size(), seed->data());
    else
        randombytes_buf(random.data(), random.size());
    std::copy_n(random.begin(), 24, t.nonce.begin());
    std::copy_n(random.begin() + 24, 32, t.clientToServerKey.begin());
    std::copy_n(random.begin() + 56, 32, t.serverToClientKey.begin());
    std::copy_n(userData.begin(), std::min(userData.size(), t.userData.size()), t.userData.begin());

    std::array<std::uint8_t, kPrivateSize> priv{};
    detail::putU64(&priv[0], clientId);
    detail::putU64(&priv[8], static_cast<std::uint64_t>(expiresAt));
    std::copy(t.clientToServerKey.begin(), t.clientToServerKey.end(), priv.begin() + 16);
    std::copy(t.serverToClientKey.begin(), t.serverToClientKey.end(), priv.begin() + 48);
    std::copy(t.userData.begin(), t.userData.end(), priv.begin() + 80);
    std::uint8_t ad[16];
    tokenAd(ad, protocolId, expiresAt);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(t.sealed.data(), &len, priv.data(), priv.size(), ad, sizeof ad, nullptr,
                                               t.nonce.data(), tokenKey.data());
    return t;
}

// ---------------------------------------------------------------------------------------------
struct ServerTransport::Slot {
    Address address;
    std::uint64_t clientId = 0;
    std::array<std::uint8_t, 16> tokenTag{};
    std::unique_ptr<Link> link;
};

ServerTransport::ServerTransport(TransportConfig config, Key tokenKey, DatagramSocket& socket)
    : m_config(config), m_tokenKey(tokenKey), m_socket(socket)
{
    detail::ensureSodium();
    m_slots.resize(static_cast<std::size_t>(std::max(1, m_config.maxClients)));
}

ServerTransport::~ServerTransport() = default;

void ServerTransport::receive(TimeUs now)
{
    while (auto d = m_socket.receive(now)) {
        ++m_counters.packetsIn;
        m_counters.bytesIn += d->data.size();
        if (d->data.empty()) {
            ++m_counters.malformed;
            continue;
        }
        if (d->data[0] == static_cast<std::uint8_t>(PacketType::ConnectionRequest))
            handleRequest(*d, now);
        else if (d->data[0] == static_cast<std::uint8_t>(PacketType::Connected))
            handleConnected(*d, now);
        else
            ++m_counters.malformed;
    }
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
        Slot* s = m_slots[i].get();
        if (!s)
            continue;
        s->link->expire(now);
        if (now - s->link->lastReceive() > m_config.timeout) {
            ++m_counters.timeouts;
            release(static_cast<int>(i), DisconnectReason::Timeout);
        }
    }
    // Forget used tokens once they have expired: they cannot be presented again anyway.
    if (m_usedTokens.size() > 4 * m_slots.size()) {
        for (auto it = m_usedTokens.begin(); it != m_usedTokens.end();)
            it = it->second.second <= now + m_config.tokenClockOffset ? m_usedTokens.erase(it) : std::next(it);
    }
}

void ServerTransport::handleRequest(const Datagram& d, TimeUs now)
{
    if (d.data.size() != detail::kRequestSize) {
        ++m_counters.malformed;
        return;
    }
    const std::uint8_t* p = d.data.data() + 1;
    const std::uint64_t protocolId = detail::getU64(p);
    const auto expiresAt = static_cast<TimeUs>(detail::getU64(p + 8));
    const std::uint8_t* nonce = p + 16;
    const std::uint8_t* sealed = p + 40;
    if (protocolId != m_config.protocolId) {
        ++m_counters.tokensForged;
        return;
    }
    std::array<std::uint8_t, kPrivateSize> priv{};
    std::uint8_t ad[16];
    tokenAd(ad, protocolId, expiresAt);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(priv.data(), &len, nullptr, sealed, kSealedTokenSize, ad, sizeof ad, nonce,
                                                   m_tokenKey.data())
        != 0) {
        ++m_counters.tokensForged;
        return;
    }
    if (now + m_config.tokenClockOffset >= expiresAt) {
        ++m_counters.tokensExpired;
        return;
    }
    std::array<std::uint8_t, 16> tag{};
    std::copy_n(sealed + kSealedTokenSize - 16, 16, tag.begin());
    if (auto used = m_usedTokens.find(tag); used != m_usedTokens.end() && used->second.first != d.from) {
        ++m_counters.tokensReplayed;
        return;
    }
    Key c2s{}, s2c{};
    std::copy_n(priv.begin() + 16, 32, c2s.begin());
    std::copy_n(priv.begin() + 48, 32, s2c.begin());

    // Already connected from this address?
    if (auto existing = m_byAddress.find(d.from); existing != m_byAddress.end()) {
        Slot& s = *m_slots[static_cast<std::size_t>(existing->second)];
        if (s.tokenTag == tag) {
            // A retry: our accept was lost. Say it again.
            const auto bytes = s.link->seal(PacketKind::Accept, {}, now);
            m_socket.send(d.from, bytes, now);
            ++m_counters.packetsOut;
            m_counters.bytesOut += bytes.size();
            return;
        }
        release(existing->second, DisconnectReason::ClosedByPeer);  // same address, new token: a new session
    }

    auto freeSlot = std::find_if(m_slots.begin(), m_slots.end(), [](const auto& s) { return !s; });
    const DenyReason deny = m_denyReason != DenyReason::None ? m_denyReason : freeSlot == m_slots.end() ? DenyReason::Full : DenyReason::None;
    auto link = std::make_unique<Link>(m_config.protocolId, s2c, c2s, m_config);
    link->touchReceive(now);
    if (deny != DenyReason::None) {
        ++m_counters.refused;
        const std::uint8_t reason = static_cast<std::uint8_t>(deny);
        const auto bytes = link->seal(PacketKind::Deny, std::span<const std::uint8_t>(&reason, 1), now);
        m_socket.send(d.from, bytes, now);
        ++m_counters.packetsOut;
        m_counters.bytesOut += bytes.size();
        return;
    }
    const int index = static_cast<int>(freeSlot - m_slots.begin());
    auto slot = std::make_unique<Slot>();
    slot->address = d.from;
    slot->clientId = detail::getU64(priv.data());
    slot->tokenTag = tag;
    slot->link = std::move(link);
    const auto bytes = slot->link->seal(PacketKind::Accept, {}, now);
    m_socket.send(d.from, bytes, now);
    ++m_counters.packetsOut;
    m_counters.bytesOut += bytes.size();
    m_usedTokens[tag] = {d.from, expiresAt};
    m_byAddress[d.from] = index;

    TransportEvent e;
    e.kind = TransportEvent::Kind::Connected;
    e.client = index;
    e.clientId = slot->clientId;
    std::copy_n(priv.begin() + 80, kTokenUserDataSize, e.userData.begin());
    *freeSlot = std::move(slot);
    ++m_counters.connects;
    m_events.push_back(std::move(e));
}

void ServerTransport::handleConnected(const Datagram& d, TimeUs now)
{
    auto it = m_byAddress.find(d.from);
    if (it == m_byAddress.end()) {
        ++m_counters.malformed;  // not from anyone we know
        // Perhaps a client of this server's previous life (a restart forgets every session): say
        // so, so it reconnects now rather than after its timeout. Smaller than what came in, and
        // capped per second.
        if (d.data.size() >= detail::kConnectedHeaderSize + detail::kTagSize) {
            const TimeUs window = now / kMicrosPerSecond;
            if (window != m_resetWindow) {
                m_resetWindow = window;
                m_resetsInWindow = 0;
            }
            if (m_resetsInWindow < m_config.maxResetsPerSecond) {
                ++m_resetsInWindow;
                std::vector<std::uint8_t> reply(detail::kSessionUnknownSize);
                reply[0] = static_cast<std::uint8_t>(PacketType::SessionUnknown);
                detail::putU64(&reply[1], m_config.protocolId);
                m_socket.send(d.from, reply, now);
                ++m_counters.packetsOut;
                m_counters.bytesOut += reply.size();
                ++m_counters.resetsSent;
            }
        }
        return;
    }
    const int client = it->second;
    Slot& s = *m_slots[static_cast<std::size_t>(client)];
    Refusal refusal;
    auto opened = s.link->open(d.data, now, refusal, [this, client](TimeUs rtt) {
        if (m_rttObserver)
            m_rttObserver(client, rtt);
    });
    if (!opened) {
        count(m_counters, refusal);
        return;
    }
    for (auto& m : opened->reliable) {
        TransportEvent e;
        e.kind = TransportEvent::Kind::Reliable;
        e.client = client;
        e.data = std::move(m);
        m_events.push_back(std::move(e));
    }
    switch (opened->kind) {
    case PacketKind::Payload:
        if (!opened->payload.empty()) {
            TransportEvent e;
            e.kind = TransportEvent::Kind::Message;
            e.client = client;
            e.data = std::move(opened->payload);
            m_events.push_back(std::move(e));
        }
        break;
    case PacketKind::Disconnect:
        release(client, DisconnectReason::ClosedByPeer);
        break;
    case PacketKind::KeepAlive:
        break;
    case PacketKind::Accept:
    case PacketKind::Deny:
        ++m_counters.malformed;  // only servers send these
        break;
    }
}

void ServerTransport::release(int client, DisconnectReason reason)
{
    auto& slot = m_slots[static_cast<std::size_t>(client)];
    if (!slot)
        return;
    m_byAddress.erase(slot->address);
    slot.reset();
    ++m_counters.disconnects;
    TransportEvent e;
    e.kind = TransportEvent::Kind::Disconnected;
    e.client = client;
    e.reason = reason;
    m_events.push_back(std::move(e));
}

std::optional<TransportEvent> ServerTransport::pollEvent()
{
    if (m_events.empty())
        return std::nullopt;
    TransportEvent e = std::move(m_events.front());
    m_events.pop_front();
    return e;
}

Status ServerTransport::send(int client, std::span<const std::uint8_t> payload, TimeUs now)
{
    if (!isConnected(client))
        return ErrorCode::Refused;
    if (payload.size() > kMaxPayloadSize)
        return ErrorCode::TooLarge;
    Slot& s = *m_slots[static_cast<std::size_t>(client)];
    const auto bytes = s.link->seal(payload.empty() ? PacketKind::KeepAlive : PacketKind::Payload, payload, now);
    m_socket.send(s.address, bytes, now);
    ++m_counters.packetsOut;
    m_counters.bytesOut += bytes.size();
    return {};
}

Status ServerTransport::sendReliable(int client, std::vector<std::uint8_t> message)
{
    if (!isConnected(client))
        return ErrorCode::Refused;
    if (!m_slots[static_cast<std::size_t>(client)]->link->queueReliable(std::move(message)))
        return ErrorCode::TooLarge;
    return {};
}

void ServerTransport::update(TimeUs now)
{
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
        Slot* s = m_slots[i].get();
        if (!s)
            continue;
        if (now - s->link->lastSend() >= m_config.keepAliveInterval || s->link->reliableDue(now))
            (void)send(static_cast<int>(i), {}, now);
    }
}

void ServerTransport::disconnect(int client, TimeUs now)
{
    if (!isConnected(client))
        return;
    Slot& s = *m_slots[static_cast<std::size_t>(client)];
    for (int i = 0; i < kDisconnectRedundancy; ++i) {
        const auto bytes = s.link->seal(PacketKind::Disconnect, {}, now);
        m_socket.send(s.address, bytes, now);
        ++m_counters.packetsOut;
        m_counters.bytesOut += bytes.size();
    }
    release(client, DisconnectReason::ClosedLocally);
}

void ServerTransport::disconnectAll(TimeUs now)
{
    for (int i = 0; i < static_cast<int>(m_slots.size()); ++i)
        disconnect(i, now);
}

bool ServerTransport::isConnected(int client) const
{
    return client >= 0 && static_cast<std::size_t>(client) < m_slots.size() && m_slots[static_cast<std::size_t>(client)];
}

Address ServerTransport::clientAddress(int client) const
{
    return isConnected(client) ? m_slots[static_cast<std::size_t>(client)]->address : Address{};
}

std::uint64_t ServerTransport::clientId(int client) const
{
    return isConnected(client) ? m_slots[static_cast<std::size_t>(client)]->clientId : 0;
}

const LinkStats& ServerTransport::linkStats(int client) const
{
    static const LinkStats none;
    return isConnected(client) ? m_slots[static_cast<std::size_t>(client)]->link->stats() : none;
}

std::vector<int> ServerTransport::connectedClients() const
{
    std::vector<int> out;
    for (std::size_t i = 0; i < m_slots.size(); ++i)
        if (m_slots[i])
            out.push_back(static_cast<int>(i));
    return out;
}

// ---------------------------------------------------------------------------------------------
ClientTransport::ClientTransport(TransportConfig config, DatagramSocket& socket) : m_config(config), m_socket(socket)
{
    detail::ensureSodium();
}

ClientTransport::~ClientTransport() = default;

void ClientTransport::connect(const ConnectToken& token, const Address& server, TimeUs now)
{
    m_token = token;
    m_server = server;
    m_state = ClientState::Connecting;
    m_connectStarted = now;
    m_link = std::make_unique<Link>(m_config.protocolId, token.clientToServerKey, token.serverToClientKey, m_config);
    m_link->touchReceive(now);
    m_lastRequestSent = now - m_config.connectRetryInterval;  // send at the next update
    update(now);
}

void ClientTransport::fail(DisconnectReason reason, DenyReason deny)
{
    m_state = ClientState::Disconnected;
    m_link.reset();
    ++m_counters.disconnects;
    TransportEvent e;
    e.kind = TransportEvent::Kind::Disconnected;
    e.client = 0;
    e.reason = reason;
    e.denyReason = deny;
    m_events.push_back(std::move(e));
}

void ClientTransport::receive(TimeUs now)
{
    while (auto d = m_socket.receive(now)) {
        ++m_counters.packetsIn;
        m_counters.bytesIn += d->data.size();
        if (!m_link || d->from != m_server) {
            ++m_counters.malformed;
            continue;
        }
        if (!d->data.empty() && d->data[0] == static_cast<std::uint8_t>(PacketType::SessionUnknown)) {
            if (d->data.size() != detail::kSessionUnknownSize || detail::getU64(&d->data[1]) != m_config.protocolId) {
                ++m_counters.malformed;
            } else if (m_state == ClientState::Connected && now - m_link->lastReceive() >= m_config.resetSilence) {
                fail(DisconnectReason::ServerReset);
            } else {
                ++m_counters.resetsIgnored;  // the session is alive: whoever sent this is wrong
            }
            continue;
        }
        Refusal refusal;
        auto opened = m_link->open(d->data, now, refusal, {});
        if (!opened) {
            count(m_counters, refusal);
            continue;
        }
        if (opened->kind == PacketKind::Deny) {
            const auto reason = opened->payload.empty() ? DenyReason::None : static_cast<DenyReason>(std::min<std::uint8_t>(opened->payload[0], 3));
            ++m_counters.refused;
            fail(DisconnectReason::Denied, reason);
            continue;
        }
        if (m_state == ClientState::Connecting) {
            // Any authenticated packet from the server means we are in (the Accept may be lost).
            m_state = ClientState::Connected;
            ++m_counters.connects;
            TransportEvent e;
            e.kind = TransportEvent::Kind::Connected;
            e.client = 0;
            e.clientId = m_token.clientId;
            m_events.push_back(std::move(e));
        }
        for (auto& m : opened->reliable) {
            TransportEvent e;
            e.kind = TransportEvent::Kind::Reliable;
            e.client = 0;
            e.data = std::move(m);
            m_events.push_back(std::move(e));
        }
        if (opened->kind == PacketKind::Payload && !opened->payload.empty()) {
            TransportEvent e;
            e.kind = TransportEvent::Kind::Message;
            e.client = 0;
            e.data = std::move(opened->payload);
            m_events.push_back(std::move(e));
        } else if (opened->kind == PacketKind::Disconnect) {
            fail(DisconnectReason::ClosedByPeer);
        }
    }
    if (!m_link)
        return;
    m_link->expire(now);
    if (m_state == ClientState::Connecting && now - m_connectStarted > m_config.connectTimeout)
        fail(DisconnectReason::ConnectTimeout);
    else if (m_state == ClientState::Connected && now - m_link->lastReceive() > m_config.timeout) {
        ++m_counters.timeouts;
        fail(DisconnectReason::Timeout);
    }
}

std::optional<TransportEvent> ClientTransport::pollEvent()
{
    if (m_events.empty())
        return std::nullopt;
    TransportEvent e = std::move(m_events.front());
    m_events.pop_front();
    return e;
}

Status ClientTransport::send(std::span<const std::uint8_t> payload, TimeUs now)
{
    if (m_state != ClientState::Connected)
        return ErrorCode::Refused;
    if (payload.size() > kMaxPayloadSize)
        return ErrorCode::TooLarge;
    const auto bytes = m_link->seal(payload.empty() ? PacketKind::KeepAlive : PacketKind::Payload, payload, now);
    m_socket.send(m_server, bytes, now);
    ++m_counters.packetsOut;
    m_counters.bytesOut += bytes.size();
    return {};
}

Status ClientTransport::sendReliable(std::vector<std::uint8_t> message)
{
    if (m_state != ClientState::Connected)
        return ErrorCode::Refused;
    return m_link->queueReliable(std::move(message)) ? Status{} : Status{ErrorCode::TooLarge};
}

void ClientTransport::update(TimeUs now)
{
    if (m_state == ClientState::Connecting) {
        if (now - m_lastRequestSent >= m_config.connectRetryInterval) {
            std::vector<std::uint8_t> request(detail::kRequestSize);
            request[0] = static_cast<std::uint8_t>(PacketType::ConnectionRequest);
            detail::putU64(&request[1], m_token.protocolId);
            detail::putU64(&request[9], static_cast<std::uint64_t>(m_token.expiresAt));
            std::copy(m_token.nonce.begin(), m_token.nonce.end(), request.begin() + 17);
            std::copy(m_token.sealed.begin(), m_token.sealed.end(), request.begin() + 41);
            m_socket.send(m_server, request, now);
            ++m_counters.packetsOut;
            m_counters.bytesOut += request.size();
            m_lastRequestSent = now;
        }
    } else if (m_state == ClientState::Connected) {
        if (now - m_link->lastSend() >= m_config.keepAliveInterval || m_link->reliableDue(now))
            (void)send({}, now);
    }
}

void ClientTransport::disconnect(TimeUs now)
{
    if (m_state == ClientState::Connected) {
        for (int i = 0; i < kDisconnectRedundancy; ++i) {
            const auto bytes = m_link->seal(PacketKind::Disconnect, {}, now);
            m_socket.send(m_server, bytes, now);
            ++m_counters.packetsOut;
            m_counters.bytesOut += bytes.size();
        }
    }
    m_state = ClientState::Disconnected;
    m_link.reset();
}

const LinkStats& ClientTransport::linkStats() const
{
    static const LinkStats none;
    return m_link ? m_link->stats() : none;
}

} // namespace lv
