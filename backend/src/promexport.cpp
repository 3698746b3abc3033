#include "liveops/promexport.h"

#include "synccore/metrics.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace lv::liveops {

namespace {
/// A label value in the exposition format: backslash, quote and newline escaped.
std::string escaped(const std::string& v)
{
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double v)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", v);
    return text;
}
} // namespace

void PromHistogram::add(const HistogramBuckets& microseconds)
{
    for (const auto& [index, n] : microseconds.buckets) {
        const int i = static_cast<int>(index);
        if (i < 0 || i >= LatencyHistogram::kBucketCount)
            continue;  // validated where it came from; never trusted to index
        const double mid = (double(LatencyHistogram::bucketLow(i)) + double(LatencyHistogram::bucketHigh(i) - 1)) / 2.0 / 1e6;
        const auto at = std::lower_bound(m_le.begin(), m_le.end(), mid);
        m_counts[static_cast<std::size_t>(at - m_le.begin())] += n;
        m_count += n;
    }
    m_sumSeconds += double(microseconds.sum) / 1e6;
}

void PromHistogram::render(std::ostream& out, const std::string& name, const std::string& labels) const
{
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < m_le.size(); ++i) {
        cumulative += m_counts[i];
        out << name << "_bucket{" << labels << ",le=\"" << number(m_le[i]) << "\"} " << cumulative << '\n';
    }
    out << name << "_bucket{" << labels << ",le=\"+Inf\"} " << m_count << '\n';
    out << name << "_sum{" << labels << "} " << number(m_sumSeconds) << '\n';
    out << name << "_count{" << labels << "} " << m_count << '\n';
}

std::vector<double> PrometheusExporter::rttBounds()
{
    return {0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.275, 0.3, 0.35, 0.4, 0.5, 0.75, 1, 2, 5};
}

std::vector<double> PrometheusExporter::tickBounds()
{
    return {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.033, 0.05, 0.1, 0.25};
}

PrometheusExporter::PrometheusExporter(Cluster& cluster)
{
    m_subscription = cluster.watchTelemetry(UINT64_MAX, [this](const TelemetryRecord& r) { record(r); });
}

void PrometheusExporter::record(const TelemetryRecord& r)
{
    std::lock_guard lock(m_mutex);
    Totals& t = m_regions[r.sample.region];
    t.latest = r;
    t.rtt.add(r.sample.rttUs);
    t.tick.add(r.sample.tickUs);
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
    auto family = [&](const char* name, const char* type, const char* help, auto value) {
        out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
        for (const auto& [region, t] : m_regions)
            value(region, t);
    };
    auto labels = [](const std::string& region, const Totals& t) {
        return "region=\"" + escaped(region) + "\",server=\"" + escaped(t.latest.serverId) + '"';
    };
    auto line = [&](const char* name, const std::string& region, const std::string& extra, double v) {
        out << name << '{' << labels(region, m_regions.at(region)) << extra << "} " << number(v) << '\n';
    };
    family("syncd_rtt_seconds", "histogram",
           "Round-trip time of every pong the region's engine measured (aggregate: histogram_quantile over sum by (le, region)).",
           [&](const std::string& region, const Totals& t) { t.rtt.render(out, "syncd_rtt_seconds", labels(region, t)); });
    family("syncd_tick_seconds", "histogram", "CPU time of every simulation tick.",
           [&](const std::string& region, const Totals& t) { t.tick.render(out, "syncd_tick_seconds", labels(region, t)); });
    family("syncd_region_up", "gauge", "1 while the region takes new players (serving), else 0.", [&](const std::string& region, const Totals& t) {
        line("syncd_region_up", region, "", t.latest.state == RegionState::Serving ? 1 : 0);
    });
    family("syncd_region_players", "gauge", "Connected players.", [&](const std::string& region, const Totals& t) {
        line("syncd_region_players", region, "", static_cast<double>(t.latest.sample.players));
    });
    // The window's own quantiles, for humans: they cannot be aggregated (use syncd_rtt_seconds).
    for (const auto& quantile : {std::pair{"syncd_region_rtt_window_p50_seconds", 50}, {"syncd_region_rtt_window_p95_seconds", 95},
                                 {"syncd_region_rtt_window_p99_seconds", 99}}) {
        const char* name = quantile.first;  // (named: clang 14 cannot capture structured bindings)
        const int q = quantile.second;
        const std::string help = "Round-trip time p" + std::to_string(q) + " over the last telemetry window, for humans (not aggregatable: use syncd_rtt_seconds).";
        family(name, "gauge", help.c_str(), [&](const std::string& region, const Totals& t) {
            line(name, region, "", (q == 50 ? t.latest.sample.rttP50Ms : q == 95 ? t.latest.sample.rttP95Ms : t.latest.sample.rttP99Ms) / 1000.0);
        });
    }
    family("syncd_region_loss_ratio", "gauge", "Share of packets sent by the server and never acknowledged, last window (0..1).",
           [&](const std::string& region, const Totals& t) { line("syncd_region_loss_ratio", region, "", t.latest.sample.lossPercent / 100.0); });
    family("syncd_region_tick_window_p99_seconds", "gauge", "99th percentile of tick CPU time over the last telemetry window, for humans.",
           [&](const std::string& region, const Totals& t) { line("syncd_region_tick_window_p99_seconds", region, "", t.latest.sample.tickP99Ms / 1000.0); });
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
