#pragma once

#include "synccore/types.h"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace lv {

/// A uniform grid over the x/y plane, rebuilt from positions (a sort, no per-cell allocations).
class SpatialGrid {
public:
    /// `cellSize` in position units; a quarter of the interest radius keeps the queried square
    /// close to the circle without too many cells.
    void rebuild(std::span<const PlayerState> players, std::int32_t cellSize);
    /// Calls visit(slot) for every player (slot = position in the span given to rebuild) whose
    /// cell overlaps the square of half-size `radius` around `center`. Callers filter by distance.
    template <typename Visit>
    void query(const Vec3i& center, std::int32_t radius, Visit&& visit) const
    {
        if (m_cellSize <= 0)
            return;
        const std::int64_t cx0 = cellCoord(center.x - radius), cx1 = cellCoord(center.x + radius);
        const std::int64_t cy0 = cellCoord(center.y - radius), cy1 = cellCoord(center.y + radius);
        // Keys of one column of cells are contiguous: one range lookup per column.
        for (std::int64_t cx = cx0; cx <= cx1; ++cx) {
            const auto [first, last] = keyRange(cellKey(cx, cy0), cellKey(cx, cy1));
            for (std::size_t i = first; i < last; ++i)
                visit(m_entries[i].slot);
        }
    }
    std::int32_t cellSize() const { return m_cellSize; }

private:
    struct Entry {
        std::uint64_t key;
        std::uint32_t slot;
    };
    std::int64_t cellCoord(std::int64_t v) const
    {
        return (v >= 0 ? v : v - m_cellSize + 1) / m_cellSize;  // floor division
    }
    static std::uint64_t cellKey(std::int64_t cx, std::int64_t cy)
    {
        return (static_cast<std::uint64_t>(cx + (1 << 20)) << 32) | static_cast<std::uint32_t>(cy + (1 << 20));
    }
    /// Entries with lo <= key <= hi.
    std::pair<std::size_t, std::size_t> keyRange(std::uint64_t lo, std::uint64_t hi) const;

    std::int32_t m_cellSize = 0;
    std::vector<Entry> m_entries;  // sorted by key
};

struct InterestSettings {
    std::int32_t radius = 60 * kPositionUnitsPerMetre;
    std::int32_t hysteresis = 6 * kPositionUnitsPerMetre;
    std::size_t maxCount = 64;
};

/// One client's view: the players it sees. A player enters within `radius` and leaves only beyond
/// radius + hysteresis, and current members rank 10 % nearer when the cap bites, so nobody flaps
/// in and out at either edge.
class InterestSet {
public:
    /// Recomputes membership. `players` and `grid` must be from the same rebuild; `self` (a slot in
    /// `players`, or -1) is never a member; `allowed(slot)` filters (cross-play pools).
    void update(std::span<const PlayerState> players, const SpatialGrid& grid, const Vec3i& center, int self,
                const InterestSettings& settings, const std::function<bool(std::uint32_t)>& allowed = {});
    /// Entity indices of the members, sorted.
    const std::vector<std::uint16_t>& members() const { return m_members; }
    bool contains(std::uint16_t index) const;
    std::uint64_t enters() const { return m_enters; }
    std::uint64_t leaves() const { return m_leaves; }

private:
    std::vector<std::uint16_t> m_members;
    std::uint64_t m_enters = 0;
    std::uint64_t m_leaves = 0;
    struct Candidate {
        std::int64_t rank;
        std::uint16_t index;
    };
    std::vector<Candidate> m_scratch;
};

} // namespace lv
