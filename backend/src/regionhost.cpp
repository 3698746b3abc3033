#include "liveops/regionhost.h"

#include <algorithm>
#include <chrono>

namespace lv::liveops {

TimeUs RegionHost::monotonicNow()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

TimeUs unixNowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::unique_ptr<RegionHost> RegionHost::start(RegionConfig config, std::string& error)
{
    auto udp = UdpSocket::bind(config.bind);
    if (!udp) {
        error = "region " + config.name + ": cannot bind UDP " + config.bind.toString();
        return nullptr;
    }
    std::unique_ptr<RegionHost> host(new RegionHost(std::move(config)));
    host->m_udp = udp->get();
    host->m_endpoint = (*udp)->localAddress();
    host->m_socket = std::make_unique<ConditionedSocket>(std::move(*udp), ConditionerSettings{}, ConditionerSettings{}, host->m_config.seed);
    ServerConfig serverConfig;
    serverConfig.tokenKey = host->m_config.tokenKey;
    // Ticks run on the monotonic clock; tokens expire in Unix time (issued by another process).
    serverConfig.transport.tokenClockOffset = unixNowUs() - monotonicNow();
    serverConfig.knobs = host->m_config.knobs;
    serverConfig.capacity = host->m_config.capacity;
    serverConfig.seed = host->m_config.seed;
    host->m_server = std::make_unique<Server>(serverConfig, *host->m_socket);
    host->m_lastSampleAt = monotonicNow();
    host->m_thread = std::thread([h = host.get()] { h->run(); });
    return host;
}

RegionHost::~RegionHost()
{
    m_running = false;
    if (m_thread.joinable())
        m_thread.join();
    std::lock_guard lock(m_mutex);
    m_server->disconnectAll(monotonicNow());  // tell clients, rather than let them time out
}

void RegionHost::run()
{
    while (m_running) {
        TimeUs wait;
        {
            std::lock_guard lock(m_mutex);
            const TimeUs now = monotonicNow();
            m_server->advance(now);
            wait = m_server->nextTickAt() - monotonicNow();
        }
        // Sleep until a packet arrives or the next tick is due; short enough to deliver delayed
        // (drilled) datagrams on time and to notice shutdown promptly.
        m_udp->waitReadable(std::clamp<TimeUs>(wait, 0, millis(2)));
    }
}

void RegionHost::setKnobs(const RuntimeKnobs& knobs)
{
    std::lock_guard lock(m_mutex);
    m_server->setKnobs(knobs, monotonicNow());
}

RuntimeKnobs RegionHost::knobs() const
{
    std::lock_guard lock(m_mutex);
    return m_server->knobs();
}

void RegionHost::setFault(const ConditionerSettings& outgoing)
{
    std::lock_guard lock(m_mutex);
    m_socket->setOutgoing(outgoing);
}

std::size_t RegionHost::players() const
{
    std::lock_guard lock(m_mutex);
    return m_server->playerCount();
}

std::vector<PlayerState> RegionHost::truth() const
{
    std::lock_guard lock(m_mutex);
    const auto players = m_server->world().players();
    return {players.begin(), players.end()};
}

RegionSample summarize(const std::string& region, const RegionMetrics& m, std::size_t players, double windowSeconds)
{
    RegionSample s;
    s.region = region;
    s.players = players;
    s.windowSeconds = windowSeconds;
    s.rttP50Ms = double(m.rttUs.p50()) / 1000.0;
    s.rttP95Ms = double(m.rttUs.p95()) / 1000.0;
    s.rttP99Ms = double(m.rttUs.p99()) / 1000.0;
    s.lossPercent = m.lossPercent();
    const double seconds = std::max(windowSeconds, 1e-3);
    s.kbpsIn = double(m.bytesIn) * 8 / 1000.0 / seconds;
    s.kbpsOut = double(m.bytesOut) * 8 / 1000.0 / seconds;
    s.tickP99Ms = double(m.tickTimeUs.p99()) / 1000.0;
    s.corrections = m.corrections;
    s.errors = m.malformedPackets + m.rejectedTokens;
    s.ticks = m.ticks;
    return s;
}

RegionSample RegionHost::sample()
{
    std::lock_guard lock(m_mutex);
    const TimeUs now = monotonicNow();
    const double window = double(now - m_lastSampleAt) / 1e6;
    m_lastSampleAt = now;
    return summarize(m_config.name, m_server->takeMetrics(), m_server->playerCount(), window);
}

} // namespace lv::liveops
