#pragma once

#include "liveops/cluster.h"

#include <map>
#include <ostream>
#include <vector>
#include <mutex>
#include <string>

namespace lv::liveops {

/// A cumulative Prometheus histogram (`_bucket{le}`, `_sum`, `_count`, in seconds) fed with the
/// engine's log-linear histograms: each of their fine buckets (~1.6 % wide) lands in the first
/// `le` at or above its midpoint, so a quantile from it is exact to the `le` layout, and a
/// fine bucket straddling an `le` is off by at most its own width.
class PromHistogram {
public:
    explicit PromHistogram(std::vector<double> upperBoundsSeconds) : m_le(std::move(upperBoundsSeconds)), m_counts(m_le.size() + 1) {}
    void add(const HistogramBuckets& microseconds);
    /// The exposition lines of one series: `name_bucket{labels,le}`, `_sum`, `_count`.
    void render(std::ostream& out, const std::string& name, const std::string& labels) const;
    std::uint64_t count() const { return m_count; }

private:
    std::vector<double> m_le;
    std::vector<std::uint64_t> m_counts;  // per le (the last: above them all, +Inf), not cumulative
    std::uint64_t m_count = 0;
    double m_sumSeconds = 0;
};

/// Keeps what Prometheus scrapes from syncd: round-trip and tick time as histograms (aggregate
/// them with histogram_quantile over sum by (le, ...)), the latest telemetry window of each region
/// as gauges (its quantiles for humans), and running totals as counters. Fed by the cluster's
/// telemetry; rendering is the text exposition format 0.0.4, every series labelled with the
/// region and the server.
class PrometheusExporter {
public:
    explicit PrometheusExporter(Cluster& cluster);
    std::string render() const;

    /// The histograms' bucket bounds (seconds). 0.15 is the latency SLO's threshold (docs/slo.md).
    static std::vector<double> rttBounds();
    static std::vector<double> tickBounds();

private:
    struct Totals {
        TelemetryRecord latest;
        std::uint64_t corrections = 0;  // client-reported
        std::uint64_t inputsDropped = 0;
        std::uint64_t shotsClamped = 0;
        std::uint64_t errors = 0;
        double bytesIn = 0.0;
        double bytesOut = 0.0;
        std::uint64_t ticks = 0;
        PromHistogram rtt{rttBounds()};
        PromHistogram tick{tickBounds()};
    };
    void record(const TelemetryRecord& record);

    mutable std::mutex m_mutex;
    std::map<std::string, Totals> m_regions;
    Feed<TelemetryRecord>::Subscription m_subscription;  // last: unsubscribes before the maps go
};

} // namespace lv::liveops
