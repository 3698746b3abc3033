#pragma once

// Transport-internal: one authenticated connection's packet protection, acks, RTT/loss and
// reliable-ordered channel. Not part of the public API (transport.h is).

#include "synccore/transport.h"

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace lv::detail {

enum class PacketType : std::uint8_t {
    ConnectionRequest = 1, Connected = 2, SessionUnknown = 3, Challenge = 4, ChallengeResponse = 5, Deny = 6
};
/// What a Connected packet carries (2 was the old in-session Deny: a Deny is a handshake packet now).
enum class PacketKind : std::uint8_t { Accept = 1, Payload = 3, KeepAlive = 4, Disconnect = 5 };

constexpr std::size_t kNonceSize = 16;       // the client's and the server's handshake nonces
constexpr std::size_t kMacSize = 16;
/// nonce, then {token tag, issued at, server nonce} sealed under the server's cookie key, and its tag
constexpr std::size_t kCookieSize = 24 + (16 + 8 + kNonceSize) + 16;
/// type, protocol id, game version, token expiry, token nonce, sealed token, client nonce
constexpr std::size_t kRequestSize = 1 + 8 + 8 + 8 + 24 + kSealedTokenSize + kNonceSize;
/// type, server nonce, cookie, MAC
constexpr std::size_t kChallengeSize = 1 + kNonceSize + kCookieSize + kMacSize;
/// the request's fields again, then the cookie
constexpr std::size_t kResponseSize = kRequestSize + kCookieSize;
/// type, reason, MAC
constexpr std::size_t kDenySize = 1 + 1 + kMacSize;
constexpr std::size_t kConnectedHeaderSize = 1 + 8;
constexpr std::size_t kSessionUnknownSize = 1 + 8;  // type, protocol id
constexpr std::size_t kTagSize = 16;
/// Plaintext ahead of the reliable messages: kind, ack, ack bits, ack delay, message count.
constexpr std::size_t kPlainHeaderSize = 1 + 2 + 4 + 2 + 1;
constexpr std::size_t kMaxReliableQueue = 1024;
static_assert(kChallengeSize < kRequestSize && kDenySize < kRequestSize, "a handshake reply never amplifies");

void ensureSodium();
void putU64(std::uint8_t* out, std::uint64_t v);
std::uint64_t getU64(const std::uint8_t* in);

/// Test seam: when set, called with the key and sequence of every Connected packet sealed, so a
/// test can prove that no (key, nonce) pair is ever used twice. Null (the default) costs a branch.
using SealTap = void (*)(const Key& key, std::uint64_t sequence);
void setSealTap(SealTap tap);

/// A Connected datagram carrying `plain` (kind, ack header, reliable section, payload) sealed for
/// `sequence` under `key`: what Link::seal sends, and what the fuzz targets forge.
std::vector<std::uint8_t> sealConnected(std::uint64_t protocolId, const Key& key, std::uint64_t sequence, std::span<const std::uint8_t> plain);

/// The session keys of one handshake: keyed BLAKE2b of the token's key over both nonces, so every
/// session (every challenge: the server's nonce is fresh) has keys of its own.
Key deriveSessionKey(const Key& tokenKey, bool clientToServer, std::span<const std::uint8_t> clientNonce,
                     std::span<const std::uint8_t> serverNonce);
/// The MAC that authenticates a Challenge or Deny to the client: keyed BLAKE2b under a key derived
/// from the token's server-to-client key, over protocol id, the packet and the client's nonce.
std::array<std::uint8_t, kMacSize> handshakeMac(const Key& serverToClientKey, std::uint64_t protocolId,
                                                std::span<const std::uint8_t> packet, std::span<const std::uint8_t> clientNonce);

/// Why a datagram was refused by a Link (for the transport's counters).
enum class Refusal : std::uint8_t { None, Malformed, AuthFailed, Replayed };

struct Opened {
    PacketKind kind = PacketKind::KeepAlive;
    std::vector<std::uint8_t> payload;
    std::vector<std::vector<std::uint8_t>> reliable;  // delivered in order, each once
};

class Link {
public:
    Link(std::uint64_t protocolId, const Key& sendKey, const Key& receiveKey, const TransportConfig& config);

    /// Builds one sealed datagram of `kind` carrying `payload` plus due reliable messages.
    std::vector<std::uint8_t> seal(PacketKind kind, std::span<const std::uint8_t> payload, TimeUs now);
    /// Authenticates and parses a Connected datagram. On refusal, `refusal` says why.
    std::optional<Opened> open(std::span<const std::uint8_t> datagram, TimeUs now, Refusal& refusal,
                               const std::function<void(TimeUs)>& onRtt);
    bool queueReliable(std::vector<std::uint8_t> message);
    bool reliableDue(TimeUs now) const;
    /// Resolves old unacknowledged packets as lost.
    void expire(TimeUs now);

    const LinkStats& stats() const { return m_stats; }
    TimeUs lastReceive() const { return m_lastReceive; }
    TimeUs lastSend() const { return m_lastSend; }
    void touchReceive(TimeUs now) { m_lastReceive = now; }

private:
    struct Sent {
        std::uint64_t sequence = ~std::uint64_t{0};
        TimeUs time = 0;
        bool acked = false;
        bool lost = false;
        std::vector<std::uint16_t> messages;
    };
    struct Outgoing {
        std::uint16_t id;
        std::vector<std::uint8_t> data;
        TimeUs lastSent = -1;
    };
    void onAcked(std::uint64_t sequence, bool newest, TimeUs ackDelay, TimeUs now, const std::function<void(TimeUs)>& onRtt);
    void resolve(bool lost);
    TimeUs resendInterval() const;

    std::uint64_t m_protocolId;
    Key m_sendKey;
    Key m_receiveKey;
    TransportConfig m_config;
    std::uint64_t m_nextSequence = 0;
    std::array<Sent, 1024> m_sent;
    std::deque<std::uint64_t> m_unresolved;  // sent sequences not yet acked or lost, in order
    bool m_haveReceived = false;
    std::uint64_t m_receivedMax = 0;
    TimeUs m_receivedMaxAt = 0;
    std::array<std::uint64_t, 1024> m_received;  // sequence stored at sequence % 1024
    std::deque<Outgoing> m_reliableOut;
    std::uint16_t m_nextReliableId = 0;
    std::uint16_t m_nextExpectedId = 0;
    std::map<std::uint16_t, std::vector<std::uint8_t>> m_reliableIn;  // buffered out-of-order
    std::array<bool, 256> m_recent{};  // resolved packets: true = lost
    std::size_t m_recentCount = 0;
    std::size_t m_recentPos = 0;
    std::size_t m_recentLost = 0;
    LinkStats m_stats;
    std::uint64_t m_acksReceived = 0;
    TimeUs m_lastReceive = 0;
    TimeUs m_lastSend = 0;
};

} // namespace lv::detail
