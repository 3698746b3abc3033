#include "liveops/simworld.h"

#include <algorithm>
#include <chrono>

namespace lv::liveops {

namespace {
void applyTo(SimCluster& cluster, const WorldChange& change)
{
    switch (change.kind) {
    case WorldChange::Kind::Knobs: cluster.server(change.region).setKnobs(change.knobs, cluster.now()); break;
    case WorldChange::Kind::Fault: cluster.setFault(change.region, change.network); break;
    case WorldChange::Kind::Network: cluster.setConditions(change.region, change.network, change.network); break;
    case WorldChange::Kind::Kick: (void)cluster.server(change.region).kick(change.clientId, change.reason); break;
    case WorldChange::Kind::Move: (void)cluster.server(change.region).redirect(change.clientId, change.target, change.reason); break;
    }
}
} // namespace

/// Region `i` of a world, as the Cluster sees it.
class SimulatedWorld::Region final : public RegionRuntime {
public:
    Region(SimulatedWorld& world, std::size_t index) : m_world(world), m_index(index) {}
    Address endpoint() const override
    {
        std::lock_guard lock(m_world.m_mutex);
        return m_world.m_cluster.serverAddress(m_index);
    }
    void setKnobs(const RuntimeKnobs& knobs) override { m_world.setKnobs(m_index, knobs); }
    RuntimeKnobs knobs() const override
    {
        std::lock_guard lock(m_world.m_mutex);
        return m_world.m_knobs[m_index];
    }
    void setFault(const ConditionerSettings& outgoing) override { m_world.setFault(m_index, outgoing); }
    RegionSample sample() override { return m_world.sample(m_index); }
    std::size_t players() const override
    {
        std::lock_guard lock(m_world.m_mutex);
        return m_world.m_cluster.server(m_index).playerCount();
    }
    std::vector<PlayerState> truth() const override { return m_world.truth(m_index); }
    std::optional<PlayerLocation> findPlayer(std::uint64_t clientId) const override { return m_world.findPlayer(m_index, clientId); }
    bool kick(std::uint64_t clientId, const std::string& reason) override { return m_world.kick(m_index, clientId, reason); }
    bool movePlayer(std::uint64_t clientId, const Address& target, const std::string& reason) override
    {
        return m_world.movePlayer(m_index, clientId, target, reason);
    }

private:
    SimulatedWorld& m_world;
    std::size_t m_index;
};

SimClusterConfig SimulatedWorld::clusterConfigFor(const SimulatedWorldConfig& config)
{
    SimClusterConfig c;
    c.seed = config.seed;
    c.step = config.step;
    c.reconnectAfter = seconds(1);  // like a player pressing "retry"; keeps the sandbox's load
    const std::size_t groups = std::max<std::size_t>(config.groups.size(), 1);
    for (const SimulatedRegionSpec& spec : config.regions) {
        SimRegionConfig region;
        region.uplink = spec.network;
        region.downlink = spec.network;
        for (std::size_t g = 0; g < config.groups.size(); ++g) {
            const SwarmGroup& sg = config.groups[g];
            const int count = std::max(0, spec.bots) / static_cast<int>(groups) + (g < std::max(0, spec.bots) % groups ? 1 : 0);
            region.groups.push_back(BotGroup{count, sg.platform, sg.behaviour, sg.inputHz, sg.frameHz});
        }
        c.regions.push_back(std::move(region));
    }
    return c;
}

SimulatedWorld::SimulatedWorld(SimulatedWorldConfig config, std::optional<WorldRecording> script)
    : m_config(std::move(config)), m_script(std::move(script)), m_cluster(clusterConfigFor(m_config)),
      m_knobs(m_config.regions.size()), m_lastSampleAt(m_config.regions.size(), 0), m_origin(std::chrono::steady_clock::now())
{
    m_thread = std::thread([this] { run(); });
}

std::unique_ptr<SimulatedWorld> SimulatedWorld::start(SimulatedWorldConfig config)
{
    return std::unique_ptr<SimulatedWorld>(new SimulatedWorld(std::move(config), std::nullopt));
}

std::unique_ptr<SimulatedWorld> SimulatedWorld::replay(WorldRecording recording)
{
    SimulatedWorldConfig config = recording.config;
    return std::unique_ptr<SimulatedWorld>(new SimulatedWorld(std::move(config), std::move(recording)));
}

SimulatedWorld::~SimulatedWorld()
{
    m_running = false;
    if (m_thread.joinable())
        m_thread.join();
}

std::unique_ptr<RegionRuntime> SimulatedWorld::region(std::size_t i)
{
    return std::make_unique<Region>(*this, i);
}

void SimulatedWorld::request(WorldChange change)
{
    std::lock_guard lock(m_mutex);
    if (change.kind == WorldChange::Kind::Knobs)
        m_knobs.at(change.region) = change.knobs;
    if (!m_script)  // a replay plays the recording's changes, not today's
        m_pending.push_back(std::move(change));
}

void SimulatedWorld::setNetwork(std::size_t region, const ConditionerSettings& network)
{
    WorldChange change;
    change.region = region;
    change.kind = WorldChange::Kind::Network;
    change.network = network;
    request(std::move(change));
}

void SimulatedWorld::setKnobs(std::size_t region, const RuntimeKnobs& knobs)
{
    WorldChange change;
    change.region = region;
    change.knobs = knobs;
    request(std::move(change));
}

void SimulatedWorld::setFault(std::size_t region, const ConditionerSettings& outgoing)
{
    WorldChange change;
    change.region = region;
    change.kind = WorldChange::Kind::Fault;
    change.network = outgoing;
    request(std::move(change));
}

std::optional<PlayerLocation> SimulatedWorld::findPlayer(std::size_t region, std::uint64_t clientId) const
{
    std::lock_guard lock(m_mutex);
    auto p = m_cluster.server(region).findPlayer(clientId);
    if (!p)
        return std::nullopt;
    PlayerLocation out;
    out.clientId = clientId;
    out.address = p->address.toString();
    out.rttMs = double(p->rtt) / 1000.0;
    out.lossPercent = p->lossPercent;
    // Simulated time started with the world: its Unix time is the world's start plus that.
    const auto started = std::chrono::system_clock::now() - (std::chrono::steady_clock::now() - m_origin);
    out.connectedUnixMs = std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count() + p->connectedAt / 1000;
    return out;
}

bool SimulatedWorld::kick(std::size_t region, std::uint64_t clientId, const std::string& reason)
{
    if (!findPlayer(region, clientId))
        return false;
    WorldChange change;
    change.region = region;
    change.kind = WorldChange::Kind::Kick;
    change.clientId = clientId;
    change.reason = reason;
    request(std::move(change));
    return true;
}

bool SimulatedWorld::movePlayer(std::size_t region, std::uint64_t clientId, const Address& target, const std::string& reason)
{
    if (!findPlayer(region, clientId))
        return false;
    WorldChange change;
    change.region = region;
    change.kind = WorldChange::Kind::Move;
    change.clientId = clientId;
    change.target = target;
    change.reason = reason;
    request(std::move(change));
    return true;
}

void SimulatedWorld::apply(const WorldChange& change)
{
    WorldChange applied = change;
    applied.at = m_cluster.now();
    applyTo(m_cluster, applied);
    m_changes.push_back(applied);
}

void SimulatedWorld::run()
{
    using Clock = std::chrono::steady_clock;
    const auto origin = m_origin;
    const TimeUs step = std::max<TimeUs>(m_config.step, 1);
    while (m_running) {
        const TimeUs wall = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - origin).count();
        // One step per lock: readers (telemetry, the sync view) never wait for a burst of catching up.
        while (m_running) {
            std::lock_guard lock(m_mutex);
            const TimeUs now = m_cluster.now();
            if (now + step > wall || (m_script && now >= m_script->duration))
                break;
            if (m_script) {
                while (m_scriptNext < m_script->changes.size() && m_script->changes[m_scriptNext].at <= now)
                    apply(m_script->changes[m_scriptNext++]);
            } else {
                for (const WorldChange& change : m_pending)
                    apply(change);
                m_pending.clear();
            }
            m_cluster.advanceTo(now + step);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(step));
    }
}

TimeUs SimulatedWorld::lag() const
{
    const TimeUs wall = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - m_origin).count();
    std::lock_guard lock(m_mutex);
    if (m_script && m_cluster.now() >= m_script->duration)
        return 0;  // a finished replay waits, it does not lag
    return std::max<TimeUs>(0, wall - m_cluster.now());
}

RegionSample SimulatedWorld::sample(std::size_t region)
{
    std::lock_guard lock(m_mutex);
    Server& server = m_cluster.server(region);
    const TimeUs now = m_cluster.now();
    const double window = double(now - m_lastSampleAt[region]) / 1e6;  // simulated time
    m_lastSampleAt[region] = now;
    return summarize(m_config.regions[region].name, server.takeMetrics(), server.playerCount(), window);
}

std::vector<GroupReport> SimulatedWorld::groupReports(std::size_t region) const
{
    std::lock_guard lock(m_mutex);
    GroupTally tally(m_config.groups);
    for (std::size_t i = 0; i < m_cluster.clientCount(region); ++i)
        tally.add(m_cluster.groupOf(region, i), m_cluster.client(region, i));
    return tally.reports();
}

ClientView SimulatedWorld::view(std::size_t region, std::size_t bot) const
{
    std::lock_guard lock(m_mutex);
    if (region >= m_cluster.regionCount() || bot >= m_cluster.clientCount(region))
        return {};
    return viewOf(m_cluster.client(region, bot), m_cluster.now());
}

std::vector<PlayerState> SimulatedWorld::truth(std::size_t region) const
{
    std::lock_guard lock(m_mutex);
    const auto players = m_cluster.server(region).world().players();
    return {players.begin(), players.end()};
}

WorldRecording SimulatedWorld::recording() const
{
    std::lock_guard lock(m_mutex);
    WorldRecording r;
    r.config = m_config;
    r.changes = m_changes;
    r.duration = m_cluster.now();
    r.digest = m_cluster.trafficDigest();
    r.datagrams = m_cluster.datagramsSent();
    return r;
}

SimulatedWorld::ReplayProgress SimulatedWorld::replayProgress() const
{
    std::lock_guard lock(m_mutex);
    ReplayProgress p;
    p.now = m_cluster.now();
    if (!m_script)
        return p;
    p.end = m_script->duration;
    p.finished = p.now >= p.end;
    p.identical = p.finished && m_cluster.trafficDigest() == m_script->digest && m_cluster.datagramsSent() == m_script->datagrams;
    return p;
}

WorldRecording rerun(const WorldRecording& recording)
{
    SimCluster cluster(SimulatedWorld::clusterConfigFor(recording.config));
    const TimeUs step = std::max<TimeUs>(recording.config.step, 1);
    std::size_t next = 0;
    while (cluster.now() < recording.duration) {
        while (next < recording.changes.size() && recording.changes[next].at <= cluster.now())
            applyTo(cluster, recording.changes[next++]);
        cluster.advanceTo(cluster.now() + step);
    }
    WorldRecording out = recording;
    out.duration = cluster.now();
    out.digest = cluster.trafficDigest();
    out.datagrams = cluster.datagramsSent();
    return out;
}

} // namespace lv::liveops
