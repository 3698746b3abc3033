#pragma once

#include "liveops/toggles.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace lv::liveops {

/// A toggle value that has been set (toggles never set are at their default, version 0).
struct StoredToggle {
    std::string key;
    std::string scope;  ///< region name, or "*" for cluster-wide
    ToggleValue value;
    std::uint64_t version = 0;
    std::uint64_t lastAuditId = 0;  ///< the audit entry of the last change (0 = none)
    bool cleared = false;           ///< cleared at its scope: inherits again (the row keeps its version)
};

/// One toggle an operation sets (the scope is given alongside).
struct ToggleChange {
    std::string key;
    ToggleValue value;
};

/// One line of the append-only audit log.
struct AuditEntry {
    std::uint64_t id = 0;
    std::int64_t timeMs = 0;  ///< Unix time in milliseconds
    std::string actor;
    Role role = Role::Viewer;
    std::string action;       ///< set_toggle, drain, failover, drill_start, drill_cancel, drill_end
    std::string target;       ///< e.g. "snapshot_hz@eu-west"
    std::string oldValue;
    std::string newValue;
    std::string reason;
};

/// Toggles and audit in one SQLite file: WAL, synchronous=FULL (a change is on disk before it is
/// acknowledged, and survives kill -9), audit append-only (triggers refuse UPDATE and DELETE).
/// Thread-safe: one connection for writes (and the reads inside them), serialised by a mutex, and
/// a read-only one for audit reads, so paging through the audit never waits behind an fsync.
class Store {
public:
    /// Opens or creates the store; on failure returns null and sets `error`.
    static std::unique_ptr<Store> open(const std::string& path, std::string& error);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    /// Every set toggle; nullopt with `error` naming the row when one is damaged.
    std::optional<std::vector<StoredToggle>> toggles(std::string& error) const;
    std::optional<StoredToggle> toggle(const std::string& key, const std::string& scope) const;

    enum class Outcome : std::uint8_t { Applied, Conflict, Failed };
    struct SetResult {
        Outcome outcome = Outcome::Failed;
        StoredToggle current;  ///< after the call (the newer value on Conflict)
        AuditEntry audit;      ///< the entry written (Applied only)
        std::string error;     ///< Failed only
    };
    /// Compare-and-set in one transaction: applies only when the stored version equals
    /// `expectedVersion` (0 = never set), bumps the version and appends the audit entry
    /// (`who` gives time, actor, role and reason). Nothing is written on Conflict.
    SetResult setToggle(const std::string& key, const std::string& scope, const ToggleValue& value,
                        std::uint64_t expectedVersion, const AuditEntry& who);
    /// Removes the value set at `scope` (the scope then inherits again), compare-and-set on its
    /// version, with the audit entry `entry` (action, target and old value filled in here; its
    /// new value says what applies now) in the same transaction. Conflict when the version
    /// differs or nothing is set there (current.version then says which).
    SetResult clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion, const AuditEntry& entry);
    struct OperationResult {
        AuditEntry audit;
        std::vector<StoredToggle> toggles;  ///< as written, versions bumped
    };
    /// An operation (drain, failover) in one transaction: one audit entry, and each (scope, change)
    /// written unconditionally with its version bumped and pointing at that entry.
    std::optional<OperationResult> applyOperation(const std::vector<std::pair<std::string, ToggleChange>>& changes,
                                                  const AuditEntry& entry, std::string& error);
    std::optional<AuditEntry> auditEntry(std::uint64_t id) const;
    /// Appends an audit entry for an operation (drain, failover, drill); returns it with its id.
    std::optional<AuditEntry> appendAudit(const AuditEntry& entry);
    /// Appends many entries in one transaction (one fsync): imports, and tests of large logs.
    bool appendAudits(const std::vector<AuditEntry>& entries, std::string& error);
    /// Entries with id > afterId, oldest first, at most `limit`, optionally only for `target`.
    std::vector<AuditEntry> audit(std::uint64_t afterId, std::size_t limit, const std::string& target = {}) const;

private:
    Store(sqlite3* db, sqlite3* reader) : m_db(db), m_reader(reader) {}
    mutable std::mutex m_mutex;
    sqlite3* m_db;
    mutable std::mutex m_readMutex;
    sqlite3* m_reader;
};

} // namespace lv::liveops
