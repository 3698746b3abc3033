#include "synccore/knobs.h"

#include "synccore/socket.h"

namespace lv {

std::string validateKnobs(const RuntimeKnobs& k)
{
    if (k.tickHz < 10 || k.tickHz > 120)
        return "tick_hz must be within 10..120";
    if (k.snapshotHz < 1 || k.snapshotHz > k.tickHz)
        return "snapshot_hz must be within 1..tick_hz";
    if (!(k.interestRadiusM >= 1.0 && k.interestRadiusM <= 2000.0))
        return "interest_radius_m must be within 1..2000";
    if (!(k.interestHysteresisM >= 0.0 && k.interestHysteresisM <= k.interestRadiusM))
        return "interest_hysteresis_m must be within 0..interest_radius_m";
    if (k.maxVisible < 1 || k.maxVisible > 1000)
        return "max_visible must be within 1..1000";
    if (!(k.bandwidthCapKbps >= 0.0 && k.bandwidthCapKbps <= 100000.0))
        return "bandwidth_cap_kbps must be within 0..100000";
    if (k.interpolationDelayOverrideMs < 0 || k.interpolationDelayOverrideMs > 2000)
        return "interpolation_delay_override_ms must be within 0..2000";
    if (!k.failoverTarget.empty() && !Address::parse(k.failoverTarget))
        return "failover_target must be ip:port";
    return {};
}

} // namespace lv
