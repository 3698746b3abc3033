#include "console/session.h"

#include <QDateTime>
#include <QPointer>

namespace lv::console {

ConsoleSession::ConsoleSession(QObject* parent)
    : QObject(parent), m_incidents(std::make_unique<IncidentDesk>()), m_recorder(std::make_unique<IncidentRecorder>(*this, *m_incidents))
{
    m_sandboxWorker.setMaxThreadCount(1);
    m_toggles.setTimeFormat(&m_time);
    m_sandboxWorker.setObjectName(QStringLiteral("sandbox"));
    m_retirement.setObjectName(QStringLiteral("retirement"));
    m_retirement.setMaxThreadCount(2);
    const auto state = [this](const QString& cluster, const QString& text) {
        m_prometheusState.insert(cluster, text);
        emit prometheusChanged(cluster);
    };
    connect(&m_prometheus, &PrometheusHistory::progress, this, [state](const QString& cluster, int done, int total) {
        state(cluster, tr("loading history from Prometheus… %1 of %2").arg(done).arg(total));
    });
    connect(&m_prometheus, &PrometheusHistory::history, this,
            [this](const QString& cluster, const QString& region, HistoryWindow window, const std::vector<LatencySeriesModel::HistoryPoint>& points) {
                m_history.series(cluster, region)->backfill(window, points);
            });
    connect(&m_prometheus, &PrometheusHistory::sloHistory, this,
            [this](const QString& cluster, const QString& region, const std::vector<std::pair<std::int64_t, double>>& p99) {
                // A Prometheus minute stands for a minute of syncd's default 1 s telemetry windows.
                m_regions.backfillSlo(cluster, region, p99, 60);
            });
    connect(&m_prometheus, &PrometheusHistory::finished, this, [state](const QString& cluster, const QString& error) {
        state(cluster, error.isEmpty() ? tr("history from Prometheus") : error);
    });
}

void ConsoleSession::setPrometheus(const QString& cluster, const QUrl& url)
{
    m_prometheus.cancel(cluster);
    m_backfillStarted.erase(cluster);
    m_prometheusState.remove(cluster);
    if (url.isEmpty())
        m_prometheusUrls.erase(cluster);
    else
        m_prometheusUrls[cluster] = url;
    backfillWhenKnown(cluster);
    emit prometheusChanged(cluster);
}

void ConsoleSession::backfillWhenKnown(const QString& cluster)
{
    auto url = m_prometheusUrls.find(cluster);
    if (url == m_prometheusUrls.end() || m_backfillStarted.count(cluster))
        return;
    QStringList regions;
    for (int row = 0; row < m_regions.rowCount(); ++row)
        if (m_regions.clusterAt(row) == cluster)
            regions << m_regions.regionAt(row);
    if (regions.isEmpty())
        return;  // asked again when they are listed
    m_backfillStarted.insert(cluster);
    m_prometheus.fetch(cluster, url->second, regions, QDateTime::currentMSecsSinceEpoch());
}

ClusterConnection::Retirement ConsoleSession::retirement()
{
    return [this](std::function<void()> job) { m_retirement.start(std::move(job)); };
}

ConsoleSession::~ConsoleSession()
{
    m_recorder.reset();
    m_fleets.clear();
    m_clusters.clear();  // clients stop before the in-process server they talk to
    m_retirement.waitForDone();
    m_sandbox.reset();
}

ClusterConnection* ConsoleSession::addCluster(const QString& name, liveops::client::ClientOptions options, const QString& environment)
{
    return addConnection(name, std::move(options), environment, ClusterConnection::AllFeeds);
}

ClusterConnection* ConsoleSession::addFleet(const QString& name, liveops::client::ClientOptions options, const QString& environment)
{
    ClusterConnection* control =
        addConnection(name, options, environment, ClusterConnection::Identity | ClusterConnection::Toggles | ClusterConnection::Audit);
    auto fleet = std::make_unique<Fleet>(name, std::move(options), *control);
    Fleet* f = fleet.get();
    f->setRetirement(retirement());
    connect(f, &Fleet::regionsMerged, this, [this, name](const std::vector<liveops::client::Region>& regions) {
        m_regions.updateRegions(name, regions);
        backfillWhenKnown(name);
    });
    connect(f, &Fleet::telemetryMerged, this, [this, name](const std::vector<liveops::client::Telemetry>& samples) {
        m_regions.applyTelemetry(name, samples);
        m_history.append(name, samples);
    });
    connect(f, &Fleet::regionReachable, this, [this, name](const QString& region, bool reachable) {
        m_regions.setRegionReachable(name, region, reachable);
    });
    connect(f, &Fleet::regionsGone, this, [this, name](const QStringList& regions) {
        for (const QString& region : regions)
            m_regions.removeRegion(name, region);
    });
    connect(f, &Fleet::storeProblemChanged, this, [this, name](const QString& problem) { m_toggles.setStale(name, problem); });
    m_fleets[name] = std::move(fleet);
    f->start();
    return control;
}

Fleet* ConsoleSession::fleet(const QString& name) const
{
    auto it = m_fleets.find(name);
    return it == m_fleets.end() ? nullptr : it->second.get();
}

ClusterConnection* ConsoleSession::addConnection(const QString& name, liveops::client::ClientOptions options, const QString& environment,
                                                 unsigned feeds)
{
    removeCluster(name);
    const bool inProcess = options.channel != nullptr;
    auto connection = std::make_unique<ClusterConnection>(name, std::move(options));
    ClusterConnection* c = connection.get();
    c->setEnvironment(environment);
    c->setFeeds(feeds);
    if (!inProcess)  // live: wound down off the UI thread (the sandbox's in-process one goes with it, before it)
        c->setRetirement(retirement());
    if (feeds & ClusterConnection::Telemetry) {
        connect(c, &ClusterConnection::stateChanged, this, [this, c, name] {
            if (c->state() != ClusterConnection::State::Connecting)
                m_regions.setClusterReachable(name, c->state() == ClusterConnection::State::Connected);
        });
        connect(c, &ClusterConnection::telemetryBatch, this, [this, name](const std::vector<liveops::client::Telemetry>& samples) {
            m_regions.applyTelemetry(name, samples);
            m_history.append(name, samples);
        });
    }
    connect(c, &ClusterConnection::regionsListed, this, [this, name](const std::vector<liveops::client::Region>& regions) {
        m_regions.updateRegions(name, regions);
        backfillWhenKnown(name);
    });
    connect(c, &ClusterConnection::toggleChanged, this, [this, name](const liveops::client::Toggle& t) { m_toggles.apply(name, t); });
    connect(c, &ClusterConnection::identityChanged, this, [this, c, name] { m_toggles.setRole(name, c->identity().role); });
    // Drills, drains and failovers change what ListRegions says (status, active drill).
    connect(c, &ClusterConnection::auditAppended, this, [this, name](const liveops::AuditEntry& e) { m_changes.add(name, e); });
    connect(c, &ClusterConnection::auditAppended, this, [this, c, name](const liveops::AuditEntry& e) {
        if (e.action != "set_toggle" || e.target.rfind("admissions_open@", 0) == 0 || e.target.rfind("failover_target@", 0) == 0
            || e.target.rfind("maintenance_mode@", 0) == 0) {
            if (Fleet* f = fleet(name))
                f->refreshRegions();
            else
                c->refreshRegions();
        }
    });
    m_clusters.push_back(std::move(connection));
    emit clusterAdded(c);
    c->start();
    emit clustersChanged();
    return c;
}

void ConsoleSession::removeCluster(const QString& name)
{
    for (auto it = m_clusters.begin(); it != m_clusters.end(); ++it)
        if ((*it)->name() == name) {
            m_prometheus.cancel(name);
            m_backfillStarted.erase(name);
            m_fleets.erase(name);  // its server connections first: it uses the control connection
            m_clusters.erase(it);
            m_regions.removeCluster(name);
            m_toggles.removeCluster(name);
            m_changes.removeCluster(name);
            emit clustersChanged();
            return;
        }
}

bool ConsoleSession::startSandbox(const SandboxConfig& config, QString& error)
{
    stopSandbox();
    return adoptSandbox(Sandbox::start(config, error));
}

bool ConsoleSession::replaySandbox(const SandboxRecording& recording, QString& error)
{
    stopSandbox();
    return adoptSandbox(Sandbox::replay(recording, error));
}

bool ConsoleSession::adoptSandbox(std::unique_ptr<Sandbox> sandbox)
{
    m_sandbox = std::move(sandbox);
    if (m_sandbox)
        addCluster(QStringLiteral("sandbox"), m_sandbox->clientOptions(), QStringLiteral("sandbox"));
    return m_sandbox != nullptr;
}

namespace {
/// A move-only sandbox in the copyable functors Qt and QThreadPool take.
using SandboxHolder = std::shared_ptr<std::unique_ptr<Sandbox>>;
} // namespace

void ConsoleSession::buildSandboxInBackground(std::function<std::unique_ptr<Sandbox>(QString& error)> build)
{
    stopSandboxInBackground();
    const quint64 request = ++m_sandboxRequest;
    m_sandboxStarting = true;
    QPointer<ConsoleSession> self(this);
    m_sandboxWorker.start([this, self, request, build = std::move(build)] {
        QString error;
        SandboxHolder built = std::make_shared<std::unique_ptr<Sandbox>>(build(error));
        QMetaObject::invokeMethod(this, [this, self, request, built, error] {
            if (!self)
                return;
            if (request != m_sandboxRequest) {  // superseded: wound down where it was built
                m_sandboxWorker.start([built] { built->reset(); });
                return;
            }
            m_sandboxStarting = false;
            const bool ok = adoptSandbox(std::move(*built));
            emit sandboxStarted(ok, ok ? QString() : error);
        }, Qt::QueuedConnection);
    });
}

void ConsoleSession::startSandboxInBackground(const SandboxConfig& config)
{
    buildSandboxInBackground([config](QString& error) { return Sandbox::start(config, error); });
}

void ConsoleSession::replaySandboxInBackground(const SandboxRecording& recording)
{
    buildSandboxInBackground([recording](QString& error) { return Sandbox::replay(recording, error); });
}

void ConsoleSession::stopSandboxInBackground()
{
    removeCluster(QStringLiteral("sandbox"));  // the connection first: its calls are cancelled, not waited for
    if (m_sandbox) {
        SandboxHolder going = std::make_shared<std::unique_ptr<Sandbox>>(std::move(m_sandbox));
        m_sandboxWorker.start([going] { going->reset(); });
    }
}

void ConsoleSession::stopSandbox()
{
    removeCluster(QStringLiteral("sandbox"));
    m_sandbox.reset();
}

ClusterConnection* ConsoleSession::cluster(const QString& name) const
{
    for (const auto& c : m_clusters)
        if (c->name() == name)
            return c.get();
    return nullptr;
}

std::vector<ClusterConnection*> ConsoleSession::clusters() const
{
    std::vector<ClusterConnection*> out;
    for (const auto& c : m_clusters)
        out.push_back(c.get());
    return out;
}

} // namespace lv::console
