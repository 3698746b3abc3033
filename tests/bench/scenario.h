#pragma once

#include "synccore/bots.h"
#include "synccore/knobs.h"

#include <string>
#include <vector>

namespace lv::bench {

/// A seeded benchmark scenario, as read from resources/scenarios/*.toml.
struct Scenario {
    std::string name;
    std::string description;
    std::uint64_t seed = 1;
    int players = 100;
    double areaRadiusM = 50.0;
    double durationS = 10.0;
    double ackRttMs = 100.0;
    double ackLossPercent = 0.0;
    BotBehaviour bots;
    RuntimeKnobs knobs;
};

/// Reads one scenario file. On error, `error` names the file, line and problem.
bool loadScenario(const std::string& path, Scenario& out, std::string& error);
/// Every *.toml in `dir`, sorted by name.
std::vector<std::string> scenarioFiles(const std::string& dir);

} // namespace lv::bench
