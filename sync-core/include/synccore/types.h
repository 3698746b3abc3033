#pragma once

#include <cstdint>

namespace lv {

/// Time as the host passes it in: microseconds on a monotonic clock the host owns.
/// sync-core never reads a clock of its own for behaviour, so hosts can step it faster than real time.
using TimeUs = std::int64_t;
constexpr TimeUs kMicrosPerSecond = 1'000'000;
constexpr TimeUs millis(std::int64_t ms) { return ms * 1000; }
constexpr TimeUs seconds(std::int64_t s) { return s * kMicrosPerSecond; }

using Tick = std::uint32_t;
/// Tick order that survives the counter wrapping (2^32 ticks: 414 days at 120 Hz): `a` is before
/// `b` when it is less than 2^31 ticks behind it. Every comparison of ticks goes through this.
constexpr bool tickBefore(Tick a, Tick b) { return static_cast<std::int32_t>(a - b) < 0; }

/// An entity slot and the generation of its current occupant, so a stale id never aliases a new
/// player that reused the slot.
struct EntityId {
    std::uint16_t index = 0;
    std::uint16_t generation = 0;
    friend constexpr bool operator==(const EntityId&, const EntityId&) = default;
    friend constexpr bool operator<(const EntityId& a, const EntityId& b) { return a.packed() < b.packed(); }
    constexpr std::uint32_t packed() const { return (std::uint32_t{generation} << 16) | index; }
};

enum class Platform : std::uint8_t { Pc = 0, Console = 1, Mobile = 2 };
constexpr int kPlatformCount = 3;

enum class MoveMode : std::uint8_t { Idle = 0, Walk = 1, Run = 2, Crouch = 3, Air = 4 };
constexpr int kMoveModeCount = 5;

/// Fixed-point units of the simulation. The simulation runs on these integers, so it is exactly
/// reproducible on every machine, and the wire carries them unchanged (quantisation happens once,
/// at the input, never drifts).
constexpr int kPositionUnitsPerMetre = 128;   ///< 7.8 mm
constexpr int kVelocityUnitsPerMetre = 128;   ///< units per second
constexpr std::int32_t kWorldHalfExtent = 8192 * kPositionUnitsPerMetre;  ///< x,y in [-8192 m, 8192 m)
constexpr std::int32_t kWorldMinZ = -512 * kPositionUnitsPerMetre;
constexpr std::int32_t kWorldMaxZ = 512 * kPositionUnitsPerMetre;
constexpr std::int32_t kMaxSpeed = 64 * kVelocityUnitsPerMetre;  ///< |v| per axis < 64 m/s
/// Angles: yaw is a full turn in 65536 units; pitch is in [-16384, 16384] (±90°).
constexpr std::int32_t kPitchLimit = 16384;

struct Vec3i {
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t z = 0;
    friend constexpr bool operator==(const Vec3i&, const Vec3i&) = default;
};

/// A player's authoritative state, exactly as the server simulates it and the wire carries it.
struct PlayerState {
    EntityId id;
    Platform platform = Platform::Pc;
    Vec3i position;          ///< kPositionUnitsPerMetre
    Vec3i velocity;          ///< kVelocityUnitsPerMetre per second
    std::uint16_t yaw = 0;   ///< full turn = 65536
    std::int16_t pitch = 0;  ///< [-kPitchLimit, kPitchLimit]
    MoveMode mode = MoveMode::Idle;
    std::uint8_t animation = 0;  ///< animation state id, < 64
    std::uint8_t health = 100;   ///< 0..100
    /// Where the movement integrator is in its tick-rate cycle (< the tick rate, < kMaxTickHz):
    /// positions advance by exact fractions of the velocity per tick (so speed does not depend on
    /// the tick rate), this phase says which fraction comes next, and it advances once per tick
    /// while moving. Replicated, so dead reckoning from a baseline lands exactly where the
    /// simulation does.
    std::uint8_t stepPhase = 0;
    friend constexpr bool operator==(const PlayerState&, const PlayerState&) = default;
};
constexpr int kAnimationCount = 64;
constexpr int kMaxHealth = 100;

/// Buttons of an input command.
enum Button : std::uint16_t {
    ButtonJump = 1u << 0,
    ButtonSprint = 1u << 1,
    ButtonCrouch = 1u << 2,
    ButtonFire = 1u << 3,
    ButtonUse = 1u << 4,
};
constexpr int kButtonBits = 5;

/// One tick of a player's intent. Move axes are already quantised to [-127, 127].
struct InputCommand {
    std::uint32_t sequence = 0;  ///< increases by one per client tick
    Tick tick = 0;               ///< the server tick the client predicted when it sampled this
    std::int8_t moveForward = 0;
    std::int8_t moveRight = 0;
    std::uint16_t yaw = 0;
    std::int16_t pitch = 0;
    std::uint16_t buttons = 0;
    /// The server time (in 1/256 tick) the client was showing remote players at, for lag compensation.
    std::uint32_t viewTime256 = 0;
    friend constexpr bool operator==(const InputCommand&, const InputCommand&) = default;
};

} // namespace lv
