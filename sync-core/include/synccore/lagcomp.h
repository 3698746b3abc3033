#pragma once

#include "synccore/types.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

namespace lv {

/// Bounded history of every player's position per tick, so a shot can be judged against where the
/// shooter saw its target (their interpolated view time), not where the target is now.
class LagCompensation {
public:
    explicit LagCompensation(std::size_t maxTicks = 64) : m_maxTicks(maxTicks) {}

    /// Records the positions at the end of `tick` (ticks must follow each other).
    void record(Tick tick, std::span<const PlayerState> players);
    /// Position of `id` `rewind256` (in 1/256 tick) before the newest recorded tick, interpolated
    /// between recorded ticks and clamped to the history window; nullopt if the entity is not in
    /// the window. Relative, so nothing depends on the tick counter's absolute value (it wraps).
    std::optional<Vec3i> positionAt(EntityId id, std::uint32_t rewind256) const;

    struct Hit {
        EntityId target;
        std::int64_t distance;  ///< along the ray, position units
    };
    /// Nearest player (not `shooter`) whose body rewound by `rewind256` (a vertical capsule: radius
    /// 0.5 m, height 1.8 m) the ray from `eye` along yaw/pitch hits within `range` position units.
    std::optional<Hit> raycast(EntityId shooter, const Vec3i& eye, std::uint16_t yaw, std::int16_t pitch,
                               std::int64_t range, std::uint32_t rewind256) const;
    /// The deepest rewind the history holds (1/256 tick).
    std::uint32_t maxRewind256() const { return m_frames.empty() ? 0 : static_cast<std::uint32_t>(m_frames.size() - 1) * 256; }

    Tick oldestTick() const { return m_frames.empty() ? 0 : m_frames.front().tick; }
    Tick newestTick() const { return m_frames.empty() ? 0 : m_frames.back().tick; }
    std::size_t depth() const { return m_frames.size(); }

private:
    struct Frame {
        Tick tick;
        std::vector<std::pair<EntityId, Vec3i>> positions;  // at id.index; generation 0 = empty
    };
    const Vec3i* find(const Frame& frame, EntityId id) const;
    std::size_t m_maxTicks;
    std::deque<Frame> m_frames;
};

} // namespace lv
