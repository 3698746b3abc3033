#include "console/slo.h"

#include <algorithm>

namespace lv::console {

void SloTracker::record(std::int64_t timeMs, double p99Ms, std::uint32_t windows)
{
    const std::int64_t minute = timeMs / 60'000;
    const std::int64_t newest = m_minutes.empty() ? minute : std::max(minute, m_minutes.back().minute);
    constexpr std::int64_t kKept = liveops::LatencySlo::kLongestMinutes;
    if (minute <= newest - kKept)
        return;  // older than anything kept
    // Usually the newest minute; history (a server's buffered telemetry, replayed) may come later
    // than newer samples and lands in its own minute.
    auto it = std::lower_bound(m_minutes.begin(), m_minutes.end(), minute, [](const Minute& m, std::int64_t v) { return m.minute < v; });
    if (it == m_minutes.end() || it->minute != minute) {
        const std::uint64_t good = it == m_minutes.begin() ? m_droppedGood : std::prev(it)->cumGood;
        const std::uint64_t total = it == m_minutes.begin() ? m_droppedTotal : std::prev(it)->cumTotal;
        it = m_minutes.insert(it, {minute, good, total});
    }
    const bool good = p99Ms <= m_settings.thresholdMs;
    if (!good && (it->firstBadMs < 0 || timeMs < it->firstBadMs))
        it->firstBadMs = timeMs;
    if (!good)
        it->lastBadMs = std::max(it->lastBadMs, timeMs);
    for (auto later = it; later != m_minutes.end(); ++later) {  // cumulative counts from here on
        later->cumTotal += windows;
        if (good)
            later->cumGood += windows;
    }
    while (!m_minutes.empty() && m_minutes.front().minute <= newest - kKept) {
        m_droppedGood = m_minutes.front().cumGood;
        m_droppedTotal = m_minutes.front().cumTotal;
        m_minutes.pop_front();
    }
    m_lastMs = std::max(m_lastMs, timeMs);
    if (m_firstMs < 0 || timeMs < m_firstMs)
        m_firstMs = timeMs;
}

bool SloTracker::covered(std::int64_t spanMs) const
{
    constexpr std::int64_t kWindowMs = 1'000;  // one telemetry window
    return m_firstMs >= 0 && m_lastMs - m_firstMs >= spanMs - kWindowMs;
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

namespace {
/// The first alert pair of the SLO whose windows are covered and burning, or null.
const liveops::LatencySlo::BurnAlert* firing(const SloTracker& slo)
{
    constexpr std::int64_t minute = 60'000;
    for (const auto& a : liveops::LatencySlo::kAlerts)  // pages first, in the definition's order
        if (slo.covered(a.longMinutes * minute) && slo.burnRate(a.longMinutes * minute) >= a.burnRate
            && slo.burnRate(a.shortMinutes * minute) >= a.burnRate)
            return &a;
    return nullptr;
}
} // namespace

std::int64_t SloTracker::firingSpanMs() const
{
    const auto* a = firing(*this);
    return a ? std::int64_t{a->longMinutes} * 60'000 : 0;
}

std::int64_t SloTracker::firstBadMs(std::int64_t spanMs) const
{
    const std::int64_t from = m_lastMs - spanMs;
    for (const Minute& m : m_minutes)  // at most 4320 buckets, asked once per alert raised
        if (m.firstBadMs >= from)
            return m.firstBadMs;
        else if (m.lastBadMs >= from)
            return from;  // a minute straddling the span's start: its first bad window inside is within a minute of it
    return -1;
}

SloTracker::Alert SloTracker::alert() const
{
    // Each pair fires only once its long window is covered (the short one is, then, too).
    const auto* a = firing(*this);
    if (!a)
        return Alert::None;
    return a->severity == liveops::LatencySlo::Severity::Page ? Alert::Page : Alert::Ticket;
}

} // namespace lv::console
