#include "liveops/promexport.h"

#include <cstdio>
#include <sstream>

namespace lv::liveops {

PrometheusExporter::PrometheusExporter(Cluster& cluster)
{
    m_subscription = cluster.watchTelemetry(UINT64_MAX, [this](const TelemetryRecord& r) { record(r); });
}

void PrometheusExporter::record(const TelemetryRecord& r)
{
    std::lock_guard lock(m_mutex);
    Totals& t = m_regions[r.sample.region];
    t.latest = r;
    t.corrections += r.sample.clientReportedCorrections;
    t.inputsDropped += r.sample.inputsDropped;
    t.shotsClamped += r.sample.shotsClamped;
    t.errors += r.sample.errors;
    t.bytesIn += r.sample.kbpsIn * 1000.0 / 8.0 * r.sample.windowSeconds;
    t.bytesOut += r.sample.kbpsOut * 1000.0 / 8.0 * r.sample.windowSeconds;
    t.ticks += r.sample.ticks;
}

std::string PrometheusExporter::render() const
{
    std::lock_guard lock(m_mutex);
    std::ostringstream out;
    out.precision(10);
    auto family = [&](const char* name, const char* type, const char* help, auto value) {
        out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
        for (const auto& [region, t] : m_regions)
            value(region, t);
    };
    auto line = [&](const char* name, const std::string& region, const std::string& extra, double v) {
        out << name << "{region=\"" << region << '"' << extra << "} " << v << '\n';
    };
    family("syncd_region_up", "gauge", "1 while the region takes new players (serving), else 0.", [&](const std::string& region, const Totals& t) {
        line("syncd_region_up", region, "", t.latest.state == RegionState::Serving ? 1 : 0);
    });
    family("syncd_region_players", "gauge", "Connected players.", [&](const std::string& region, const Totals& t) {
        line("syncd_region_players", region, "", static_cast<double>(t.latest.sample.players));
    });
    family("syncd_region_rtt_milliseconds", "gauge", "Round-trip time over the last telemetry window.",
           [&](const std::string& region, const Totals& t) {
               line("syncd_region_rtt_milliseconds", region, ",quantile=\"0.5\"", t.latest.sample.rttP50Ms);
               line("syncd_region_rtt_milliseconds", region, ",quantile=\"0.95\"", t.latest.sample.rttP95Ms);
               line("syncd_region_rtt_milliseconds", region, ",quantile=\"0.99\"", t.latest.sample.rttP99Ms);
           });
    family("syncd_region_loss_percent", "gauge", "Packets sent by the server and never acknowledged, last window.",
           [&](const std::string& region, const Totals& t) { line("syncd_region_loss_percent", region, "", t.latest.sample.lossPercent); });
    family("syncd_region_tick_seconds_p99", "gauge", "99th percentile of tick CPU time, last window.",
           [&](const std::string& region, const Totals& t) { line("syncd_region_tick_seconds_p99", region, "", t.latest.sample.tickP99Ms / 1000.0); });
    family("syncd_region_received_bytes_total", "counter", "UDP payload bytes received from players.",
           [&](const std::string& region, const Totals& t) { line("syncd_region_received_bytes_total", region, "", t.bytesIn); });
    family("syncd_region_sent_bytes_total", "counter", "UDP payload bytes sent to players.",
           [&](const std::string& region, const Totals& t) { line("syncd_region_sent_bytes_total", region, "", t.bytesOut); });
    family("syncd_region_client_reported_corrections_total", "counter",
           "Prediction corrections as the game clients report them (client-reported: not verified by the server).",
           [&](const std::string& region, const Totals& t) {
               line("syncd_region_client_reported_corrections_total", region, "", static_cast<double>(t.corrections));
           });
    family("syncd_region_inputs_dropped_total", "counter", "Player commands beyond their input budget (speed hacks, lag switches, fast clocks).",
           [&](const std::string& region, const Totals& t) { line("syncd_region_inputs_dropped_total", region, "", static_cast<double>(t.inputsDropped)); });
    family("syncd_region_shots_clamped_total", "counter", "Shots claiming a view older than the player's rewind limit.",
           [&](const std::string& region, const Totals& t) { line("syncd_region_shots_clamped_total", region, "", static_cast<double>(t.shotsClamped)); });
    family("syncd_region_errors_total", "counter", "Malformed packets and rejected connect tokens.",
           [&](const std::string& region, const Totals& t) { line("syncd_region_errors_total", region, "", static_cast<double>(t.errors)); });
    family("syncd_region_ticks_total", "counter", "Simulation ticks run.",
           [&](const std::string& region, const Totals& t) { line("syncd_region_ticks_total", region, "", static_cast<double>(t.ticks)); });
    return out.str();
}

} // namespace lv::liveops
