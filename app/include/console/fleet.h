#pragma once

#include "console/clusterconnection.h"
#include "console/fleetmerge.h"

#include <QObject>
#include <QElapsedTimer>
#include <QTimer>

#include <map>
#include <memory>
#include <vector>

namespace lv::console {

/// A fleet of syncd servers seen through one address (a server's API, or the fleet's Service):
/// its servers are listed there twice a second (ListServers), each gets a connection of its own
/// for its regions and telemetry, and their samples are merged region by region (RegionMerge).
/// Servers that join are connected to, servers that leave are let go. Toggles and audit are the
/// fleet's and come once, through the control connection (owned by the session like any
/// cluster's connection, under the fleet's name).
class Fleet : public QObject {
    Q_OBJECT
public:
    static constexpr int kListIntervalMs = 500;

    /// `options`: how to reach the servers (token, TLS); their targets come from ListServers.
    Fleet(QString name, lc::ClientOptions options, ClusterConnection& control, QObject* parent = nullptr);
    ~Fleet() override;

    const QString& name() const { return m_name; }
    /// The fleet's name as its servers say (empty until listed, or for a syncd without a fleet).
    const QString& fleetName() const { return m_fleetName; }
    /// The servers as last listed.
    const std::vector<lc::Server>& servers() const { return m_servers; }
    const lc::Server* server(const QString& id) const;
    ClusterConnection* connectionTo(const QString& serverId) const;
    /// Why the fleet store takes no writes (no quorum), as the servers say; empty when it does.
    const QString& storeProblem() const { return m_storeProblem; }
    /// Why the last listing failed; empty when it worked.
    const QString& listProblem() const { return m_listProblem; }
    const RegionMerge& merge() const { return m_merge; }

    /// How the servers' connections are wound down when they go (see ClusterConnection).
    void setRetirement(ClusterConnection::Retirement retire) { m_retire = std::move(retire); }
    void start();
    /// Lists every server's regions again (a drain or failover changed them).
    void refreshRegions();

signals:
    void serversChanged();
    void storeProblemChanged(const QString& problem);
    void regionsMerged(const std::vector<lv::liveops::client::Region>& regions);
    void telemetryMerged(const std::vector<lv::liveops::client::Telemetry>& samples);
    /// A region lost (or regained) its last reachable server: its figures are old.
    void regionReachable(const QString& region, bool reachable);
    void regionsGone(const QStringList& regions);

private:
    void list();
    void listed(const lc::Reply<lc::ServerList>& reply);
    void connectTo(const lc::Server& server);
    void disconnectFrom(const QString& id);
    void serverReachable(const QString& id, bool reachable);

    QString m_name;
    lc::ClientOptions m_options;
    ClusterConnection& m_control;
    QTimer m_timer;
    bool m_listing = false;  // a ListServers call is in flight: never two
    QElapsedTimer m_listingSince;
    QString m_fleetName;
    QString m_storeProblem;
    QString m_listProblem;
    std::vector<lc::Server> m_servers;
    std::map<QString, std::unique_ptr<ClusterConnection>> m_connections;  // by server id
    RegionMerge m_merge;
    ClusterConnection::Retirement m_retire;
};

} // namespace lv::console
