#include "console/fleet.h"

#include <QPointer>

#include <algorithm>
#include <set>

namespace lv::console {

Fleet::Fleet(QString name, lc::ClientOptions options, ClusterConnection& control, QObject* parent)
    : QObject(parent), m_name(std::move(name)), m_options(std::move(options)), m_control(control)
{
    m_options.channel.reset();  // each server is reached at the endpoint it advertises
    m_options.onNonsense = nullptr;
    m_timer.setInterval(kListIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, &Fleet::list);
}

Fleet::~Fleet() = default;  // connections stop their watches as they go

void Fleet::start()
{
    list();
    m_timer.start();
}

const lc::Server* Fleet::server(const QString& id) const
{
    for (const lc::Server& s : m_servers)
        if (QString::fromStdString(s.id) == id)
            return &s;
    return nullptr;
}

ClusterConnection* Fleet::connectionTo(const QString& serverId) const
{
    auto it = m_connections.find(serverId);
    return it == m_connections.end() ? nullptr : it->second.get();
}

void Fleet::list()
{
    // One call at a time. A reply can be lost with the connection it went through (a server that
    // left while asked): after twice the call deadline the next listing goes ahead anyway.
    if (m_listing && m_listingSince.elapsed() < 2 * m_options.deadline.count())
        return;
    m_listing = true;
    m_listingSince.start();
    // Through the address given; while it cannot be reached, through any server still connected
    // (the list must not freeze because the server it was added by went away).
    ClusterConnection* through = &m_control;
    if (m_control.state() != ClusterConnection::State::Connected)
        for (const auto& [id, c] : m_connections)
            if (c->state() == ClusterConnection::State::Connected) {
                through = c.get();
                break;
            }
    QPointer<Fleet> self(this);
    through->listServers([self](const lc::Reply<lc::ServerList>& reply) {
        if (self)
            self->listed(reply);
    });
}

void Fleet::listed(const lc::Reply<lc::ServerList>& reply)
{
    m_listing = false;
    if (!reply.status.ok()) {
        // The servers are still watched through their own connections; the list just is not new.
        const QString problem = QString::fromStdString(reply.status.message);
        if (problem != m_listProblem) {
            m_listProblem = problem;
            emit serversChanged();
        }
        return;
    }
    const bool wasFailing = !m_listProblem.isEmpty();
    m_listProblem.clear();
    m_fleetName = QString::fromStdString(reply.value.fleet);
    const QString problem = QString::fromStdString(reply.value.storeProblem);
    if (problem != m_storeProblem) {
        m_storeProblem = problem;
        emit storeProblemChanged(problem);
    }
    std::set<QString> now;
    for (const lc::Server& s : reply.value.servers) {
        const QString id = QString::fromStdString(s.id);
        now.insert(id);
        auto it = m_connections.find(id);
        if (it != m_connections.end() && (server(id) == nullptr || server(id)->apiEndpoint != s.apiEndpoint))
            disconnectFrom(id);  // restarted elsewhere under the same id
        if (m_connections.find(id) == m_connections.end())
            connectTo(s);
    }
    for (auto it = m_connections.begin(); it != m_connections.end();) {
        const QString id = it->first;
        ++it;
        if (!now.count(id))
            disconnectFrom(id);
    }
    // Told when who is in the fleet or what state they are in changes, not at every listing.
    const auto same = [](const lc::Server& a, const lc::Server& b) {
        return a.id == b.id && a.apiEndpoint == b.apiEndpoint && a.state == b.state && a.version == b.version;
    };
    const bool changed = wasFailing || reply.value.servers.size() != m_servers.size()
                         || !std::equal(m_servers.begin(), m_servers.end(), reply.value.servers.begin(), same);
    m_servers = reply.value.servers;
    if (changed)
        emit serversChanged();
}

void Fleet::connectTo(const lc::Server& server)
{
    const QString id = QString::fromStdString(server.id);
    lc::ClientOptions options = m_options;
    options.target = server.apiEndpoint;
    auto connection = std::make_unique<ClusterConnection>(m_name + QLatin1Char('/') + id, std::move(options));
    connection->setFeeds(ClusterConnection::Regions | ClusterConnection::Telemetry);
    connection->setRetirement(m_retire);
    ClusterConnection* c = connection.get();
    connect(c, &ClusterConnection::regionsListed, this, [this, id](const std::vector<lc::Region>& regions) {
        emit regionsMerged(m_merge.setRegions(id, regions));
    });
    connect(c, &ClusterConnection::telemetryBatch, this, [this, id](const std::vector<lc::Telemetry>& samples) {
        std::vector<lc::Telemetry> merged;
        for (const lc::Telemetry& t : samples) {
            const bool was = m_merge.regionReachable(QString::fromStdString(t.region));
            if (auto m = m_merge.add(id, t))
                merged.push_back(std::move(*m));
            if (!was)
                emit regionReachable(QString::fromStdString(t.region), true);
        }
        if (!merged.empty())
            emit telemetryMerged(merged);
    });
    connect(c, &ClusterConnection::stateChanged, this, [this, c, id] {
        if (c->state() != ClusterConnection::State::Connecting)
            serverReachable(id, c->state() == ClusterConnection::State::Connected);
    });
    m_connections.emplace(id, std::move(connection));
    c->start();
}

void Fleet::serverReachable(const QString& id, bool reachable)
{
    std::set<QString> before;
    for (const lc::Region& r : m_merge.regions())
        if (m_merge.regionReachable(QString::fromStdString(r.name)))
            before.insert(QString::fromStdString(r.name));
    const auto merged = m_merge.setReachable(id, reachable);
    if (!merged.empty())
        emit telemetryMerged(merged);
    for (const lc::Region& r : m_merge.regions()) {
        const QString name = QString::fromStdString(r.name);
        const bool now = m_merge.regionReachable(name);
        if (now != (before.count(name) > 0))
            emit regionReachable(name, now);
    }
}

void Fleet::disconnectFrom(const QString& id)
{
    m_connections.erase(id);
    QStringList gone;
    const auto merged = m_merge.removeServer(id, gone);
    if (!merged.empty())
        emit telemetryMerged(merged);
    emit regionsMerged(m_merge.regions());
    if (!gone.isEmpty())
        emit regionsGone(gone);
}

void Fleet::refreshRegions()
{
    for (auto& [id, c] : m_connections)
        c->refreshRegions();
}

} // namespace lv::console
