#include "synccore/session.h"

#include <chrono>
#include <cmath>
#include <thread>

namespace lv {

/// Forwards to a socket and folds every sent datagram into the session's traffic digest.
class DigestSocket final : public DatagramSocket {
public:
    DigestSocket(std::unique_ptr<DatagramSocket> inner, LocalSession& session) : m_inner(std::move(inner)), m_session(session) {}
    Address localAddress() const override { return m_inner->localAddress(); }
    void send(const Address& to, std::span<const std::uint8_t> data, TimeUs now) override
    {
        auto mix = [this](std::uint64_t v) {
            for (int i = 0; i < 8; ++i) {
                m_session.m_digest ^= (v >> (8 * i)) & 0xFF;
                m_session.m_digest *= 0x100000001b3ULL;
            }
        };
        mix(static_cast<std::uint64_t>(localAddress().port) << 32 | to.port);
        mix(data.size());
        for (std::uint8_t b : data) {
            m_session.m_digest ^= b;
            m_session.m_digest *= 0x100000001b3ULL;
        }
        ++m_session.m_datagrams;
        m_inner->send(to, data, now);
    }
    std::optional<Datagram> receive(TimeUs now) override { return m_inner->receive(now); }

private:
    std::unique_ptr<DatagramSocket> m_inner;
    LocalSession& m_session;
};

struct LocalSession::Bot {
    std::unique_ptr<DatagramSocket> socket;
    std::unique_ptr<Client> client;
    BotBrain brain;
    int inputHz = 0;
    TimeUs nextInputAt = 0;
};

LocalSession::LocalSession(SessionConfig config) : m_config(std::move(config)), m_network(m_config.seed)
{
    m_network.setDefaultLink({});
    m_serverSocket = std::make_unique<DigestSocket>(m_network.createSocket(), *this);
    m_serverAddress = m_serverSocket->localAddress();

    // The session's cluster key and tokens derive from the seed: replays are byte-identical.
    Key& tokenKey = m_tokenKey;
    for (std::size_t i = 0; i < tokenKey.size(); ++i)
        tokenKey[i] = static_cast<std::uint8_t>((m_config.seed >> ((i % 8) * 8)) ^ (i * 37));
    ServerConfig serverConfig;
    serverConfig.tokenKey = tokenKey;
    serverConfig.knobs = m_config.knobs;
    serverConfig.world = m_config.world;
    serverConfig.seed = m_config.seed;
    m_server = std::make_unique<Server>(serverConfig, *m_serverSocket);

    Rng rng(m_config.seed ^ 0xB075);
    std::uint64_t clientId = 0;
    for (const BotGroup& group : m_config.groups) {
        for (int i = 0; i < group.count; ++i) {
            ++clientId;
            auto bot = std::make_unique<Bot>(Bot{nullptr, nullptr, BotBrain(group.behaviour, rng.next()), group.inputHz, 0});
            bot->socket = std::make_unique<DigestSocket>(m_network.createSocket(), *this);
            m_network.setLink(bot->socket->localAddress(), m_serverAddress, m_config.uplink);
            m_network.setLink(m_serverAddress, bot->socket->localAddress(), m_config.downlink);
            bot->client = std::make_unique<Client>(ClientConfig{}, *bot->socket);
            // Spawn inside the group's area.
            const double angle = rng.uniform() * 2.0 * 3.14159265358979323846;
            const double dist = std::sqrt(rng.uniform()) * group.behaviour.areaRadius;
            const Vec3i spawn{group.behaviour.areaCenter.x + static_cast<std::int32_t>(dist * std::cos(angle)),
                              group.behaviour.areaCenter.y + static_cast<std::int32_t>(dist * std::sin(angle)), 0};
            bot->client->connect(issueToken(clientId, group.platform, spawn), m_serverAddress, m_now);
            m_bots.push_back(std::move(bot));
        }
    }
}

LocalSession::~LocalSession() = default;

ConnectToken LocalSession::issueToken(std::uint64_t clientId, Platform platform, std::optional<Vec3i> spawn) const
{
    std::array<std::uint8_t, 32> seed{};
    for (std::size_t b = 0; b < 8; ++b) {
        seed[b] = static_cast<std::uint8_t>(m_config.seed >> (8 * b));
        seed[8 + b] = static_cast<std::uint8_t>(clientId >> (8 * b));
    }
    return issueConnectToken(m_tokenKey, TransportConfig{}.protocolId, clientId, seconds(24 * 3600),
                             makeUserData(platform, spawn), seed);
}

Client& LocalSession::client(std::size_t i) { return *m_bots[i]->client; }
BotBrain& LocalSession::brain(std::size_t i) { return m_bots[i]->brain; }

void LocalSession::setConditions(const ConditionerSettings& uplink, const ConditionerSettings& downlink)
{
    m_config.uplink = uplink;
    m_config.downlink = downlink;
    for (const auto& bot : m_bots) {
        m_network.setLink(bot->socket->localAddress(), m_serverAddress, uplink);
        m_network.setLink(m_serverAddress, bot->socket->localAddress(), downlink);
    }
}

void LocalSession::advanceTo(TimeUs target)
{
    const TimeUs step = std::max<TimeUs>(m_config.step, 1);
    while (m_now + step <= target) {
        m_now += step;
        for (auto& bot : m_bots) {
            Client& c = *bot->client;
            if (c.connected() && c.localPlayer() && m_now >= bot->nextInputAt) {
                const int tickHz = c.latestSnapshot() ? c.latestSnapshot()->tickHz : 30;
                const int hz = bot->inputHz > 0 ? bot->inputHz : tickHz;
                const BotInput in = bot->brain.decide(c.localState(), hz);
                c.setInput(in.forward, in.right, in.yaw, in.pitch, in.buttons);
                bot->nextInputAt = m_now + kMicrosPerSecond / hz;
            }
            c.advance(m_now);
        }
        m_server->advance(m_now);
    }
}

} // namespace lv

namespace lv {

void LocalSession::runRealtime(TimeUs duration)
{
    const auto start = std::chrono::steady_clock::now();
    const TimeUs origin = m_now;
    const TimeUs end = m_now + duration;
    const TimeUs step = std::max<TimeUs>(m_config.step, 1);
    while (m_now + step <= end) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(m_now + step - origin));
        advanceTo(m_now + step);
    }
}

} // namespace lv
