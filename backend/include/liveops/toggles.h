#pragma once

#include "synccore/knobs.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lv::liveops {

/// Roles in increasing power; a call needs at least the role its method or toggle names.
enum class Role : std::uint8_t { Viewer = 1, Operator = 2, Producer = 3, Admin = 4 };
std::string_view roleName(Role role);

enum class ToggleType : std::uint8_t { Bool = 1, Int = 2, Enum = 3, Region = 4 };

/// A toggle's value: bool, integer, or a string (enum value or region name).
using ToggleValue = std::variant<bool, std::int64_t, std::string>;

/// Human-readable form used in the audit log ("true", "42", "eu-west", "" for none).
std::string formatValue(const ToggleValue& value);

/// Everything the console shows about a toggle that does not change at run time.
struct ToggleDefinition {
    std::string key;
    ToggleType type = ToggleType::Bool;
    ToggleValue defaultValue;
    std::int64_t min = 0;  ///< Int bounds, inclusive
    std::int64_t max = 0;
    std::vector<std::string> allowed;  ///< Enum values
    std::string description;
    std::string owner;
    std::string runbook;   ///< link to the runbook section for this toggle
    Role requiredRole = Role::Operator;
};

/// The sync-core knobs as toggles. Each can be set cluster-wide (scope "*") or per region; a
/// region's value overrides the cluster's, which overrides the default.
const std::vector<ToggleDefinition>& engineToggles();
const ToggleDefinition* findToggle(std::string_view key);

/// Empty when `value` is acceptable for `definition` (type, bounds, known region), else a message
/// that names the problem.
std::string validateValue(const ToggleDefinition& definition, const ToggleValue& value,
                          const std::vector<std::string>& regionNames);

/// Sets one knob. `failoverAddress` resolves a region name to its game endpoint ("" = none).
/// Returns the knobs unchanged with a message when the key is unknown or the result is inconsistent
/// (e.g. snapshot_hz above tick_hz).
struct ApplyResult {
    RuntimeKnobs knobs;
    std::string error;
};
ApplyResult applyToggle(const RuntimeKnobs& knobs, std::string_view key, const ToggleValue& value,
                        const std::string& failoverAddress);

} // namespace lv::liveops
