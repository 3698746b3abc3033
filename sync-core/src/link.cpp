#include "link.h"

#include <sodium.h>

#include <algorithm>

namespace lv::detail {

namespace {
bool seqLess16(std::uint16_t a, std::uint16_t b) { return static_cast<std::int16_t>(a - b) < 0; }

/// The per-packet AEAD inputs besides the key: nonce = sequence ‖ 0⁴, additional data =
/// protocol id ‖ packet type. The key is the session's own (deriveSessionKey), never reused by
/// another session, and the sequence never repeats within one: no (key, nonce) pair twice.
struct PacketAead {
    std::uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {};
    std::uint8_t ad[9] = {};
    PacketAead(std::uint64_t protocolId, std::uint8_t type, std::uint64_t sequence)
    {
        putU64(nonce, sequence);
        putU64(ad, protocolId);
        ad[8] = type;
    }
};
} // namespace

namespace {
SealTap g_sealTap = nullptr;
} // namespace

void setSealTap(SealTap tap) { g_sealTap = tap; }

Key deriveSessionKey(const Key& tokenKey, bool clientToServer, std::span<const std::uint8_t> clientNonce,
                     std::span<const std::uint8_t> serverNonce)
{
    // Domain-separated: the direction is in the context, so the two keys of a session differ even
    // if the token's two keys were equal.
    static constexpr char kContext[] = "LVSYNC v2 session";
    crypto_generichash_state state;
    crypto_generichash_init(&state, tokenKey.data(), tokenKey.size(), 32);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kContext), sizeof kContext);
    const unsigned char direction = clientToServer ? 'C' : 'S';
    crypto_generichash_update(&state, &direction, 1);
    crypto_generichash_update(&state, clientNonce.data(), clientNonce.size());
    crypto_generichash_update(&state, serverNonce.data(), serverNonce.size());
    Key out{};
    crypto_generichash_final(&state, out.data(), out.size());
    return out;
}

std::array<std::uint8_t, kMacSize> handshakeMac(const Key& serverToClientKey, std::uint64_t protocolId,
                                                std::span<const std::uint8_t> packet, std::span<const std::uint8_t> clientNonce)
{
    static constexpr char kContext[] = "LVSYNC v2 handshake";
    crypto_generichash_state state;
    crypto_generichash_init(&state, serverToClientKey.data(), serverToClientKey.size(), kMacSize);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kContext), sizeof kContext);
    std::uint8_t id[8];
    putU64(id, protocolId);
    crypto_generichash_update(&state, id, sizeof id);
    crypto_generichash_update(&state, packet.data(), packet.size());
    crypto_generichash_update(&state, clientNonce.data(), clientNonce.size());
    std::array<std::uint8_t, kMacSize> mac{};
    crypto_generichash_final(&state, mac.data(), mac.size());
    return mac;
}

std::vector<std::uint8_t> sealConnected(std::uint64_t protocolId, const Key& key, std::uint64_t sequence, std::span<const std::uint8_t> plain)
{
    if (g_sealTap)
        g_sealTap(key, sequence);
    std::vector<std::uint8_t> out(kConnectedHeaderSize + plain.size() + kTagSize);
    out[0] = static_cast<std::uint8_t>(PacketType::Connected);
    putU64(&out[1], sequence);
    const PacketAead aead(protocolId, out[0], sequence);
    unsigned long long cipherLen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(&out[kConnectedHeaderSize], &cipherLen, plain.data(), plain.size(), aead.ad, sizeof aead.ad,
                                              nullptr, aead.nonce, key.data());
    return out;
}

void ensureSodium()
{
    static const int once = sodium_init();
    (void)once;
}

void putU64(std::uint8_t* out, std::uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t getU64(const std::uint8_t* in)
{
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v |= std::uint64_t{in[i]} << (8 * i);
    return v;
}

Link::Link(std::uint64_t protocolId, const Key& sendKey, const Key& receiveKey, const TransportConfig& config)
    : m_protocolId(protocolId), m_sendKey(sendKey), m_receiveKey(receiveKey), m_config(config)
{
    ensureSodium();
    m_received.fill(~std::uint64_t{0});
}

TimeUs Link::resendInterval() const
{
    return std::max<TimeUs>(m_config.reliableResendInterval, m_stats.smoothedRtt * 5 / 4);
}

bool Link::queueReliable(std::vector<std::uint8_t> message)
{
    if (message.size() > kMaxReliableMessageSize || m_reliableOut.size() >= kMaxReliableQueue)
        return false;
    m_reliableOut.push_back({m_nextReliableId++, std::move(message), -1});
    return true;
}

bool Link::reliableDue(TimeUs now) const
{
    const TimeUs interval = resendInterval();
    return std::any_of(m_reliableOut.begin(), m_reliableOut.end(),
                       [&](const Outgoing& o) { return o.lastSent < 0 || now - o.lastSent >= interval; });
}

std::vector<std::uint8_t> Link::seal(PacketKind kind, std::span<const std::uint8_t> payload, TimeUs now)
{
    const std::uint64_t sequence = m_nextSequence++;
    // Plaintext: kind, ack header, reliable section, payload.
    std::vector<std::uint8_t> plain;
    plain.reserve(kMaxDatagramSize);
    plain.push_back(static_cast<std::uint8_t>(kind));
    std::uint32_t ackBits = 0;
    if (m_haveReceived) {
        for (std::uint32_t i = 1; i <= 32; ++i)
            if (m_receivedMax >= i && m_received[(m_receivedMax - i) % m_received.size()] == m_receivedMax - i)
                ackBits |= 1u << (i - 1);
    }
    const std::uint16_t ack = m_haveReceived ? static_cast<std::uint16_t>(m_receivedMax) : 0xFFFF;
    const TimeUs delay = m_haveReceived ? std::clamp<TimeUs>((now - m_receivedMaxAt) / 16, 0, 0xFFFE) : 0xFFFF;
    plain.push_back(static_cast<std::uint8_t>(ack));
    plain.push_back(static_cast<std::uint8_t>(ack >> 8));
    for (int i = 0; i < 4; ++i)
        plain.push_back(static_cast<std::uint8_t>(ackBits >> (8 * i)));
    plain.push_back(static_cast<std::uint8_t>(delay));
    plain.push_back(static_cast<std::uint8_t>(delay >> 8));

    Sent& slot = m_sent[sequence % m_sent.size()];
    if (slot.sequence != ~std::uint64_t{0} && !slot.acked && !slot.lost) {
        slot.lost = true;  // overwritten unresolved: counted lost in resolve order below
    }
    slot = Sent{sequence, now, false, false, {}};

    const std::size_t countAt = plain.size();
    plain.push_back(0);
    std::size_t used = 0;
    std::uint8_t count = 0;
    const TimeUs interval = resendInterval();
    // Reliable messages fill what the payload leaves of the largest datagram (a snapshot leaves
    // room for the largest message; an empty keep-alive carries several).
    const std::size_t overhead = kConnectedHeaderSize + kPlainHeaderSize + kTagSize;
    const std::size_t budget = kMaxDatagramSize > overhead + payload.size() ? kMaxDatagramSize - overhead - payload.size() : 0;
    for (Outgoing& o : m_reliableOut) {
        if (count == 32 || used + o.data.size() + 4 > budget)
            break;
        if (o.lastSent >= 0 && now - o.lastSent < interval)
            continue;
        plain.push_back(static_cast<std::uint8_t>(o.id));
        plain.push_back(static_cast<std::uint8_t>(o.id >> 8));
        plain.push_back(static_cast<std::uint8_t>(o.data.size()));
        plain.push_back(static_cast<std::uint8_t>(o.data.size() >> 8));
        plain.insert(plain.end(), o.data.begin(), o.data.end());
        o.lastSent = now;
        used += o.data.size() + 4;
        ++count;
        slot.messages.push_back(o.id);
    }
    plain[countAt] = count;
    plain.insert(plain.end(), payload.begin(), payload.end());

    std::vector<std::uint8_t> out = sealConnected(m_protocolId, m_sendKey, sequence, plain);
    m_unresolved.push_back(sequence);
    ++m_stats.packetsSent;
    m_stats.bytesSent += out.size();
    m_lastSend = now;
    return out;
}

void Link::resolve(bool lost)
{
    if (m_recentCount == m_recent.size() && m_recent[m_recentPos])
        --m_recentLost;
    m_recent[m_recentPos] = lost;
    m_recentPos = (m_recentPos + 1) % m_recent.size();
    m_recentCount = std::min(m_recentCount + 1, m_recent.size());
    if (lost) {
        ++m_recentLost;
        ++m_stats.packetsLost;
    }
    m_stats.lossPercent = 100.0 * double(m_recentLost) / double(m_recentCount);
}

void Link::expire(TimeUs now)
{
    const TimeUs lossAge = std::max<TimeUs>(seconds(1), 4 * m_stats.smoothedRtt);
    while (!m_unresolved.empty()) {
        const std::uint64_t seq = m_unresolved.front();
        Sent& s = m_sent[seq % m_sent.size()];
        if (s.sequence != seq) {  // overwritten before it was acked
            m_unresolved.pop_front();
            resolve(true);
            continue;
        }
        if (s.acked) {
            // Counted as delivered at the age a loss is decided at, not when the ack came: a link
            // that ends (a player leaves) then leaves as many deliveries as losses uncounted, so
            // churn does not bias the loss figure down.
            if (now - s.time <= lossAge && m_nextSequence - seq <= 33 + 64)
                break;
            m_unresolved.pop_front();
            ++m_stats.packetsAcked;
            resolve(false);
            continue;
        }
        // Beyond the 33-packet ack window, or simply too old: it is not coming back.
        if (m_nextSequence - seq > 33 + 64 || now - s.time > lossAge) {
            s.lost = true;
            m_unresolved.pop_front();
            resolve(true);
            continue;
        }
        break;
    }
}

void Link::onAcked(std::uint64_t sequence, bool newest, TimeUs ackDelay, TimeUs now, const std::function<void(TimeUs)>& onRtt)
{
    Sent& s = m_sent[sequence % m_sent.size()];
    if (s.sequence != sequence || s.acked || s.lost)
        return;
    s.acked = true;  // counted in expire(), at the age losses are decided at
    ++m_acksReceived;
    if (newest) {
        const TimeUs rtt = std::max<TimeUs>(0, now - s.time - ackDelay);
        m_stats.latestRtt = rtt;
        if (m_acksReceived == 1 || m_stats.smoothedRtt == 0) {
            m_stats.smoothedRtt = rtt;
            m_stats.minRtt = rtt;
        } else {
            m_stats.smoothedRtt += (rtt - m_stats.smoothedRtt) / 8;
            m_stats.minRtt = std::min(m_stats.minRtt, rtt);
        }
        if (onRtt)
            onRtt(rtt);
    }
    for (std::uint16_t id : s.messages) {
        auto it = std::find_if(m_reliableOut.begin(), m_reliableOut.end(), [id](const Outgoing& o) { return o.id == id; });
        if (it != m_reliableOut.end())
            m_reliableOut.erase(it);
    }
}

std::optional<Opened> Link::open(std::span<const std::uint8_t> d, TimeUs now, Refusal& refusal,
                                 const std::function<void(TimeUs)>& onRtt)
{
    refusal = Refusal::None;
    if (d.size() < kConnectedHeaderSize + kTagSize + 1 + 9 || d[0] != static_cast<std::uint8_t>(PacketType::Connected)
        || d.size() > kMaxDatagramSize) {
        refusal = Refusal::Malformed;
        return std::nullopt;
    }
    const std::uint64_t sequence = getU64(&d[1]);
    // Replay window: too old, or already seen. Checked before decryption (cheap), updated after.
    if ((m_haveReceived && sequence + 256 <= m_receivedMax) || m_received[sequence % m_received.size()] == sequence) {
        refusal = Refusal::Replayed;
        ++m_stats.duplicates;
        return std::nullopt;
    }
    std::vector<std::uint8_t> plain(d.size() - kConnectedHeaderSize - kTagSize);
    const PacketAead aead(m_protocolId, d[0], sequence);
    unsigned long long plainLen = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(plain.data(), &plainLen, nullptr, &d[kConnectedHeaderSize],
                                                  d.size() - kConnectedHeaderSize, aead.ad, sizeof aead.ad, aead.nonce,
                                                  m_receiveKey.data())
        != 0) {
        refusal = Refusal::AuthFailed;
        return std::nullopt;
    }
    // Parse before touching any state: a packet is applied whole or not at all.
    std::size_t p = 0;
    auto need = [&](std::size_t n) { return p + n <= plain.size(); };
    const std::uint8_t kindByte = plain[p++];
    if (kindByte < 1 || kindByte > 5 || kindByte == 2) {
        refusal = Refusal::Malformed;
        return std::nullopt;
    }
    const std::uint16_t ack = static_cast<std::uint16_t>(plain[p] | plain[p + 1] << 8);
    std::uint32_t ackBits = 0;
    for (int i = 0; i < 4; ++i)
        ackBits |= std::uint32_t{plain[p + 2 + static_cast<std::size_t>(i)]} << (8 * i);
    const std::uint16_t delay = static_cast<std::uint16_t>(plain[p + 6] | plain[p + 7] << 8);
    p += 8;
    if (!need(1)) {
        refusal = Refusal::Malformed;
        return std::nullopt;
    }
    const std::uint8_t count = plain[p++];
    Opened opened;
    opened.kind = static_cast<PacketKind>(kindByte);
    std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> messages;
    for (std::uint8_t i = 0; i < count; ++i) {
        if (!need(4)) {
            refusal = Refusal::Malformed;
            return std::nullopt;
        }
        const std::uint16_t id = static_cast<std::uint16_t>(plain[p] | plain[p + 1] << 8);
        const std::size_t len = static_cast<std::size_t>(plain[p + 2] | plain[p + 3] << 8);
        p += 4;
        if (len > kMaxReliableMessageSize || !need(len)) {
            refusal = Refusal::Malformed;
            return std::nullopt;
        }
        messages.emplace_back(id, std::vector<std::uint8_t>(plain.begin() + static_cast<std::ptrdiff_t>(p), plain.begin() + static_cast<std::ptrdiff_t>(p + len)));
        p += len;
    }
    opened.payload.assign(plain.begin() + static_cast<std::ptrdiff_t>(p), plain.end());

    // Accepted: update the receive window.
    m_received[sequence % m_received.size()] = sequence;
    if (!m_haveReceived || sequence > m_receivedMax) {
        m_receivedMax = sequence;
        m_receivedMaxAt = now;
        m_haveReceived = true;
    }
    ++m_stats.packetsReceived;
    m_stats.bytesReceived += d.size();
    m_lastReceive = now;

    // Acks: the peer's newest received sequence is in the low 16 bits of one we sent.
    if (ack != 0xFFFF || delay != 0xFFFF) {
        if (m_nextSequence > 0) {
            const std::uint64_t newestSent = m_nextSequence - 1;
            std::uint64_t full = (newestSent & ~std::uint64_t{0xFFFF}) | ack;
            if (full > newestSent)
                full = full >= 0x10000 ? full - 0x10000 : newestSent + 1;  // no wrap possible yet: ignore
            if (full <= newestSent) {
                const TimeUs ackDelay = TimeUs{delay} * 16;
                onAcked(full, true, ackDelay, now, onRtt);
                for (std::uint32_t i = 1; i <= 32; ++i)
                    if ((ackBits & (1u << (i - 1))) && full >= i)
                        onAcked(full - i, false, 0, now, onRtt);
            }
        }
    }
    // Reliable: buffer, then deliver in order exactly once.
    for (auto& [id, data] : messages) {
        if (seqLess16(id, m_nextExpectedId))
            continue;  // already delivered
        if (static_cast<std::uint16_t>(id - m_nextExpectedId) >= kMaxReliableQueue)
            continue;  // impossibly far ahead: ignore rather than buffer without bound
        m_reliableIn.emplace(id, std::move(data));
    }
    for (auto it = m_reliableIn.find(m_nextExpectedId); it != m_reliableIn.end(); it = m_reliableIn.find(m_nextExpectedId)) {
        opened.reliable.push_back(std::move(it->second));
        m_reliableIn.erase(it);
        ++m_nextExpectedId;
    }
    return opened;
}

} // namespace lv::detail
