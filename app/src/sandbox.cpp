#include "console/sandbox.h"

#include "liveops/apiserver.h"
#include "liveops/cluster.h"
#include "liveops/config.h"

#include <algorithm>

namespace lv::console {

SandboxConfig SandboxConfig::standard()
{
    SandboxConfig c;
    ConditionerSettings eu, us, ap;
    eu.latencyMs = 8;
    eu.jitterMs = 2;
    us.latencyMs = 35;
    us.jitterMs = 8;
    us.lossPercent = 0.5;
    ap.latencyMs = 75;
    ap.jitterMs = 20;
    ap.lossPercent = 2;
    c.regions = {{"eu-west", 20, eu}, {"us-east", 20, us}, {"ap-south", 20, ap}};
    return c;
}

SandboxConfig SandboxConfig::sized(int regions, int bots)
{
    static const char* const names[] = {"eu-west", "us-east", "ap-south", "sa-east", "eu-north", "us-west", "ap-east", "af-south"};
    SandboxConfig c;
    regions = std::clamp(regions, 1, 8);
    for (int i = 0; i < regions; ++i) {
        ConditionerSettings n;
        n.latencyMs = 8.0 + 22.0 * i;       // 8, 30, 52, ... ms one way
        n.jitterMs = 2.0 + 3.0 * i;
        n.lossPercent = 0.25 * i;
        c.regions.push_back({names[i], std::max(0, bots), n});
    }
    return c;
}

QString scenarioName(SandboxScenario scenario)
{
    switch (scenario) {
    case SandboxScenario::CrossPlay: return QStringLiteral("cross-play");
    case SandboxScenario::Accessibility: return QStringLiteral("accessibility");
    case SandboxScenario::Standard: break;
    }
    return QStringLiteral("standard");
}

std::optional<SandboxScenario> scenarioFromName(const QString& name)
{
    for (auto s : {SandboxScenario::Standard, SandboxScenario::CrossPlay, SandboxScenario::Accessibility})
        if (scenarioName(s) == name)
            return s;
    return std::nullopt;
}

std::vector<liveops::SwarmGroup> scenarioGroups(SandboxScenario scenario)
{
    BotBehaviour base;
    base.areaRadius = 60 * kPositionUnitsPerMetre;
    switch (scenario) {
    case SandboxScenario::CrossPlay: {
        BotBehaviour mobile = base;
        mobile.stickScale = 0.8;
        return {{"PC, 60 Hz input, 120 fps", Platform::Pc, base, 60, 120},
                {"console, 30 Hz input, 60 fps", Platform::Console, base, 30, 60},
                {"mobile, 20 Hz input, 30 fps", Platform::Mobile, mobile, 20, 30}};
    }
    case SandboxScenario::Accessibility: {
        BotBehaviour slow = base, bursty = base, assisted = base;
        slow.stickScale = 0.35;
        slow.turnRateDegPerS = 60;
        bursty.inputDropPercent = 50;
        assisted.stickScale = 0.6;
        assisted.inputDropPercent = 10;
        assisted.turnRateDegPerS = 90;
        return {{"typical", Platform::Pc, base, 30, 60},
                {"slow inputs", Platform::Pc, slow, 30, 60},
                {"bursty inputs", Platform::Pc, bursty, 30, 60},
                {"assisted inputs", Platform::Pc, assisted, 15, 60}};
    }
    case SandboxScenario::Standard: break;
    }
    return {{"PC", Platform::Pc, base, 30, 60}};
}

std::unique_ptr<Sandbox> Sandbox::start(const SandboxConfig& config, QString& error)
{
    liveops::SimulatedWorldConfig world;
    for (const SandboxRegion& r : config.regions)
        world.regions.push_back({r.name, r.bots, r.network});
    world.groups = scenarioGroups(config.scenario);
    world.seed = config.seed;
    return launch(config, liveops::SimulatedWorld::start(std::move(world)), error);
}

std::unique_ptr<Sandbox> Sandbox::replay(const SandboxRecording& recording, QString& error)
{
    SandboxConfig config;
    config.scenario = recording.scenario;
    config.seed = recording.world.config.seed;
    for (const auto& r : recording.world.config.regions)
        config.regions.push_back({r.name, r.bots, r.network});
    return launch(config, liveops::SimulatedWorld::replay(recording.world), error);
}

std::unique_ptr<Sandbox> Sandbox::launch(const SandboxConfig& config, std::unique_ptr<liveops::SimulatedWorld> world, QString& error)
{
    std::unique_ptr<Sandbox> s(new Sandbox());
    s->m_config = config;
    s->m_world = std::move(world);
    if (!s->m_dir.isValid()) {
        error = QObject::tr("cannot create a temporary folder for the sandbox store");
        return nullptr;
    }
    liveops::ClusterConfig cluster;
    cluster.storePath = s->m_dir.filePath(QStringLiteral("sandbox.db")).toStdString();
    cluster.telemetryInterval = config.telemetryInterval;
    for (const SandboxRegion& r : config.regions) {
        liveops::RegionConfig region;
        region.name = r.name;
        cluster.regions.push_back(region);
    }
    cluster.startRegion = [world = s->m_world.get(), names = cluster.regions](const liveops::RegionConfig& rc, std::string&) {
        std::size_t i = 0;
        while (names[i].name != rc.name)
            ++i;
        return world->region(i);
    };
    std::string problem;
    s->m_cluster = liveops::Cluster::start(std::move(cluster), problem);
    if (!s->m_cluster) {
        error = QString::fromStdString(problem);
        return nullptr;
    }
    s->m_token = "sandbox-" + liveops::formatKey(generateKey());
    liveops::TokenTable tokens;
    tokens.add(s->m_token, {"sandbox", liveops::Role::Admin});
    liveops::ApiServerOptions api;
    api.address.clear();  // in-process channel only: nothing listens on the network
    s->m_api = liveops::ApiServer::start(*s->m_cluster, std::move(tokens), api, problem);
    if (!s->m_api) {
        error = QString::fromStdString(problem);
        return nullptr;
    }
    return s;
}

Sandbox::~Sandbox()
{
    if (m_api)
        m_api->shutdown(std::chrono::milliseconds(0));
    m_api.reset();
    m_cluster.reset();
    m_world.reset();
}

liveops::client::ClientOptions Sandbox::clientOptions() const
{
    liveops::client::ClientOptions o;
    o.channel = m_api->inProcessChannel();
    o.token = m_token;
    return o;
}

std::optional<std::size_t> Sandbox::indexOf(const std::string& region) const
{
    for (std::size_t i = 0; i < m_config.regions.size(); ++i)
        if (m_config.regions[i].name == region)
            return i;
    return std::nullopt;
}

Sandbox::SyncFrame Sandbox::syncFrame(const std::string& region) const
{
    SyncFrame frame;
    if (auto i = indexOf(region)) {
        frame.truth = m_world->truth(*i);
        frame.observer = m_world->view(*i, 0);
    }
    return frame;
}

std::vector<Sandbox::GroupFigures> Sandbox::figures() const
{
    std::vector<GroupFigures> out;
    for (std::size_t i = 0; i < m_config.regions.size(); ++i)
        for (const auto& g : m_world->groupReports(i))
            out.push_back({m_config.regions[i].name, g});
    return out;
}

bool Sandbox::setNetwork(const std::string& region, const ConditionerSettings& network)
{
    const auto i = indexOf(region);
    if (!i || m_world->replaying())
        return false;
    m_world->setNetwork(*i, network);
    m_config.regions[*i].network = network;
    return true;
}

SandboxRecording Sandbox::recording() const
{
    return {m_config.scenario, m_world->recording()};
}

} // namespace lv::console
