#include "synccore/simcluster.h"

#include <cmath>

namespace lv {

/// Forwards to a socket and folds every sent datagram into the cluster's traffic digest.
class DigestSocket final : public DatagramSocket {
public:
    DigestSocket(std::unique_ptr<DatagramSocket> inner, SimCluster& cluster) : m_inner(std::move(inner)), m_cluster(cluster) {}
    Address localAddress() const override { return m_inner->localAddress(); }
    void send(const Address& to, std::span<const std::uint8_t> data, TimeUs now) override
    {
        auto mix = [this](std::uint64_t v) {
            for (int i = 0; i < 8; ++i) {
                m_cluster.m_digest ^= (v >> (8 * i)) & 0xFF;
                m_cluster.m_digest *= 0x100000001b3ULL;
            }
        };
        mix(static_cast<std::uint64_t>(localAddress().port) << 32 | to.port);
        mix(data.size());
        for (std::uint8_t b : data) {
            m_cluster.m_digest ^= b;
            m_cluster.m_digest *= 0x100000001b3ULL;
        }
        ++m_cluster.m_datagrams;
        m_inner->send(to, data, now);
    }
    std::optional<Datagram> receive(TimeUs now) override { return m_inner->receive(now); }

private:
    std::unique_ptr<DatagramSocket> m_inner;
    SimCluster& m_cluster;
};

struct SimCluster::Bot {
    std::unique_ptr<DatagramSocket> socket;
    std::unique_ptr<Client> client;
    BotBrain brain;
    std::size_t region = 0;
    std::size_t group = 0;
    std::uint64_t clientId = 0;
    Platform platform = Platform::Pc;
    int inputHz = 0;
    int frameHz = 0;
    TimeUs nextInputAt = 0;
    TimeUs nextFrameAt = 0;
    ClientState lastState = ClientState::Connecting;
    TimeUs disconnectedAt = 0;
};

struct SimCluster::Region {
    ConditionedSocket* fault = nullptr;  // inside `socket`: the drill's conditioner on everything the server sends
    std::unique_ptr<DatagramSocket> socket;
    Address address;
    std::unique_ptr<Server> server;
    std::vector<std::unique_ptr<Bot>> bots;
};

std::unique_ptr<DatagramSocket> SimCluster::digested(std::unique_ptr<DatagramSocket> socket)
{
    return std::make_unique<DigestSocket>(std::move(socket), *this);
}

SimCluster::SimCluster(SimClusterConfig config) : m_config(std::move(config)), m_network(m_config.seed)
{
    m_network.setDefaultLink({});
    // The cluster's key and tokens derive from the seed: replays are byte-identical.
    for (std::size_t i = 0; i < m_tokenKey.size(); ++i)
        m_tokenKey[i] = static_cast<std::uint8_t>((m_config.seed >> ((i % 8) * 8)) ^ (i * 37));

    for (std::size_t r = 0; r < m_config.regions.size(); ++r) {
        const SimRegionConfig& rc = m_config.regions[r];
        auto region = std::make_unique<Region>();
        auto fault = std::make_unique<ConditionedSocket>(m_network.createSocket(), ConditionerSettings{}, ConditionerSettings{},
                                                         m_config.seed ^ (0xFA017ULL + r));
        region->fault = fault.get();
        region->socket = digested(std::move(fault));
        region->address = region->socket->localAddress();
        ServerConfig serverConfig;
        serverConfig.tokenKey = m_tokenKey;
        serverConfig.knobs = rc.knobs;
        serverConfig.world = m_config.world;
        serverConfig.seed = m_config.seed + r;
        serverConfig.transport.randomSeed = m_config.seed ^ (0x5E55'1017ULL + r);  // reproducible handshakes
        region->server = std::make_unique<Server>(serverConfig, *region->socket);
        m_regions.push_back(std::move(region));
    }

    for (std::size_t r = 0; r < m_config.regions.size(); ++r) {
        const SimRegionConfig& rc = m_config.regions[r];
        Region& region = *m_regions[r];
        Rng rng(m_config.seed ^ 0xB075 ^ (r * 0x9E3779B97F4A7C15ULL));
        std::uint64_t clientId = r * 1'000'000;
        for (std::size_t g = 0; g < rc.groups.size(); ++g) {
            const BotGroup& group = rc.groups[g];
            for (int i = 0; i < group.count; ++i) {
                auto bot = std::make_unique<Bot>(Bot{nullptr, nullptr, BotBrain(group.behaviour, rng.next())});
                bot->region = r;
                bot->group = g;
                bot->clientId = ++clientId;
                bot->platform = group.platform;
                bot->inputHz = group.inputHz;
                bot->frameHz = group.frameHz;
                bot->socket = digested(m_network.createSocket());
                m_network.setLink(bot->socket->localAddress(), region.address, rc.uplink);
                m_network.setLink(region.address, bot->socket->localAddress(), rc.downlink);
                ClientConfig clientConfig;
                clientConfig.transport.randomSeed = m_config.seed ^ (0xC11E'0000'0000ULL + bot->clientId);
                bot->client = std::make_unique<Client>(clientConfig, *bot->socket);
                // Spawn inside the group's area.
                const double angle = rng.uniform() * 2.0 * 3.14159265358979323846;
                const double dist = std::sqrt(rng.uniform()) * group.behaviour.areaRadius;
                const Vec3i spawn{group.behaviour.areaCenter.x + static_cast<std::int32_t>(dist * std::cos(angle)),
                                  group.behaviour.areaCenter.y + static_cast<std::int32_t>(dist * std::sin(angle)), 0};
                bot->client->connect(issueToken(bot->clientId, group.platform, spawn), region.address, m_now);
                region.bots.push_back(std::move(bot));
            }
        }
    }
}

SimCluster::~SimCluster() = default;

ConnectToken SimCluster::issueToken(std::uint64_t clientId, Platform platform, std::optional<Vec3i> spawn) const
{
    std::array<std::uint8_t, 32> seed{};
    for (std::size_t b = 0; b < 8; ++b) {
        seed[b] = static_cast<std::uint8_t>(m_config.seed >> (8 * b));
        seed[8 + b] = static_cast<std::uint8_t>(clientId >> (8 * b));
        seed[16 + b] = static_cast<std::uint8_t>(m_now >> (8 * b));  // a reconnect gets a fresh nonce
    }
    return issueConnectToken(m_tokenKey, TransportConfig{}.protocolId, clientId, m_now + seconds(24 * 3600),
                             makeUserData(platform, spawn), seed);
}

Server& SimCluster::server(std::size_t region) { return *m_regions.at(region)->server; }
const Server& SimCluster::server(std::size_t region) const { return *m_regions.at(region)->server; }
Address SimCluster::serverAddress(std::size_t region) const { return m_regions.at(region)->address; }
std::size_t SimCluster::clientCount(std::size_t region) const { return m_regions.at(region)->bots.size(); }
Client& SimCluster::client(std::size_t region, std::size_t i) { return *m_regions.at(region)->bots.at(i)->client; }
const Client& SimCluster::client(std::size_t region, std::size_t i) const { return *m_regions.at(region)->bots.at(i)->client; }
BotBrain& SimCluster::brain(std::size_t region, std::size_t i) { return m_regions.at(region)->bots.at(i)->brain; }
std::size_t SimCluster::groupOf(std::size_t region, std::size_t i) const { return m_regions.at(region)->bots.at(i)->group; }

void SimCluster::setConditions(std::size_t region, const ConditionerSettings& uplink, const ConditionerSettings& downlink)
{
    Region& r = *m_regions.at(region);
    m_config.regions[region].uplink = uplink;
    m_config.regions[region].downlink = downlink;
    for (const auto& bot : r.bots) {
        m_network.setLink(bot->socket->localAddress(), r.address, uplink);
        m_network.setLink(r.address, bot->socket->localAddress(), downlink);
    }
}

void SimCluster::setFault(std::size_t region, const ConditionerSettings& outgoing)
{
    m_regions.at(region)->fault->setOutgoing(outgoing);
}

void SimCluster::advanceBot(Bot& bot)
{
    Client& c = *bot.client;
    if (bot.frameHz > 0) {
        if (m_now < bot.nextFrameAt)
            return;
        bot.nextFrameAt = std::max(bot.nextFrameAt + kMicrosPerSecond / bot.frameHz, m_now);
    }
    if (c.connected() && c.localPlayer() && m_now >= bot.nextInputAt) {
        const int tickHz = c.latestSnapshot() ? c.latestSnapshot()->tickHz : 30;
        const int hz = bot.inputHz > 0 ? bot.inputHz : tickHz;
        const BotInput in = bot.brain.decide(c.localState(), hz);
        c.setInput(in.forward, in.right, in.yaw, in.pitch, in.buttons);
        bot.nextInputAt = m_now + kMicrosPerSecond / hz;
    }
    c.advance(m_now);
    const ClientState state = c.state();
    if (m_config.reconnectAfter > 0 && state == ClientState::Disconnected) {
        if (bot.lastState != ClientState::Disconnected) {
            bot.disconnectedAt = m_now;
        } else if (m_now - bot.disconnectedAt >= m_config.reconnectAfter) {
            // Back to where the session last was (a failover target), else home.
            const Address to = c.serverAddress().port ? c.serverAddress() : m_regions[bot.region]->address;
            c.connect(issueToken(bot.clientId, bot.platform, std::nullopt), to, m_now);
            ++m_reconnects;
        }
    }
    bot.lastState = c.state();
}

void SimCluster::advanceTo(TimeUs target)
{
    const TimeUs step = std::max<TimeUs>(m_config.step, 1);
    while (m_now + step <= target) {
        m_now += step;
        for (auto& region : m_regions)
            for (auto& bot : region->bots)
                advanceBot(*bot);
        for (auto& region : m_regions) {
            region->server->advance(m_now);
            region->fault->flush(m_now);
        }
    }
}

} // namespace lv
