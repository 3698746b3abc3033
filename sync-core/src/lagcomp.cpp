#include "synccore/lagcomp.h"

#include "synccore/simulation.h"

#include <algorithm>
#include <cmath>

namespace lv {

void LagCompensation::record(Tick tick, std::span<const PlayerState> players)
{
    Frame frame;
    if (m_frames.size() >= m_maxTicks) {
        frame = std::move(m_frames.front());  // reuse the oldest frame's allocation
        m_frames.pop_front();
    }
    frame.tick = tick;
    // Indexed directly by entity index (generation 0 = empty; live ids start at generation 1):
    // no per-tick sort, O(1) lookup.
    std::size_t size = 0;
    for (const PlayerState& p : players)
        size = std::max<std::size_t>(size, std::size_t{p.id.index} + 1);
    frame.positions.assign(size, {EntityId{}, Vec3i{}});
    for (const PlayerState& p : players)
        frame.positions[p.id.index] = {p.id, p.position};
    m_frames.push_back(std::move(frame));
}

const Vec3i* LagCompensation::find(const Frame& frame, EntityId id) const
{
    if (id.index >= frame.positions.size() || frame.positions[id.index].first != id)
        return nullptr;
    return &frame.positions[id.index].second;
}

std::optional<Vec3i> LagCompensation::positionAt(EntityId id, std::uint32_t rewind256) const
{
    if (m_frames.empty())
        return std::nullopt;
    rewind256 = std::min(rewind256, maxRewind256());
    const std::size_t back = rewind256 / 256;             // whole ticks before the newest
    const std::int64_t frac = static_cast<std::int64_t>(rewind256 % 256);  // and a fraction of one more
    const std::size_t i = m_frames.size() - 1 - back;     // the later of the two frames
    const Vec3i* a = find(m_frames[i], id);
    if (!a)
        return std::nullopt;
    if (frac == 0 || i == 0)
        return *a;
    const Vec3i* b = find(m_frames[i - 1], id);
    if (!b)
        return *a;
    auto lerp = [frac](std::int32_t x, std::int32_t y) {
        return static_cast<std::int32_t>(x + roundDiv((std::int64_t{y} - x) * frac, 256));
    };
    return Vec3i{lerp(a->x, b->x), lerp(a->y, b->y), lerp(a->z, b->z)};
}

std::optional<LagCompensation::Hit> LagCompensation::raycast(EntityId shooter, const Vec3i& eye, std::uint16_t yaw,
                                                             std::int16_t pitch, std::int64_t range,
                                                             std::uint32_t rewind256) const
{
    if (m_frames.empty())
        return std::nullopt;
    // Direction in doubles: the judgement is a server-only decision, not replayed by clients.
    const double kTurn = 2.0 * 3.14159265358979323846 / 65536.0;
    const double cp = std::cos(pitch * kTurn), sp = std::sin(pitch * kTurn);
    const double dx = std::cos(yaw * kTurn) * cp, dy = std::sin(yaw * kTurn) * cp, dz = sp;
    const double radius = 0.5 * kPositionUnitsPerMetre;
    const double height = 1.8 * kPositionUnitsPerMetre;

    std::optional<Hit> best;
    const std::size_t back = std::min(rewind256, maxRewind256()) / 256;
    const Frame& frame = m_frames[m_frames.size() - 1 - back];
    for (const auto& [id, unused] : frame.positions) {
        if (id.generation == 0 || id == shooter)
            continue;
        const auto pos = positionAt(id, rewind256);
        if (!pos)
            continue;
        // Closest approach of the ray to the capsule's axis, sampled as a sphere column.
        const double px = pos->x - eye.x, py = pos->y - eye.y;
        const double along = px * dx + py * dy;  // horizontal projection
        const double horizontal = std::sqrt(dx * dx + dy * dy);
        if (along <= 0 || horizontal < 1e-9)
            continue;
        const double t = along / (horizontal * horizontal);  // ray parameter at closest horizontal approach
        if (t * 1.0 > static_cast<double>(range))
            continue;
        const double cx = eye.x + dx * t - pos->x, cy = eye.y + dy * t - pos->y;
        const double cz = eye.z + dz * t;
        if (cx * cx + cy * cy > radius * radius || cz < pos->z || cz > pos->z + height)
            continue;
        const auto distance = static_cast<std::int64_t>(t);
        if (!best || distance < best->distance)
            best = Hit{id, distance};
    }
    return best;
}

} // namespace lv
