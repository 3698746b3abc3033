#pragma once

#include "synccore/types.h"

namespace lv {

/// Movement tuning (fixed-point units of types.h). The same values must be used by server and
/// client prediction; they are part of the protocol version.
struct MovementTuning {
    std::int32_t walkSpeed = 4 * kVelocityUnitsPerMetre;
    std::int32_t runSpeed = 7 * kVelocityUnitsPerMetre;
    std::int32_t crouchSpeed = 2 * kVelocityUnitsPerMetre;
    std::int32_t groundAccel = 40 * kVelocityUnitsPerMetre;  ///< per second
    std::int32_t airAccel = 8 * kVelocityUnitsPerMetre;
    std::int32_t jumpSpeed = 5 * kVelocityUnitsPerMetre;
    std::int32_t gravity = 20 * kVelocityUnitsPerMetre;
};

/// Animation ids the simulation sets (remaining ids are free for gameplay).
enum Animation : std::uint8_t { AnimIdle = 0, AnimWalk = 1, AnimRun = 2, AnimCrouch = 3, AnimJump = 4, AnimFire = 5 };

/// Integer sine/cosine of a 16-bit angle in Q14 (16384 = 1.0). Table-driven: identical everywhere.
std::int32_t sinQ14(std::uint16_t angle);
std::int32_t cosQ14(std::uint16_t angle);

/// Rounded integer division (half away from zero), the same on every platform.
constexpr std::int64_t roundDiv(std::int64_t num, std::int64_t den)
{
    return num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den);
}

/// Displacement over `ticks` ticks at velocity `v` (units/s) at `tickHz`, starting at integrator
/// phase `phase`: floor(v (phase + ticks) / hz) - floor(v phase / hz). Consecutive steps add up to
/// exactly v * ticks / hz (within one unit), whatever the rate: no per-tick rounding bias.
std::int64_t stepDistance(std::int32_t v, std::int64_t phase, std::int64_t ticks, int tickHz);

/// Advances one player by one input command at `tickHz`. Pure and deterministic: the server and
/// the client's prediction call exactly this, so a prediction with the same inputs from the same
/// state is bit-identical (zero corrections) unless the server changes the state from outside.
PlayerState simulate(const PlayerState& state, const InputCommand& input, int tickHz,
                     const MovementTuning& tuning = {});

/// Squared distance in position units (64-bit: no overflow across the whole world).
constexpr std::int64_t distanceSquared(const Vec3i& a, const Vec3i& b)
{
    const std::int64_t dx = std::int64_t{a.x} - b.x;
    const std::int64_t dy = std::int64_t{a.y} - b.y;
    const std::int64_t dz = std::int64_t{a.z} - b.z;
    return dx * dx + dy * dy + dz * dz;
}

} // namespace lv
