#include "synccore/conditioner.h"

#include <algorithm>
#include <cmath>

namespace lv {

namespace {
std::uint64_t splitMix(std::uint64_t& x)
{
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

TimeUs msToUs(double ms) { return static_cast<TimeUs>(std::llround(ms * 1000.0)); }
} // namespace

Rng::Rng(std::uint64_t seed)
{
    for (auto& s : m_s)
        s = splitMix(seed);
}

std::uint64_t Rng::next()
{
    const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
    const std::uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::int64_t Rng::range(std::int64_t lo, std::int64_t hi)
{
    if (hi <= lo)
        return lo;
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    if (span == 0)
        return static_cast<std::int64_t>(next());  // full 64-bit range
    // Rejection sampling: no modulo bias, and deterministic.
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % span);
    std::uint64_t v;
    do {
        v = next();
    } while (v >= limit);
    return lo + static_cast<std::int64_t>(v % span);
}

Conditioner::Conditioner(ConditionerSettings settings, std::uint64_t seed) : m_settings(settings), m_rng(seed) {}

void Conditioner::push(Datagram datagram, TimeUs now)
{
    ++m_stats.accepted;
    const ConditionerSettings& s = m_settings;
    // Loss: Gilbert-Elliott two-state model on top of independent loss.
    if (m_inBurst) {
        if (m_rng.chancePercent(s.burstExitPercent))
            m_inBurst = false;
    } else if (s.burstEnterPercent > 0.0 && m_rng.chancePercent(s.burstEnterPercent)) {
        m_inBurst = true;
    }
    const double lossPercent = m_inBurst ? s.burstLossPercent : s.lossPercent;
    if (lossPercent > 0.0 && m_rng.chancePercent(lossPercent)) {
        ++m_stats.lost;
        return;
    }
    // Bandwidth: the link serialises datagrams one after another.
    TimeUs departure = now;
    if (s.bandwidthKbps > 0.0) {
        const TimeUs backlog = std::max<TimeUs>(0, m_linkFreeAt - now);
        if (backlog > msToUs(s.maxQueueMs)) {
            ++m_stats.bandwidthDropped;
            return;
        }
        const auto serialisation = static_cast<TimeUs>(std::llround(double(datagram.data.size()) * 8.0 / s.bandwidthKbps * 1000.0));
        departure = std::max(now, m_linkFreeAt) + serialisation;
        m_linkFreeAt = departure;
    }
    auto delay = [&] {
        TimeUs d = msToUs(s.latencyMs);
        if (s.jitterMs > 0.0)
            d += static_cast<TimeUs>(std::llround((m_rng.uniform() * 2.0 - 1.0) * s.jitterMs * 1000.0));
        return std::max<TimeUs>(d, 0);
    };
    TimeUs due = departure + delay();
    if (s.reorderPercent > 0.0 && m_rng.chancePercent(s.reorderPercent)) {
        due += msToUs(s.reorderDelayMs);
        ++m_stats.reordered;
    }
    if (s.duplicatePercent > 0.0 && m_rng.chancePercent(s.duplicatePercent)) {
        ++m_stats.duplicated;
        m_queue.push({departure + delay(), m_order++, datagram});
    }
    m_queue.push({due, m_order++, std::move(datagram)});
}

std::optional<Datagram> Conditioner::pop(TimeUs now)
{
    if (m_queue.empty() || m_queue.top().due > now)
        return std::nullopt;
    Datagram d = std::move(const_cast<Pending&>(m_queue.top()).datagram);  // moved out just before pop
    m_queue.pop();
    ++m_stats.delivered;
    return d;
}

std::optional<TimeUs> Conditioner::nextDeliveryTime() const
{
    if (m_queue.empty())
        return std::nullopt;
    return m_queue.top().due;
}

/// An endpoint of a MemoryNetwork.
class MemorySocket final : public DatagramSocket {
public:
    MemorySocket(MemoryNetwork& network, Address address) : m_network(network), m_address(address) {}
    ~MemorySocket() override { m_network.m_endpoints.erase(m_address); }
    Address localAddress() const override { return m_address; }
    void send(const Address& to, std::span<const std::uint8_t> data, TimeUs now) override
    {
        if (data.size() > kMaxDatagramSize)
            return;
        m_network.send(m_address, to, data, now);
    }
    std::optional<Datagram> receive(TimeUs now) override { return m_network.receive(m_address, now); }

private:
    MemoryNetwork& m_network;
    Address m_address;
};

std::unique_ptr<DatagramSocket> MemoryNetwork::createSocket(std::uint16_t port)
{
    if (port == 0) {
        while (m_endpoints.count(Address::loopback(m_nextPort)))
            ++m_nextPort;
        port = m_nextPort++;
    }
    const Address address = Address::loopback(port);
    m_endpoints[address] = true;
    return std::make_unique<MemorySocket>(*this, address);
}

void MemoryNetwork::setLink(const Address& from, const Address& to, const ConditionerSettings& settings)
{
    m_linkSettings[{from, to}] = settings;
    if (auto it = m_links.find({from, to}); it != m_links.end())
        it->second.setSettings(settings);
}

void MemoryNetwork::setDefaultLink(const ConditionerSettings& settings)
{
    m_default = settings;
    for (auto& [key, link] : m_links)
        if (!m_linkSettings.count(key))
            link.setSettings(settings);
}

ConditionerStats MemoryNetwork::linkStats(const Address& from, const Address& to) const
{
    auto it = m_links.find({from, to});
    return it == m_links.end() ? ConditionerStats{} : it->second.stats();
}

std::size_t MemoryNetwork::pending() const
{
    std::size_t n = 0;
    for (const auto& [ends, link] : m_links)
        n += link.pending();
    return n;
}

Conditioner& MemoryNetwork::linkFor(const Address& from, const Address& to)
{
    auto it = m_links.find({from, to});
    if (it != m_links.end())
        return it->second;
    // The seed depends on the network seed and the link's ends only, not on creation order.
    // (IPv4 ends keep the key they always had, so seeded runs replay as before.)
    auto part = [](const Address& a) {
        return a.isV4() ? (std::uint64_t{a.v4Bits()} << 16 | a.port) : std::uint64_t{AddressHash{}(a)};
    };
    const std::uint64_t key = part(from) * 0x9E3779B97F4A7C15ULL ^ part(to);
    std::uint64_t mix = m_seed ^ key;
    const std::uint64_t seed = splitMix(mix);
    auto settings = m_linkSettings.find({from, to});
    Conditioner& link = m_links.emplace(std::make_pair(from, to), Conditioner(settings != m_linkSettings.end() ? settings->second : m_default, seed))
                            .first->second;
    // Keep the inbound list in link-key order so ties resolve the same way every run.
    auto& into = m_inbound[to];
    into.clear();
    for (auto& [ends, l] : m_links)
        if (ends.second == to)
            into.push_back(&l);
    return link;
}

void MemoryNetwork::send(const Address& from, const Address& to, std::span<const std::uint8_t> data, TimeUs now)
{
    if (!m_endpoints.count(to)) {
        ++m_undeliverable;
        return;
    }
    linkFor(from, to).push(Datagram{from, to, std::vector<std::uint8_t>(data.begin(), data.end())}, now);
}

std::optional<Datagram> MemoryNetwork::receive(const Address& at, TimeUs now)
{
    // The earliest due datagram over every link into `at` (ties: link order, then push order).
    auto inbound = m_inbound.find(at);
    if (inbound == m_inbound.end())
        return std::nullopt;
    Conditioner* best = nullptr;
    TimeUs bestDue = 0;
    for (Conditioner* link : inbound->second) {
        const auto due = link->nextDeliveryTime();
        if (due && *due <= now && (!best || *due < bestDue)) {
            best = link;
            bestDue = *due;
        }
    }
    return best ? best->pop(now) : std::nullopt;
}

ConditionedSocket::ConditionedSocket(std::unique_ptr<DatagramSocket> inner, ConditionerSettings outgoing,
                                     ConditionerSettings incoming, std::uint64_t seed)
    : m_inner(std::move(inner)), m_out(outgoing, seed), m_in(incoming, seed ^ 0xA5A5A5A5A5A5A5A5ULL)
{
}

void ConditionedSocket::send(const Address& to, std::span<const std::uint8_t> data, TimeUs now)
{
    if (data.size() > kMaxDatagramSize) {
        // The inner socket drops and counts it; conditioning a datagram that can never leave is pointless.
        m_inner->send(to, data, now);
        return;
    }
    m_out.push(Datagram{localAddress(), to, std::vector<std::uint8_t>(data.begin(), data.end())}, now);
    flush(now);
}

void ConditionedSocket::flush(TimeUs now)
{
    while (auto d = m_out.pop(now))
        m_inner->send(d->to, d->data, now);
}

std::optional<Datagram> ConditionedSocket::receive(TimeUs now)
{
    flush(now);
    while (auto d = m_inner->receive(now))
        m_in.push(std::move(*d), now);
    return m_in.pop(now);
}

} // namespace lv
