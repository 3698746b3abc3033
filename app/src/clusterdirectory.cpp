#include "console/clusterdirectory.h"

#include <QSettings>
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
        out.push_back({settings.value(QStringLiteral("name")).toString(), settings.value(QStringLiteral("target")).toString(),
                       settings.value(QStringLiteral("tlsCaFile")).toString(),
                       settings.value(QStringLiteral("environment"), QStringLiteral("production")).toString()});
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

namespace {
bool noService(QKeychain::Error error)
{
    return error == QKeychain::NoBackendAvailable || error == QKeychain::NotImplemented || error == QKeychain::OtherError;
}
} // namespace

void TokenVault::store(const QString& cluster, const QString& token, Done done)
{
    auto* job = new QKeychain::WritePasswordJob(serviceName(), this);
    job->setKey(cluster);
    job->setTextData(token);
    job->setAutoDelete(true);
    connect(job, &QKeychain::Job::finished, this, [this, cluster, token, done](QKeychain::Job* j) {
        Outcome outcome;
        if (j->error() == QKeychain::NoError) {
            outcome.ok = true;
            m_sessionOnly.erase(cluster);
        } else if (noService(j->error())) {
            m_sessionOnly[cluster] = token;
            outcome.ok = true;
            outcome.sessionOnly = true;
            outcome.message = tr("No keychain service is running (%1): the token for %2 is kept for this session only and will be "
                                 "asked for again next time.")
                                  .arg(j->errorString(), cluster);
        } else {
            outcome.message = tr("The keychain refused to store the token for %1: %2").arg(cluster, j->errorString());
        }
        done(outcome);
    });
    job->start();
}

void TokenVault::read(const QString& cluster, Done done)
{
    if (auto it = m_sessionOnly.find(cluster); it != m_sessionOnly.end()) {
        done({true, true, it->second, {}});
        return;
    }
    auto* job = new QKeychain::ReadPasswordJob(serviceName(), this);
    job->setKey(cluster);
    job->setAutoDelete(true);
    connect(job, &QKeychain::Job::finished, this, [cluster, done](QKeychain::Job* j) {
        Outcome outcome;
        if (j->error() == QKeychain::NoError) {
            outcome.ok = true;
            outcome.token = static_cast<QKeychain::ReadPasswordJob*>(j)->textData();
        } else if (j->error() == QKeychain::EntryNotFound) {
            outcome.message = tr("No token is stored for %1.").arg(cluster);
        } else {
            outcome.sessionOnly = noService(j->error());
            outcome.message = tr("Could not read the token for %1 from the keychain: %2").arg(cluster, j->errorString());
        }
        done(outcome);
    });
    job->start();
}

void TokenVault::forget(const QString& cluster)
{
    m_sessionOnly.erase(cluster);
    auto* job = new QKeychain::DeletePasswordJob(serviceName(), this);
    job->setKey(cluster);
    job->setAutoDelete(true);
    job->start();
}

} // namespace lv::console
