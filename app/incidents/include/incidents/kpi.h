#pragma once

#include "incidents/types.h"

#include <functional>
#include <optional>
#include <vector>

namespace lv::incidents {

class Store;

/// Reliability figures for one scope (a region, or everything) over a period. Definitions in
/// docs/incidents.md; durations in minutes, MTBF in hours; nullopt where there is nothing to average.
struct KpiFigures {
    QString scope;  ///< "cluster/region", or "all regions"
    int incidents = 0;
    std::optional<double> mttdMinutes;  ///< started -> detected
    std::optional<double> mttaMinutes;  ///< detected -> acknowledged
    std::optional<double> mttrMinutes;  ///< started -> resolved (resolved incidents)
    std::optional<double> mtbfHours;    ///< (period - time in incident) / incidents
    int changes = 0;                    ///< toggle changes and operations in the period
    int failedChanges = 0;              ///< of those, followed by an incident in the same region within the window
    std::optional<double> changeFailureRate;  ///< failedChanges / changes
    double playerMinutes = 0.0;         ///< customer impact: players online in the region while it was hurt
};

struct KpiReport {
    std::int64_t fromMs = 0, toMs = 0;
    std::int64_t changeWindowMs = 0;
    KpiFigures overall;
    std::vector<KpiFigures> regions;  ///< one per region any incident or change touched, sorted
};

/// Players online in a region over [from, to), in player-minutes (the store's recorded minutes).
using PlayerMinutesFn = std::function<double(const RegionRef& where, std::int64_t fromMs, std::int64_t toMs)>;

/// The KPIs of incidents started in [fromMs, toMs) and of `changes` (toggle_change and operation
/// events) made in it. An incident still open counts up to `nowMs`.
KpiReport computeKpis(const std::vector<Incident>& incidents, const std::vector<Event>& changes, const PlayerMinutesFn& playerMinutes,
                      std::int64_t fromMs, std::int64_t toMs, std::int64_t nowMs, std::int64_t changeWindowMs);

/// The same, reading incidents, changes and player counts from a store.
KpiReport kpiReport(Store& store, std::int64_t fromMs, std::int64_t toMs, std::int64_t nowMs, std::int64_t changeWindowMs);

/// An incident's customer impact: player-minutes in its regions from start to mitigation
/// (or resolution, or now).
double customerImpact(const Incident& incident, const PlayerMinutesFn& playerMinutes, std::int64_t nowMs);

} // namespace lv::incidents
