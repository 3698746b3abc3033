#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lv {

/// A histogram in a form that travels and adds up: its non-empty buckets (index, count) in index
/// order, and its sum, min and max. Servers send these; whoever shows a region served by many
/// servers merges them into one histogram and reads exact fleet-wide quantiles from it (averaging
/// per-server quantiles would be wrong).
struct HistogramBuckets {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets;
    std::uint64_t sum = 0;
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    friend bool operator==(const HistogramBuckets&, const HistogramBuckets&) = default;
};

/// Log-linear histogram of non-negative values (microseconds, bytes, ...): 2^kSubBucketBits linear
/// sub-buckets per power of two, so any quantile is within ~1.6 % of the true sample value while
/// storing no samples. Values below 2^kSubBucketBits are exact. Fixed memory (~16 KiB).
class LatencyHistogram {
public:
    static constexpr int kSubBucketBits = 6;  // 64 sub-buckets per octave
    static constexpr int kSubBuckets = 1 << kSubBucketBits;
    static constexpr int kOctaves = 40;       // covers up to ~2^45 (over a year in microseconds)
    static constexpr int kBucketCount = kSubBuckets * (kOctaves + 1);

    void record(std::uint64_t value, std::uint64_t count = 1);
    void merge(const LatencyHistogram& other);
    void reset();

    std::uint64_t count() const { return m_count; }
    std::uint64_t min() const { return m_count ? m_min : 0; }
    std::uint64_t max() const { return m_max; }
    double mean() const { return m_count ? static_cast<double>(m_sum) / static_cast<double>(m_count) : 0.0; }
    /// The value at quantile q in [0, 1] (midpoint of its bucket, clamped to [min, max]); 0 when empty.
    std::uint64_t quantile(double q) const;
    std::uint64_t p50() const { return quantile(0.50); }
    std::uint64_t p95() const { return quantile(0.95); }
    std::uint64_t p99() const { return quantile(0.99); }

    /// The non-empty buckets, to send.
    HistogramBuckets buckets() const;
    /// A histogram from buckets received; nullopt with `error` naming the problem (an index out of
    /// range or not increasing, a zero count, counts that overflow, min above max).
    static std::optional<LatencyHistogram> fromBuckets(const HistogramBuckets& in, std::string& error);

    static int bucketIndex(std::uint64_t value);
    static std::uint64_t bucketLow(int index);
    static std::uint64_t bucketHigh(int index);  ///< exclusive

private:
    std::array<std::uint64_t, kBucketCount> m_buckets{};
    std::uint64_t m_count = 0;
    std::uint64_t m_sum = 0;
    std::uint64_t m_min = ~std::uint64_t{0};
    std::uint64_t m_max = 0;
};

/// Everything a region reports, accumulated since the last reset (the host decides the window).
struct RegionMetrics {
    LatencyHistogram rttUs;         ///< round-trip times measured by the server's transport, per sample
    LatencyHistogram tickTimeUs;    ///< CPU time per server tick (the thread's own, not preemption)
    std::uint64_t bytesIn = 0;
    std::uint64_t bytesOut = 0;
    std::uint64_t packetsIn = 0;
    std::uint64_t packetsOut = 0;
    std::uint64_t packetsLost = 0;     ///< sent by the server and never acknowledged
    std::uint64_t packetsAcked = 0;
    std::uint64_t snapshotsSent = 0;
    std::uint64_t snapshotBits = 0;    ///< payload bits of all snapshots sent
    std::uint64_t entitiesSent = 0;    ///< entity records in those snapshots
    /// Prediction corrections as the clients report them (client-reported: a client can lie; the
    /// figure is shown as such everywhere).
    std::uint64_t corrections = 0;
    std::uint64_t inputsDropped = 0;   ///< commands beyond a player's input budget (speed hacks, lag switches, fast clocks)
    std::uint64_t shotsClamped = 0;    ///< shots claiming a view older than the player's rewind limit
    std::uint64_t connects = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t malformedPackets = 0;
    std::uint64_t rejectedTokens = 0;
    std::uint64_t refusedConnects = 0;
    std::uint64_t ticks = 0;
    std::uint64_t overrunTicks = 0;    ///< ticks whose wall time exceeded the tick budget

    double lossPercent() const
    {
        const auto total = packetsLost + packetsAcked;
        return total ? 100.0 * static_cast<double>(packetsLost) / static_cast<double>(total) : 0.0;
    }
    void merge(const RegionMetrics& other);
    void reset() { *this = RegionMetrics{}; }
};

} // namespace lv
