#include "liveops/toggles.h"

#include "synccore/socket.h"

#include <algorithm>

namespace lv::liveops {

std::string_view roleName(Role role)
{
    switch (role) {
    case Role::Viewer: return "viewer";
    case Role::Operator: return "operator";
    case Role::Producer: return "producer";
    case Role::Admin: return "admin";
    }
    return "unknown";
}

std::string formatValue(const ToggleValue& value)
{
    if (const bool* b = std::get_if<bool>(&value))
        return *b ? "true" : "false";
    if (const std::int64_t* i = std::get_if<std::int64_t>(&value))
        return std::to_string(*i);
    return std::get<std::string>(value);
}

const std::vector<ToggleDefinition>& engineToggles()
{
    static const std::vector<ToggleDefinition> toggles = [] {
        const std::string rb = "docs/runbooks.md#";
        auto b = [&](std::string key, bool def, std::string description, Role role) {
            return ToggleDefinition{key, ToggleType::Bool, def, 0, 0, {}, std::move(description), "sync-team", rb + key, role};
        };
        auto i = [&](std::string key, std::int64_t def, std::int64_t lo, std::int64_t hi, std::string description, Role role) {
            return ToggleDefinition{key, ToggleType::Int, def, lo, hi, {}, std::move(description), "sync-team", rb + key, role};
        };
        return std::vector<ToggleDefinition>{
            i("tick_hz", 30, 10, 120, "Server simulation rate (ticks per second).", Role::Operator),
            i("snapshot_hz", 20, 1, 120, "Snapshots per second to each client; at most tick_hz.", Role::Operator),
            b("delta_compression", true, "Encode snapshots against the client's acknowledged state; off sends full state.", Role::Operator),
            i("interest_radius_m", 60, 5, 500, "Players within this distance may be in a client's view.", Role::Operator),
            i("max_visible", 64, 1, 256, "Most players one client sees at once.", Role::Operator),
            i("bandwidth_cap_kbps", 0, 0, 10000, "Per-client snapshot budget; 0 = limited by packet size only.", Role::Operator),
            b("prediction", true, "Clients predict their own player; off shows server state only.", Role::Producer),
            b("cross_play", true, "Players of different platforms see and meet each other.", Role::Producer),
            b("admissions_open", true, "New players may join; off drains the region.", Role::Operator),
            b("maintenance_mode", false, "Refuse new players and warn connected ones of maintenance.", Role::Operator),
            ToggleDefinition{"failover_target", ToggleType::Region, std::string{}, 0, 0, {},
                             "Where connected players are redirected: a region of this syncd by name, or a region of another "
                             "syncd by its endpoint (ip:port or [ipv6]:port); empty = none.",
                             "sync-team", rb + "failover_target",
                             Role::Operator},
            i("interpolation_delay_override_ms", 0, 0, 1000, "Fixed interpolation delay for clients; 0 = adaptive.", Role::Producer),
        };
    }();
    return toggles;
}

const ToggleDefinition* findToggle(std::string_view key)
{
    const auto& all = engineToggles();
    auto it = std::find_if(all.begin(), all.end(), [&](const ToggleDefinition& d) { return d.key == key; });
    return it == all.end() ? nullptr : &*it;
}

std::string validateValue(const ToggleDefinition& d, const ToggleValue& value, const std::vector<std::string>& regionNames)
{
    switch (d.type) {
    case ToggleType::Bool:
        return std::holds_alternative<bool>(value) ? std::string{} : d.key + " takes true or false";
    case ToggleType::Int: {
        const std::int64_t* v = std::get_if<std::int64_t>(&value);
        if (!v)
            return d.key + " takes an integer";
        if (*v < d.min || *v > d.max)
            return d.key + " must be within " + std::to_string(d.min) + ".." + std::to_string(d.max);
        return {};
    }
    case ToggleType::Enum: {
        const std::string* v = std::get_if<std::string>(&value);
        if (!v || std::find(d.allowed.begin(), d.allowed.end(), *v) == d.allowed.end())
            return d.key + " takes one of its listed values";
        return {};
    }
    case ToggleType::Region: {
        const std::string* v = std::get_if<std::string>(&value);
        if (!v)
            return d.key + " takes a region name or an endpoint";
        if (v->empty() || std::find(regionNames.begin(), regionNames.end(), *v) != regionNames.end())
            return {};
        if (auto endpoint = Address::parse(*v)) {
            if (endpoint->isUnspecified() || endpoint->port == 0)
                return d.key + ": '" + *v + "' is not an address players can reach";
            return {};
        }
        return d.key + ": no region named '" + *v + "', and not an endpoint (ip:port or [ipv6]:port)";
    }
    }
    return "unknown toggle type";
}

ApplyResult applyToggle(const RuntimeKnobs& knobs, std::string_view key, const ToggleValue& value, const std::string& failoverAddress)
{
    RuntimeKnobs k = knobs;
    auto asInt = [&] { return static_cast<int>(std::get<std::int64_t>(value)); };
    auto asBool = [&] { return std::get<bool>(value); };
    const ToggleDefinition* d = findToggle(key);
    if (!d)
        return {knobs, "unknown toggle '" + std::string(key) + "'"};
    if (std::string problem = validateValue(*d, value, {}); !problem.empty() && d->type != ToggleType::Region)
        return {knobs, problem};
    if (key == "tick_hz")
        k.tickHz = asInt();
    else if (key == "snapshot_hz")
        k.snapshotHz = asInt();
    else if (key == "delta_compression")
        k.deltaCompression = asBool();
    else if (key == "interest_radius_m") {
        k.interestRadiusM = asInt();
        k.interestHysteresisM = k.interestRadiusM * 0.1;
    } else if (key == "max_visible")
        k.maxVisible = asInt();
    else if (key == "bandwidth_cap_kbps")
        k.bandwidthCapKbps = asInt();
    else if (key == "prediction")
        k.predictionEnabled = asBool();
    else if (key == "cross_play")
        k.crossPlay = asBool();
    else if (key == "admissions_open")
        k.admissionsOpen = asBool();
    else if (key == "maintenance_mode")
        k.maintenanceMode = asBool();
    else if (key == "failover_target")
        k.failoverTarget = failoverAddress;
    else if (key == "interpolation_delay_override_ms")
        k.interpolationDelayOverrideMs = asInt();
    if (std::string problem = validateKnobs(k); !problem.empty())
        return {knobs, problem};
    return {k, {}};
}

} // namespace lv::liveops
