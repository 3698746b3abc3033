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

enum class PacketType : std::uint8_t { ConnectionRequest = 1, Connected = 2, SessionUnknown = 3 };
enum class PacketKind : std::uint8_t { Accept = 1, Deny = 2, Payload = 3, KeepAlive = 4, Disconnect = 5 };

constexpr std::size_t kRequestSize = 1 + 8 + 8 + 24 + kSealedTokenSize;
constexpr std::size_t kConnectedHeaderSize = 1 + 8;
constexpr std::size_t kSessionUnknownSize = 1 + 8;  // type, protocol id
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kReliableBudgetPerPacket = 300;
constexpr std::size_t kMaxReliableQueue = 1024;

void ensureSodium();
void putU64(std::uint8_t* out, std::uint64_t v);
std::uint64_t getU64(const std::uint8_t* in);

/// A Connected datagram carrying `plain` (kind, ack header, reliable section, payload) sealed for
/// `sequence` under `key`: what Link::seal sends, and what the fuzz targets forge.
std::vector<std::uint8_t> sealConnected(std::uint64_t protocolId, const Key& key, std::uint64_t sequence, std::span<const std::uint8_t> plain);

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
    TimeUs m_lastReceive = 0;
    TimeUs m_lastSend = 0;
};

} // namespace lv::detail
