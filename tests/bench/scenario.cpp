#include "scenario.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace lv::bench {

namespace {

std::string where(const std::string& path, const toml::source_region& region)
{
    std::ostringstream s;
    s << path << ":" << region.begin.line;
    return s.str();
}

/// Rejects keys we do not know, so a typo is an error with a line number instead of a silent default.
bool checkKeys(const std::string& path, const toml::table& table, const std::set<std::string>& known, std::string& error)
{
    for (const auto& [key, node] : table) {
        if (!known.count(std::string(key.str()))) {
            error = where(path, node.source()) + ": unknown key '" + std::string(key.str()) + "'";
            return false;
        }
    }
    return true;
}

template <typename T>
bool read(const std::string& path, const toml::table& table, const char* key, T& out, double lo, double hi, std::string& error)
{
    const toml::node* node = table.get(key);
    if (!node)
        return true;  // optional: keep the default
    std::optional<double> value;
    if (auto i = node->value<std::int64_t>())
        value = static_cast<double>(*i);
    else if (auto d = node->value<double>())
        value = *d;
    if (!value || *value < lo || *value > hi) {
        std::ostringstream s;
        s << where(path, node->source()) << ": '" << key << "' must be a number in [" << lo << ", " << hi << "]";
        error = s.str();
        return false;
    }
    out = static_cast<T>(*value);
    return true;
}

} // namespace

bool loadScenario(const std::string& path, Scenario& out, std::string& error)
{
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream s;
        s << path << ":" << e.source().begin.line << ": " << e.description();
        error = s.str();
        return false;
    }
    if (!checkKeys(path, root, {"name", "description", "seed", "players", "area_radius_m", "duration_s", "ack_rtt_ms", "ack_loss_percent", "bots", "knobs"}, error))
        return false;
    Scenario sc;
    sc.name = root["name"].value_or(std::filesystem::path(path).stem().string());
    sc.description = root["description"].value_or(std::string{});
    double seed = 1;
    if (!read(path, root, "seed", seed, 0, 1e15, error) || !read(path, root, "players", sc.players, 1, 60000, error)
        || !read(path, root, "area_radius_m", sc.areaRadiusM, 1, 8000, error) || !read(path, root, "duration_s", sc.durationS, 0.5, 3600, error)
        || !read(path, root, "ack_rtt_ms", sc.ackRttMs, 0, 5000, error) || !read(path, root, "ack_loss_percent", sc.ackLossPercent, 0, 100, error))
        return false;
    sc.seed = static_cast<std::uint64_t>(seed);
    if (const toml::table* bots = root["bots"].as_table()) {
        if (!checkKeys(path, *bots, {"idle_percent", "run_percent", "strafe_percent", "turn_rate_deg_per_s", "fire_per_s", "input_drop_percent", "stick_scale"}, error))
            return false;
        if (!read(path, *bots, "idle_percent", sc.bots.idlePercent, 0, 100, error) || !read(path, *bots, "run_percent", sc.bots.runPercent, 0, 100, error)
            || !read(path, *bots, "strafe_percent", sc.bots.strafePercent, 0, 100, error)
            || !read(path, *bots, "turn_rate_deg_per_s", sc.bots.turnRateDegPerS, 0, 3600, error)
            || !read(path, *bots, "fire_per_s", sc.bots.firePerSecond, 0, 30, error)
            || !read(path, *bots, "input_drop_percent", sc.bots.inputDropPercent, 0, 100, error)
            || !read(path, *bots, "stick_scale", sc.bots.stickScale, 0, 1, error))
            return false;
    }
    if (const toml::table* knobs = root["knobs"].as_table()) {
        if (!checkKeys(path, *knobs, {"tick_hz", "snapshot_hz", "interest_radius_m", "max_visible", "bandwidth_cap_kbps", "delta_compression"}, error))
            return false;
        if (!read(path, *knobs, "tick_hz", sc.knobs.tickHz, 10, 120, error) || !read(path, *knobs, "snapshot_hz", sc.knobs.snapshotHz, 1, 120, error)
            || !read(path, *knobs, "interest_radius_m", sc.knobs.interestRadiusM, 1, 2000, error)
            || !read(path, *knobs, "max_visible", sc.knobs.maxVisible, 1, 1000, error)
            || !read(path, *knobs, "bandwidth_cap_kbps", sc.knobs.bandwidthCapKbps, 0, 100000, error))
            return false;
        sc.knobs.deltaCompression = (*knobs)["delta_compression"].value_or(true);
    }
    sc.knobs.interestHysteresisM = sc.knobs.interestRadiusM * 0.1;
    if (const std::string problem = validateKnobs(sc.knobs); !problem.empty()) {
        error = path + ": " + problem;
        return false;
    }
    sc.bots.areaRadius = static_cast<std::int32_t>(sc.areaRadiusM * kPositionUnitsPerMetre);
    out = sc;
    return true;
}

std::vector<std::string> scenarioFiles(const std::string& dir)
{
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.path().extension() == ".toml")
            files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace lv::bench
