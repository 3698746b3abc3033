// console_soak: the console under 64 regions streaming telemetry at 10 Hz for 24 simulated hours.
//
//   console_soak [--regions 64] [--hours 24] [--full-frame-every 100]
//
// The window (offscreen) is fed exactly what ClusterConnection delivers for a cluster: one batch
// of 64 samples per 100 ms of simulated time, applied to the region model and latency history
// (the session's handlers). Time is simulated so 24 hours run in minutes; the samples are
// synthetic (each region a base RTT with noise and occasional spikes) and are labelled so.
// Measured on the UI thread:
//   batch frame: apply one batch + process the events it causes
//   full frame:  the same + the chart re-reading its regions and the window painting what changed,
//                taken every --full-frame-every batches across the whole run
// and the process's memory (VmRSS, VmHWM). Prints; never judges.
#include "console/session.h"
#include "mainwindow.h"
#include "regionspage.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTabWidget>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

using namespace lv::console;
namespace lc = lv::liveops::client;

namespace {

double memoryMiB(const char* field)
{
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field, 0) == 0)
            return std::stod(line.substr(std::string(field).size())) / 1024.0;
    return 0.0;
}

struct Stats {
    std::vector<double> ms;
    void add(double v) { ms.push_back(v); }
    double quantile(double q)
    {
        if (ms.empty())
            return 0;
        std::sort(ms.begin(), ms.end());
        return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * double(ms.size())))];
    }
    double max() { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
};

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    int regions = 64;
    double hours = 24;
    int fullEvery = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--regions")
            regions = std::atoi(argv[i + 1]);
        else if (arg == "--hours")
            hours = std::atof(argv[i + 1]);
        else if (arg == "--full-frame-every")
            fullEvery = std::max(1, std::atoi(argv[i + 1]));
    }
    QApplication app(argc, argv);
    QApplication::setStyle(QStringLiteral("Fusion"));
    ConsoleSession session;
    MainWindow window(session);
    window.resize(1280, 860);
    if (!qEnvironmentVariableIsSet("SOAK_NO_WINDOW"))
        window.show();
    if (qEnvironmentVariableIsSet("SOAK_NO_CHART"))
        window.regionsPage()->chart()->hide();
    QApplication::processEvents();
    const double rssStart = memoryMiB("VmRSS:");

    const QString cluster = QStringLiteral("sim");
    std::mt19937_64 random(42);
    std::normal_distribution<double> noise(0.0, 3.0);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<lc::Telemetry> batch(static_cast<std::size_t>(regions));
    for (int r = 0; r < regions; ++r) {
        char name[16];
        std::snprintf(name, sizeof name, "r%02d", r);
        batch[static_cast<std::size_t>(r)].region = name;
        batch[static_cast<std::size_t>(r)].players = 500;
        batch[static_cast<std::size_t>(r)].status = lc::RegionStatus::Serving;
    }
    const std::int64_t start = 1'700'000'000'000;
    const long steps = static_cast<long>(hours * 3600 * 10);
    Stats batchFrames, fullFrames, refreshes, repaints;
    std::uint64_t sequence = 0;
    QElapsedTimer total;
    total.start();
    for (long step = 0; step < steps; ++step) {
        const std::int64_t now = start + step * 100;
        for (int r = 0; r < regions; ++r) {
            lc::Telemetry& t = batch[static_cast<std::size_t>(r)];
            const double base = 15.0 + 3.0 * r;
            const double spike = unit(random) < 0.001 ? 120.0 : 0.0;
            t.sequence = ++sequence;
            t.timeMs = now;
            t.rttP50Ms = std::max(1.0, base + noise(random));
            t.rttP95Ms = t.rttP50Ms * 1.2 + spike;
            t.rttP99Ms = t.rttP50Ms * 1.3 + spike;
            t.lossPercent = std::max(0.0, noise(random) / 10.0);
            t.tickP99Ms = 2.0 + std::abs(noise(random)) / 3.0;
        }
        QElapsedTimer frame;
        frame.start();
        // What ConsoleSession does with a telemetry batch from a cluster.
        session.regions().applyTelemetry(cluster, batch);
        session.history().append(cluster, batch);
        const bool full = step % fullEvery == 0;
        if (full) {
            QElapsedTimer part;
            part.start();
            window.regionsPage()->chart()->refreshNow();
            refreshes.add(double(part.nsecsElapsed()) / 1e6);
            part.restart();
            QApplication::processEvents();  // the window paints what changed, the chart included
            repaints.add(double(part.nsecsElapsed()) / 1e6);
        } else {
            QApplication::processEvents();
        }
        const double ms = double(frame.nsecsElapsed()) / 1e6;
        (full ? fullFrames : batchFrames).add(ms);
        if (step % (36000 * 2) == 0 && step > 0)
            std::fprintf(stderr, "  %5.1f simulated hours, RSS %.0f MiB, %.0f s real\n", double(step) / 36000.0, memoryMiB("VmRSS:"),
                         double(total.elapsed()) / 1000.0);
    }
    std::printf("console_soak: %d regions x 10 Hz x %.1f simulated hours = %ld batches (%.1f M samples), %.0f s real\n", regions, hours,
                steps, double(steps) * regions / 1e6, double(total.elapsed()) / 1000.0);
    std::printf("| frame | count | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n");
    std::printf("| batch (apply 64 samples + events) | %zu | %.3f | %.3f | %.2f |\n", batchFrames.ms.size(), batchFrames.quantile(0.5),
                batchFrames.quantile(0.99), batchFrames.max());
    std::printf("| full (batch + chart refresh of all regions + repaint) | %zu | %.2f | %.2f | %.2f |\n", fullFrames.ms.size(),
                fullFrames.quantile(0.5), fullFrames.quantile(0.99), fullFrames.max());
    std::printf("(of which chart refresh p50 %.2f / p99 %.2f ms, events and painting p50 %.2f / p99 %.2f ms)\n", refreshes.quantile(0.5),
                refreshes.quantile(0.99), repaints.quantile(0.5), repaints.quantile(0.99));
    std::printf("memory: RSS %.0f MiB at start, %.0f MiB at the end, peak %.0f MiB; history points kept %zu\n", rssStart, memoryMiB("VmRSS:"),
                memoryMiB("VmHWM:"), session.history().pointsKept());
    return 0;
}
