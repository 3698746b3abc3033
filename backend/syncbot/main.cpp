// syncbot: a load generator of real UDP game clients running bot movement against a syncd region.
// Usage: syncbot --server HOST:PORT[,HOST:PORT...] --key-file FILE [--clients N] [--duration S] [--every S] [--json]
#include "liveops/config.h"
#include "liveops/swarm.h"

#include <sodium.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "version.h"
#include <sstream>

using namespace lv;
using namespace lv::liveops;

namespace {

std::atomic<bool> g_stop{false};

int usage(int code)
{
    std::cerr << "usage: syncbot --server HOST:PORT[,...] --key-file FILE [options]\n"
                 "  --server HOST:PORT[,HOST:PORT...]  a region's UDP endpoint (ListRegions shows it); more are\n"
                 "                      fallbacks in order: the bots' tokens list them all\n"
                 "  --key-file FILE     the cluster's connect-token key (syncd's token_key_file)\n"
                 "  --clients N         bot clients, each with its own socket (default 100)\n"
                 "  --version           print the version and git revision\n"
                 "  --duration S        stop after S seconds (default: run until Ctrl-C)\n"
                 "  --every S           print figures every S seconds (default 5)\n"
                 "  --latency-ms X --jitter-ms X --loss-percent X   condition the bots' network both ways\n"
                 "  --seed N --first-id N   movement seed and first client id (default 1, 1)\n"
                 "  --json              one JSON object per report line (the last has \"final\": true)\n";
    return code;
}

std::string json(const SwarmReport& r, double elapsed, double kbpsInPerClient, double kbpsOutPerClient, bool final)
{
    std::ostringstream out;
    out << "{\"elapsed_s\":" << elapsed << ",\"clients\":" << r.clients << ",\"connected\":" << r.connected
        << ",\"rtt_p50_ms\":" << r.rttP50Ms << ",\"rtt_p95_ms\":" << r.rttP95Ms << ",\"rtt_p99_ms\":" << r.rttP99Ms
        << ",\"loss_percent\":" << r.lossPercent << ",\"corrections\":" << r.corrections << ",\"redirects\":" << r.redirects
        << ",\"failovers\":" << r.failovers << ",\"disconnects\":" << r.disconnects << ",\"snapshots\":" << r.snapshots << ",\"kbps_in_per_client\":" << kbpsInPerClient
        << ",\"kbps_out_per_client\":" << kbpsOutPerClient << ",\"servers\":{";
    bool first = true;
    for (const auto& [server, n] : r.byServer) {
        out << (first ? "" : ",") << '"' << server << "\":" << n;
        first = false;
    }
    out << "},\"final\":" << (final ? "true" : "false") << "}";
    return out.str();
}

} // namespace

int main(int argc, char** argv)
{
    SwarmConfig config;
    config.count = 100;
    std::string server, keyFile;
    double duration = 0.0, every = 5.0;
    bool jsonOutput = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
        auto number = [&](double& out, double lo, double hi) {
            if (!next)
                return false;
            char* end = nullptr;
            out = std::strtod(next, &end);
            ++i;
            return end && *end == '\0' && out >= lo && out <= hi;
        };
        double v = 0.0;
        bool ok = true;
        if (arg == "--version") {
            std::cout << "syncbot " << LV_VERSION << " (" << lv::gitRevision() << ")\n";
            return 0;
        }
        if (arg == "--server" && next) {
            server = next;
            ++i;
        } else if (arg == "--key-file" && next) {
            keyFile = next;
            ++i;
        } else if (arg == "--clients") {
            ok = number(v, 1, 100000);
            config.count = static_cast<int>(v);
        } else if (arg == "--duration")
            ok = number(duration, 0, 1e7);
        else if (arg == "--every")
            ok = number(every, 0.1, 3600);
        else if (arg == "--latency-ms")
            ok = number(config.network.latencyMs, 0, 5000);
        else if (arg == "--jitter-ms")
            ok = number(config.network.jitterMs, 0, 5000);
        else if (arg == "--loss-percent")
            ok = number(config.network.lossPercent, 0, 100);
        else if (arg == "--seed") {
            ok = number(v, 0, 1e15);
            config.seed = static_cast<std::uint64_t>(v);
        } else if (arg == "--first-id") {
            ok = number(v, 1, 1e15);
            config.firstClientId = static_cast<std::uint64_t>(v);
        } else if (arg == "--json")
            jsonOutput = true;
        else if (arg == "--help" || arg == "-h")
            return usage(0);
        else
            ok = false;
        if (!ok) {
            std::cerr << "syncbot: bad argument '" << arg << "'\n";
            return usage(2);
        }
    }
    // --server A[,B,...]: the first is where the bots go; the rest are the token's fallbacks.
    std::vector<Address> servers;
    for (std::size_t from = 0; from <= server.size();) {
        const std::size_t comma = std::min(server.find(',', from), server.size());
        auto address = Address::parse(server.substr(from, comma - from));
        if (!address) {
            std::cerr << "syncbot: --server must be ip:port[,ip:port...], e.g. 127.0.0.1:7777\n";
            return usage(2);
        }
        servers.push_back(*address);
        from = comma + 1;
    }
    if (servers.size() > kMaxTokenServers) {
        std::cerr << "syncbot: --server lists at most " << kMaxTokenServers << " servers\n";
        return usage(2);
    }
    config.server = servers.front();
    config.fallbacks.assign(servers.begin() + 1, servers.end());
    std::ifstream keyIn(keyFile);
    std::ostringstream keyText;
    keyText << keyIn.rdbuf();
    auto key = parseKey(keyText.str());
    if (!keyIn || !key) {
        std::cerr << "syncbot: " << (keyFile.empty() ? "--key-file is required" : keyFile + ": expected 64 hex digits") << "\n";
        return 2;
    }
    config.tokenKey = *key;
    if (sodium_init() < 0)
        return 1;
    raiseOpenFileLimit();
    std::signal(SIGINT, [](int) { g_stop = true; });
    std::signal(SIGTERM, [](int) { g_stop = true; });

    std::string error;
    auto swarm = BotSwarm::start(config, error);
    if (!swarm) {
        std::cerr << "syncbot: " << error << "\n";
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    auto lastReport = start;
    SwarmReport previous = swarm->report();
    auto emit = [&](bool final) {
        const auto now = std::chrono::steady_clock::now();
        const SwarmReport r = swarm->report();
        const double window = std::chrono::duration<double>(now - lastReport).count();
        const double elapsed = std::chrono::duration<double>(now - start).count();
        // Byte counters restart when a client is redirected; a negative delta is not a rate.
        auto rate = [&](std::uint64_t nowBytes, std::uint64_t before) {
            return nowBytes >= before && window > 0 && r.connected > 0
                       ? double(nowBytes - before) * 8.0 / 1000.0 / window / double(r.connected)
                       : 0.0;
        };
        const double in = rate(r.bytesReceived, previous.bytesReceived);
        const double out = rate(r.bytesSent, previous.bytesSent);
        if (jsonOutput) {
            std::cout << json(r, elapsed, in, out, final) << std::endl;
        } else {
            std::printf("%7.1fs  connected %zu/%zu  rtt p50 %.2f p95 %.2f p99 %.2f ms  loss %.2f%%  corrections %llu  redirects %llu  "
                        "failovers %llu  disconnects %llu  per client in %.1f kbps out %.1f kbps",
                        elapsed, r.connected, r.clients, r.rttP50Ms, r.rttP95Ms, r.rttP99Ms, r.lossPercent,
                        static_cast<unsigned long long>(r.corrections), static_cast<unsigned long long>(r.redirects),
                        static_cast<unsigned long long>(r.failovers), static_cast<unsigned long long>(r.disconnects), in, out);
            for (const auto& [s, n] : r.byServer)
                std::printf("  [%s: %zu]", s.c_str(), n);
            std::printf("%s\n", final ? "  (final)" : "");
            std::fflush(stdout);
        }
        previous = r;
        lastReport = now;
    };
    while (!g_stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const auto now = std::chrono::steady_clock::now();
        if (duration > 0 && std::chrono::duration<double>(now - start).count() >= duration)
            break;
        if (std::chrono::duration<double>(now - lastReport).count() >= every)
            emit(false);
    }
    emit(true);
    return 0;
}
