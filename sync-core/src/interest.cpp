#include "synccore/interest.h"

#include "synccore/simulation.h"

#include <algorithm>

namespace lv {

void SpatialGrid::rebuild(std::span<const PlayerState> players, std::int32_t cellSize)
{
    m_cellSize = std::max(cellSize, 1);
    m_entries.resize(players.size());
    for (std::size_t i = 0; i < players.size(); ++i)
        m_entries[i] = {cellKey(cellCoord(players[i].position.x), cellCoord(players[i].position.y)),
                        static_cast<std::uint32_t>(i)};
    std::sort(m_entries.begin(), m_entries.end(),
              [](const Entry& a, const Entry& b) { return a.key != b.key ? a.key < b.key : a.slot < b.slot; });
}

std::pair<std::size_t, std::size_t> SpatialGrid::keyRange(std::uint64_t lo, std::uint64_t hi) const
{
    auto first = std::lower_bound(m_entries.begin(), m_entries.end(), lo, [](const Entry& e, std::uint64_t k) { return e.key < k; });
    auto last = std::upper_bound(first, m_entries.end(), hi, [](std::uint64_t k, const Entry& e) { return k < e.key; });
    return {static_cast<std::size_t>(first - m_entries.begin()), static_cast<std::size_t>(last - m_entries.begin())};
}

bool InterestSet::contains(std::uint16_t index) const
{
    return std::binary_search(m_members.begin(), m_members.end(), index);
}

void InterestSet::update(std::span<const PlayerState> players, const SpatialGrid& grid, const Vec3i& center, int self,
                         const InterestSettings& settings, const std::function<bool(std::uint32_t)>& allowed)
{
    const std::int64_t enter2 = std::int64_t{settings.radius} * settings.radius;
    const std::int64_t leaveR = std::int64_t{settings.radius} + settings.hysteresis;
    const std::int64_t leave2 = leaveR * leaveR;
    // O(1) membership during the scan: stamp current members in a per-thread marker array.
    thread_local std::vector<std::uint32_t> stamp(65536, 0);
    thread_local std::uint32_t epoch = 0;
    if (++epoch == 0) {
        std::fill(stamp.begin(), stamp.end(), 0);
        epoch = 1;
    }
    for (std::uint16_t index : m_members)
        stamp[index] = epoch;
    m_scratch.clear();
    grid.query(center, static_cast<std::int32_t>(leaveR), [&](std::uint32_t slot) {
        if (static_cast<int>(slot) == self)
            return;
        const PlayerState& p = players[slot];
        const std::int64_t d2 = distanceSquared(p.position, center);
        const bool member = stamp[p.id.index] == epoch;
        if (d2 > (member ? leave2 : enter2))
            return;
        if (allowed && !allowed(slot))
            return;
        // Members rank as if 10 % nearer (81 % of the squared distance).
        m_scratch.push_back({member ? d2 * 81 / 100 : d2, p.id.index});
    });
    if (m_scratch.size() > settings.maxCount) {
        std::nth_element(m_scratch.begin(), m_scratch.begin() + static_cast<std::ptrdiff_t>(settings.maxCount), m_scratch.end(),
                         [](const Candidate& a, const Candidate& b) { return a.rank != b.rank ? a.rank < b.rank : a.index < b.index; });
        m_scratch.resize(settings.maxCount);
    }
    std::vector<std::uint16_t> next;
    next.reserve(m_scratch.size());
    for (const Candidate& c : m_scratch)
        next.push_back(c.index);
    std::sort(next.begin(), next.end());
    // Count transitions (both lists sorted).
    std::size_t i = 0, j = 0;
    while (i < m_members.size() || j < next.size()) {
        if (j == next.size() || (i < m_members.size() && m_members[i] < next[j])) {
            ++m_leaves;
            ++i;
        } else if (i == m_members.size() || next[j] < m_members[i]) {
            ++m_enters;
            ++j;
        } else {
            ++i;
            ++j;
        }
    }
    m_members = std::move(next);
}

} // namespace lv
