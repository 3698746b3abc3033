#pragma once

// Test-only session presets. Never shipped.

#include "synccore/session.h"

namespace lv::test {

inline SessionConfig crowd(int bots, std::uint64_t seed = 1, double areaMetres = 30.0)
{
    SessionConfig config;
    BotGroup group;
    group.count = bots;
    group.behaviour.areaRadius = static_cast<std::int32_t>(areaMetres * kPositionUnitsPerMetre);
    config.groups.push_back(group);
    config.seed = seed;
    config.step = millis(2);
    return config;
}

inline ConditionerSettings lossy(double latencyMs, double jitterMs, double lossPercent)
{
    ConditionerSettings s;
    s.latencyMs = latencyMs;
    s.jitterMs = jitterMs;
    s.lossPercent = lossPercent;
    return s;
}

inline bool allConnected(LocalSession& session)
{
    for (std::size_t i = 0; i < session.clientCount(); ++i)
        if (!session.client(i).connected() || !session.client(i).latestSnapshot())
            return false;
    return true;
}

} // namespace lv::test
