#include "liveops/regionhost.h"

#include <future>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

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

std::optional<Address> advertisedEndpoint(const Address& bound, const std::optional<Address>& configured, const std::string& publicHost,
                                          std::string& note)
{
    if (configured) {
        note = "public_endpoint";
        return configured;
    }
    if (!bound.isUnspecified()) {
        note = "the bound address";
        return bound;
    }
    if (!publicHost.empty()) {
        auto parsed = Address::parse(publicHost.find(':') != std::string::npos && publicHost.front() != '[' ? "[" + publicHost + "]:1" : publicHost + ":1");
        if (!parsed || parsed->isUnspecified()) {
            note = "public_host '" + publicHost + "' is not an IP address";
            return std::nullopt;
        }
        Address host = *parsed;
        host.port = bound.port;
        note = "public_host";
        return host;
    }
    // Bound to every interface: the first non-loopback address of a usable family. IPv4 first
    // for a dual-stack bind (IPv6-only clients reach it through NAT64).
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        note = "cannot list interfaces";
        return std::nullopt;
    }
    std::optional<Address> v4, v6;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        if (i->ifa_addr->sa_family == AF_INET && !v4) {
            const auto* sa = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
            v4 = Address::v4(ntohl(sa->sin_addr.s_addr), bound.port);
        } else if (i->ifa_addr->sa_family == AF_INET6 && !v6) {
            const auto* sa = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
            if (IN6_IS_ADDR_LINKLOCAL(&sa->sin6_addr))
                continue;  // needs a scope id: not something to hand to players
            Address a;
            std::copy(std::begin(sa->sin6_addr.s6_addr), std::end(sa->sin6_addr.s6_addr), a.ip.begin());
            a.port = bound.port;
            v6 = a;
        }
    }
    ::freeifaddrs(list);
    const std::optional<Address> chosen = bound.isV4() ? v4 : (v4 ? v4 : v6);
    if (!chosen) {
        note = "bound to every interface, and no interface has a routable address: set public_endpoint";
        return std::nullopt;
    }
    note = "the first interface address (set public_endpoint or public_host to choose)";
    return chosen;
}

std::unique_ptr<RegionHost> RegionHost::start(RegionConfig config, std::string& error)
{
    ServerConfig check;
    check.capacity = config.capacity;
    check.knobs = config.knobs;
    if (std::string problem = validateServerConfig(check); !problem.empty()) {
        error = "region " + config.name + ": " + problem;
        return nullptr;
    }
    auto udp = UdpSocket::bind(config.bind);
    if (!udp) {
        error = "region " + config.name + ": cannot bind UDP " + config.bind.toString();
        return nullptr;
    }
    std::string note;
    const auto advertised = advertisedEndpoint((*udp)->localAddress(), config.publicEndpoint, config.publicHost, note);
    if (!advertised) {
        error = "region " + config.name + ": no endpoint to advertise to players: " + note;
        return nullptr;
    }
    std::unique_ptr<RegionHost> host(new RegionHost(std::move(config)));
    host->m_udp = udp->get();
    host->m_bound = (*udp)->localAddress();
    host->m_endpoint = *advertised;
    host->m_endpointNote = note;
    host->m_socket = std::make_unique<ConditionedSocket>(std::move(*udp), ConditionerSettings{}, ConditionerSettings{}, host->m_config.seed);
    ServerConfig serverConfig;
    serverConfig.tokenKey = host->m_config.tokenKey;
    // Ticks run on the monotonic clock; tokens expire in Unix time (issued by another process).
    serverConfig.transport.tokenClockOffset = unixNowUs() - monotonicNow();
    serverConfig.knobs = host->m_config.knobs;
    serverConfig.capacity = host->m_config.capacity;
    serverConfig.seed = host->m_config.seed;
    host->m_server = std::make_unique<Server>(serverConfig, *host->m_socket);
    host->m_knobs = host->m_server->knobs();
    host->m_lastSampleAt = monotonicNow();
    host->m_wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (host->m_wake < 0) {
        error = "cannot create the region's wake-up eventfd";
        return nullptr;
    }
    host->m_thread = std::thread([h = host.get()] { h->run(); });
    return host;
}

RegionHost::~RegionHost()
{
    m_running = false;
    wake();
    if (m_thread.joinable())
        m_thread.join();
    if (m_wake >= 0)
        ::close(m_wake);
    m_server->disconnectAll(monotonicNow());  // tell clients, rather than let them time out
}

void RegionHost::applyMailbox()
{
    std::optional<RuntimeKnobs> knobs;
    std::optional<ConditionerSettings> fault;
    std::vector<std::function<void(Server&, TimeUs)>> tasks;
    {
        std::lock_guard lock(m_mailboxMutex);
        knobs.swap(m_pendingKnobs);
        fault.swap(m_pendingFault);
        tasks.swap(m_pendingTasks);
    }
    if (knobs)
        m_server->setKnobs(*knobs, monotonicNow());
    if (fault)
        m_socket->setOutgoing(*fault);
    for (auto& task : tasks)
        task(*m_server, monotonicNow());
}

template <typename T>
std::optional<T> RegionHost::onLoop(std::function<T(Server&, TimeUs)> task) const
{
    // Shared: a caller that gave up leaves the answer to a promise nobody reads.
    auto answer = std::make_shared<std::promise<T>>();
    auto future = answer->get_future();
    {
        std::lock_guard lock(m_mailboxMutex);
        m_pendingTasks.push_back([answer, task = std::move(task)](Server& server, TimeUs now) { answer->set_value(task(server, now)); });
    }
    wake();
    if (future.wait_for(std::chrono::seconds(1)) != std::future_status::ready)
        return std::nullopt;
    return future.get();
}

std::optional<PlayerLocation> RegionHost::findPlayer(std::uint64_t clientId) const
{
    auto found = onLoop<std::optional<PlayerLocation>>([clientId](Server& server, TimeUs now) -> std::optional<PlayerLocation> {
        auto p = server.findPlayer(clientId);
        if (!p)
            return std::nullopt;
        PlayerLocation out;
        out.clientId = clientId;
        out.address = p->address.toString();
        out.rttMs = double(p->rtt) / 1000.0;
        out.lossPercent = p->lossPercent;
        out.connectedUnixMs = (unixNowUs() - (now - p->connectedAt)) / 1000;
        return out;
    });
    return found ? *found : std::nullopt;
}

bool RegionHost::kick(std::uint64_t clientId, const std::string& reason)
{
    return onLoop<bool>([clientId, reason](Server& server, TimeUs) { return server.kick(clientId, reason); }).value_or(false);
}

bool RegionHost::movePlayer(std::uint64_t clientId, const Address& target, const std::string& reason)
{
    return onLoop<bool>([clientId, target, reason](Server& server, TimeUs) { return server.redirect(clientId, target, reason); }).value_or(false);
}

void RegionHost::handOver()
{
    m_players.store(m_server->playerCount(), std::memory_order_relaxed);
    const std::uint64_t ticks = m_server->metrics().ticks;
    if (ticks == m_ticksSeen)
        return;  // between ticks: nothing worth a merge yet
    RegionMetrics window = m_server->takeMetrics();  // its tick count restarts at 0
    m_ticksSeen = 0;
    {
        std::lock_guard lock(m_metricsMutex);
        m_handedOver.merge(window);
    }
    if (m_truthWantedUntil.load(std::memory_order_relaxed) > monotonicNow()) {
        const auto players = m_server->world().players();
        {
            std::lock_guard lock(m_truthMutex);
            m_truth.assign(players.begin(), players.end());
            ++m_truthVersion;
        }
        m_truthReady.notify_all();
    }
}

void RegionHost::run()
{
    while (m_running) {
        applyMailbox();
        m_server->advance(monotonicNow());
        handOver();
        // Sleep until a packet arrives or the next tick is due; short enough to deliver delayed
        // (drilled) datagrams on time, to apply posted changes promptly and to notice shutdown.
        const TimeUs wait = std::clamp<TimeUs>(m_server->nextTickAt() - monotonicNow(), 0, millis(2));
        pollfd fds[2] = {{m_udp->nativeHandle(), POLLIN, 0}, {m_wake, POLLIN, 0}};
        if (::poll(fds, 2, static_cast<int>((wait + 999) / 1000)) > 0 && (fds[1].revents & POLLIN)) {
            std::uint64_t posted = 0;
            (void)!::read(m_wake, &posted, sizeof posted);
        }
    }
}

void RegionHost::setKnobs(const RuntimeKnobs& knobs)
{
    {
        std::lock_guard lock(m_mailboxMutex);
        m_knobs = knobs;
        m_pendingKnobs = knobs;
    }
    wake();
}

void RegionHost::wake() const
{
    const std::uint64_t one = 1;
    (void)!::write(m_wake, &one, sizeof one);
}

RuntimeKnobs RegionHost::knobs() const
{
    std::lock_guard lock(m_mailboxMutex);
    return m_knobs;
}

void RegionHost::setFault(const ConditionerSettings& outgoing)
{
    {
        std::lock_guard lock(m_mailboxMutex);
        m_pendingFault = outgoing;
    }
    wake();
}

std::size_t RegionHost::players() const { return m_players.load(std::memory_order_relaxed); }

std::vector<PlayerState> RegionHost::truth() const
{
    // Ask the loop to publish the players' states each tick for the next two seconds; wait for the
    // first fresh copy at most a tick or two.
    m_truthWantedUntil = monotonicNow() + seconds(2);
    std::unique_lock lock(m_truthMutex);
    const std::uint64_t seen = m_truthVersion;
    m_truthReady.wait_for(lock, std::chrono::milliseconds(100), [&] { return m_truthVersion != seen; });
    return m_truth;
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
    s.clientReportedCorrections = m.corrections;
    s.inputsDropped = m.inputsDropped;
    s.shotsClamped = m.shotsClamped;
    s.errors = m.malformedPackets + m.rejectedTokens;
    s.ticks = m.ticks;
    s.rttUs = m.rttUs.buckets();
    s.tickUs = m.tickTimeUs.buckets();
    return s;
}

RegionSample RegionHost::sample()
{
    RegionMetrics window;
    double seconds = 0.0;
    {
        std::lock_guard lock(m_metricsMutex);
        const TimeUs now = monotonicNow();
        seconds = double(now - m_lastSampleAt) / 1e6;
        m_lastSampleAt = now;
        std::swap(window, m_handedOver);
    }
    return summarize(m_config.name, window, players(), seconds);
}

} // namespace lv::liveops
