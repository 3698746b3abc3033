#include "liveops/swarm.h"

#include "liveops/regionhost.h"
#include "synccore/server.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace lv::liveops {

namespace {
TimeUs monotonicNow()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
constexpr TimeUs kSweep = millis(10);  // every client is advanced at least this often
constexpr TimeUs kReconnectAfter = seconds(1);
} // namespace

void raiseOpenFileLimit()
{
    if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

std::unique_ptr<BotSwarm> BotSwarm::start(const SwarmConfig& config, std::string& error)
{
    std::unique_ptr<BotSwarm> swarm(new BotSwarm(config));
    swarm->m_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (swarm->m_epoll < 0) {
        error = "epoll_create1 failed";
        return nullptr;
    }
    const bool conditioned = config.adjustableNetwork || !(config.network == ConditionerSettings{});
    const TimeUs now = monotonicNow();
    if (swarm->m_config.groups.empty()) {
        BotBehaviour behaviour;
        behaviour.areaRadius = 80 * kPositionUnitsPerMetre;
        swarm->m_config.groups.push_back({"all", config.platform, behaviour, 30});
    }
    // Every interface, both families when the host has IPv6: a bot reaches a remote syncd, and a
    // redirect may send it to an address of the other family.
    const Address anyV6 = *Address::parse("[::]:0");
    const Address anyV4 = Address::v4(0, 0);
    const bool dualStack = UdpSocket::bind(anyV6).ok();
    for (int i = 0; i < config.count; ++i) {
        auto udp = UdpSocket::bind(dualStack ? anyV6 : anyV4);
        if (!udp) {
            error = "cannot open UDP socket " + std::to_string(i + 1) + " of " + std::to_string(config.count)
                    + " (raise the open-file limit: ulimit -n)";
            return nullptr;
        }
        Bot bot;
        bot.udp = udp->get();
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        epoll_ctl(swarm->m_epoll, EPOLL_CTL_ADD, bot.udp->nativeHandle(), &ev);
        if (conditioned) {
            auto wrapped = std::make_unique<ConditionedSocket>(std::move(*udp), config.network, config.network, config.seed * 7919 + i);
            bot.conditioned = wrapped.get();
            bot.socket = std::move(wrapped);
        } else {
            bot.socket = std::move(*udp);
        }
        bot.client = std::make_unique<Client>(ClientConfig{}, *bot.socket);
        bot.group = static_cast<std::size_t>(i) % swarm->m_config.groups.size();
        bot.brain = std::make_unique<BotBrain>(swarm->m_config.groups[bot.group].behaviour, config.seed * 1'000'003 + static_cast<std::uint64_t>(i));
        swarm->m_bots.push_back(std::move(bot));
    }
    // Connect after every socket exists, spreading spawns over the area.
    for (std::size_t i = 0; i < swarm->m_bots.size(); ++i) {
        const double angle = static_cast<double>(i) * 2.399963;  // golden angle: an even disc
        const double radius = std::sqrt(static_cast<double>(i) + 0.5) * 3.0 * kPositionUnitsPerMetre;
        const Vec3i spawn{static_cast<std::int32_t>(radius * std::cos(angle)), static_cast<std::int32_t>(radius * std::sin(angle)), 0};
        swarm->m_bots[i].client->connect(swarm->tokenFor(i, spawn, config.server), now);
        swarm->m_bots[i].lastState = ClientState::Connecting;
    }
    swarm->m_thread = std::thread([s = swarm.get()] { s->run(); });
    return swarm;
}

ConnectToken BotSwarm::tokenFor(std::size_t i, std::optional<Vec3i> spawn, const Address& first) const
{
    const Platform platform = m_config.groups[m_bots[i].group].platform;
    ConnectToken token = issueConnectToken(m_config.tokenKey, TransportConfig{}.protocolId, m_config.firstClientId + i,
                                           unixNowUs() + m_config.tokenLifetime, makeUserData(platform, spawn));
    token.servers.push_back(first);
    for (const Address& a : m_config.fallbacks)
        if (a != first && token.servers.size() < kMaxTokenServers)
            token.servers.push_back(a);
    if (first != m_config.server && token.servers.size() < kMaxTokenServers)
        token.servers.push_back(m_config.server);
    return token;
}

BotSwarm::~BotSwarm()
{
    m_running = false;
    if (m_thread.joinable())
        m_thread.join();
    const TimeUs now = monotonicNow();
    for (Bot& bot : m_bots) {
        bot.client->disconnect(now);
        if (bot.conditioned)
            bot.conditioned->flush(now + seconds(10));
    }
    if (m_epoll >= 0)
        ::close(m_epoll);
}

void BotSwarm::run()
{
    const bool conditioned = m_config.adjustableNetwork || !(m_config.network == ConditionerSettings{});
    std::vector<epoll_event> events(256);
    std::vector<TimeUs> disconnectedSince(m_bots.size(), 0);
    TimeUs nextSweep = 0;
    while (m_running) {
        const TimeUs untilSweep = nextSweep - monotonicNow();
        // Conditioned sockets hold delayed datagrams in memory, where epoll cannot see them.
        const int timeoutMs = conditioned ? 1 : static_cast<int>(std::clamp<TimeUs>(untilSweep / 1000, 0, 10));
        const int ready = epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), timeoutMs);
        const TimeUs now = monotonicNow();
        std::lock_guard lock(m_mutex);
        for (int e = 0; e < ready; ++e)
            m_bots[events[static_cast<std::size_t>(e)].data.u32].client->advance(now);
        if (now < nextSweep && !conditioned)
            continue;
        nextSweep = now + kSweep;
        for (std::size_t i = 0; i < m_bots.size(); ++i) {
            Bot& bot = m_bots[i];
            Client& client = *bot.client;
            const int inputHz = std::max(1, m_config.groups[bot.group].inputHz);
            if (now >= bot.nextDecide && client.connected()) {
                bot.nextDecide = now + kMicrosPerSecond / inputHz;
                const BotInput input = bot.brain->decide(client.localState(), inputHz);
                client.setInput(input.forward, input.right, input.yaw, input.pitch, input.buttons);
            }
            client.advance(now);
            if (bot.conditioned)
                bot.conditioned->flush(now);
            const ClientState state = client.state();
            if (state == ClientState::Disconnected) {
                if (bot.lastState != ClientState::Disconnected) {
                    ++bot.disconnects;
                    disconnectedSince[i] = now;
                } else if (now - disconnectedSince[i] >= kReconnectAfter) {
                    // A load generator keeps its load: come back with a fresh token.
                    client.connect(tokenFor(i, std::nullopt, client.serverAddress().port ? client.serverAddress() : m_config.server), now);
                }
            }
            bot.lastState = client.state();
        }
    }
}

GroupTally::GroupTally(const std::vector<SwarmGroup>& groups) : m_groups(groups), m_out(groups.size()), m_rtts(groups.size())
{
    for (std::size_t g = 0; g < m_out.size(); ++g)
        m_out[g].label = groups[g].label;
}

void GroupTally::add(std::size_t group, const Client& c)
{
    GroupReport& r = m_out.at(group);
    ++r.clients;
    r.corrections += c.stats().corrections;
    r.largestCorrectionMetres = std::max(r.largestCorrectionMetres, c.stats().largestCorrectionMetres);
    const SnapshotRecord* latest = c.latestSnapshot();
    if (!c.connected() || !latest)
        return;
    ++r.connected;
    m_rtts[group].push_back(double(c.linkStats().smoothedRtt) / 1000.0);
    const Platform own = m_groups[group].platform;
    for (const PlayerState& e : latest->entities) {
        if (c.localPlayer() && e.id.index == c.localPlayer()->index)
            continue;
        r.visiblePerClient += 1;
        if (e.platform != own)
            r.otherPlatformVisiblePerClient += 1;
    }
}

std::vector<GroupReport> GroupTally::reports()
{
    for (std::size_t g = 0; g < m_out.size(); ++g) {
        GroupReport& r = m_out[g];
        if (r.connected == 0)
            continue;
        r.visiblePerClient /= double(r.connected);
        r.otherPlatformVisiblePerClient /= double(r.connected);
        auto& v = m_rtts[g];
        std::sort(v.begin(), v.end());
        r.rttP50Ms = v[v.size() / 2];
    }
    return m_out;
}

ClientView viewOf(const Client& c, TimeUs now)
{
    ClientView v;
    v.connected = c.connected();
    v.local = c.localPlayer();
    v.predicted = c.localState();
    v.corrections = c.stats().corrections;
    v.largestCorrectionMetres = c.stats().largestCorrectionMetres;
    v.interpolationDelayMs = double(c.interpolationDelay()) / 1000.0;
    if (const SnapshotRecord* latest = c.latestSnapshot())
        for (const PlayerState& e : latest->entities)
            if (!v.local || e.id.index != v.local->index)
                if (auto position = c.renderPosition(e.id.index, now))  // position units
                    v.remotes.emplace_back(e.id.index, std::array<double, 3>{(*position)[0] / kPositionUnitsPerMetre, (*position)[1] / kPositionUnitsPerMetre,
                                                                             (*position)[2] / kPositionUnitsPerMetre});
    return v;
}

std::vector<GroupReport> BotSwarm::groupReports() const
{
    std::lock_guard lock(m_mutex);
    GroupTally tally(m_config.groups);
    for (const Bot& bot : m_bots)
        tally.add(bot.group, *bot.client);
    return tally.reports();
}

ClientView BotSwarm::view(std::size_t bot) const
{
    std::lock_guard lock(m_mutex);
    if (bot >= m_bots.size())
        return {};
    return viewOf(*m_bots[bot].client, monotonicNow());
}

void BotSwarm::setNetwork(const ConditionerSettings& network)
{
    std::lock_guard lock(m_mutex);
    for (Bot& bot : m_bots)
        if (bot.conditioned) {
            bot.conditioned->setOutgoing(network);
            bot.conditioned->setIncoming(network);
        }
}

SwarmReport BotSwarm::report() const
{
    std::lock_guard lock(m_mutex);
    SwarmReport r;
    r.clients = m_bots.size();
    std::vector<double> rtts;
    double lossSum = 0.0;
    for (const Bot& bot : m_bots) {
        const Client& c = *bot.client;
        const ClientStats& stats = c.stats();
        const LinkStats& link = c.linkStats();
        r.corrections += stats.corrections;
        r.redirects += stats.redirects;
        r.failovers += stats.failovers;
        r.snapshots += stats.snapshotsDecoded;
        r.disconnects += bot.disconnects;
        r.bytesReceived += link.bytesReceived;
        r.bytesSent += link.bytesSent;
        if (c.connected() && c.latestSnapshot()) {
            ++r.connected;
            ++r.byServer[c.serverAddress().toString()];
            rtts.push_back(static_cast<double>(link.smoothedRtt) / 1000.0);
            lossSum += link.lossPercent;
        }
    }
    if (!rtts.empty()) {
        std::sort(rtts.begin(), rtts.end());
        auto at = [&](double q) { return rtts[std::min(rtts.size() - 1, static_cast<std::size_t>(q * static_cast<double>(rtts.size())))]; };
        r.rttP50Ms = at(0.50);
        r.rttP95Ms = at(0.95);
        r.rttP99Ms = at(0.99);
        r.lossPercent = lossSum / static_cast<double>(rtts.size());
    }
    return r;
}

} // namespace lv::liveops
