// syncd_load: measures syncd as it runs, in its own process, against real UDP clients.
//
//   syncd_load load   --clients 1000 --seconds 20   syncbot (another process) against one region;
//                                                    delta compression on, then off
//   syncd_load fanout --watchers 50 --seconds 15    50 telemetry watchers of 3 regions at 10 Hz
//
// Prints what it measured; never judges it. Figures: docs/benchmarks.md.
#include "liveops/client.h"
#include "liveops/config.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fcntl.h>
#include <future>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

using namespace lv;
namespace lc = lv::liveops::client;
using Clock = std::chrono::steady_clock;

namespace {

const char* const kToken = "bench-admin-token-0123456789";

struct Process {
    pid_t pid = -1;
    Process() = default;
    Process(Process&& other) noexcept : pid(std::exchange(other.pid, -1)) {}
    Process& operator=(Process&& other) noexcept
    {
        stop(SIGKILL);
        pid = std::exchange(other.pid, -1);
        return *this;
    }
    static Process spawn(const std::vector<std::string>& argv, const std::string& stdoutPath = {})
    {
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        if (!stdoutPath.empty())
            posix_spawn_file_actions_addopen(&actions, 1, stdoutPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        Process p;
        if (const int error = posix_spawn(&p.pid, args[0], &actions, nullptr, args.data(), environ); error != 0) {
            std::cerr << "syncd_load: cannot start " << argv[0] << ": " << std::strerror(error) << "\n";
            p.pid = -1;
        }
        posix_spawn_file_actions_destroy(&actions);
        return p;
    }
    void stop(int signal = SIGTERM)
    {
        if (pid <= 0)
            return;
        kill(pid, signal);
        int status = 0;
        waitpid(pid, &status, 0);
        pid = -1;
    }
    ~Process() { stop(SIGKILL); }
    /// CPU seconds (user + system) the process has used.
    double cpuSeconds() const
    {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(in)), {});
        std::istringstream fields(text.substr(text.rfind(')') + 2));
        std::string field;
        double utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> field; ++i) {
            if (i == 14)
                utime = std::stod(field);
            if (i == 15)
                stime = std::stod(field);
        }
        return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    double rssMiB() const
    {
        std::ifstream in("/proc/" + std::to_string(pid) + "/status");
        for (std::string line; std::getline(in, line);)
            if (line.rfind("VmRSS:", 0) == 0)
                return std::stod(line.substr(6)) / 1024.0;
        return 0.0;
    }
};

std::string sibling(const char* self, const std::string& relative)
{
    return (std::filesystem::canonical(std::filesystem::path(self)).parent_path() / relative).lexically_normal().string();
}

bool writeFile(const std::string& path, const std::string& text)
{
    std::ofstream out(path);
    out << text;
    return static_cast<bool>(out);
}

int waitForPort(const std::string& path, const Process& syncd)
{
    for (int i = 0; i < 300; ++i) {
        std::ifstream in(path);
        int port = 0;
        if (in >> port && port > 0)
            return port;
        if (waitpid(syncd.pid, nullptr, WNOHANG) != 0)
            return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
}

/// Telemetry averaged over a measurement window.
struct Window {
    std::mutex mutex;
    bool open = false;
    std::vector<lc::Telemetry> samples;
    void add(const lc::Telemetry& t)
    {
        std::lock_guard lock(mutex);
        if (open)
            samples.push_back(t);
    }
    void start()
    {
        std::lock_guard lock(mutex);
        samples.clear();
        open = true;
    }
    std::vector<lc::Telemetry> stop()
    {
        std::lock_guard lock(mutex);
        open = false;
        return samples;
    }
};

template <typename T>
T call(const std::function<void(std::function<void(lc::Reply<T>)>)>& start)
{
    std::promise<lc::Reply<T>> promise;
    start([&](lc::Reply<T> r) { promise.set_value(std::move(r)); });
    auto reply = promise.get_future().get();
    if (!reply.status.ok()) {
        std::cerr << "syncd_load: call failed: " << reply.status.message << "\n";
        std::exit(1);
    }
    return reply.value;
}

struct Setup {
    std::filesystem::path dir;
    Process syncd;
    int port = 0;
    std::string keyFile;
};

bool startSyncd(Setup& s, const char* self, const std::string& regions, int telemetryMs)
{
    s.dir = std::filesystem::temp_directory_path() / ("syncd_load." + std::to_string(getpid()));
    std::filesystem::create_directories(s.dir);
    s.keyFile = (s.dir / "cluster.key").string();
    writeFile((s.dir / "tokens.txt").string(), std::string(kToken) + " bench admin\n");
    writeFile(s.keyFile, liveops::formatKey(generateKey()) + "\n");
    writeFile((s.dir / "syncd.toml").string(), "[syncd]\ngrpc_address = \"127.0.0.1:0\"\ntoken_file = \"tokens.txt\"\n"
                                               "token_key_file = \"cluster.key\"\ntelemetry_interval_ms = "
                                                   + std::to_string(telemetryMs) + "\ndrain_timeout_s = 1\n\n" + regions);
    s.syncd = Process::spawn({sibling(self, "../../backend/syncd"), "--config", (s.dir / "syncd.toml").string(), "--print-port",
                              (s.dir / "port").string()});
    s.port = waitForPort((s.dir / "port").string(), s.syncd);
    return s.port > 0;
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

int load(const char* self, int clients, int seconds)
{
    Setup s;
    if (!startSyncd(s, self, "[[region]]\nname = \"bench\"\ncapacity = 20000\n", 1000)) {
        std::cerr << "syncd_load: syncd did not start\n";
        return 1;
    }
    lc::ClientOptions options;
    options.target = "127.0.0.1:" + std::to_string(s.port);
    options.token = kToken;
    lc::LiveOpsClient client(options);
    const auto regions = call<std::vector<lc::Region>>([&](auto done) { client.listRegions(done); });
    Window window;
    client.watchTelemetry({}, 0, [&](const lc::Telemetry& t) { window.add(t); });
    const std::string botOut = (s.dir / "syncbot.jsonl").string();
    Process bot = Process::spawn({sibling(self, "../../backend/syncbot"), "--server", regions.at(0).endpoint, "--key-file", s.keyFile,
                                  "--clients", std::to_string(clients), "--every", "5", "--json"},
                                 botOut);
    const auto joinStart = Clock::now();
    std::uint32_t players = 0;
    while (Clock::now() - joinStart < std::chrono::seconds(90) && players < static_cast<std::uint32_t>(clients)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        players = call<std::vector<lc::Region>>([&](auto done) { client.listRegions(done); }).at(0).players;
    }
    std::printf("syncd pid %d, syncbot pid %d: %u of %d clients connected after %.1f s\n", s.syncd.pid, bot.pid, players, clients,
                std::chrono::duration<double>(Clock::now() - joinStart).count());
    std::this_thread::sleep_for(std::chrono::seconds(3));

    std::printf("\n| delta compression | players | syncd CPU (cores) | CPU per 1,000 players | tick p99 ms (median of windows) | "
                "server out kB/s per client | server in kB/s per client | syncd RSS MiB | syncbot CPU (cores) |\n|---|---|---|---|---|---|---|---|---|\n");
    for (bool delta : {true, false}) {
        if (!delta) {
            const auto toggles = call<std::vector<lc::Toggle>>([&](auto done) { client.listToggles("*", done); });
            std::uint64_t version = 0;
            for (const auto& t : toggles)
                if (t.key == "delta_compression")
                    version = t.version;
            call<lc::Toggle>([&](auto done) { client.setToggle("delta_compression", "*", false, version, "benchmark: delta off", done); });
            std::this_thread::sleep_for(std::chrono::seconds(3));
        }
        window.start();
        const double cpu0 = s.syncd.cpuSeconds();
        const double botCpu0 = bot.cpuSeconds();
        const auto t0 = Clock::now();
        std::this_thread::sleep_for(std::chrono::seconds(seconds));
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        const double cpu = (s.syncd.cpuSeconds() - cpu0) / elapsed;
        const double botCpu = (bot.cpuSeconds() - botCpu0) / elapsed;
        const auto samples = window.stop();
        std::vector<double> tick, out, in, count;
        for (const auto& t : samples) {
            if (t.players == 0)
                continue;
            tick.push_back(t.tickP99Ms);
            out.push_back(t.kbpsOut / 8.0 / t.players);
            in.push_back(t.kbpsIn / 8.0 / t.players);
            count.push_back(t.players);
        }
        const double n = median(count);
        std::printf("| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %.2f |\n", delta ? "on" : "off", n, cpu, cpu / (n / 1000.0),
                    median(tick), median(out), median(in), s.syncd.rssMiB(), botCpu);
    }
    client.stopWatches();
    bot.stop(SIGINT);
    s.syncd.stop(SIGTERM);
    std::ifstream report(botOut);
    std::string line, last;
    while (std::getline(report, line))
        if (!line.empty())
            last = line;
    std::printf("\nsyncbot's last report: %s\n", last.c_str());
    std::filesystem::remove_all(s.dir);
    return 0;
}

int fanout(const char* self, int watchers, int seconds)
{
    Setup s;
    const std::string regions = "[[region]]\nname = \"eu-west\"\nbots = 20\n\n[[region]]\nname = \"us-east\"\nbots = 20\n\n"
                                "[[region]]\nname = \"ap-south\"\nbots = 20\n";
    if (!startSyncd(s, self, regions, 100)) {
        std::cerr << "syncd_load: syncd did not start\n";
        return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(3));
    auto measure = [&](int n) {
        lc::ClientOptions options;
        options.target = "127.0.0.1:" + std::to_string(s.port);
        options.token = kToken;
        std::vector<std::unique_ptr<lc::LiveOpsClient>> clients;
        std::atomic<std::uint64_t> received{0};
        for (int i = 0; i < n; ++i) {
            clients.push_back(std::make_unique<lc::LiveOpsClient>(options));
            clients.back()->watchTelemetry({}, 100, [&](const lc::Telemetry&) { ++received; });
        }
        std::this_thread::sleep_for(std::chrono::seconds(2));
        const double cpu0 = s.syncd.cpuSeconds();
        const std::uint64_t r0 = received;
        const auto t0 = Clock::now();
        std::this_thread::sleep_for(std::chrono::seconds(seconds));
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        const double cpu = (s.syncd.cpuSeconds() - cpu0) / elapsed;
        const double perWatcher = n ? double(received - r0) / elapsed / n : 0.0;
        std::printf("| %d | %.3f | %.1f | %.1f |\n", n, cpu, s.syncd.rssMiB(), perWatcher);
        clients.clear();
    };
    std::printf("3 regions x 20 bots, telemetry every 100 ms\n\n| watchers | syncd CPU (cores) | syncd RSS MiB | samples/s per watcher |\n"
                "|---|---|---|---|\n");
    measure(0);
    measure(watchers);
    s.syncd.stop(SIGTERM);
    std::filesystem::remove_all(s.dir);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: syncd_load load [--clients N] [--seconds S] | syncd_load fanout [--watchers N] [--seconds S]\n";
        return 2;
    }
    const std::string mode = argv[1];
    int clients = 1000, watchers = 50, seconds = mode == "load" ? 20 : 15;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        const int value = std::atoi(argv[i + 1]);
        if (arg == "--clients")
            clients = value;
        else if (arg == "--watchers")
            watchers = value;
        else if (arg == "--seconds")
            seconds = value;
    }
    signal(SIGPIPE, SIG_IGN);
    if (mode == "load")
        return load(argv[0], clients, seconds);
    if (mode == "fanout")
        return fanout(argv[0], watchers, seconds);
    std::cerr << "syncd_load: unknown mode '" << mode << "'\n";
    return 2;
}
