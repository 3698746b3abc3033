#pragma once

#include "liveops/toggles.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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
    bool clear = false;  ///< clear the value at this scope instead (it inherits again)
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

/// What a store tells its cluster about changes written by someone else (another server of the
/// fleet): the toggles as they now stand and the audit entries that wrote them. `reload` means
/// `toggles` is every set toggle (the store could not say what changed: start over from it).
/// Why a write failed: `unavailable` when the store cannot take writes now (the fleet store has
/// no quorum, or cannot be reached): nothing was written, and trying later may work.
struct StoreFailure {
    std::string message;
    bool unavailable = false;
};

struct StoreChange {
    std::vector<StoredToggle> toggles;
    std::vector<AuditEntry> audits;
    bool reload = false;
};

/// Where toggles and the audit log live: one SQLite file for a single syncd (Store::open), or the
/// fleet's etcd for many (EtcdStore, backend/src/etcdstore.cpp). Every write that changes a toggle
/// writes its audit entry in the same transaction. Thread-safe.
class Store {
public:
    /// Opens or creates the SQLite store; on failure returns null and sets `error`.
    static std::unique_ptr<Store> open(const std::string& path, std::string& error);
    virtual ~Store() = default;

    /// Every set toggle; nullopt with `error` naming the row when one is damaged.
    virtual std::optional<std::vector<StoredToggle>> toggles(std::string& error) const = 0;
    virtual std::optional<StoredToggle> toggle(const std::string& key, const std::string& scope) const = 0;

    /// Unavailable: the store cannot be written now (the fleet store has no quorum); nothing was.
    enum class Outcome : std::uint8_t { Applied, Conflict, Failed, Unavailable };
    struct SetResult {
        Outcome outcome = Outcome::Failed;
        StoredToggle current;  ///< after the call (the newer value on Conflict)
        AuditEntry audit;      ///< the entry written (Applied only)
        std::string error;     ///< Failed and Unavailable only
    };
    /// Compare-and-set in one transaction: applies only when the stored version equals
    /// `expectedVersion` (0 = never set), gives it a new, higher version and appends the audit
    /// entry (`who` gives time, actor, role and reason). Nothing is written on Conflict.
    virtual SetResult setToggle(const std::string& key, const std::string& scope, const ToggleValue& value,
                                std::uint64_t expectedVersion, const AuditEntry& who) = 0;
    /// Removes the value set at `scope` (the scope then inherits again), compare-and-set on its
    /// version, with the audit entry `entry` (action, target and old value filled in here; its
    /// new value says what applies now) in the same transaction. Conflict when the version
    /// differs or nothing is set there (current.version then says which).
    virtual SetResult clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion,
                                  const AuditEntry& entry) = 0;
    struct OperationResult {
        AuditEntry audit;
        std::vector<StoredToggle> toggles;  ///< as written, with their new versions
    };
    /// An operation (drain, failover) in one transaction: one audit entry, and each (scope, change)
    /// written unconditionally with a new version and pointing at that entry.
    virtual std::optional<OperationResult> applyOperation(const std::vector<std::pair<std::string, ToggleChange>>& changes,
                                                          const AuditEntry& entry, StoreFailure& failure) = 0;
    virtual std::optional<AuditEntry> auditEntry(std::uint64_t id) const = 0;
    /// Appends an audit entry for an operation (drain, failover, drill); returns it with its id.
    virtual std::optional<AuditEntry> appendAudit(const AuditEntry& entry, StoreFailure* failure = nullptr) = 0;
    /// Appends many entries in one transaction (one fsync): imports, and tests of large logs.
    virtual bool appendAudits(const std::vector<AuditEntry>& entries, std::string& error) = 0;
    /// Entries with id > afterId, oldest first, at most `limit`, optionally only for `target`.
    virtual std::vector<AuditEntry> audit(std::uint64_t afterId, std::size_t limit, const std::string& target = {}) const = 0;

    /// Changes written by others are delivered to `listener`, on a thread of the store's, from
    /// now on (a store only its owner writes never calls it). Set once, before the first write.
    using ChangeListener = std::function<void(StoreChange)>;
    virtual void setChangeListener(ChangeListener listener) { (void)listener; }
    /// Stops delivering changes (the listener's owner is going away); waits for a delivery under way.
    virtual void stopChanges() {}
};

} // namespace lv::liveops
