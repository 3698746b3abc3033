// syncbench: runs the seeded scenarios through the real server-side pipeline (simulation, interest,
// priority, delta encoding for every client) and prints, per scenario, the bandwidth of our
// encoder against two baselines measured on the same states in the same run, the server cost,
// and codec throughput. --json writes one JSON object per scenario.

#include "baseline.pb.h"
#include "scenario.h"

#include "synccore/metrics.h"
#include "synccore/snapshot.h"
#include "synccore/world.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

using namespace lv;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kTransportOverheadBytes = 1 + 8 + 16 + 10;  // type, sequence, AEAD tag, ack header + kind
constexpr double kUdpIpOverheadBytes = 28;
constexpr std::size_t kSampledViews = 200;

/// Baseline A: every visible entity's full state as a Protobuf message.
std::size_t protobufBits(const SnapshotRecord& record)
{
    bench::Snapshot snapshot;
    snapshot.set_tick(record.tick);
    snapshot.set_ack_input(record.tick * 3 + 1);
    for (const PlayerState& s : record.entities) {
        bench::EntityState* e = snapshot.add_entities();
        e->set_id(s.id.index);
        e->set_generation(s.id.generation);
        e->set_platform(static_cast<std::uint32_t>(s.platform));
        e->set_x(float(s.position.x) / kPositionUnitsPerMetre);
        e->set_y(float(s.position.y) / kPositionUnitsPerMetre);
        e->set_z(float(s.position.z) / kPositionUnitsPerMetre);
        e->set_vx(float(s.velocity.x) / kVelocityUnitsPerMetre);
        e->set_vy(float(s.velocity.y) / kVelocityUnitsPerMetre);
        e->set_vz(float(s.velocity.z) / kVelocityUnitsPerMetre);
        e->set_yaw(float(s.yaw) * 360.0f / 65536.0f);
        e->set_pitch(float(s.pitch) * 90.0f / kPitchLimit);
        e->set_mode(static_cast<std::uint32_t>(s.mode));
        e->set_animation(s.animation);
        e->set_health(s.health);
    }
    return snapshot.ByteSizeLong() * 8;
}

/// Baseline B: the classic field-mask delta against the last acknowledged state: per changed
/// entity a 2-byte id and 2-byte field mask, then each changed field raw and byte-aligned
/// (floats for position, velocity and angles; a byte each for mode, animation, health); unchanged
/// entities cost nothing, removals 2 bytes, new entities everything. No prediction.
std::size_t fieldMaskBits(const SnapshotRecord& current, const std::map<std::uint16_t, PlayerState>* acked)
{
    std::size_t bytes = 4 + 4 + 2;  // tick, baseline tick, entity count
    for (const PlayerState& s : current.entities) {
        const PlayerState* b = nullptr;
        if (acked) {
            auto it = acked->find(s.id.index);
            if (it != acked->end() && it->second.id == s.id)
                b = &it->second;
        }
        if (!b) {
            bytes += 2 + 2 + 2 + 1 + 12 + 12 + 4 + 4 + 1 + 1 + 1;  // id, mask, generation, platform, all fields
            continue;
        }
        std::size_t fields = 0;
        fields += (s.position.x != b->position.x) * 4 + (s.position.y != b->position.y) * 4 + (s.position.z != b->position.z) * 4;
        fields += (s.velocity.x != b->velocity.x) * 4 + (s.velocity.y != b->velocity.y) * 4 + (s.velocity.z != b->velocity.z) * 4;
        fields += (s.yaw != b->yaw) * 4 + (s.pitch != b->pitch) * 4;
        fields += (s.mode != b->mode) + (s.animation != b->animation) + (s.health != b->health);
        if (fields)
            bytes += 2 + 2 + fields;
    }
    if (acked)
        for (const auto& [index, state] : *acked)
            if (!current.find(index))
                bytes += 2;
    return bytes * 8;
}

struct ScenarioResult {
    std::string name;
    int players = 0;
    double visiblePerClient = 0;
    double oursBitsPerEntity = 0;
    double protobufBitsPerEntity = 0;
    double fieldMaskBitsPerEntity = 0;
    double oursKbpsPerClient = 0;     // snapshot payload + our transport + UDP/IP headers
    double oursPayloadKbps = 0;
    double nsPerPlayerTick = 0;
    double p99TickMs = 0;
    int maxPlayersOneCore = 0;
    double encodeMBps = 0;
    double decodeMBps = 0;
    double encodeSnapshotsPerS = 0;
    double decodeSnapshotsPerS = 0;
    std::uint64_t decodeMismatches = 0;
};

struct Run {
    ServerWorld world;
    std::vector<EntityId> ids;
    std::vector<BotBrain> brains;
    std::vector<ClientView> views;
    std::vector<std::uint32_t> sequence;
    Rng rng;
    explicit Run(const bench::Scenario& sc, int players, double areaRadiusM) : world(sc.knobs), rng(sc.seed)
    {
        BotBehaviour behaviour = sc.bots;
        behaviour.areaRadius = static_cast<std::int32_t>(areaRadiusM * kPositionUnitsPerMetre);
        for (int i = 0; i < players; ++i) {
            const double angle = rng.uniform() * 2 * 3.14159265358979323846;
            const double dist = std::sqrt(rng.uniform()) * behaviour.areaRadius;
            const Vec3i pos{static_cast<std::int32_t>(dist * std::cos(angle)), static_cast<std::int32_t>(dist * std::sin(angle)), 0};
            ids.push_back(*world.spawn(Platform::Pc, pos, static_cast<std::uint16_t>(rng.range(0, 65535))));
            brains.emplace_back(behaviour, rng.next());
            views.emplace_back(ids.back());
            sequence.push_back(0);
        }
    }
    void feedInputs()
    {
        const int hz = world.knobs().tickHz;
        const Tick tick = world.tick();
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const BotInput b = brains[i].decide(*world.state(ids[i]), hz);
            InputCommand in;
            in.sequence = ++sequence[i];
            in.tick = tick + 1;
            in.moveForward = b.forward;
            in.moveRight = b.right;
            in.yaw = b.yaw;
            in.pitch = b.pitch;
            in.buttons = b.buttons;
            in.viewTime256 = tick > 3 ? (tick - 3) * 256 : 0;  // clients see ~100 ms in the past
            world.queueInput(ids[i], in);
        }
    }
};

struct PendingAck {
    Tick due;
    std::size_t view;
    Tick snapshot;
};

/// Server cost at `players` players: p99 tick time (ms) and ns per player-tick over `ticks` ticks.
std::pair<double, double> serverCost(const bench::Scenario& sc, int players, double areaRadiusM, int ticks)
{
    Run run(sc, players, areaRadiusM);
    const std::size_t budget = snapshotBudgetBits(sc.knobs, 900);
    const auto ackDelay = static_cast<Tick>(std::lround(sc.ackRttMs / 1000.0 * sc.knobs.tickHz));
    std::deque<PendingAck> acks;
    LatencyHistogram tickTime;
    double totalNs = 0;
    BitWriter writer;
    const int warmup = sc.knobs.tickHz;  // first second: everyone's first full snapshots
    for (int t = 0; t < warmup + ticks; ++t) {
        run.feedInputs();  // the clients' work, not the server's: outside the timed region
        const auto start = Clock::now();
        run.world.step();
        const Tick tick = run.world.tick();
        while (!acks.empty() && acks.front().due <= tick) {
            run.views[acks.front().view].acknowledge(acks.front().snapshot);
            acks.pop_front();
        }
        {
            for (std::size_t v = 0; v < run.views.size(); ++v) {
                if (!snapshotDue(tick, sc.knobs.tickHz, sc.knobs.snapshotHz, run.ids[v].index))
                    continue;
                writer.clear();
                (void)run.views[v].buildSnapshot(run.world, writer, budget);
                (void)writer.finish();
                if (!run.rng.chancePercent(sc.ackLossPercent))
                    acks.push_back({tick + ackDelay, v, tick});
            }
        }
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
        if (t >= warmup) {
            tickTime.record(static_cast<std::uint64_t>(ns / 1000));
            totalNs += double(ns);
        }
    }
    return {double(tickTime.p99()) / 1000.0, totalNs / (double(players) * ticks)};
}

/// Largest player count at the scenario's density whose p99 tick time stays within the tick budget.
int maxPlayersOneCore(const bench::Scenario& sc, double budgetMs)
{
    const double density = sc.players / (sc.areaRadiusM * sc.areaRadiusM);
    auto fits = [&](int n) {
        const double radius = std::sqrt(n / density);
        return serverCost(sc, n, radius, sc.knobs.tickHz * 5).first < budgetMs;  // 5 s: p99 is not just the max
    };
    int lo = 0, hi = 1000;
    while (hi <= 64000 && fits(hi)) {
        lo = hi;
        hi *= 2;
    }
    if (hi > 64000)
        return lo;
    while (hi - lo > std::max(250, lo / 20)) {
        const int mid = (lo + hi) / 2;
        (fits(mid) ? lo : hi) = mid;
    }
    return lo;
}

ScenarioResult runScenario(const bench::Scenario& sc, bool bandwidthOnly)
{
    ScenarioResult r;
    r.name = sc.name;
    r.players = sc.players;
    Run run(sc, sc.players, sc.areaRadiusM);
    const std::size_t budget = snapshotBudgetBits(sc.knobs, 900);
    const auto ackDelay = static_cast<Tick>(std::lround(sc.ackRttMs / 1000.0 * sc.knobs.tickHz));
    const std::size_t sampled = std::min<std::size_t>(kSampledViews, run.views.size());
    std::deque<PendingAck> acks;
    // Per sampled view: the truth it was sent per snapshot (baseline B's "last acked state"), what
    // it acked, and the records a client decoder holds.
    std::vector<std::map<Tick, std::map<std::uint16_t, PlayerState>>> sentTruth(sampled);
    std::vector<std::optional<Tick>> ackedB(sampled);
    std::vector<std::map<Tick, SnapshotRecord>> clientRecords(sampled);
    double oursBits = 0, protoBits = 0, maskBits = 0, entities = 0, snapshots = 0;
    double encodeNs = 0, decodeNs = 0, encodedBytes = 0;
    LatencyHistogram tickTime;
    double serverNs = 0;
    std::vector<std::pair<std::vector<std::uint8_t>, SnapshotRecord>> produced(sampled);
    std::vector<bool> producedThisTick(sampled);
    BitWriter writer;
    const int ticks = static_cast<int>(sc.durationS * sc.knobs.tickHz);
    const int warmup = sc.knobs.tickHz;
    for (int t = 0; t < warmup + ticks; ++t) {
        run.feedInputs();
        const auto start = Clock::now();
        run.world.step();
        const Tick tick = run.world.tick();
        while (!acks.empty() && acks.front().due <= tick) {
            const PendingAck a = acks.front();
            acks.pop_front();
            run.views[a.view].acknowledge(a.snapshot);
            if (a.view < sampled && (!ackedB[a.view] || *ackedB[a.view] < a.snapshot))
                ackedB[a.view] = a.snapshot;
        }
        std::fill(producedThisTick.begin(), producedThisTick.end(), false);
        {
            for (std::size_t v = 0; v < run.views.size(); ++v) {
                if (!snapshotDue(tick, sc.knobs.tickHz, sc.knobs.snapshotHz, run.ids[v].index))
                    continue;
                writer.clear();
                const auto encStart = Clock::now();
                const SnapshotEncodeOutput out = run.views[v].buildSnapshot(run.world, writer, budget);
                auto bytes = writer.finish();
                if (v < sampled) {
                    encodeNs += double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - encStart).count());
                    encodedBytes += double(bytes.size());
                    produced[v] = {std::move(bytes), out.record};
                    producedThisTick[v] = true;
                }
                if (!run.rng.chancePercent(sc.ackLossPercent))
                    acks.push_back({tick + ackDelay, v, tick});
            }
        }
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
        if (t >= warmup) {
            tickTime.record(static_cast<std::uint64_t>(ns / 1000));
            serverNs += double(ns);
        }
        // Outside the timed region: decode as a client would, and price the baselines.
        for (std::size_t v = 0; v < sampled; ++v) {
            if (!producedThisTick[v])
                continue;
            const auto& [bytes, record] = produced[v];
            BitReader reader(bytes);
            const auto decStart = Clock::now();
            auto decoded = decodeSnapshot(reader, [&](Tick bt) -> const SnapshotRecord* {
                auto it = clientRecords[v].find(bt);
                return it == clientRecords[v].end() ? nullptr : &it->second;
            });
            decodeNs += double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - decStart).count());
            if (!decoded || *decoded != record)
                ++r.decodeMismatches;
            clientRecords[v][tick] = record;
            while (clientRecords[v].size() > 128)
                clientRecords[v].erase(clientRecords[v].begin());
            // The truth at this tick for the entities sent: what baseline B would have sent.
            std::map<std::uint16_t, PlayerState> truth;
            for (const PlayerState& s : record.entities)
                truth[s.id.index] = *run.world.state(s.id);
            const std::map<std::uint16_t, PlayerState>* ackedTruth = nullptr;
            if (sc.knobs.deltaCompression && ackedB[v]) {
                auto it = sentTruth[v].find(*ackedB[v]);
                if (it != sentTruth[v].end())
                    ackedTruth = &it->second;
            }
            SnapshotRecord truthRecord = record;
            for (PlayerState& s : truthRecord.entities)
                s = truth[s.id.index];
            if (t >= warmup) {
                BitWriter w;
                oursBits += double(bytes.size() * 8);
                protoBits += double(protobufBits(truthRecord));
                maskBits += double(fieldMaskBits(truthRecord, ackedTruth));
                entities += double(record.entities.size());
                snapshots += 1;
            }
            sentTruth[v][tick] = std::move(truth);
            while (sentTruth[v].size() > 128)
                sentTruth[v].erase(sentTruth[v].begin());
        }
    }
    r.visiblePerClient = entities / std::max(1.0, snapshots);
    r.oursBitsPerEntity = oursBits / std::max(1.0, entities);
    r.protobufBitsPerEntity = protoBits / std::max(1.0, entities);
    r.fieldMaskBitsPerEntity = maskBits / std::max(1.0, entities);
    const double snapshotsPerSecond = sc.knobs.snapshotHz;
    r.oursPayloadKbps = oursBits / std::max(1.0, snapshots) * snapshotsPerSecond / 1000.0;
    r.oursKbpsPerClient = r.oursPayloadKbps + (kTransportOverheadBytes + kUdpIpOverheadBytes) * 8 * snapshotsPerSecond / 1000.0;
    r.nsPerPlayerTick = serverNs / (double(sc.players) * ticks);
    r.p99TickMs = double(tickTime.p99()) / 1000.0;
    r.encodeMBps = encodedBytes / std::max(1.0, encodeNs) * 1000.0;
    r.decodeMBps = encodedBytes / std::max(1.0, decodeNs) * 1000.0;
    r.encodeSnapshotsPerS = snapshots / std::max(1e-9, encodeNs / 1e9);
    r.decodeSnapshotsPerS = snapshots / std::max(1e-9, decodeNs / 1e9);
    if (!bandwidthOnly)
        r.maxPlayersOneCore = maxPlayersOneCore(sc, 1000.0 / sc.knobs.tickHz);
    return r;
}

std::string toJson(const ScenarioResult& r)
{
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "{\"scenario\":\"%s\",\"players\":%d,\"visible_per_client\":%.1f,\"ours_bits_per_entity\":%.2f,"
                  "\"protobuf_bits_per_entity\":%.2f,\"fieldmask_bits_per_entity\":%.2f,\"ratio_vs_protobuf\":%.4f,"
                  "\"ratio_vs_fieldmask\":%.4f,\"ours_kbps_per_client\":%.2f,\"ours_payload_kbps_per_client\":%.2f,"
                  "\"ns_per_player_tick\":%.1f,\"max_players_one_core\":%d,\"p99_tick_ms\":%.3f,"
                  "\"encode_mb_per_s\":%.1f,\"decode_mb_per_s\":%.1f,\"encode_snapshots_per_s\":%.0f,\"decode_snapshots_per_s\":%.0f}",
                  r.name.c_str(), r.players, r.visiblePerClient, r.oursBitsPerEntity, r.protobufBitsPerEntity, r.fieldMaskBitsPerEntity,
                  r.oursBitsPerEntity / r.protobufBitsPerEntity, r.oursBitsPerEntity / r.fieldMaskBitsPerEntity, r.oursKbpsPerClient,
                  r.oursPayloadKbps, r.nsPerPlayerTick, r.maxPlayersOneCore, r.p99TickMs, r.encodeMBps, r.decodeMBps,
                  r.encodeSnapshotsPerS, r.decodeSnapshotsPerS);
    return buf;
}

void usage()
{
    std::cout << "usage: syncbench [--scenarios DIR] [--only NAME] [--json FILE|-] [--bandwidth-only] [--check] [--cost-at N] [--version]\n"
                 "  Runs each scenario through simulation, interest, priority and delta encoding for every client\n"
                 "  and prints bandwidth against Protobuf full state (A) and a field-mask delta (B), server cost\n"
                 "  and codec throughput. --check exits 1 unless ours <= A/10 and <= B/2 on every scenario run.\n"
                 "  --cost-at N prints only the server cost with N players at each scenario's density.\n";
}

} // namespace

int main(int argc, char** argv)
{
    std::string dir = "resources/scenarios", only, jsonPath;
    bool bandwidthOnly = false, check = false;
    int costAt = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--scenarios" && i + 1 < argc)
            dir = argv[++i];
        else if (a == "--only" && i + 1 < argc)
            only = argv[++i];
        else if (a == "--json" && i + 1 < argc)
            jsonPath = argv[++i];
        else if (a == "--bandwidth-only")
            bandwidthOnly = true;
        else if (a == "--check")
            check = true;
        else if (a == "--cost-at" && i + 1 < argc)
            costAt = std::atoi(argv[++i]);
        else if (a == "--version") {
            std::cout << "syncbench " << LV_VERSION << "\n";
            return 0;
        } else {
            usage();
            return a == "--help" ? 0 : 2;
        }
    }
    const auto files = bench::scenarioFiles(dir);
    if (files.empty()) {
        std::cerr << "syncbench: no *.toml scenarios in " << dir << "\n";
        return 2;
    }
    std::ofstream jsonFile;
    if (!jsonPath.empty() && jsonPath != "-")
        jsonFile.open(jsonPath);
    std::printf("%-11s %7s %7s | %9s %9s %9s | %7s %7s | %9s | %8s %8s %9s | %8s %8s\n", "scenario", "players", "visible",
                "ours b/e", "proto b/e", "mask b/e", "vs A", "vs B", "kbps/cli", "ns/p-tick", "p99 ms", "max/core", "enc MB/s", "dec MB/s");
    bool ok = true;
    for (const std::string& file : files) {
        bench::Scenario sc;
        std::string error;
        if (!bench::loadScenario(file, sc, error)) {
            std::cerr << "syncbench: " << error << "\n";
            return 2;
        }
        if (!only.empty() && sc.name != only)
            continue;
        if (costAt > 0) {
            // Server cost at a given player count at this scenario's density.
            const double radius = sc.areaRadiusM * std::sqrt(double(costAt) / sc.players);
            const auto [p99, ns] = serverCost(sc, costAt, radius, sc.knobs.tickHz * 5);
            std::printf("%-11s %7d players: %.1f ns/player-tick (%.2f ms/tick mean), p99 tick %.2f ms\n", sc.name.c_str(), costAt, ns,
                        ns * costAt / 1e6, p99);
            continue;
        }
        const ScenarioResult r = runScenario(sc, bandwidthOnly);
        const double vsA = r.oursBitsPerEntity / r.protobufBitsPerEntity, vsB = r.oursBitsPerEntity / r.fieldMaskBitsPerEntity;
        std::printf("%-11s %7d %7.1f | %9.2f %9.2f %9.2f | %7.3f %7.3f | %9.2f | %8.1f %8.2f %9d | %8.1f %8.1f\n", r.name.c_str(), r.players,
                    r.visiblePerClient, r.oursBitsPerEntity, r.protobufBitsPerEntity, r.fieldMaskBitsPerEntity, vsA, vsB,
                    r.oursKbpsPerClient, r.nsPerPlayerTick, r.p99TickMs, r.maxPlayersOneCore, r.encodeMBps, r.decodeMBps);
        std::fflush(stdout);
        if (r.decodeMismatches) {
            std::cerr << "syncbench: " << r.decodeMismatches << " decoded snapshots differed from what was encoded\n";
            ok = false;
        }
        if (check && (vsA > 0.1 || vsB > 0.5)) {
            std::cerr << "syncbench: " << r.name << " misses the bar (ours/A " << vsA << " > 0.1 or ours/B " << vsB << " > 0.5)\n";
            ok = false;
        }
        if (jsonPath == "-")
            std::cout << toJson(r) << "\n";
        else if (jsonFile)
            jsonFile << toJson(r) << "\n";
    }
    return ok ? 0 : 1;
}
