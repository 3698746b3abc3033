#pragma once

#include "liveops/slo.h"

#include <cstdint>
#include <deque>

namespace lv::console {

/// The latency SLO of a region and its burn rates (docs/slo.md), judged by the one definition
/// syncd's Prometheus rules come from too (liveops::LatencySlo: threshold, objective, alerts).
///
/// A telemetry window is *good* when its p99 RTT is at or under the threshold. Burn rate over a
/// span = (bad share in the span) / (1 - objective); a rate of 1 spends exactly the budget over
/// the SLO period. Alerts follow the SRE workbook's multi-window, multi-burn-rate scheme
/// (LatencySlo::kAlerts): page at 14.4x over 1 h and 5 min, page at 6x over 6 h and 30 min,
/// ticket at 1x over 3 d and 6 h. The short window makes an alert stop soon after the problem
/// does. A window counts only once the data covers it: a console that opened ten minutes ago
/// cannot know an hour's burn rate, and a rate over the few minutes it has would page on a short
/// blip (the rule's long window exists to prevent exactly that). Data the console was given from
/// before it opened (the server's buffered telemetry, Prometheus history) covers windows like any
/// other.
class SloTracker {
public:
    using Settings = liveops::LatencySlo;
    enum class Alert : std::uint8_t { None, Ticket, Page };

    SloTracker() = default;
    explicit SloTracker(Settings settings) : m_settings(settings) {}

    /// One telemetry window (or `windows` of them: a Prometheus minute stands for the telemetry
    /// windows it spans). Windows may arrive out of order (history replayed after newer ones).
    void record(std::int64_t timeMs, double p99Ms, std::uint32_t windows = 1);
    /// Burn rate over the last `spanMs` before the newest record (0 with no data), over what
    /// data there is: see covered().
    double burnRate(std::int64_t spanMs) const;
    /// Whether the records reach back over the whole span (one telemetry window of slack).
    bool covered(std::int64_t spanMs) const;
    /// How far back the records reach from the newest, in ms (0 with none).
    std::int64_t coverageMs() const { return m_firstMs < 0 ? 0 : m_lastMs - m_firstMs; }
    Alert alert() const;
    /// The long window of the pair that raises alert() now (1 h, 6 h or 3 d; 0 for none).
    std::int64_t firingSpanMs() const;
    /// The time of the first bad window within the `spanMs` before the newest record (-1 when the
    /// span holds none): where an incident opened from an alert starts, so its MTTD is real.
    std::int64_t firstBadMs(std::int64_t spanMs) const;
    /// The newest record's time (0 with none).
    std::int64_t newestMs() const { return m_lastMs; }
    const Settings& settings() const { return m_settings; }

private:
    struct Minute {
        std::int64_t minute = 0;
        std::uint64_t cumGood = 0;   // windows up to and including this minute
        std::uint64_t cumTotal = 0;
        std::int64_t firstBadMs = -1;  // the earliest and latest bad windows in this minute (-1: none)
        std::int64_t lastBadMs = -1;
    };
    Settings m_settings;
    std::deque<Minute> m_minutes;  // one bucket per minute, the longest alert window kept: memory is bounded
    std::uint64_t m_droppedGood = 0, m_droppedTotal = 0;  // cumulative counts before the first bucket
    std::int64_t m_lastMs = 0;
    std::int64_t m_firstMs = -1;  // the first record's time (-1: none yet)
};

} // namespace lv::console
