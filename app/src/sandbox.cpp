#include "console/sandbox.h"

#include "liveops/apiserver.h"
#include "liveops/cluster.h"
#include "liveops/config.h"
#include "liveops/swarm.h"

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

namespace {
std::vector<liveops::SwarmGroup> groupsFor(SandboxScenario scenario)
{
    BotBehaviour base;
    base.areaRadius = 60 * kPositionUnitsPerMetre;
    switch (scenario) {
    case SandboxScenario::CrossPlay: {
        BotBehaviour mobile = base;
        mobile.stickScale = 0.8;
        return {{"PC, 60 Hz input", Platform::Pc, base, 60},
                {"console, 30 Hz input", Platform::Console, base, 30},
                {"mobile, 20 Hz input", Platform::Mobile, mobile, 20}};
    }
    case SandboxScenario::Accessibility: {
        BotBehaviour slow = base, bursty = base, assisted = base;
        slow.stickScale = 0.35;
        slow.turnRateDegPerS = 60;
        bursty.inputDropPercent = 50;
        assisted.stickScale = 0.6;
        assisted.inputDropPercent = 10;
        assisted.turnRateDegPerS = 90;
        return {{"typical", Platform::Pc, base, 30},
                {"slow inputs", Platform::Pc, slow, 30},
                {"bursty inputs", Platform::Pc, bursty, 30},
                {"assisted inputs", Platform::Pc, assisted, 15}};
    }
    case SandboxScenario::Standard: break;
    }
    return {{"PC", Platform::Pc, base, 30}};
}
} // namespace

std::unique_ptr<Sandbox> Sandbox::start(const SandboxConfig& config, QString& error)
{
    std::unique_ptr<Sandbox> s(new Sandbox());
    s->m_config = config;
    if (!s->m_dir.isValid()) {
        error = QObject::tr("cannot create a temporary folder for the sandbox store");
        return nullptr;
    }
    const Key tokenKey = generateKey();
    liveops::ClusterConfig cluster;
    cluster.storePath = s->m_dir.filePath(QStringLiteral("sandbox.db")).toStdString();
    cluster.telemetryInterval = config.telemetryInterval;
    for (std::size_t i = 0; i < config.regions.size(); ++i) {
        liveops::RegionConfig region;
        region.name = config.regions[i].name;
        region.tokenKey = tokenKey;
        region.seed = 100 + i;
        cluster.regions.push_back(region);
    }
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
    const auto regions = s->m_cluster->regions();
    for (std::size_t i = 0; i < config.regions.size(); ++i) {
        liveops::SwarmConfig swarm;
        swarm.server = *Address::parse(regions[i].endpoint);
        swarm.count = config.regions[i].bots;
        swarm.tokenKey = tokenKey;
        swarm.network = config.regions[i].network;
        swarm.adjustableNetwork = true;
        swarm.groups = groupsFor(config.scenario);
        swarm.seed = 7 + i;
        swarm.firstClientId = 1'000'000 * (i + 1);
        auto bots = liveops::BotSwarm::start(swarm, problem);
        if (!bots) {
            error = QString::fromStdString(problem);
            return nullptr;
        }
        s->m_bots.push_back(std::move(bots));
    }
    return s;
}

Sandbox::~Sandbox()
{
    m_bots.clear();
    if (m_api)
        m_api->shutdown(std::chrono::milliseconds(0));
    m_api.reset();
    m_cluster.reset();
}

liveops::client::ClientOptions Sandbox::clientOptions() const
{
    liveops::client::ClientOptions o;
    o.channel = m_api->inProcessChannel();
    o.token = m_token;
    return o;
}

Sandbox::SyncFrame Sandbox::syncFrame(const std::string& region) const
{
    SyncFrame frame;
    for (std::size_t i = 0; i < m_config.regions.size(); ++i)
        if (m_config.regions[i].name == region) {
            frame.truth = m_cluster->truth(region);
            frame.observer = m_bots[i]->view(0);
        }
    return frame;
}

std::vector<Sandbox::GroupFigures> Sandbox::figures() const
{
    std::vector<GroupFigures> out;
    for (std::size_t i = 0; i < m_config.regions.size(); ++i)
        for (const auto& g : m_bots[i]->groupReports())
            out.push_back({m_config.regions[i].name, g});
    return out;
}

bool Sandbox::setNetwork(const std::string& region, const ConditionerSettings& network)
{
    for (std::size_t i = 0; i < m_config.regions.size(); ++i)
        if (m_config.regions[i].name == region) {
            m_bots[i]->setNetwork(network);
            m_config.regions[i].network = network;
            return true;
        }
    return false;
}

} // namespace lv::console
