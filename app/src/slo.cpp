#include "console/slo.h"

namespace lv::console {

void SloTracker::record(std::int64_t timeMs, double p99Ms)
{
    const std::int64_t minute = timeMs / 60'000;
    if (m_minutes.empty() || m_minutes.back().minute != minute)
        m_minutes.push_back({minute, 0, 0});
    Minute& m = m_minutes.back();
    ++m.total;
    if (p99Ms <= m_settings.thresholdMs)
        ++m.good;
    while (!m_minutes.empty() && m_minutes.front().minute <= minute - 6 * 60)
        m_minutes.pop_front();
    m_lastMs = timeMs;
}

double SloTracker::burnRate(std::int64_t spanMs) const
{
    const std::int64_t first = (m_lastMs - spanMs) / 60'000;
    std::uint64_t good = 0, total = 0;
    for (auto it = m_minutes.rbegin(); it != m_minutes.rend() && it->minute > first; ++it) {
        good += it->good;
        total += it->total;
    }
    if (total == 0)
        return 0.0;
    const double badShare = double(total - good) / double(total);
    return badShare / (1.0 - m_settings.objective);
}

SloTracker::Alert SloTracker::alert() const
{
    constexpr std::int64_t minute = 60'000;
    if (burnRate(60 * minute) >= 14.4 && burnRate(5 * minute) >= 14.4)
        return Alert::Page;
    if (burnRate(360 * minute) >= 6.0 && burnRate(30 * minute) >= 6.0)
        return Alert::Ticket;
    return Alert::None;
}

} // namespace lv::console
