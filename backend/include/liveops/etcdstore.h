#pragma once

#include "liveops/etcd.h"
#include "liveops/store.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace lv::liveops {

/// Toggles and audit of a fleet, in etcd under /<fleet>/ (docs/fleet.md):
///   toggles/<scope>/<key>  a ToggleRecord (JSON); the key's mod_revision is the toggle's version
///   audit/<id, 20 digits>  a liveops.v1.AuditEntry (JSON)
///   audit-last             the newest audit id
/// Every write is one transaction that compares the toggle's revision (when the caller gave a
/// version) and audit-last's, and puts the toggles, the audit entry and the new audit-last: a
/// change never exists without its entry, and of two racing setters exactly one wins. A writer
/// that lost only the race for the audit id (another entry was appended meanwhile) tries again.
///
/// Changes made by other servers come in through a watch on /<fleet>/ from the revision the
/// toggles were loaded at; a broken watch resumes from the revision after the last one it saw
/// (on another member when its own is gone), and reloads everything when that revision was
/// compacted away.
class EtcdStore final : public Store {
public:
    /// Checks the store answers (one read) and returns it; null with `error` saying why not.
    static std::unique_ptr<EtcdStore> open(std::shared_ptr<EtcdClient> client, const std::string& fleet, std::string& error);
    ~EtcdStore() override;
    EtcdStore(const EtcdStore&) = delete;
    EtcdStore& operator=(const EtcdStore&) = delete;

    std::optional<std::vector<StoredToggle>> toggles(std::string& error) const override;
    std::optional<StoredToggle> toggle(const std::string& key, const std::string& scope) const override;
    SetResult setToggle(const std::string& key, const std::string& scope, const ToggleValue& value, std::uint64_t expectedVersion,
                        const AuditEntry& who) override;
    SetResult clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion, const AuditEntry& entry) override;
    std::optional<OperationResult> applyOperation(const std::vector<std::pair<std::string, ToggleChange>>& changes, const AuditEntry& entry,
                                                  StoreFailure& failure) override;
    std::optional<AuditEntry> auditEntry(std::uint64_t id) const override;
    std::optional<AuditEntry> appendAudit(const AuditEntry& entry, StoreFailure* failure) override;
    bool appendAudits(const std::vector<AuditEntry>& entries, std::string& error) override;
    std::vector<AuditEntry> audit(std::uint64_t afterId, std::size_t limit, const std::string& target) const override;

    void setChangeListener(ChangeListener listener) override;
    void stopChanges() override;

    const std::string& prefix() const { return m_prefix; }
    /// How many times the watch was (re)established, and how many full reloads it needed.
    std::uint64_t watchStarts() const { return m_watchStarts.load(); }
    std::uint64_t reloads() const { return m_reloads.load(); }

private:
    EtcdStore(std::shared_ptr<EtcdClient> client, std::string prefix) : m_client(std::move(client)), m_prefix(std::move(prefix)) {}
    struct Current;
    std::string toggleKey(const std::string& key, const std::string& scope) const;
    std::string auditKey(std::uint64_t id) const;
    /// The toggle at (key, scope) and the newest audit id, read together.
    bool readCurrent(const std::string& key, const std::string& scope, Current& current, StoreFailure& failure) const;
    /// One attempt: puts `writes` (toggles), the entries and audit-last, comparing audit-last's
    /// revision and, when `compareKey` is not empty, that key's revision with `compareRevision`.
    /// Returns the revision written at, 0 when a compare failed, -1 on failure.
    std::int64_t commit(const std::vector<std::pair<std::string, std::string>>& writes, const std::vector<AuditEntry>& entries,
                        std::int64_t auditLastRevision, const std::string& compareKey, std::int64_t compareRevision,
                        StoreFailure& failure);
    std::optional<std::vector<AuditEntry>> appendEntries(std::vector<AuditEntry> entries, StoreFailure& failure);
    std::optional<std::vector<StoredToggle>> loadAll(std::int64_t& revision, std::string& error) const;
    void watchLoop();

    std::shared_ptr<EtcdClient> m_client;
    std::string m_prefix;  // "/<fleet>/"
    mutable std::mutex m_mutex;
    mutable std::int64_t m_loadedRevision = 0;  // guarded by m_mutex: where the watch starts
    ChangeListener m_listener;
    std::mutex m_watchMutex;
    std::condition_variable m_watchWake;
    grpc::ClientContext* m_watchContext = nullptr;  // guarded by m_watchMutex
    bool m_stopping = false;                        // guarded by m_watchMutex
    std::atomic<std::uint64_t> m_watchStarts{0};
    std::atomic<std::uint64_t> m_reloads{0};
    std::thread m_watch;
};

} // namespace lv::liveops
