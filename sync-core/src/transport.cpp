#include "synccore/transport.h"

#include "link.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <queue>
#include <unordered_set>

namespace lv {

using detail::Link;
using detail::PacketKind;
using detail::PacketType;
using detail::Refusal;

namespace {
constexpr std::size_t kPrivateSize = kSealedTokenSize - 16;  // clientId, expiry, two keys, user data
constexpr int kDisconnectRedundancy = 3;
using Tag = std::array<std::uint8_t, 16>;

struct TagHash {
    std::size_t operator()(const Tag& t) const noexcept
    {
        std::uint64_t a = 0;
        std::memcpy(&a, t.data(), sizeof a);  // tags and nonces are uniformly random already
        return static_cast<std::size_t>(a);
    }
};

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

/// Nonces and keys: the CSPRNG, or (seeded, simulations only) a reproducible stream.
void drawRandom(std::span<std::uint8_t> out, const std::optional<std::uint64_t>& seed, std::uint64_t& counter)
{
    if (!seed) {
        randombytes_buf(out.data(), out.size());
        return;
    }
    std::array<std::uint8_t, 32> key{};
    detail::putU64(key.data(), *seed);
    detail::putU64(key.data() + 8, ++counter);
    randombytes_buf_deterministic(out.data(), out.size(), key.data());
}

/// The opened private part of a connect token.
struct OpenedToken {
    std::uint64_t clientId = 0;
    TimeUs expiresAt = 0;
    Key clientToServer{};
    Key serverToClient{};
    std::array<std::uint8_t, kTokenUserDataSize> userData{};
    Tag tag{};
};

/// The token fields a request and a response share: protocol id, game version, expiry, nonce,
/// sealed part, client nonce (offsets after the type byte).
struct HandshakeFields {
    std::uint64_t protocolId = 0;
    std::uint64_t gameVersion = 0;
    TimeUs expiresAt = 0;
    const std::uint8_t* tokenNonce = nullptr;
    const std::uint8_t* sealed = nullptr;
    const std::uint8_t* clientNonce = nullptr;
};

HandshakeFields parseFields(const std::uint8_t* p)
{
    HandshakeFields f;
    f.protocolId = detail::getU64(p);
    f.gameVersion = detail::getU64(p + 8);
    f.expiresAt = static_cast<TimeUs>(detail::getU64(p + 16));
    f.tokenNonce = p + 24;
    f.sealed = p + 48;
    f.clientNonce = p + 48 + kSealedTokenSize;
    return f;
}

void writeFields(std::uint8_t* p, const ConnectToken& token, std::uint64_t gameVersion, const std::array<std::uint8_t, 16>& clientNonce)
{
    detail::putU64(p, token.protocolId);
    detail::putU64(p + 8, gameVersion);
    detail::putU64(p + 16, static_cast<std::uint64_t>(token.expiresAt));
    std::copy(token.nonce.begin(), token.nonce.end(), p + 24);
    std::copy(token.sealed.begin(), token.sealed.end(), p + 48);
    std::copy(clientNonce.begin(), clientNonce.end(), p + 48 + kSealedTokenSize);
}
} // namespace

const char* denyReasonText(DenyReason reason)
{
    switch (reason) {
    case DenyReason::None: return "the server refused the connection";
    case DenyReason::Full: return "the server is full";
    case DenyReason::AdmissionsClosed: return "the server is not admitting players (drain or failover)";
    case DenyReason::Maintenance: return "the server is in maintenance";
    case DenyReason::VersionMismatch: return "this game client speaks another protocol version than the server: update the game";
    }
    return "the server refused the connection";
}

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
    Tag tokenTag{};
    Tag serverNonce{};  // of the challenge this session was made from: a retried response is recognised by it
    std::unique_ptr<Link> link;
};

/// Everything the handshake keeps. Bounded: the rate table is fixed-size, and tokens and
/// challenges in use are only added after a round trip proved the address, and leave when their
/// expiry passes (a min-heap: O(log n) per entry, no sweep).
struct ServerTransport::Handshake {
    Key cookieKey{};
    std::uint64_t randomCounter = 0;

    // Per-address token buckets in a fixed open-addressed table: a flood from many addresses
    // evicts buckets rather than growing memory (an evicted address starts with a full bucket,
    // which the global bucket still bounds).
    struct Bucket {
        Address address;
        double tokens = 0.0;
        TimeUs refilledAt = 0;
        bool used = false;
    };
    static constexpr std::size_t kBuckets = 4096;
    static constexpr std::size_t kProbe = 8;
    std::vector<Bucket> buckets = std::vector<Bucket>(kBuckets);
    double globalTokens = 0.0;
    TimeUs globalRefilledAt = -1;

    struct TokenUse {
        Address address;
        TimeUs expiresAt = 0;  // token clock
    };
    std::unordered_map<Tag, TokenUse, TagHash> usedTokens;
    std::unordered_set<Tag, TagHash> answeredChallenges;
    struct Expiry {
        TimeUs at;
        Tag key;
        bool token;  // true: usedTokens (token clock); false: answeredChallenges (host clock)
        bool operator>(const Expiry& o) const { return at > o.at; }
    };
    std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> tokenExpiry;
    std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> challengeExpiry;

    bool admit(const Address& from, TimeUs now, const TransportConfig& config)
    {
        const double perSecond = std::max(1, config.handshakesPerSecond);
        if (globalRefilledAt < 0) {
            globalTokens = perSecond;
            globalRefilledAt = now;
        }
        globalTokens = std::min(perSecond, globalTokens + perSecond * double(now - globalRefilledAt) / double(kMicrosPerSecond));
        globalRefilledAt = now;
        if (globalTokens < 1.0)
            return false;

        const double rate = std::max(1, config.handshakesPerAddressPerSecond);
        const std::size_t home = AddressHash{}(from) % kBuckets;
        Bucket* bucket = nullptr;
        Bucket* victim = nullptr;  // a free bucket, else the least recently refilled one probed
        for (std::size_t i = 0; i < kProbe; ++i) {
            Bucket& b = buckets[(home + i) % kBuckets];
            if (b.used && b.address == from) {
                bucket = &b;
                break;
            }
            if (!victim || (victim->used && (!b.used || b.refilledAt < victim->refilledAt)))
                victim = &b;
        }
        if (!bucket) {
            bucket = victim;
            *bucket = Bucket{from, rate, now, true};
        }
        bucket->tokens = std::min(rate, bucket->tokens + rate * double(now - bucket->refilledAt) / double(kMicrosPerSecond));
        bucket->refilledAt = now;
        if (bucket->tokens < 1.0)
            return false;
        bucket->tokens -= 1.0;
        globalTokens -= 1.0;
        return true;
    }

    void expire(TimeUs now, TimeUs tokenNow)
    {
        while (!tokenExpiry.empty() && tokenExpiry.top().at <= tokenNow) {
            auto it = usedTokens.find(tokenExpiry.top().key);
            if (it != usedTokens.end() && it->second.expiresAt <= tokenNow)
                usedTokens.erase(it);
            tokenExpiry.pop();
        }
        while (!challengeExpiry.empty() && challengeExpiry.top().at <= now) {
            answeredChallenges.erase(challengeExpiry.top().key);
            challengeExpiry.pop();
        }
    }
};

namespace {
/// Opens a token's sealed part; nullopt when it does not open under `key`.
std::optional<OpenedToken> openToken(const Key& key, const HandshakeFields& f)
{
    std::array<std::uint8_t, kPrivateSize> priv{};
    std::uint8_t ad[16];
    tokenAd(ad, f.protocolId, f.expiresAt);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(priv.data(), &len, nullptr, f.sealed, kSealedTokenSize, ad, sizeof ad,
                                                   f.tokenNonce, key.data())
            != 0
        || len != kPrivateSize)
        return std::nullopt;
    OpenedToken t;
    t.clientId = detail::getU64(priv.data());
    t.expiresAt = static_cast<TimeUs>(detail::getU64(priv.data() + 8));
    std::copy_n(priv.begin() + 16, 32, t.clientToServer.begin());
    std::copy_n(priv.begin() + 48, 32, t.serverToClient.begin());
    std::copy_n(priv.begin() + 80, kTokenUserDataSize, t.userData.begin());
    std::copy_n(f.sealed + kSealedTokenSize - 16, 16, t.tag.begin());
    return t;
}

/// The cookie binds the challenge to the address it was sent to, the client's nonce and the token;
/// only this server can make or open one (its cookie key never leaves the process).
std::array<std::uint8_t, detail::kCookieSize> sealCookie(const Key& cookieKey, const Address& to, const std::uint8_t* clientNonce,
                                                         const Tag& tokenTag, TimeUs issuedAt, const Tag& serverNonce,
                                                         const std::array<std::uint8_t, 24>& nonce)
{
    std::array<std::uint8_t, 16 + 8 + detail::kNonceSize> plain{};
    std::copy(tokenTag.begin(), tokenTag.end(), plain.begin());
    detail::putU64(plain.data() + 16, static_cast<std::uint64_t>(issuedAt));
    std::copy(serverNonce.begin(), serverNonce.end(), plain.begin() + 24);
    std::array<std::uint8_t, 16 + 2 + detail::kNonceSize> ad{};
    std::copy(to.ip.begin(), to.ip.end(), ad.begin());
    ad[16] = static_cast<std::uint8_t>(to.port);
    ad[17] = static_cast<std::uint8_t>(to.port >> 8);
    std::copy_n(clientNonce, detail::kNonceSize, ad.begin() + 18);
    std::array<std::uint8_t, detail::kCookieSize> cookie{};
    std::copy(nonce.begin(), nonce.end(), cookie.begin());
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(cookie.data() + 24, &len, plain.data(), plain.size(), ad.data(), ad.size(), nullptr,
                                               nonce.data(), cookieKey.data());
    return cookie;
}

struct OpenedCookie {
    Tag tokenTag{};
    TimeUs issuedAt = 0;
    Tag serverNonce{};
};

std::optional<OpenedCookie> openCookie(const Key& cookieKey, const Address& from, const std::uint8_t* clientNonce, const std::uint8_t* cookie)
{
    std::array<std::uint8_t, 16 + 2 + detail::kNonceSize> ad{};
    std::copy(from.ip.begin(), from.ip.end(), ad.begin());
    ad[16] = static_cast<std::uint8_t>(from.port);
    ad[17] = static_cast<std::uint8_t>(from.port >> 8);
    std::copy_n(clientNonce, detail::kNonceSize, ad.begin() + 18);
    std::array<std::uint8_t, 16 + 8 + detail::kNonceSize> plain{};
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &len, nullptr, cookie + 24, detail::kCookieSize - 24, ad.data(), ad.size(),
                                                   cookie, cookieKey.data())
        != 0)
        return std::nullopt;
    OpenedCookie c;
    std::copy_n(plain.begin(), 16, c.tokenTag.begin());
    c.issuedAt = static_cast<TimeUs>(detail::getU64(plain.data() + 16));
    std::copy_n(plain.begin() + 24, 16, c.serverNonce.begin());
    return c;
}

std::array<std::uint8_t, detail::kDenySize> makeDeny(const Key& serverToClient, std::uint64_t protocolId, DenyReason reason,
                                                     const std::uint8_t* clientNonce)
{
    std::array<std::uint8_t, detail::kDenySize> out{};
    out[0] = static_cast<std::uint8_t>(PacketType::Deny);
    out[1] = static_cast<std::uint8_t>(reason);
    const auto mac = detail::handshakeMac(serverToClient, protocolId, std::span<const std::uint8_t>(out.data(), 2),
                                          std::span<const std::uint8_t>(clientNonce, detail::kNonceSize));
    std::copy(mac.begin(), mac.end(), out.begin() + 2);
    return out;
}
} // namespace

ServerTransport::ServerTransport(TransportConfig config, Key tokenKey, DatagramSocket& socket)
    : m_config(config), m_tokenKey(tokenKey), m_socket(socket), m_handshake(std::make_unique<Handshake>())
{
    detail::ensureSodium();
    const std::size_t slots = static_cast<std::size_t>(std::max(1, m_config.maxClients));
    m_slots.resize(slots);
    m_freeSlots.reserve(slots);
    for (std::size_t i = 0; i < slots; ++i)
        m_freeSlots.push_back(static_cast<int>(i));  // ascending: already a min-heap
    drawRandom(m_handshake->cookieKey, m_config.randomSeed, m_handshake->randomCounter);
}

ServerTransport::~ServerTransport() = default;

void ServerTransport::sendRaw(const Address& to, std::span<const std::uint8_t> bytes, TimeUs now)
{
    m_socket.send(to, bytes, now);
    ++m_counters.packetsOut;
    m_counters.bytesOut += bytes.size();
}

void ServerTransport::receive(TimeUs now)
{
    m_lastReceive = now;
    while (auto d = m_socket.receive(now)) {
        ++m_counters.packetsIn;
        m_counters.bytesIn += d->data.size();
        if (d->data.empty()) {
            ++m_counters.malformed;
            continue;
        }
        switch (static_cast<PacketType>(d->data[0])) {
        case PacketType::ConnectionRequest: handleRequest(*d, now); break;
        case PacketType::ChallengeResponse: handleResponse(*d, now); break;
        case PacketType::Connected: handleConnected(*d, now); break;
        default: ++m_counters.malformed; break;  // includes the packets only servers send
        }
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
    m_handshake->expire(now, now + m_config.tokenClockOffset);
}

namespace {
/// A request's or response's token fields when the datagram has the size and protocol id of one.
std::optional<HandshakeFields> checkedFields(const Datagram& d, std::size_t size, std::uint64_t protocolId, TransportCounters& counters)
{
    if (d.data.size() != size) {
        ++counters.malformed;
        return std::nullopt;
    }
    const HandshakeFields f = parseFields(d.data.data() + 1);
    if (f.protocolId != protocolId) {
        ++counters.tokensForged;
        return std::nullopt;
    }
    return f;
}
} // namespace

bool ServerTransport::admissible(TimeUs expiresAt, const std::array<std::uint8_t, 16>& tag, const Key& serverToClient, std::uint64_t gameVersion,
                                 const std::uint8_t* clientNonce, const Address& from, TimeUs now)
{
    // The checks a request and a response share, once the token has opened.
    if (now + m_config.tokenClockOffset >= expiresAt) {
        ++m_counters.tokensExpired;
        return false;
    }
    if (auto used = m_handshake->usedTokens.find(tag); used != m_handshake->usedTokens.end() && used->second.address != from) {
        ++m_counters.tokensReplayed;
        return false;
    }
    DenyReason deny = m_denyReason != DenyReason::None ? m_denyReason : m_freeSlots.empty() ? DenyReason::Full : DenyReason::None;
    if (gameVersion != m_config.gameVersion) {
        deny = DenyReason::VersionMismatch;
        ++m_counters.versionMismatch;
    }
    if (deny == DenyReason::None)
        return true;
    ++m_counters.refused;
    sendRaw(from, makeDeny(serverToClient, m_config.protocolId, deny, clientNonce), now);
    return false;
}

void ServerTransport::handleRequest(const Datagram& d, TimeUs now)
{
    // Everything before the rate limit is a size and an integer compare: cheap enough for a flood.
    const auto fields = checkedFields(d, detail::kRequestSize, m_config.protocolId, m_counters);
    if (!fields)
        return;
    const HandshakeFields& f = *fields;
    if (m_byAddress.contains(d.from)) {
        ++m_counters.requestsWhileConnected;  // never ends, never disturbs, the live session
        return;
    }
    if (!m_handshake->admit(d.from, now, m_config)) {
        ++m_counters.rateLimited;
        return;
    }
    const auto token = openToken(m_tokenKey, f);
    if (!token || token->expiresAt != f.expiresAt) {
        ++m_counters.tokensForged;
        return;
    }
    if (!admissible(token->expiresAt, token->tag, token->serverToClient, f.gameVersion, f.clientNonce, d.from, now))
        return;
    // Challenge: a fresh server nonce and a cookie only we can open. No state is kept.
    Tag serverNonce{};
    std::array<std::uint8_t, 24> cookieNonce{};
    drawRandom(serverNonce, m_config.randomSeed, m_handshake->randomCounter);
    drawRandom(cookieNonce, m_config.randomSeed, m_handshake->randomCounter);
    std::array<std::uint8_t, detail::kChallengeSize> out{};
    out[0] = static_cast<std::uint8_t>(PacketType::Challenge);
    std::copy(serverNonce.begin(), serverNonce.end(), out.begin() + 1);
    const auto cookie = sealCookie(m_handshake->cookieKey, d.from, f.clientNonce, token->tag, now, serverNonce, cookieNonce);
    std::copy(cookie.begin(), cookie.end(), out.begin() + 1 + detail::kNonceSize);
    const std::size_t macAt = 1 + detail::kNonceSize + detail::kCookieSize;
    const auto mac = detail::handshakeMac(token->serverToClient, m_config.protocolId, std::span<const std::uint8_t>(out.data(), macAt),
                                          std::span<const std::uint8_t>(f.clientNonce, detail::kNonceSize));
    std::copy(mac.begin(), mac.end(), out.begin() + static_cast<std::ptrdiff_t>(macAt));
    ++m_counters.challengesSent;
    sendRaw(d.from, out, now);
}

void ServerTransport::handleResponse(const Datagram& d, TimeUs now)
{
    const auto fields = checkedFields(d, detail::kResponseSize, m_config.protocolId, m_counters);
    if (!fields)
        return;
    const HandshakeFields& f = *fields;
    if (!m_handshake->admit(d.from, now, m_config)) {
        ++m_counters.rateLimited;
        return;
    }
    // The cookie first: it proves the sender received our challenge at this address.
    const std::uint8_t* cookieBytes = d.data.data() + detail::kRequestSize;
    const auto cookie = openCookie(m_handshake->cookieKey, d.from, f.clientNonce, cookieBytes);
    if (!cookie || now - cookie->issuedAt > m_config.challengeLifetime || cookie->issuedAt > now) {
        ++m_counters.cookiesRejected;
        return;
    }
    if (auto existing = m_byAddress.find(d.from); existing != m_byAddress.end()) {
        Slot& s = *m_slots[static_cast<std::size_t>(existing->second)];
        if (s.serverNonce == cookie->serverNonce) {
            // A retry: our Accept was lost. Say it again, in the session.
            sendRaw(d.from, s.link->seal(PacketKind::Accept, {}, now), now);
        } else {
            ++m_counters.requestsWhileConnected;
        }
        return;
    }
    if (m_handshake->answeredChallenges.contains(cookie->serverNonce)) {
        ++m_counters.challengesReplayed;  // a session was made from it already: its keys are spent
        return;
    }
    const auto token = openToken(m_tokenKey, f);
    if (!token || token->expiresAt != f.expiresAt || token->tag != cookie->tokenTag) {
        ++m_counters.tokensForged;
        return;
    }
    if (!admissible(token->expiresAt, token->tag, token->serverToClient, f.gameVersion, f.clientNonce, d.from, now))
        return;

    std::pop_heap(m_freeSlots.begin(), m_freeSlots.end(), std::greater<>());
    const int index = m_freeSlots.back();
    m_freeSlots.pop_back();
    const std::span<const std::uint8_t> clientNonce(f.clientNonce, detail::kNonceSize);
    auto slot = std::make_unique<Slot>();
    slot->address = d.from;
    slot->clientId = token->clientId;
    slot->tokenTag = token->tag;
    slot->serverNonce = cookie->serverNonce;
    slot->link = std::make_unique<Link>(m_config.protocolId,
                                        detail::deriveSessionKey(token->serverToClient, false, clientNonce, cookie->serverNonce),
                                        detail::deriveSessionKey(token->clientToServer, true, clientNonce, cookie->serverNonce), m_config);
    slot->link->touchReceive(now);
    sendRaw(d.from, slot->link->seal(PacketKind::Accept, {}, now), now);

    m_handshake->usedTokens[token->tag] = {d.from, token->expiresAt};
    m_handshake->tokenExpiry.push({token->expiresAt, token->tag, true});
    m_handshake->answeredChallenges.insert(cookie->serverNonce);
    m_handshake->challengeExpiry.push({cookie->issuedAt + m_config.challengeLifetime + 1, cookie->serverNonce, false});
    m_byAddress[d.from] = index;

    TransportEvent e;
    e.kind = TransportEvent::Kind::Connected;
    e.client = index;
    e.clientId = slot->clientId;
    e.userData = token->userData;
    m_slots[static_cast<std::size_t>(index)] = std::move(slot);
    ++m_counters.connects;
    m_events.push_back(std::move(e));
}

void ServerTransport::handleConnected(const Datagram& d, TimeUs now)
{
    auto it = m_byAddress.find(d.from);
    if (it == m_byAddress.end()) {
        if (auto closed = m_recentlyClosed.find(d.from); closed != m_recentlyClosed.end()) {
            if (now < closed->second) {
                ++m_counters.afterClose;  // a session this server just ended: expected, and it knows
                return;
            }
            m_recentlyClosed.erase(closed);
        }
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
                std::array<std::uint8_t, detail::kSessionUnknownSize> reply{};
                reply[0] = static_cast<std::uint8_t>(PacketType::SessionUnknown);
                detail::putU64(&reply[1], m_config.protocolId);
                sendRaw(d.from, reply, now);
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
    if (m_recentlyClosed.size() >= kMaxRecentlyClosed)
        std::erase_if(m_recentlyClosed, [this](const auto& e) { return e.second <= m_lastReceive; });
    if (m_recentlyClosed.size() < kMaxRecentlyClosed)
        m_recentlyClosed[slot->address] = m_lastReceive + kClosedGrace;
    const LinkStats finalStats = slot->link->stats();
    slot.reset();
    // A min-heap: slots are reused lowest first, as they always were (deterministic simulations
    // depend on which slot a client gets).
    m_freeSlots.push_back(client);
    std::push_heap(m_freeSlots.begin(), m_freeSlots.end(), std::greater<>());
    ++m_counters.disconnects;
    TransportEvent e;
    e.kind = TransportEvent::Kind::Disconnected;
    e.client = client;
    e.reason = reason;
    e.finalStats = finalStats;
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
    sendRaw(s.address, s.link->seal(payload.empty() ? PacketKind::KeepAlive : PacketKind::Payload, payload, now), now);
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
    for (int i = 0; i < kDisconnectRedundancy; ++i)
        sendRaw(s.address, s.link->seal(PacketKind::Disconnect, {}, now), now);
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
    m_link.reset();  // keys come from the challenge: a session of its own, whatever the token
    m_cookie.clear();
    drawRandom(m_clientNonce, m_config.randomSeed, m_randomCounter);
    m_lastRequestSent = now - m_config.connectRetryInterval;  // send at the next update
    update(now);
}

void ClientTransport::fail(DisconnectReason reason, DenyReason deny)
{
    m_state = ClientState::Disconnected;
    m_link.reset();
    m_cookie.clear();
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
        if (m_state == ClientState::Disconnected || d->from != m_server || d->data.empty()) {
            ++m_counters.malformed;
            continue;
        }
        const std::span<const std::uint8_t> bytes = d->data;
        const auto type = static_cast<PacketType>(bytes[0]);
        if (type == PacketType::SessionUnknown) {
            if (bytes.size() != detail::kSessionUnknownSize || detail::getU64(&bytes[1]) != m_config.protocolId) {
                ++m_counters.malformed;
            } else if (m_state == ClientState::Connected && m_link && now - m_link->lastReceive() >= m_config.resetSilence) {
                fail(DisconnectReason::ServerReset);
            } else {
                ++m_counters.resetsIgnored;  // the session is alive: whoever sent this is wrong
            }
            continue;
        }
        if (type == PacketType::Challenge || type == PacketType::Deny) {
            const std::size_t size = type == PacketType::Challenge ? detail::kChallengeSize : detail::kDenySize;
            if (bytes.size() != size) {
                ++m_counters.malformed;
                continue;
            }
            // Only the handshake in progress, and only the first challenge: later ones (answers to
            // our retries) would change the keys under a session already being made.
            if (m_state != ClientState::Connecting || (type == PacketType::Challenge && !m_cookie.empty())) {
                ++m_counters.handshakeIgnored;
                continue;
            }
            const auto mac = detail::handshakeMac(m_token.serverToClientKey, m_config.protocolId, bytes.first(size - detail::kMacSize),
                                                  m_clientNonce);
            if (sodium_memcmp(mac.data(), bytes.data() + size - detail::kMacSize, detail::kMacSize) != 0) {
                ++m_counters.handshakeIgnored;  // not from a server holding our token's keys, or not for this nonce
                continue;
            }
            if (type == PacketType::Deny) {
                ++m_counters.refused;
                fail(DisconnectReason::Denied, static_cast<DenyReason>(std::min<std::uint8_t>(bytes[1], 4)));
                continue;
            }
            const std::span<const std::uint8_t> serverNonce = bytes.subspan(1, detail::kNonceSize);
            m_cookie.assign(bytes.begin() + 1 + detail::kNonceSize, bytes.begin() + 1 + detail::kNonceSize + detail::kCookieSize);
            m_link = std::make_unique<Link>(m_config.protocolId,
                                            detail::deriveSessionKey(m_token.clientToServerKey, true, m_clientNonce, serverNonce),
                                            detail::deriveSessionKey(m_token.serverToClientKey, false, m_clientNonce, serverNonce), m_config);
            m_link->touchReceive(now);
            m_lastRequestSent = now - m_config.connectRetryInterval;
            sendHandshake(now);  // answer at once
            continue;
        }
        if (type != PacketType::Connected || !m_link) {
            ++m_counters.malformed;
            continue;
        }
        Refusal refusal;
        auto opened = m_link->open(bytes, now, refusal, {});
        if (!opened) {
            count(m_counters, refusal);
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
    if (m_state == ClientState::Disconnected)
        return;
    if (m_link)
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

void ClientTransport::sendHandshake(TimeUs now)
{
    if (now - m_lastRequestSent < m_config.connectRetryInterval)
        return;
    // Before a challenge: the request. After: the response (the request's fields and the cookie).
    std::vector<std::uint8_t> packet(m_cookie.empty() ? detail::kRequestSize : detail::kResponseSize);
    packet[0] = static_cast<std::uint8_t>(m_cookie.empty() ? PacketType::ConnectionRequest : PacketType::ChallengeResponse);
    writeFields(packet.data() + 1, m_token, m_config.gameVersion, m_clientNonce);
    std::copy(m_cookie.begin(), m_cookie.end(), packet.begin() + detail::kRequestSize);
    m_socket.send(m_server, packet, now);
    ++m_counters.packetsOut;
    m_counters.bytesOut += packet.size();
    m_lastRequestSent = now;
}

void ClientTransport::update(TimeUs now)
{
    if (m_state == ClientState::Connecting) {
        sendHandshake(now);
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
    m_cookie.clear();
}

const LinkStats& ClientTransport::linkStats() const
{
    static const LinkStats none;
    return m_link ? m_link->stats() : none;
}

TimeUs ClientTransport::lastReceive() const
{
    return m_state == ClientState::Connected && m_link ? m_link->lastReceive() : 0;
}

} // namespace lv
