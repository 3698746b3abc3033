#include "console/clusterdirectory.h"

#include <QSettings>
#include <QTimer>
#include <QDBusConnection>
#include <qt6keychain/keychain.h>

namespace lv::console {

std::vector<ClusterEntry> ClusterDirectory::load() const
{
    QSettings settings;
    std::vector<ClusterEntry> out;
    const int n = settings.beginReadArray(QStringLiteral("clusters"));
    for (int i = 0; i < n; ++i) {
        settings.setArrayIndex(i);
        // Saved before environments existed: production, the one that asks before destroying.
        ClusterEntry e;
        e.name = settings.value(QStringLiteral("name")).toString();
        e.target = settings.value(QStringLiteral("target")).toString();
        e.tlsCaFile = settings.value(QStringLiteral("tlsCaFile")).toString();
        e.environment = settings.value(QStringLiteral("environment"), QStringLiteral("production")).toString();
        e.fleet = settings.value(QStringLiteral("fleet"), false).toBool();
        e.prometheusUrl = settings.value(QStringLiteral("prometheus")).toString();
        out.push_back(std::move(e));
    }
    settings.endArray();
    return out;
}

void ClusterDirectory::save(const std::vector<ClusterEntry>& entries) const
{
    QSettings settings;
    settings.remove(QStringLiteral("clusters"));
    settings.beginWriteArray(QStringLiteral("clusters"), static_cast<int>(entries.size()));
    for (int i = 0; i < static_cast<int>(entries.size()); ++i) {
        settings.setArrayIndex(i);
        settings.setValue(QStringLiteral("name"), entries[static_cast<std::size_t>(i)].name);
        settings.setValue(QStringLiteral("target"), entries[static_cast<std::size_t>(i)].target);
        settings.setValue(QStringLiteral("tlsCaFile"), entries[static_cast<std::size_t>(i)].tlsCaFile);
        settings.setValue(QStringLiteral("environment"), entries[static_cast<std::size_t>(i)].environment);
        settings.setValue(QStringLiteral("fleet"), entries[static_cast<std::size_t>(i)].fleet);
        settings.setValue(QStringLiteral("prometheus"), entries[static_cast<std::size_t>(i)].prometheusUrl);
    }
    settings.endArray();
}

void ClusterDirectory::add(const ClusterEntry& entry) const
{
    auto entries = load();
    std::erase_if(entries, [&](const ClusterEntry& e) { return e.name == entry.name; });
    entries.push_back(entry);
    save(entries);
}

void ClusterDirectory::remove(const QString& name) const
{
    auto entries = load();
    std::erase_if(entries, [&](const ClusterEntry& e) { return e.name == name; });
    save(entries);
}

TokenVault::TokenVault(QObject* parent) : QObject(parent)
{
    m_backend = [this](Op op, const QString& key, const QString& data, std::function<void(Result, const QString&, const QString&)> finished) {
        QKeychain::Job* job = nullptr;
        if (op == Op::Write) {
            auto* write = new QKeychain::WritePasswordJob(serviceName(), this);
            write->setTextData(data);
            job = write;
        } else if (op == Op::Read) {
            job = new QKeychain::ReadPasswordJob(serviceName(), this);
        } else {
            job = new QKeychain::DeletePasswordJob(serviceName(), this);
        }
        job->setKey(key);
        job->setAutoDelete(true);
        connect(job, &QKeychain::Job::finished, this, [finished](QKeychain::Job* j) {
            switch (j->error()) {
            case QKeychain::NoError:
                finished(Result::Ok, {}, qobject_cast<QKeychain::ReadPasswordJob*>(j) ? static_cast<QKeychain::ReadPasswordJob*>(j)->textData() : QString());
                return;
            case QKeychain::EntryNotFound: finished(Result::NotFound, j->errorString(), {}); return;
            // No keychain on this desktop at all: nothing to wait for.
            case QKeychain::NoBackendAvailable:
            case QKeychain::NotImplemented: finished(Result::NoService, j->errorString(), {}); return;
            // Without a session bus there is no secret service to wait for (that is where
            // QtKeychain's Linux backends answer OtherError); with one, a locked collection, a
            // busy or restarting daemon, a refused prompt: worth another try.
            default:
                finished(
#ifdef Q_OS_LINUX
                    !QDBusConnection::sessionBus().isConnected() ? Result::NoService :
#endif
                                                                 Result::Transient,
                    j->errorString(), {});
                return;
            }
        });
        job->start();
    };
}

void TokenVault::run(Op op, const QString& key, const QString& data, int attempt,
                     std::function<void(Result, const QString&, const QString&)> finished)
{
    m_backend(op, key, data, [this, op, key, data, attempt, finished](Result result, const QString& error, const QString& read) {
        if (result != Result::Transient || attempt >= kAttempts) {
            finished(result, attempt > 1 && result == Result::Transient ? tr("%1 (tried %2 times)").arg(error).arg(attempt) : error, read);
            return;
        }
        emit retrying(key, attempt + 1, error);
        const int wait = m_delays.empty() ? 0 : m_delays[std::min<std::size_t>(static_cast<std::size_t>(attempt - 1), m_delays.size() - 1)];
        QTimer::singleShot(wait, this, [this, op, key, data, attempt, finished] { run(op, key, data, attempt + 1, finished); });
    });
}

void TokenVault::store(const QString& cluster, const QString& token, Done done)
{
    run(Op::Write, cluster, token, 1, [this, cluster, token, done](Result result, const QString& error, const QString&) {
        Outcome outcome;
        if (result == Result::Ok) {
            outcome.ok = true;
            m_sessionOnly.erase(cluster);
        } else if (result == Result::NoService) {
            m_sessionOnly[cluster] = token;
            outcome.ok = true;
            outcome.sessionOnly = true;
            outcome.message = tr("No keychain service is running (%1): the token for %2 is kept for this session only and will be "
                                 "asked for again next time.")
                                  .arg(error, cluster);
        } else {
            // Transient and still failing: said, and not quietly kept in memory instead.
            outcome.message = tr("The keychain could not store the token for %1: %2. It is not saved; add the cluster again to retry.").arg(cluster, error);
        }
        done(outcome);
    });
}

void TokenVault::read(const QString& cluster, Done done)
{
    if (auto it = m_sessionOnly.find(cluster); it != m_sessionOnly.end()) {
        done({true, true, it->second, {}});
        return;
    }
    run(Op::Read, cluster, {}, 1, [cluster, done](Result result, const QString& error, const QString& token) {
        Outcome outcome;
        if (result == Result::Ok) {
            outcome.ok = true;
            outcome.token = token;
        } else if (result == Result::NotFound) {
            outcome.message = tr("No token is stored for %1.").arg(cluster);
        } else {
            outcome.sessionOnly = result == Result::NoService;
            outcome.message = tr("Could not read the token for %1 from the keychain: %2").arg(cluster, error);
        }
        done(outcome);
    });
}

void TokenVault::forget(const QString& cluster)
{
    m_sessionOnly.erase(cluster);
    run(Op::Delete, cluster, {}, 1, [](Result, const QString&, const QString&) {});
}

} // namespace lv::console
