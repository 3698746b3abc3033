#include "synccore/bots.h"

#include "synccore/simulation.h"

#include <algorithm>
#include <cmath>

namespace lv {

BotBrain::BotBrain(BotBehaviour behaviour, std::uint64_t seed) : m_behaviour(behaviour), m_rng(seed) {}

void BotBrain::newLeg(const PlayerState& self, int tickHz)
{
    const double r = m_rng.uniform() * 100.0;
    if (r < m_behaviour.idlePercent) {
        m_leg = Leg::Idle;
        m_ticksLeft = static_cast<int>(tickHz * (0.5 + 2.5 * m_rng.uniform()));
        return;
    }
    // A waypoint uniformly inside the area disc.
    const double angle = m_rng.uniform() * 2.0 * 3.14159265358979323846;
    const double dist = std::sqrt(m_rng.uniform()) * m_behaviour.areaRadius;
    m_waypoint = {m_behaviour.areaCenter.x + static_cast<std::int32_t>(dist * std::cos(angle)),
                  m_behaviour.areaCenter.y + static_cast<std::int32_t>(dist * std::sin(angle)), 0};
    const double r2 = m_rng.uniform() * 100.0;
    m_leg = r2 < m_behaviour.runPercent ? Leg::Run : r2 < m_behaviour.runPercent + m_behaviour.strafePercent ? Leg::Strafe : Leg::Walk;
    const double metres = std::sqrt(double(distanceSquared(self.position, m_waypoint))) / kPositionUnitsPerMetre;
    const double speed = m_leg == Leg::Run ? 7.0 : 4.0;
    m_ticksLeft = std::clamp(static_cast<int>(metres / speed * tickHz) + 1, 1, tickHz * 20);
    // People look where they go: a new, small pitch per leg, steady during it.
    m_pitch = static_cast<std::int16_t>(m_rng.range(-900, 900));
}

BotInput BotBrain::decide(const PlayerState& self, int tickHz)
{
    tickHz = std::max(tickHz, 1);
    if (!m_yawInitialised) {
        m_yaw = self.yaw * 360.0 / 65536.0;
        m_yawInitialised = true;
    }
    if (m_ticksLeft-- <= 0)
        newLeg(self, tickHz);

    BotInput in;
    if (m_leg != Leg::Idle) {
        const double dx = m_waypoint.x - self.position.x, dy = m_waypoint.y - self.position.y;
        if (dx * dx + dy * dy < double(kPositionUnitsPerMetre) * kPositionUnitsPerMetre) {
            m_ticksLeft = 0;  // arrived
        } else {
            const double want = std::atan2(dy, dx) * 180.0 / 3.14159265358979323846;
            double diff = std::fmod(want - m_yaw + 540.0, 360.0) - 180.0;
            const double maxTurn = m_behaviour.turnRateDegPerS / tickHz;
            m_yaw += std::clamp(diff, -maxTurn, maxTurn);
            const auto stick = static_cast<std::int8_t>(std::clamp(127.0 * m_behaviour.stickScale, 0.0, 127.0));
            in.forward = stick;
            if (m_leg == Leg::Strafe)
                in.right = static_cast<std::int8_t>(m_rng.uniform() < 0.5 ? stick / 2 : -stick / 2);
            if (m_leg == Leg::Run)
                in.buttons |= ButtonSprint;
        }
    }
    m_yaw = std::fmod(m_yaw + 360.0, 360.0);
    in.yaw = static_cast<std::uint16_t>(std::lround(m_yaw * 65536.0 / 360.0) & 0xFFFF);
    in.pitch = m_pitch;
    if (m_behaviour.firePerSecond > 0.0 && m_rng.uniform() < m_behaviour.firePerSecond / tickHz)
        in.buttons |= ButtonFire;
    if (m_behaviour.inputDropPercent > 0.0 && m_rng.chancePercent(m_behaviour.inputDropPercent))
        in = m_last;  // the player's input device did not register a change this tick
    m_last = in;
    return in;
}

} // namespace lv
