#include "console/clusterconnection.h"

#include <QMetaObject>
#include <QHostAddress>
#include <QPointer>

namespace lv::console {

void ClusterConnection::Link::post(std::function<void()> work)
{
    std::lock_guard lock(mutex);
    if (self)  // queued to the object: Qt drops the event if the object is deleted before it runs
        QMetaObject::invokeMethod(self, std::move(work), Qt::QueuedConnection);
}

ClusterConnection::ClusterConnection(QString name, lc::ClientOptions options, QObject* parent)
    : QObject(parent), m_name(std::move(name)),
      m_plaintextOverNetwork(!options.channel && options.tlsRootCertFile.empty() && !isLoopback(QString::fromStdString(options.target))),
      m_link(std::make_shared<Link>()), m_stateText(tr("connecting…"))
{
    m_link->self = this;
    m_client = std::make_unique<lc::LiveOpsClient>(withReporting(std::move(options), m_link));
}

bool ClusterConnection::isLoopback(const QString& target)
{
    QString host = target;
    if (host.startsWith(QLatin1String("dns:///")))
        host = host.mid(7);
    else if (host.startsWith(QLatin1String("ipv4:")) || host.startsWith(QLatin1String("ipv6:")))
        host = host.mid(5);
    if (host.startsWith(QLatin1Char('[')))
        host = host.mid(1, host.indexOf(QLatin1Char(']')) - 1);
    else if (host.count(QLatin1Char(':')) == 1)
        host = host.section(QLatin1Char(':'), 0, 0);
    if (host.startsWith(QLatin1String("unix:")))
        return true;
    const QHostAddress address(host);
    return host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0 || (!address.isNull() && address.isLoopback());
}

lc::ClientOptions ClusterConnection::withReporting(lc::ClientOptions options, const std::shared_ptr<Link>& link)
{
    options.onNonsense = [link, self = link->self](const std::string& what) {
        link->post([self, what = QString::fromStdString(what)] {  // runs only while self lives
            ++self->m_nonsense;
            self->m_lastNonsense = what;
            emit self->stateChanged();
        });
    };
    return options;
}

QString ClusterConnection::stateText() const
{
    QString text = m_stateText;
    for (const QString& problem : m_callProblems)
        text += tr("; %1").arg(problem);
    if (m_nonsense == 1)
        text += tr("; ignored 1 malformed message from syncd: %1").arg(m_lastNonsense);
    else if (m_nonsense > 1)
        text += tr("; ignored %1 malformed messages from syncd, the latest: %2").arg(m_nonsense).arg(m_lastNonsense);
    return text;
}

void ClusterConnection::noteCall(const char* what, const lc::CallStatus& status)
{
    const QString key = QLatin1String(what);
    const QString problem = status.ok() ? QString() : tr("%1 failed: %2").arg(key, QString::fromStdString(status.message));
    if (problem == m_callProblems.value(key))
        return;
    if (problem.isEmpty())
        m_callProblems.remove(key);
    else
        m_callProblems.insert(key, problem);
    emit stateChanged();
}

ClusterConnection::~ClusterConnection()
{
    {
        std::lock_guard lock(m_link->mutex);
        m_link->self = nullptr;  // from here on no callback of the client reaches this object
    }
    if (!m_retire) {
        m_client->stopWatches();  // no watch callback runs after this; calls in flight finish in ~LiveOpsClient
        return;
    }
    // Stopping watches joins their threads and waits for calls in flight (up to their deadline
    // when a server is gone): never on the UI thread.
    std::shared_ptr<lc::LiveOpsClient> client(std::move(m_client));
    m_retire([client] { client->stopWatches(); });
}

void ClusterConnection::post(std::function<void()> work) { m_link->post(std::move(work)); }

template <typename T>
std::function<void(lc::Reply<T>)> ClusterConnection::onThread(Done<T> done)
{
    return [link = m_link, done = std::move(done)](lc::Reply<T> reply) {
        link->post([done, reply = std::move(reply)] {
            if (done)
                done(reply);
        });
    };
}

void ClusterConnection::setState(State state, QString text)
{
    if (state == m_state && text == m_stateText)
        return;
    m_state = state;
    m_stateText = std::move(text);
    emit stateChanged();
}

void ClusterConnection::askIdentity()
{
    m_client->whoAmI(onThread<lc::Identity>([this](const lc::Reply<lc::Identity>& reply) {
        noteCall("who am I", reply.status);
        if (!reply.status.ok())
            return;
        m_identity = reply.value;
        emit identityChanged();
    }));
}

void ClusterConnection::start()
{
    if (m_feeds & Identity)
        askIdentity();
    if (m_feeds & Regions)
        refreshRegions();
    auto onState = [this, link = m_link](const lc::StreamState& s) {
        link->post([this, s] {
            if (s.connected) {
                m_callProblems.clear();  // a new connection: earlier failures are history
                setState(State::Connected, tr("connected"));
                if ((m_feeds & Identity) && m_identity.name.empty())
                    askIdentity();  // it failed while syncd was away
                if (m_feeds & Regions)
                    refreshRegions();  // players and endpoints may have changed while we were away
                return;
            }
            setState(State::Reconnecting, tr("reconnecting in %1 s (attempt %2): %3")
                                              .arg(double(s.retryIn.count()) / 1000.0, 0, 'f', 1)
                                              .arg(s.attempt)
                                              .arg(QString::fromStdString(s.lastError.message)));
        });
    };
    // The connection's state follows the first watch it has: telemetry, else toggles, else audit.
    const unsigned watches = m_feeds & (Telemetry | Toggles | Audit);
    const auto stateFor = [&](Feed feed) { return (watches & (unsigned(feed) - 1)) == 0 ? lc::LiveOpsClient::StateCallback(onState) : nullptr; };
    if (m_feeds & Telemetry)
        m_client->watchTelemetry({}, 0,
                                [this, link = m_link](const lc::Telemetry& t) {
                                    std::lock_guard lock(link->mutex);
                                    if (!link->self)
                                        return;
                                    link->pending.push_back(t);
                                    if (link->pending.size() == 1)
                                        QMetaObject::invokeMethod(this, [this] { flushTelemetry(); }, Qt::QueuedConnection);
                                },
                                stateFor(Telemetry));
    if (m_feeds & Toggles)
        m_client->watchToggles([this, link = m_link](const lc::Toggle& t) { link->post([this, t] { emit toggleChanged(t); }); }, stateFor(Toggles));
    if (m_feeds & Audit)
        m_client->watchAudit(0, [this, link = m_link](const liveops::AuditEntry& e) { link->post([this, e] { emit auditAppended(e); }); },
                             stateFor(Audit));
}

void ClusterConnection::flushTelemetry()
{
    std::vector<lc::Telemetry> batch;
    {
        std::lock_guard lock(m_link->mutex);
        batch.swap(m_link->pending);
    }
    if (!batch.empty())
        emit telemetryBatch(batch);
}

void ClusterConnection::refreshRegions()
{
    m_client->listRegions(onThread<std::vector<lc::Region>>([this](const lc::Reply<std::vector<lc::Region>>& reply) {
        noteCall("listing regions", reply.status);
        if (reply.status.ok())
            emit regionsListed(reply.value);
    }));
}

void ClusterConnection::setToggle(const std::string& key, const std::string& scope, const liveops::ToggleValue& value,
                                  std::uint64_t expectedVersion, const std::string& reason, Done<lc::Toggle> done)
{
    m_client->setToggle(key, scope, value, expectedVersion, reason, onThread<lc::Toggle>(std::move(done)));
}

void ClusterConnection::clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion, const std::string& reason,
                                    Done<lc::Toggle> done)
{
    m_client->clearToggle(key, scope, expectedVersion, reason, onThread<lc::Toggle>(std::move(done)));
}

void ClusterConnection::undrainRegion(const std::string& region, const std::string& reason, Done<liveops::AuditEntry> done)
{
    m_client->undrainRegion(region, reason, onThread<liveops::AuditEntry>(std::move(done)));
}

void ClusterConnection::drainRegion(const std::string& region, const std::string& failoverTo, const std::string& reason,
                                    Done<liveops::AuditEntry> done)
{
    m_client->drainRegion(region, failoverTo, reason, onThread<liveops::AuditEntry>(std::move(done)));
}

void ClusterConnection::failover(const std::string& from, const std::string& to, const std::string& reason, Done<liveops::AuditEntry> done)
{
    m_client->failover(from, to, reason, onThread<liveops::AuditEntry>(std::move(done)));
}

void ClusterConnection::drainServer(const std::string& serverId, const std::string& failoverTo, const std::string& reason,
                                    Done<liveops::AuditEntry> done)
{
    m_client->drainServer(serverId, failoverTo, reason, onThread<liveops::AuditEntry>(std::move(done)));
}

void ClusterConnection::undrainServer(const std::string& serverId, const std::string& reason, Done<liveops::AuditEntry> done)
{
    m_client->undrainServer(serverId, reason, onThread<liveops::AuditEntry>(std::move(done)));
}

void ClusterConnection::startDrill(const std::string& region, lc::DrillKind kind, double latencyMs, double lossPercent,
                                   std::chrono::seconds duration, const std::string& reason, Done<liveops::AuditEntry> done)
{
    m_client->startDrill(region, kind, latencyMs, lossPercent, duration, reason, onThread<liveops::AuditEntry>(std::move(done)));
}

void ClusterConnection::cancelDrill(const std::string& region, const std::string& reason, Done<liveops::AuditEntry> done)
{
    m_client->cancelDrill(region, reason, onThread<liveops::AuditEntry>(std::move(done)));
}

void ClusterConnection::listAudit(const std::string& target, Done<std::vector<liveops::AuditEntry>> done)
{
    m_client->listAudit(0, 1000, target, onThread<std::vector<liveops::AuditEntry>>(std::move(done)));
}

} // namespace lv::console

namespace lv::console {

void ClusterConnection::listToggles(const std::string& scope, Done<std::vector<lc::Toggle>> done)
{
    m_client->listToggles(scope, onThread<std::vector<lc::Toggle>>(std::move(done)));
}

void ClusterConnection::listServers(Done<lc::ServerList> done)
{
    m_client->listServers(onThread<lc::ServerList>([this, done = std::move(done)](const lc::Reply<lc::ServerList>& reply) {
        noteCall("listing servers", reply.status);
        if (done)
            done(reply);
    }));
}

} // namespace lv::console
