#pragma once

#include "synccore/socket.h"
#include "synccore/types.h"

#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <vector>

namespace lv {

/// What a conditioned link does to the datagrams that cross it.
struct ConditionerSettings {
    double latencyMs = 0.0;       ///< fixed one-way delay
    double jitterMs = 0.0;        ///< each datagram gets an extra delay uniform in [-jitter, +jitter] (floored at 0 total)
    double lossPercent = 0.0;     ///< independent loss in the "good" state
    /// Burst loss (Gilbert-Elliott): chance per datagram to enter the bad state, and to leave it;
    /// while bad, datagrams are lost with burstLossPercent.
    double burstEnterPercent = 0.0;
    double burstExitPercent = 100.0;
    double burstLossPercent = 100.0;
    double duplicatePercent = 0.0;  ///< chance a datagram is delivered twice
    double reorderPercent = 0.0;    ///< chance a datagram is held back by reorderDelayMs extra
    double reorderDelayMs = 0.0;
    double bandwidthKbps = 0.0;     ///< 0 = unlimited; else serialisation delay, and drops past maxQueueMs of backlog
    double maxQueueMs = 500.0;
    friend bool operator==(const ConditionerSettings&, const ConditionerSettings&) = default;
};

/// Counters of what the conditioner did.
struct ConditionerStats {
    std::uint64_t accepted = 0;
    std::uint64_t delivered = 0;
    std::uint64_t lost = 0;         ///< random or burst loss
    std::uint64_t duplicated = 0;
    std::uint64_t reordered = 0;
    std::uint64_t bandwidthDropped = 0;
};

/// Small deterministic PRNG (SplitMix64-seeded xoshiro256**): the same seed gives the same stream
/// on every platform, unlike std:: distributions.
class Rng {
public:
    explicit Rng(std::uint64_t seed = 0x5EED);
    std::uint64_t next();
    /// Uniform in [0, 1).
    double uniform();
    /// Uniform integer in [lo, hi].
    std::int64_t range(std::int64_t lo, std::int64_t hi);
    bool chancePercent(double percent) { return uniform() * 100.0 < percent; }

private:
    std::uint64_t m_s[4];
};

/// A seeded, deterministic network conditioner: datagrams go in with push(), come out of pop()
/// once their delivery time has come. Deterministic given the seed and the push/pop call sequence.
class Conditioner {
public:
    explicit Conditioner(ConditionerSettings settings = {}, std::uint64_t seed = 1);
    /// Settings take effect for datagrams pushed from now on.
    void setSettings(const ConditionerSettings& settings) { m_settings = settings; }
    const ConditionerSettings& settings() const { return m_settings; }

    void push(Datagram datagram, TimeUs now);
    /// The next datagram due at or before `now`, in delivery-time order (ties in push order).
    std::optional<Datagram> pop(TimeUs now);
    /// Delivery time of the next pending datagram, if any.
    std::optional<TimeUs> nextDeliveryTime() const;
    std::size_t pending() const { return m_queue.size(); }
    const ConditionerStats& stats() const { return m_stats; }

private:
    struct Pending {
        TimeUs due;
        std::uint64_t order;
        Datagram datagram;
    };
    struct Later {
        bool operator()(const Pending& a, const Pending& b) const
        {
            return a.due != b.due ? a.due > b.due : a.order > b.order;
        }
    };
    ConditionerSettings m_settings;
    Rng m_rng;
    bool m_inBurst = false;
    TimeUs m_linkFreeAt = 0;  ///< bandwidth model: when the link finishes sending the backlog
    std::uint64_t m_order = 0;
    std::priority_queue<Pending, std::vector<Pending>, Later> m_queue;
    ConditionerStats m_stats;
};

/// A deterministic in-memory datagram network. Each endpoint gets an address (127.0.0.1:port by
/// default); each directed pair of addresses can carry its own conditioner. Nothing moves until
/// the host calls receive on an endpoint at a given time.
class MemoryNetwork {
public:
    explicit MemoryNetwork(std::uint64_t seed = 1) : m_seed(seed) {}
    /// Creates an endpoint; port 0 assigns the next free one.
    std::unique_ptr<DatagramSocket> createSocket(std::uint16_t port = 0);
    /// Conditions datagrams from `from` to `to` (one direction). Replaces earlier settings.
    void setLink(const Address& from, const Address& to, const ConditionerSettings& settings);
    /// Conditions every link that has no settings of its own.
    void setDefaultLink(const ConditionerSettings& settings);
    /// Statistics of one directed link (zeros when it carried nothing).
    ConditionerStats linkStats(const Address& from, const Address& to) const;
    std::uint64_t undeliverable() const { return m_undeliverable; }
    /// Datagrams in flight over every link (sent, not yet delivered or dropped).
    std::size_t pending() const;
    /// Sends a datagram that claims to come from `from` (a spoofed source address), for attack
    /// simulations: it crosses the from -> to link like any other.
    void sendAs(const Address& from, const Address& to, std::span<const std::uint8_t> data, TimeUs now) { send(from, to, data, now); }

private:
    friend class MemorySocket;
    Conditioner& linkFor(const Address& from, const Address& to);
    void send(const Address& from, const Address& to, std::span<const std::uint8_t> data, TimeUs now);
    std::optional<Datagram> receive(const Address& at, TimeUs now);

    std::uint64_t m_seed;
    std::uint16_t m_nextPort = 40000;
    ConditionerSettings m_default;
    std::map<std::pair<Address, Address>, Conditioner> m_links;
    std::map<std::pair<Address, Address>, ConditionerSettings> m_linkSettings;
    std::map<Address, bool> m_endpoints;
    std::map<Address, std::vector<Conditioner*>> m_inbound;  // links into each address, key order
    std::uint64_t m_undeliverable = 0;
};

/// Puts a conditioner in front of another socket (e.g. a real UdpSocket): outgoing datagrams are
/// delayed/dropped/duplicated by `outgoing`, incoming ones by `incoming`. The host must keep
/// calling receive (or flush) so that delayed datagrams get sent.
class ConditionedSocket final : public DatagramSocket {
public:
    ConditionedSocket(std::unique_ptr<DatagramSocket> inner, ConditionerSettings outgoing,
                      ConditionerSettings incoming, std::uint64_t seed);
    Address localAddress() const override { return m_inner->localAddress(); }
    void send(const Address& to, std::span<const std::uint8_t> data, TimeUs now) override;
    std::optional<Datagram> receive(TimeUs now) override;
    /// Sends every outgoing datagram that is due by `now`.
    void flush(TimeUs now);
    void setOutgoing(const ConditionerSettings& s) { m_out.setSettings(s); }
    void setIncoming(const ConditionerSettings& s) { m_in.setSettings(s); }
    DatagramSocket& inner() { return *m_inner; }

private:
    std::unique_ptr<DatagramSocket> m_inner;
    Conditioner m_out;
    Conditioner m_in;
};

} // namespace lv
