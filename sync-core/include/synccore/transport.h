#pragma once

#include "synccore/result.h"
#include "synccore/socket.h"
#include "synccore/types.h"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace lv {

using Key = std::array<std::uint8_t, 32>;
constexpr std::size_t kTokenUserDataSize = 32;
constexpr std::size_t kSealedTokenSize = 8 + 8 + 32 + 32 + kTokenUserDataSize + 16;  // private part + AEAD tag
/// Largest unreliable payload one packet carries (the datagram adds type, sequence, header, tag).
constexpr std::size_t kMaxPayloadSize = 1200;
/// Largest reliable control message (a Redirect with a fresh token and a 160-byte reason fits).
constexpr std::size_t kMaxReliableMessageSize = 432;

/// A new random key (libsodium's CSPRNG).
Key generateKey();

/// What the backend hands a client so it may connect: a public part the client reads and a private
/// part sealed (XChaCha20-Poly1305) with the cluster's token key, which only servers can open.
struct ConnectToken {
    std::uint64_t protocolId = 0;
    std::uint64_t clientId = 0;
    TimeUs expiresAt = 0;  ///< in the servers' time base (TransportConfig::clockOffset applies)
    std::array<std::uint8_t, 24> nonce{};
    std::array<std::uint8_t, kSealedTokenSize> sealed{};
    Key clientToServerKey{};
    Key serverToClientKey{};
    std::array<std::uint8_t, kTokenUserDataSize> userData{};
    /// The servers to try, in order (as netcode.io tokens list them): a client that cannot reach
    /// one, or loses it, moves on to the next (Client::connect). Public, for the client: any
    /// server holding the cluster's key admits the token (a redirect relies on that too).
    std::vector<Address> servers;
};
/// Servers a token lists at most.
constexpr std::size_t kMaxTokenServers = 8;

/// Issues a token. With `seed` the keys and nonce are derived from it (deterministic tests and
/// replays); without, they come from the CSPRNG.
ConnectToken issueConnectToken(const Key& tokenKey, std::uint64_t protocolId, std::uint64_t clientId,
                               TimeUs expiresAt, std::span<const std::uint8_t> userData,
                               const std::optional<std::array<std::uint8_t, 32>>& seed = std::nullopt);

struct TransportConfig {
    std::uint64_t protocolId = 0x4C56'5359'4E43'0002ULL;  // "LVSYNC" v2: challenge handshake, session keys
    /// What the game layer above speaks (schema and movement tuning): a client whose version
    /// differs from the server's is denied with DenyReason::VersionMismatch instead of desyncing.
    std::uint64_t gameVersion = 0;
    TimeUs timeout = seconds(5);           ///< no packet received for this long: disconnected
    TimeUs keepAliveInterval = millis(100);
    TimeUs connectRetryInterval = millis(100);
    TimeUs connectTimeout = seconds(5);
    TimeUs reliableResendInterval = millis(100);  ///< floor; grows to 1.25 x RTT
    /// A client believes its server's "no such session" reply (unauthenticated: anyone can send
    /// one) only after this long without an authenticated packet, i.e. when the session already
    /// looks dead; then it ends the session at once instead of waiting out `timeout`.
    TimeUs resetSilence = millis(500);
    /// Server side: at most this many "no such session" replies per second (each smaller than the
    /// packet that caused it, so they never amplify; the cap keeps them from becoming a flood).
    int maxResetsPerSecond = 256;
    int maxClients = 4096;
    /// Handshake: how long a challenge's cookie stays valid (the client answers within this).
    TimeUs challengeLifetime = seconds(10);
    /// Unauthenticated work is bounded before any cryptography: handshake packets (requests and
    /// challenge responses) per source address per second, with this burst...
    int handshakesPerAddressPerSecond = 20;
    /// ...and in all, per second, across every address (a spoofed flood from many addresses).
    int handshakesPerSecond = 20000;
    /// Randomness of handshake nonces and cookie keys: the CSPRNG when unset; a seed gives a
    /// reproducible stream for deterministic simulations only (never in production: nonces of
    /// two runs with the same seed repeat).
    std::optional<std::uint64_t> randomSeed;
    /// Added to the host's `now` to get the clock tokens expire in. Hosts that tick on a monotonic
    /// clock set it to (Unix time - monotonic time) so that tokens carry Unix time and can be
    /// issued on another machine.
    TimeUs tokenClockOffset = 0;
};

enum class DisconnectReason : std::uint8_t {
    None = 0, Timeout, ClosedByPeer, ClosedLocally, Denied, ConnectTimeout,
    ServerReset  ///< the server no longer knows the session (it restarted); reconnect with a new token
};

/// Why a server denied a connection request (sent to the client, authenticated).
enum class DenyReason : std::uint8_t { None = 0, Full = 1, AdmissionsClosed = 2, Maintenance = 3, VersionMismatch = 4 };
/// A sentence a game client can show for a deny reason.
const char* denyReasonText(DenyReason reason);

/// Per-connection link figures.
struct LinkStats {
    TimeUs smoothedRtt = 0;     ///< EWMA of samples corrected by the peer's reported ack delay
    TimeUs latestRtt = 0;
    TimeUs minRtt = 0;
    double lossPercent = 0.0;   ///< over the recent window of sent packets
    std::uint64_t packetsSent = 0;
    std::uint64_t packetsReceived = 0;
    std::uint64_t packetsAcked = 0;
    std::uint64_t packetsLost = 0;
    std::uint64_t bytesSent = 0;
    std::uint64_t bytesReceived = 0;
    std::uint64_t duplicates = 0;  ///< received twice (replay window hit)
};

/// Counts of everything a transport refused or did.
struct TransportCounters {
    std::uint64_t packetsIn = 0;
    std::uint64_t packetsOut = 0;
    std::uint64_t bytesIn = 0;
    std::uint64_t bytesOut = 0;
    std::uint64_t malformed = 0;        ///< too short, unknown type, bad framing after decryption
    std::uint64_t authFailed = 0;       ///< AEAD tag did not verify (tampered or wrong key)
    std::uint64_t replayed = 0;         ///< packet sequence already seen or too old
    std::uint64_t tokensForged = 0;     ///< token failed to open or had the wrong protocol id
    std::uint64_t tokensExpired = 0;
    std::uint64_t tokensReplayed = 0;   ///< a token already used from another address
    std::uint64_t refused = 0;          ///< valid requests denied (full, admissions closed, maintenance)
    std::uint64_t versionMismatch = 0;  ///< requests from clients of another game version (denied, also in refused)
    std::uint64_t challengesSent = 0;
    std::uint64_t cookiesRejected = 0;  ///< responses whose cookie did not open, was for another address, or expired
    std::uint64_t challengesReplayed = 0;  ///< a response for a challenge already answered
    std::uint64_t rateLimited = 0;      ///< handshake packets over the per-address or global budget: dropped unread
    std::uint64_t requestsWhileConnected = 0;  ///< handshakes from an address with a live session: ignored (never end it)
    std::uint64_t handshakeIgnored = 0; ///< client: challenges or denies that were not for this handshake
    std::uint64_t connects = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t resetsSent = 0;       ///< server: "no such session" replies to Connected packets from unknown addresses
    /// server: packets from an address whose session it ended in the last kClosedGrace (still in
    /// flight, or sent before the client heard of a redirect or kick): dropped, and not errors.
    std::uint64_t afterClose = 0;
    std::uint64_t resetsIgnored = 0;    ///< client: such replies while the session was alive (spoofed or stray)
};

/// What a transport reports to its host, polled after receive().
struct TransportEvent {
    enum class Kind : std::uint8_t { Connected, Disconnected, Message, Reliable };
    Kind kind = Kind::Message;
    int client = -1;                   ///< server side: the client slot; client side: always 0
    std::vector<std::uint8_t> data;    ///< Message: unreliable payload; Reliable: the control message
    std::uint64_t clientId = 0;        ///< Connected (server side): from the token
    std::array<std::uint8_t, kTokenUserDataSize> userData{};  ///< Connected (server side)
    DisconnectReason reason = DisconnectReason::None;
    DenyReason denyReason = DenyReason::None;  ///< client side, when reason == Denied
    LinkStats finalStats;              ///< Disconnected (server side): the link's figures at the end
};

namespace detail {
class Link;  // transport-internal: packet protection, acks, RTT/loss, reliable channel
}

/// The server end: accepts connect tokens through a challenge round trip (docs/protocol-transport.md),
/// keeps one authenticated session per client address, each with keys of its own. Nothing a
/// handshake packet says ever ends a session: only the session's own authenticated packets, its
/// timeout, or the host.
class ServerTransport {
public:
    static constexpr TimeUs kClosedGrace = 2 * kMicrosPerSecond;
    static constexpr std::size_t kMaxRecentlyClosed = 4096;

public:
    ServerTransport(TransportConfig config, Key tokenKey, DatagramSocket& socket);
    ~ServerTransport();
    ServerTransport(const ServerTransport&) = delete;
    ServerTransport& operator=(const ServerTransport&) = delete;

    /// Drains the socket: handshakes, decryption, acks, timeouts. Then poll events.
    void receive(TimeUs now);
    std::optional<TransportEvent> pollEvent();

    /// Sends one packet to a connected client carrying `payload` (may be empty) plus any reliable
    /// messages due. Payloads larger than kMaxPayloadSize are refused with TooLarge.
    Status send(int client, std::span<const std::uint8_t> payload, TimeUs now);
    Status sendReliable(int client, std::vector<std::uint8_t> message);
    /// Sends keep-alives (and due reliable resends) to clients with nothing sent for a while.
    void update(TimeUs now);
    void disconnect(int client, TimeUs now);
    void disconnectAll(TimeUs now);

    /// When set, valid connection requests are denied with this reason (None = accept).
    void setDenyReason(DenyReason reason) { m_denyReason = reason; }

    bool isConnected(int client) const;
    Address clientAddress(int client) const;
    std::uint64_t clientId(int client) const;
    const LinkStats& linkStats(int client) const;
    std::vector<int> connectedClients() const;
    const TransportCounters& counters() const { return m_counters; }
    /// Called for every RTT sample (for histograms).
    void setRttObserver(std::function<void(int client, TimeUs rtt)> observer) { m_rttObserver = std::move(observer); }

private:
    struct Slot;
    struct Handshake;  // rate limits, cookie key, tokens and challenges in use (transport.cpp)
    void handleRequest(const Datagram& datagram, TimeUs now);
    void handleResponse(const Datagram& datagram, TimeUs now);
    void handleConnected(const Datagram& datagram, TimeUs now);
    /// What a request and a response check once the token has opened: expiry, the token's address
    /// binding, admissions and version. A refusal is counted (and a Deny sent when it is one).
    bool admissible(TimeUs expiresAt, const std::array<std::uint8_t, 16>& tag, const Key& serverToClient, std::uint64_t gameVersion,
                    const std::uint8_t* clientNonce, const Address& from, TimeUs now);
    void sendRaw(const Address& to, std::span<const std::uint8_t> bytes, TimeUs now);
    void release(int client, DisconnectReason reason);
    TransportConfig m_config;
    Key m_tokenKey;
    DatagramSocket& m_socket;
    DenyReason m_denyReason = DenyReason::None;
    std::vector<std::unique_ptr<Slot>> m_slots;
    std::vector<int> m_freeSlots;  // free slot indices, a min-heap
    std::unordered_map<Address, int, AddressHash> m_byAddress;
    /// Sessions ended lately, by address, until when their stragglers are expected (bounded).
    std::unordered_map<Address, TimeUs, AddressHash> m_recentlyClosed;
    TimeUs m_lastReceive = 0;
    std::unique_ptr<Handshake> m_handshake;
    TimeUs m_resetWindow = -1;  // the second the "no such session" replies are being counted in
    int m_resetsInWindow = 0;
    std::deque<TransportEvent> m_events;
    TransportCounters m_counters;
    std::function<void(int, TimeUs)> m_rttObserver;
};

enum class ClientState : std::uint8_t { Disconnected, Connecting, Connected };

/// The client end of one connection.
class ClientTransport {
public:
    ClientTransport(TransportConfig config, DatagramSocket& socket);
    ~ClientTransport();
    ClientTransport(const ClientTransport&) = delete;
    ClientTransport& operator=(const ClientTransport&) = delete;

    /// Starts (or restarts, e.g. after a redirect) connecting to `server` with `token`.
    void connect(const ConnectToken& token, const Address& server, TimeUs now);
    void receive(TimeUs now);
    std::optional<TransportEvent> pollEvent();
    Status send(std::span<const std::uint8_t> payload, TimeUs now);
    Status sendReliable(std::vector<std::uint8_t> message);
    /// Connection request retries while connecting; keep-alives and reliable resends when connected.
    void update(TimeUs now);
    void disconnect(TimeUs now);

    ClientState state() const { return m_state; }
    Address serverAddress() const { return m_server; }
    /// When the server was last heard from (any authenticated packet); 0 when not connected.
    TimeUs lastReceive() const;
    const LinkStats& linkStats() const;
    const TransportCounters& counters() const { return m_counters; }

private:
    void sendHandshake(TimeUs now);
    TransportConfig m_config;
    DatagramSocket& m_socket;
    ClientState m_state = ClientState::Disconnected;
    Address m_server;
    ConnectToken m_token;
    TimeUs m_connectStarted = 0;
    TimeUs m_lastRequestSent = 0;
    std::array<std::uint8_t, 16> m_clientNonce{};
    std::vector<std::uint8_t> m_cookie;  // the server's challenge cookie, once one arrived
    std::uint64_t m_randomCounter = 0;   // seeded mode: how many nonces drawn
    std::unique_ptr<detail::Link> m_link;
    void fail(DisconnectReason reason, DenyReason deny = DenyReason::None);
    std::deque<TransportEvent> m_events;
    TransportCounters m_counters;
};

} // namespace lv
