#include "console/session.h"

namespace lv::console {

ConsoleSession::ConsoleSession(QObject* parent)
    : QObject(parent), m_incidents(std::make_unique<IncidentDesk>()), m_recorder(std::make_unique<IncidentRecorder>(*this, *m_incidents))
{
}

ConsoleSession::~ConsoleSession()
{
    m_recorder.reset();
    m_clusters.clear();  // clients stop before the in-process server they talk to
    m_sandbox.reset();
}

ClusterConnection* ConsoleSession::addCluster(const QString& name, liveops::client::ClientOptions options)
{
    removeCluster(name);
    auto connection = std::make_unique<ClusterConnection>(name, std::move(options));
    ClusterConnection* c = connection.get();
    connect(c, &ClusterConnection::regionsListed, this, [this, name](const std::vector<liveops::client::Region>& regions) {
        m_regions.updateRegions(name, regions);
    });
    connect(c, &ClusterConnection::telemetryBatch, this, [this, name](const std::vector<liveops::client::Telemetry>& samples) {
        m_regions.applyTelemetry(name, samples);
        m_history.append(name, samples);
    });
    connect(c, &ClusterConnection::toggleChanged, this, [this, name](const liveops::client::Toggle& t) { m_toggles.apply(name, t); });
    connect(c, &ClusterConnection::identityChanged, this, [this, c, name] { m_toggles.setRole(name, c->identity().role); });
    // Drills, drains and failovers change what ListRegions says (status, active drill).
    connect(c, &ClusterConnection::auditAppended, this, [c](const liveops::AuditEntry& e) {
        if (e.action != "set_toggle" || e.target.rfind("admissions_open@", 0) == 0 || e.target.rfind("failover_target@", 0) == 0
            || e.target.rfind("maintenance_mode@", 0) == 0)
            c->refreshRegions();
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
            m_clusters.erase(it);
            m_regions.removeCluster(name);
            m_toggles.removeCluster(name);
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
        addCluster(QStringLiteral("sandbox"), m_sandbox->clientOptions());
    return m_sandbox != nullptr;
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
