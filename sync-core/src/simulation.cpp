#include "synccore/simulation.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace lv {

namespace {

// 1024-entry quarter-resolution table: angle >> 6 indexes it. Rounded once at start-up; the
// rounded integers are what every build uses, so libm differences cannot leak into the sim.
const std::array<std::int16_t, 1024>& sineTable()
{
    static const auto table = [] {
        std::array<std::int16_t, 1024> t{};
        for (int i = 0; i < 1024; ++i)
            t[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(std::lround(std::sin(i * 2.0 * 3.14159265358979323846 / 1024.0) * 16384.0));
        return t;
    }();
    return table;
}

std::int32_t approach(std::int32_t current, std::int32_t target, std::int32_t maxStep)
{
    if (current < target)
        return std::min(current + maxStep, target);
    return std::max(current - maxStep, target);
}

} // namespace

std::int64_t stepDistance(std::int32_t v, std::int64_t phase, std::int64_t ticks, int tickHz)
{
    // Floor of an exact double quotient: both operands are integers below 2^25 and the divisor is
    // at most 240, so the quotient is never within rounding of an integer it is not: exact, and
    // the same on every IEEE machine (and several times cheaper than 64-bit integer division).
    const double hz = tickHz;
    return static_cast<std::int64_t>(std::floor(double(std::int64_t{v} * (phase + ticks)) / hz))
        - static_cast<std::int64_t>(std::floor(double(std::int64_t{v} * phase) / hz));
}

std::int32_t sinQ14(std::uint16_t angle) { return sineTable()[angle >> 6]; }
std::int32_t cosQ14(std::uint16_t angle) { return sineTable()[static_cast<std::uint16_t>(angle + 16384) >> 6]; }

PlayerState simulate(const PlayerState& state, const InputCommand& input, int tickHz, const MovementTuning& tuning)
{
    PlayerState next = state;
    tickHz = std::clamp(tickHz, 1, 240);
    next.yaw = input.yaw;
    next.pitch = static_cast<std::int16_t>(std::clamp<std::int32_t>(input.pitch, -kPitchLimit, kPitchLimit));

    const bool onGround = state.position.z <= 0 && state.velocity.z <= 0;
    const bool crouch = (input.buttons & ButtonCrouch) != 0;
    const bool sprint = (input.buttons & ButtonSprint) != 0 && !crouch;
    const std::int32_t speed = crouch ? tuning.crouchSpeed : sprint ? tuning.runSpeed : tuning.walkSpeed;

    // Wish velocity: the move axes rotated by yaw; axes are [-127,127] so speed*axis/127 in Q0.
    const std::int64_t fwd = std::clamp<std::int32_t>(input.moveForward, -127, 127);
    const std::int64_t right = std::clamp<std::int32_t>(input.moveRight, -127, 127);
    const std::int64_t s = sinQ14(input.yaw);
    const std::int64_t c = cosQ14(input.yaw);
    // Forward is +x at yaw 0; right is -y (counter-clockwise yaw).
    std::int64_t wishX = (fwd * c + right * s) / 16384;
    std::int64_t wishY = (fwd * s - right * c) / 16384;
    // Diagonal input must not be faster than straight input.
    const std::int64_t len2 = wishX * wishX + wishY * wishY;
    if (len2 > 127 * 127) {
        const auto len = static_cast<std::int64_t>(std::sqrt(static_cast<double>(len2)));
        wishX = wishX * 127 / len;
        wishY = wishY * 127 / len;
    }
    const auto targetX = static_cast<std::int32_t>(wishX * speed / 127);
    const auto targetY = static_cast<std::int32_t>(wishY * speed / 127);

    const std::int32_t accel = static_cast<std::int32_t>((onGround ? tuning.groundAccel : tuning.airAccel) / tickHz);
    next.velocity.x = approach(state.velocity.x, targetX, accel);
    next.velocity.y = approach(state.velocity.y, targetY, accel);
    if (onGround) {
        next.velocity.z = (input.buttons & ButtonJump) ? tuning.jumpSpeed : 0;
    } else {
        next.velocity.z = state.velocity.z - tuning.gravity / tickHz;
    }
    next.velocity.x = std::clamp(next.velocity.x, -kMaxSpeed + 1, kMaxSpeed - 1);
    next.velocity.y = std::clamp(next.velocity.y, -kMaxSpeed + 1, kMaxSpeed - 1);
    next.velocity.z = std::clamp(next.velocity.z, -kMaxSpeed + 1, kMaxSpeed - 1);

    // Velocity units and position units are both 1/128 m, so position += v / tickHz, in the exact
    // fraction the integrator's phase gets: over any tickHz consecutive moving ticks the steps
    // add up to v exactly. Rounding each tick instead made speed depend on the rate (-6 % walking
    // at 120 Hz). The phase only advances while moving, so a player standing still keeps it and
    // dead reckoning (which assumes the same) stays exact for them too.
    const std::int64_t phase = state.stepPhase % tickHz;
    const bool stepping = next.velocity != Vec3i{};
    next.stepPhase = static_cast<std::uint8_t>(stepping ? (phase + 1) % tickHz : phase);
    next.position.x = static_cast<std::int32_t>(std::clamp<std::int64_t>(
        state.position.x + stepDistance(next.velocity.x, phase, 1, tickHz), -kWorldHalfExtent, kWorldHalfExtent - 1));
    next.position.y = static_cast<std::int32_t>(std::clamp<std::int64_t>(
        state.position.y + stepDistance(next.velocity.y, phase, 1, tickHz), -kWorldHalfExtent, kWorldHalfExtent - 1));
    std::int64_t z = state.position.z + stepDistance(next.velocity.z, phase, 1, tickHz);
    if (z <= 0) {
        z = 0;
        if (next.velocity.z < 0)
            next.velocity.z = 0;
    }
    next.position.z = static_cast<std::int32_t>(std::clamp<std::int64_t>(z, kWorldMinZ, kWorldMaxZ - 1));

    const bool airborne = next.position.z > 0 || next.velocity.z > 0;
    const bool moving = next.velocity.x != 0 || next.velocity.y != 0;
    if (airborne)
        next.mode = MoveMode::Air;
    else if (crouch)
        next.mode = MoveMode::Crouch;
    else if (!moving)
        next.mode = MoveMode::Idle;
    else
        next.mode = sprint ? MoveMode::Run : MoveMode::Walk;

    if (input.buttons & ButtonFire)
        next.animation = AnimFire;
    else
        next.animation = next.mode == MoveMode::Air ? AnimJump
            : next.mode == MoveMode::Crouch         ? AnimCrouch
            : next.mode == MoveMode::Run            ? AnimRun
            : next.mode == MoveMode::Walk           ? AnimWalk
                                                    : AnimIdle;
    return next;
}

} // namespace lv
