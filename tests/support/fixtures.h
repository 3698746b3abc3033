#pragma once

// Test-only fixtures: seeded random states and common helpers. Never shipped.

#include "synccore/conditioner.h"
#include "synccore/types.h"

#include <algorithm>

namespace lv::test {

inline PlayerState randomState(Rng& rng, std::uint16_t index)
{
    PlayerState s;
    s.id = {index, static_cast<std::uint16_t>(rng.range(1, 65535))};
    s.platform = static_cast<Platform>(rng.range(0, kPlatformCount - 1));
    s.position = {static_cast<std::int32_t>(rng.range(-kWorldHalfExtent, kWorldHalfExtent - 1)),
                  static_cast<std::int32_t>(rng.range(-kWorldHalfExtent, kWorldHalfExtent - 1)),
                  rng.chancePercent(70) ? 0 : static_cast<std::int32_t>(rng.range(0, kWorldMaxZ - 1))};
    if (rng.chancePercent(60))
        s.velocity = {static_cast<std::int32_t>(rng.range(-kMaxSpeed + 1, kMaxSpeed - 1)),
                      static_cast<std::int32_t>(rng.range(-kMaxSpeed + 1, kMaxSpeed - 1)),
                      static_cast<std::int32_t>(rng.range(-kMaxSpeed + 1, kMaxSpeed - 1))};
    s.yaw = static_cast<std::uint16_t>(rng.range(0, 65535));
    s.pitch = static_cast<std::int16_t>(rng.range(-kPitchLimit, kPitchLimit));
    s.mode = static_cast<MoveMode>(rng.range(0, kMoveModeCount - 1));
    s.animation = static_cast<std::uint8_t>(rng.range(0, kAnimationCount - 1));
    s.health = static_cast<std::uint8_t>(rng.range(0, kMaxHealth));
    return s;
}

/// A small, plausible change of a state (what a real tick or two does), sometimes none.
inline PlayerState perturb(Rng& rng, PlayerState s)
{
    if (rng.chancePercent(30))
        return s;
    auto nudge = [&rng](std::int32_t v, std::int32_t lo, std::int32_t hi, int amount) {
        return std::clamp<std::int32_t>(v + static_cast<std::int32_t>(rng.range(-amount, amount)), lo, hi);
    };
    s.position.x = nudge(s.position.x, -kWorldHalfExtent, kWorldHalfExtent - 1, 300);
    s.position.y = nudge(s.position.y, -kWorldHalfExtent, kWorldHalfExtent - 1, 300);
    if (rng.chancePercent(20))
        s.position.z = nudge(s.position.z, 0, kWorldMaxZ - 1, 100);
    if (rng.chancePercent(40))
        s.velocity.x = nudge(s.velocity.x, -kMaxSpeed + 1, kMaxSpeed - 1, 500);
    if (rng.chancePercent(40))
        s.yaw = static_cast<std::uint16_t>(s.yaw + rng.range(-3000, 3000));
    if (rng.chancePercent(10))
        s.health = static_cast<std::uint8_t>(rng.range(0, kMaxHealth));
    if (rng.chancePercent(10))
        s.mode = static_cast<MoveMode>(rng.range(0, kMoveModeCount - 1));
    return s;
}

} // namespace lv::test
