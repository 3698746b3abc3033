#pragma once

#include <QObject>
#include <QString>

#include <functional>
#include <map>
#include <vector>

namespace lv::console {

/// A live cluster the console remembers: where it is. Its token is not here (see TokenVault).
struct ClusterEntry {
    QString name;
    QString target;      ///< host:port of syncd's API
    QString tlsCaFile;   ///< PEM of the CA to trust; empty = plaintext
    QString environment = QStringLiteral("production");  ///< production, staging or development
    /// A fleet: `target` is one of its servers (or its Service), through which the console lists
    /// and connects to all of them.
    bool fleet = false;
    /// The cluster's Prometheus (http://host:9090), whose history fills the latency views and SLO
    /// windows at connect; empty: none.
    QString prometheusUrl = QString();
};

/// The clusters the user added, persisted in QSettings (group "clusters"): names and endpoints
/// only, never tokens.
class ClusterDirectory {
public:
    std::vector<ClusterEntry> load() const;
    void save(const std::vector<ClusterEntry>& entries) const;
    void add(const ClusterEntry& entry) const;   ///< replaces an entry of the same name
    void remove(const QString& name) const;
};

/// API tokens in the system keychain (Secret Service / KWallet through QtKeychain), asynchronous.
/// Where no keychain service runs, a token is kept in memory for this session only, and the
/// callback says so in words the UI shows — it is never written to plain settings.
class TokenVault : public QObject {
    Q_OBJECT
public:
    /// What one keychain call ended with: no service at all (session-only storage is the honest
    /// fallback), a transient failure (retried), or the entry is missing.
    enum class Result { Ok, NoService, Transient, NotFound };
    enum class Op { Write, Read, Delete };
    /// Runs one keychain call and reports (result, error text, data read). The default runs
    /// QtKeychain; tests give their own.
    using Backend = std::function<void(Op op, const QString& key, const QString& data,
                                       std::function<void(Result, const QString& error, const QString& data)> finished)>;
    static constexpr int kAttempts = 3;  ///< a transient failure is tried this often in all

    explicit TokenVault(QObject* parent = nullptr);
    void setBackend(Backend backend) { m_backend = std::move(backend); }
    /// Waits between attempts (ms): 250 then 1000 by default.
    void setRetryDelays(std::vector<int> delays) { m_delays = std::move(delays); }

    struct Outcome {
        bool ok = false;            ///< the token is available (stored, or read)
        bool sessionOnly = false;   ///< kept in memory only: no keychain service
        QString token;              ///< read(): the token
        QString message;            ///< for the user; empty when all is well
    };
    using Done = std::function<void(const Outcome&)>;

    void store(const QString& cluster, const QString& token, Done done);
    void read(const QString& cluster, Done done);
    void forget(const QString& cluster);

    static QString serviceName() { return QStringLiteral("lifeverse-liveops-console"); }
    /// The key a cluster's token is kept under: its name *and* endpoint, so a cluster re-added
    /// under the same name at another host is never sent the token meant for the first.
    static QString keyFor(const ClusterEntry& entry) { return entry.name + QLatin1Char('@') + entry.target; }

signals:
    /// A transient keychain failure; it is tried again (`attempt` of kAttempts next).
    void retrying(const QString& cluster, int attempt, const QString& error);

private:
    void run(Op op, const QString& key, const QString& data, int attempt,
             std::function<void(Result, const QString& error, const QString& data)> finished);

    std::map<QString, QString> m_sessionOnly;
    Backend m_backend;
    std::vector<int> m_delays{250, 1000};
};

} // namespace lv::console
