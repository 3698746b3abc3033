#pragma once

#include "liveops/client.h"

#include <QMap>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace lv::console {

namespace lc = lv::liveops::client;

/// One syncd cluster as the console sees it: the client library's threads on one side, the UI
/// thread on the other. Everything this object emits, it emits on the thread it lives on (the UI
/// thread); callbacks from gRPC threads only queue. Telemetry is coalesced: however many samples
/// arrive between two turns of the event loop, they reach the UI as one batch.
class ClusterConnection : public QObject {
    Q_OBJECT
public:
    enum class State { Connecting, Connected, Reconnecting };

    ClusterConnection(QString name, lc::ClientOptions options, QObject* parent = nullptr);
    /// Nothing of the client reaches this object after it; the client's watches are stopped and
    /// its calls in flight waited for here, or by the retirement set (off this thread).
    ~ClusterConnection() override;
    /// Where the client is wound down when this object goes: a worker that runs the job given
    /// (the session's). Unset, the destructor does it and may wait for calls in flight.
    using Retirement = std::function<void(std::function<void()> job)>;
    void setRetirement(Retirement retire) { m_retire = std::move(retire); }

    const QString& name() const { return m_name; }
    /// "production", "staging", "development" or "sandbox": shown wherever a change is made, and
    /// on production destructive changes are confirmed by typing.
    const QString& environment() const { return m_environment; }
    void setEnvironment(const QString& environment) { m_environment = environment; }
    /// Plaintext (no TLS) to a host that is not this machine: tokens and changes cross the
    /// network readable by anyone on the path. Shown as a warning wherever the cluster is.
    bool plaintextOverNetwork() const { return m_plaintextOverNetwork; }
    /// Whether `target` ("host:port", "[v6]:port", "dns:///host:port") names this machine.
    static bool isLoopback(const QString& target);
    State state() const { return m_state; }
    /// "connected", "connecting…", "reconnecting in 1.2 s (attempt 3): <error>", followed by what
    /// went wrong meanwhile: a call that failed ("regions: Deadline Exceeded") and messages
    /// ignored because no sane syncd would send them.
    QString stateText() const;
    /// Messages from this cluster dropped as nonsense since the connection was made.
    int nonsenseCount() const { return m_nonsense; }
    /// The caller's identity once WhoAmI answered (role Viewer until then: read-only by default).
    const lc::Identity& identity() const { return m_identity; }

    /// What start() asks for and watches. A fleet's control connection takes identity, toggles
    /// and audit (the fleet's, once); each of its servers' connections only regions and telemetry.
    enum Feed : unsigned { Identity = 1, Regions = 2, Telemetry = 4, Toggles = 8, Audit = 16, AllFeeds = 31 };
    void setFeeds(unsigned feeds) { m_feeds = feeds; }
    unsigned feeds() const { return m_feeds; }

    /// Asks who we are, lists regions, and starts the telemetry, toggle and audit watches (those
    /// of feeds() only).
    void start();
    void refreshRegions();

    template <typename T>
    using Done = std::function<void(const lc::Reply<T>&)>;
    /// Each runs asynchronously; `done` runs later on this object's thread (never if it is gone).
    void setToggle(const std::string& key, const std::string& scope, const liveops::ToggleValue& value, std::uint64_t expectedVersion,
                   const std::string& reason, Done<lc::Toggle> done);
    void clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion, const std::string& reason,
                     Done<lc::Toggle> done);
    void undrainRegion(const std::string& region, const std::string& reason, Done<liveops::AuditEntry> done);
    void drainRegion(const std::string& region, const std::string& failoverTo, const std::string& reason, Done<liveops::AuditEntry> done);
    void failover(const std::string& from, const std::string& to, const std::string& reason, Done<liveops::AuditEntry> done);
    void drainServer(const std::string& serverId, const std::string& failoverTo, const std::string& reason, Done<liveops::AuditEntry> done);
    void undrainServer(const std::string& serverId, const std::string& reason, Done<liveops::AuditEntry> done);
    void startDrill(const std::string& region, lc::DrillKind kind, double latencyMs, double lossPercent, std::chrono::seconds duration,
                    const std::string& reason, Done<liveops::AuditEntry> done);
    void cancelDrill(const std::string& region, const std::string& reason, Done<liveops::AuditEntry> done);
    void listAudit(const std::string& target, Done<std::vector<liveops::AuditEntry>> done);
    void listToggles(const std::string& scope, Done<std::vector<lc::Toggle>> done);
    void listServers(Done<lc::ServerList> done);

signals:
    void stateChanged();
    void identityChanged();
    void regionsListed(const std::vector<lv::liveops::client::Region>& regions);
    void telemetryBatch(const std::vector<lv::liveops::client::Telemetry>& samples);
    void toggleChanged(const lv::liveops::client::Toggle& toggle);
    void auditAppended(const lv::liveops::AuditEntry& entry);

private:
    /// Runs `work` on this object's thread, later; dropped if the object is gone by then.
    void post(std::function<void()> work);
    template <typename T>
    std::function<void(lc::Reply<T>)> onThread(Done<T> done);
    void setState(State state, QString text);
    void flushTelemetry();
    void noteCall(const char* what, const lc::CallStatus& status);
    void askIdentity();
    /// What the client's threads reach this object through: they post while `self` is set, and
    /// the destructor clears it (under the mutex) before the client is wound down.
    struct Link {
        std::mutex mutex;
        ClusterConnection* self = nullptr;
        std::vector<lc::Telemetry> pending;  // telemetry not yet flushed to the UI
        void post(std::function<void()> work);
    };
    static lc::ClientOptions withReporting(lc::ClientOptions options, const std::shared_ptr<Link>& link);

    QString m_name;
    QString m_environment = QStringLiteral("production");
    bool m_plaintextOverNetwork = false;
    std::shared_ptr<Link> m_link;
    std::unique_ptr<lc::LiveOpsClient> m_client;
    Retirement m_retire;
    State m_state = State::Connecting;
    QString m_stateText;
    QMap<QString, QString> m_callProblems;  // our own calls that failed, by call, until it succeeds
    int m_nonsense = 0;
    QString m_lastNonsense;
    lc::Identity m_identity;
    unsigned m_feeds = AllFeeds;
};

} // namespace lv::console
