#pragma once

#include "liveops/cluster.h"

#include <map>
#include <mutex>
#include <string>

namespace lv::liveops {

/// Keeps what Prometheus scrapes from syncd: the latest telemetry window of each region as
/// gauges, and running totals as counters. Fed by the cluster's telemetry; rendering is the text
/// exposition format 0.0.4.
class PrometheusExporter {
public:
    explicit PrometheusExporter(Cluster& cluster);
    std::string render() const;

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
    };
    void record(const TelemetryRecord& record);

    mutable std::mutex m_mutex;
    std::map<std::string, Totals> m_regions;
    Feed<TelemetryRecord>::Subscription m_subscription;  // last: unsubscribes before the maps go
};

} // namespace lv::liveops
