#include "console/slo.h"

#include <algorithm>

namespace lv::console {

void SloTracker::record(std::int64_t timeMs, double p99Ms)
{
    const std::int64_t minute = timeMs / 60'000;
    if (m_minutes.empty() || m_minutes.back().minute != minute) {
        const std::uint64_t good = m_minutes.empty() ? m_droppedGood : m_minutes.back().cumGood;
        const std::uint64_t total = m_minutes.empty() ? m_droppedTotal : m_minutes.back().cumTotal;
        m_minutes.push_back({minute, good, total});
    }
    Minute& m = m_minutes.back();
    ++m.cumTotal;
    if (p99Ms <= m_settings.thresholdMs)
        ++m.cumGood;
    while (!m_minutes.empty() && m_minutes.front().minute <= minute - 6 * 60) {
        m_droppedGood = m_minutes.front().cumGood;
        m_droppedTotal = m_minutes.front().cumTotal;
        m_minutes.pop_front();
    }
    m_lastMs = timeMs;
}

double SloTracker::burnRate(std::int64_t spanMs) const
{
    if (m_minutes.empty())
        return 0.0;
    // Buckets with minute > first are in the span; cumulative counts make the sum O(log n).
    const std::int64_t first = (m_lastMs - spanMs) / 60'000;
    auto it = std::upper_bound(m_minutes.begin(), m_minutes.end(), first, [](std::int64_t f, const Minute& m) { return f < m.minute; });
    if (it == m_minutes.end())
        return 0.0;
    const std::uint64_t goodBefore = it == m_minutes.begin() ? m_droppedGood : std::prev(it)->cumGood;
    const std::uint64_t totalBefore = it == m_minutes.begin() ? m_droppedTotal : std::prev(it)->cumTotal;
    const std::uint64_t good = m_minutes.back().cumGood - goodBefore;
    const std::uint64_t total = m_minutes.back().cumTotal - totalBefore;
    if (total == 0)
        return 0.0;
    return (double(total - good) / double(total)) / (1.0 - m_settings.objective);
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
