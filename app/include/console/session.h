#pragma once

#include "console/alertmodel.h"
#include "console/changemarks.h"
#include "console/clusterconnection.h"
#include "console/fleet.h"
#include "console/incidentdesk.h"
#include "console/incidentrecorder.h"
#include "console/latencyhistory.h"
#include "console/prometheushistory.h"
#include "console/regionmodel.h"
#include "console/sandbox.h"
#include "console/timeformat.h"
#include "console/togglemodel.h"

#include <QObject>
#include <QMap>
#include <QThreadPool>
#include <QUrl>

#include <functional>
#include <map>
#include <set>

#include <memory>
#include <vector>

namespace lv::console {

/// What the console is connected to and the models it shows: clusters (live ones and the
/// sandbox, through the same client code), regions, latency history, toggles. No widgets here:
/// the window and the headless report both sit on top of this.
class ConsoleSession : public QObject {
    Q_OBJECT
public:
    explicit ConsoleSession(QObject* parent = nullptr);
    ~ConsoleSession() override;

    /// `environment`: "production" (the safe default: it asks most), "staging", "development";
    /// the sandbox is "sandbox".
    ClusterConnection* addCluster(const QString& name, liveops::client::ClientOptions options,
                                  const QString& environment = QStringLiteral("production"));
    /// A fleet through one address (a server's API or the fleet's Service): its servers are listed
    /// and connected to, their regions merged into one row each under `name`, its toggles and
    /// audit shown once. cluster(name) is the control connection every change goes through.
    ClusterConnection* addFleet(const QString& name, liveops::client::ClientOptions options,
                                const QString& environment = QStringLiteral("production"));
    /// The fleet under that name, or null (a single server, or nothing).
    Fleet* fleet(const QString& name) const;
    /// The cluster's Prometheus (http://host:9090; empty: none): once its regions are known, the
    /// latency views' last hour and day and the SLO windows' last 3 days are filled from it.
    void setPrometheus(const QString& cluster, const QUrl& url);
    /// What became of it, for the Clusters page: "", "loading history from Prometheus… 2 of 6",
    /// "history from Prometheus", or why not.
    QString prometheusState(const QString& cluster) const { return m_prometheusState.value(cluster); }
    void removeCluster(const QString& name);
    /// Starts syncd's service in-process with bots and connects to it as cluster "sandbox".
    bool startSandbox(const SandboxConfig& config, QString& error);
    /// Starts a sandbox that replays a recording exactly, connected as cluster "sandbox".
    bool replaySandbox(const SandboxRecording& recording, QString& error);
    void stopSandbox();
    /// The same, with the work off the UI thread (what the console's buttons use): the sandbox is
    /// built on a worker and connected to here, then sandboxStarted() reports; a newer request
    /// supersedes one still being built. Stopping disconnects at once and winds the sandbox's
    /// threads down on the worker.
    void startSandboxInBackground(const SandboxConfig& config);
    void replaySandboxInBackground(const SandboxRecording& recording);
    void stopSandboxInBackground();
    bool sandboxStarting() const { return m_sandboxStarting; }

    Sandbox* sandbox() const { return m_sandbox.get(); }
    ClusterConnection* cluster(const QString& name) const;
    std::vector<ClusterConnection*> clusters() const;

    RegionModel& regions() { return m_regions; }
    /// The SLO alerts that are up, one per region.
    AlertModel& alerts() { return m_alerts; }
    ToggleModel& toggles() { return m_toggles; }
    LatencyHistory& history() { return m_history; }
    /// Recent changes of every cluster, for the latency chart's annotations.
    ChangeMarks& changes() { return m_changes; }
    /// How times are written (UTC or local, labelled), everywhere in the console.
    TimeFormat& time() { return m_time; }
    /// The incident database (open it with incidents().open(path)) and what the console records into it.
    IncidentDesk& incidents() { return *m_incidents; }
    const IncidentRecorder& recorder() const { return *m_recorder; }

signals:
    void clustersChanged();
    /// prometheusState(cluster) changed.
    void prometheusChanged(const QString& cluster);
    /// A connection was made (before its first event): listeners attach to it here.
    void clusterAdded(lv::console::ClusterConnection* connection);
    /// A background start finished: the sandbox is connected, or `error` says why not.
    void sandboxStarted(bool ok, const QString& error);

private:
    void backfillWhenKnown(const QString& cluster);  // once per connection, when its regions are listed
    ClusterConnection* addConnection(const QString& name, liveops::client::ClientOptions options, const QString& environment, unsigned feeds);
    bool adoptSandbox(std::unique_ptr<Sandbox> sandbox);  // connects to it as "sandbox"; false if null
    void buildSandboxInBackground(std::function<std::unique_ptr<Sandbox>(QString& error)> build);
    QThreadPool m_sandboxWorker;  // one thread: builds and winds down sandboxes; waited for last
    QThreadPool m_retirement;     // winds down live clusters' clients (their calls in flight), off the UI thread
    ClusterConnection::Retirement retirement();
    quint64 m_sandboxRequest = 0;
    bool m_sandboxStarting = false;
    RegionModel m_regions;
    AlertModel m_alerts{m_regions};
    ToggleModel m_toggles;
    LatencyHistory m_history;
    ChangeMarks m_changes;
    TimeFormat m_time;
    PrometheusHistory m_prometheus;
    std::map<QString, QUrl> m_prometheusUrls;
    std::set<QString> m_backfillStarted;
    QMap<QString, QString> m_prometheusState;
    std::vector<std::unique_ptr<ClusterConnection>> m_clusters;
    std::map<QString, std::unique_ptr<Fleet>> m_fleets;  // by cluster name; each uses its control connection above
    std::unique_ptr<Sandbox> m_sandbox;  // after the clusters: destroyed first is the connection, then the server
    std::unique_ptr<IncidentDesk> m_incidents;
    std::unique_ptr<IncidentRecorder> m_recorder;  // needs the models above and the desk
};

} // namespace lv::console
