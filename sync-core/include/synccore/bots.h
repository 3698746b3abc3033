#pragma once

#include "synccore/conditioner.h"
#include "synccore/types.h"

#include <vector>

namespace lv {

/// How a bot moves: it wanders between random waypoints inside its area, idles now and then,
/// runs in bursts, turns at a limited rate, and fires at the given rate.
struct BotBehaviour {
    Vec3i areaCenter;
    std::int32_t areaRadius = 50 * kPositionUnitsPerMetre;
    double idlePercent = 25.0;       ///< chance a new leg is an idle pause instead of a walk
    double runPercent = 25.0;        ///< chance a walking leg is a run burst
    double turnRateDegPerS = 180.0;
    double firePerSecond = 0.0;
    double strafePercent = 10.0;     ///< chance a leg strafes while turning
    /// Input pattern (accessibility scenarios): probability per tick that the stick input is held
    /// back (slow, bursty inputs) and the fraction of full stick deflection used.
    double inputDropPercent = 0.0;
    double stickScale = 1.0;
};

/// The decision one bot makes for one tick.
struct BotInput {
    std::int8_t forward = 0;
    std::int8_t right = 0;
    std::uint16_t yaw = 0;
    std::int16_t pitch = 0;
    std::uint16_t buttons = 0;
};

/// A scripted player. Seeded and driven by simulation time only, so a session replays exactly.
class BotBrain {
public:
    BotBrain(BotBehaviour behaviour, std::uint64_t seed);
    /// Chooses this tick's input from where the bot is now.
    BotInput decide(const PlayerState& self, int tickHz);
    const BotBehaviour& behaviour() const { return m_behaviour; }

private:
    enum class Leg : std::uint8_t { Idle, Walk, Run, Strafe };
    void newLeg(const PlayerState& self, int tickHz);

    BotBehaviour m_behaviour;
    Rng m_rng;
    Leg m_leg = Leg::Idle;
    int m_ticksLeft = 0;
    Vec3i m_waypoint;
    double m_yaw = 0.0;  // degrees
    std::int16_t m_pitch = 0;
    bool m_yawInitialised = false;
    BotInput m_last;
};

} // namespace lv
