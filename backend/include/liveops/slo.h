#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace lv::liveops {

/// The latency SLO of a region (docs/slo.md), defined once: syncd generates Prometheus recording
/// and alerting rules from it (`syncd slo-rules`), and the console's burn-rate alerts judge by it.
///
/// A window (one minute in Prometheus, one telemetry sample in the console) is good when its p99
/// round-trip time is at most `thresholdMs`; the objective is that share of windows good. Burn
/// rate over a span = bad share / (1 - objective). Alerts: the SRE workbook's multi-window,
/// multi-burn-rate scheme, each pair firing only once its long window is covered by data.
struct LatencySlo {
    double thresholdMs = 150.0;
    double objective = 0.99;
    int periodDays = 30;

    enum class Severity : std::uint8_t { Page, Ticket };
    struct BurnAlert {
        Severity severity;
        double burnRate;
        int longMinutes;
        int shortMinutes;
        const char* name;  ///< the Prometheus alert's name
        const char* spent; ///< what it means, for the alert's description
    };
    static constexpr std::array<BurnAlert, 3> kAlerts{{
        {Severity::Page, 14.4, 60, 5, "SyncdLatencySloBurningFast", "2 % of the month's error budget in an hour"},
        {Severity::Page, 6.0, 360, 30, "SyncdLatencySloBurning", "5 % of the month's error budget in six hours"},
        {Severity::Ticket, 1.0, 4320, 360, "SyncdLatencySloBurningSlowly", "10 % of the month's error budget in three days"},
    }};
    /// The longest window any alert needs (what a tracker must keep).
    static constexpr int kLongestMinutes = 4320;
};

/// The Prometheus rule file for `slo` (YAML: one group, evaluated every minute): the fleet-wide
/// p99 of each region from syncd_rtt_seconds, whether each minute was bad, the burn rates over
/// each alert's windows, and the alerts with severity labels and runbook links.
std::string prometheusSloRules(const LatencySlo& slo);
/// The same rule file as a Prometheus Operator `PrometheusRule` named `name` (its groups under spec).
std::string asPrometheusRule(const std::string& rules, const std::string& name);

} // namespace lv::liveops
