#include "synccore/metrics.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace lv {

int LatencyHistogram::bucketIndex(std::uint64_t value)
{
    if (value < static_cast<std::uint64_t>(kSubBuckets))
        return static_cast<int>(value);
    // Octave o >= 1 holds [2^(o+5), 2^(o+6)) split into 64 equal sub-buckets.
    const int msb = 63 - std::countl_zero(value);
    const int octave = msb - kSubBucketBits + 1;
    if (octave > kOctaves)
        return kBucketCount - 1;
    const auto sub = static_cast<int>((value >> (msb - kSubBucketBits)) & (kSubBuckets - 1));
    return octave * kSubBuckets + sub;
}

std::uint64_t LatencyHistogram::bucketLow(int index)
{
    if (index < kSubBuckets)
        return static_cast<std::uint64_t>(index);
    const int octave = index / kSubBuckets;
    const auto sub = static_cast<std::uint64_t>(index % kSubBuckets);
    const int shift = octave - 1;
    return (std::uint64_t{kSubBuckets} + sub) << shift;
}

std::uint64_t LatencyHistogram::bucketHigh(int index)
{
    if (index < kSubBuckets)
        return static_cast<std::uint64_t>(index) + 1;
    const int shift = index / kSubBuckets - 1;
    return bucketLow(index) + (std::uint64_t{1} << shift);
}

void LatencyHistogram::record(std::uint64_t value, std::uint64_t count)
{
    if (count == 0)
        return;
    m_buckets[static_cast<std::size_t>(bucketIndex(value))] += count;
    m_count += count;
    m_sum += value * count;
    m_min = std::min(m_min, value);
    m_max = std::max(m_max, value);
}

void LatencyHistogram::merge(const LatencyHistogram& other)
{
    for (std::size_t i = 0; i < m_buckets.size(); ++i)
        m_buckets[i] += other.m_buckets[i];
    m_count += other.m_count;
    m_sum += other.m_sum;
    if (other.m_count) {
        m_min = std::min(m_min, other.m_min);
        m_max = std::max(m_max, other.m_max);
    }
}

void LatencyHistogram::reset() { *this = LatencyHistogram{}; }

HistogramBuckets LatencyHistogram::buckets() const
{
    HistogramBuckets out;
    for (std::size_t i = 0; i < m_buckets.size(); ++i)
        if (m_buckets[i])
            out.buckets.emplace_back(static_cast<std::uint32_t>(i), m_buckets[i]);
    out.sum = m_sum;
    out.min = min();
    out.max = m_max;
    return out;
}

std::optional<LatencyHistogram> LatencyHistogram::fromBuckets(const HistogramBuckets& in, std::string& error)
{
    LatencyHistogram h;
    std::int64_t previous = -1;
    for (const auto& [index, count] : in.buckets) {
        if (index >= static_cast<std::uint32_t>(kBucketCount) || static_cast<std::int64_t>(index) <= previous) {
            error = "bucket index " + std::to_string(index) + (index >= static_cast<std::uint32_t>(kBucketCount) ? " is out of range" : " is out of order");
            return std::nullopt;
        }
        if (count == 0 || h.m_count + count < h.m_count) {
            error = count == 0 ? "bucket " + std::to_string(index) + " has a zero count" : std::string("bucket counts overflow");
            return std::nullopt;
        }
        previous = index;
        h.m_buckets[index] = count;
        h.m_count += count;
    }
    if (h.m_count && in.min > in.max) {
        error = "min is above max";
        return std::nullopt;
    }
    if (h.m_count) {
        h.m_min = in.min;
        h.m_max = in.max;
        h.m_sum = in.sum;
    }
    return h;
}

std::uint64_t LatencyHistogram::quantile(double q) const
{
    if (m_count == 0)
        return 0;
    q = std::clamp(q, 0.0, 1.0);
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(m_count))));
    std::uint64_t seen = 0;
    for (int i = 0; i < kBucketCount; ++i) {
        seen += m_buckets[static_cast<std::size_t>(i)];
        if (seen >= rank) {
            const std::uint64_t lo = bucketLow(i), hi = bucketHigh(i);
            const std::uint64_t mid = i < kSubBuckets ? lo : lo + (hi - lo) / 2;
            return std::clamp(mid, min(), m_max);
        }
    }
    return m_max;
}

void RegionMetrics::merge(const RegionMetrics& o)
{
    rttUs.merge(o.rttUs);
    tickTimeUs.merge(o.tickTimeUs);
    bytesIn += o.bytesIn;
    bytesOut += o.bytesOut;
    packetsIn += o.packetsIn;
    packetsOut += o.packetsOut;
    packetsLost += o.packetsLost;
    packetsAcked += o.packetsAcked;
    snapshotsSent += o.snapshotsSent;
    snapshotBits += o.snapshotBits;
    entitiesSent += o.entitiesSent;
    corrections += o.corrections;
    inputsDropped += o.inputsDropped;
    shotsClamped += o.shotsClamped;
    connects += o.connects;
    disconnects += o.disconnects;
    malformedPackets += o.malformedPackets;
    rejectedTokens += o.rejectedTokens;
    refusedConnects += o.refusedConnects;
    ticks += o.ticks;
    overrunTicks += o.overrunTicks;
}

} // namespace lv
