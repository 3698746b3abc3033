#include "liveops/store.h"

#include <sqlite3.h>

#include <charconv>

namespace lv::liveops {

namespace {

// 1: toggles and audit. 2: toggles.audit_id, the entry that last changed the toggle.
// 3: toggles.cleared: a value cleared at its scope (which inherits again) keeps its row, so its
// version keeps growing and a console's compare-and-set can never mistake it for never set.
constexpr int kSchemaVersion = 3;

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS toggles (
  key TEXT NOT NULL,
  scope TEXT NOT NULL,
  type INTEGER NOT NULL,      -- 0 bool, 1 integer, 2 string
  value TEXT NOT NULL,
  version INTEGER NOT NULL,
  audit_id INTEGER NOT NULL DEFAULT 0,
  cleared INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key, scope)
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role INTEGER NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_target ON audit (target, id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
)sql";

/// A prepared statement that finalises itself.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr); }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    bool ok() const { return m_stmt != nullptr; }
    void bind(int i, const std::string& text) { sqlite3_bind_text(m_stmt, i, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT); }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(m_stmt, i, v); }
    int step() { return sqlite3_step(m_stmt); }
    std::int64_t integer(int col) const { return sqlite3_column_int64(m_stmt, col); }
    std::string text(int col) const
    {
        const auto* p = sqlite3_column_text(m_stmt, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col))) : std::string{};
    }

private:
    sqlite3_stmt* m_stmt = nullptr;
};

int typeOf(const ToggleValue& v) { return static_cast<int>(v.index()); }

/// A stored value, or nullopt when the row is damaged (a type it does not have, an integer that
/// does not parse): never an exception out of the store.
std::optional<ToggleValue> decodeValue(int type, const std::string& text)
{
    if (type == 0) {
        if (text != "true" && text != "false")
            return std::nullopt;
        return ToggleValue{text == "true"};
    }
    if (type == 1) {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
            return std::nullopt;
        return ToggleValue{v};
    }
    if (type == 2)
        return ToggleValue{text};
    return std::nullopt;
}

constexpr const char* kToggleColumns = "SELECT key, scope, type, value, version, audit_id, cleared FROM toggles";
constexpr const char* kAuditColumns = "SELECT id, time_ms, actor, role, action, target, old_value, new_value, reason FROM audit";

/// A toggle row; nullopt with `error` naming the row when it is damaged.
std::optional<StoredToggle> readToggle(const Statement& s, std::string& error)
{
    const std::string key = s.text(0), scope = s.text(1), text = s.text(3);
    const auto value = decodeValue(static_cast<int>(s.integer(2)), text);
    if (!value) {
        error = "toggle row " + key + "@" + scope + " is damaged: value '" + text.substr(0, 40) + "' is not of its type "
                + std::to_string(s.integer(2));
        return std::nullopt;
    }
    return StoredToggle{key, scope, *value, static_cast<std::uint64_t>(s.integer(4)), static_cast<std::uint64_t>(s.integer(5)), s.integer(6) != 0};
}

/// The toggle's row: nullopt when there is none; `error` set (and nullopt) when it is damaged.
std::optional<StoredToggle> selectToggle(sqlite3* db, const std::string& key, const std::string& scope, std::string& error)
{
    Statement s(db, (std::string(kToggleColumns) + " WHERE key = ? AND scope = ?").c_str());
    s.bind(1, key);
    s.bind(2, scope);
    if (s.step() != SQLITE_ROW)
        return std::nullopt;
    return readToggle(s, error);
}

bool upsertToggle(sqlite3* db, const StoredToggle& t)
{
    Statement s(db, "INSERT INTO toggles (key, scope, type, value, version, audit_id, cleared) VALUES (?,?,?,?,?,?,?) "
                    "ON CONFLICT (key, scope) DO UPDATE SET type = excluded.type, value = excluded.value, "
                    "version = excluded.version, audit_id = excluded.audit_id, cleared = excluded.cleared");
    s.bind(1, t.key);
    s.bind(2, t.scope);
    s.bind(3, static_cast<std::int64_t>(typeOf(t.value)));
    s.bind(4, formatValue(t.value));
    s.bind(5, static_cast<std::int64_t>(t.version));
    s.bind(6, static_cast<std::int64_t>(t.lastAuditId));
    s.bind(7, static_cast<std::int64_t>(t.cleared ? 1 : 0));
    return s.step() == SQLITE_DONE;
}

AuditEntry readAudit(const Statement& s)
{
    AuditEntry e;
    e.id = static_cast<std::uint64_t>(s.integer(0));
    e.timeMs = s.integer(1);
    e.actor = s.text(2);
    e.role = static_cast<Role>(s.integer(3));
    e.action = s.text(4);
    e.target = s.text(5);
    e.oldValue = s.text(6);
    e.newValue = s.text(7);
    e.reason = s.text(8);
    return e;
}

bool exec(sqlite3* db, const char* sql, std::string* error = nullptr)
{
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    if (rc != SQLITE_OK && error)
        *error = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return rc == SQLITE_OK;
}

std::optional<AuditEntry> insertAudit(sqlite3* db, AuditEntry e)
{
    Statement s(db, "INSERT INTO audit (time_ms, actor, role, action, target, old_value, new_value, reason) VALUES (?,?,?,?,?,?,?,?)");
    s.bind(1, e.timeMs);
    s.bind(2, e.actor);
    s.bind(3, static_cast<std::int64_t>(e.role));
    s.bind(4, e.action);
    s.bind(5, e.target);
    s.bind(6, e.oldValue);
    s.bind(7, e.newValue);
    s.bind(8, e.reason);
    if (s.step() != SQLITE_DONE)
        return std::nullopt;
    e.id = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db));
    return e;
}

/// Toggles and audit in one SQLite file: WAL, synchronous=FULL (a change is on disk before it is
/// acknowledged, and survives kill -9), audit append-only (triggers refuse UPDATE and DELETE).
/// One connection for writes (and the reads inside them), serialised by a mutex, and a read-only
/// one for audit reads, so paging through the audit never waits behind an fsync.
class SqliteStore final : public Store {
public:
    SqliteStore(sqlite3* db, sqlite3* reader) : m_db(db), m_reader(reader) {}
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

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

private:
    mutable std::mutex m_mutex;
    sqlite3* m_db;
    mutable std::mutex m_readMutex;
    sqlite3* m_reader;
};

} // namespace

std::unique_ptr<Store> Store::open(const std::string& path, std::string& error)
{
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
        error = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(db, 5000);
    std::string problem;
    // WAL so readers never block the writer; FULL so an acknowledged change survives power loss.
    if (!exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", &problem)) {
        error = path + ": " + problem;
        sqlite3_close(db);
        return nullptr;
    }
    int version = 0;
    {
        Statement s(db, "PRAGMA user_version");
        if (s.ok() && s.step() == SQLITE_ROW)
            version = static_cast<int>(s.integer(0));
    }
    if (version > kSchemaVersion) {
        error = path + " was written by a newer syncd (schema " + std::to_string(version) + "); refusing to touch it";
        sqlite3_close(db);
        return nullptr;
    }
    const bool migrateFrom1 = version == 1;
    const bool migrateFrom2 = version == 1 || version == 2;
    if (!exec(db, "BEGIN IMMEDIATE", &problem) || !exec(db, kSchema, &problem)
        || (migrateFrom1 && !exec(db, "ALTER TABLE toggles ADD COLUMN audit_id INTEGER NOT NULL DEFAULT 0", &problem))
        || (migrateFrom2 && !exec(db, "ALTER TABLE toggles ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0", &problem))
        || !exec(db, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str(), &problem) || !exec(db, "COMMIT", &problem)) {
        error = path + ": " + problem;
        exec(db, "ROLLBACK");
        sqlite3_close(db);
        return nullptr;
    }
    // A second connection for reads (audit pages, replays): in WAL mode it reads a consistent
    // snapshot while the writer commits, so a reader never waits for an fsync, nor a writer for
    // a reader.
    sqlite3* reader = nullptr;
    if (sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
        error = "cannot open " + path + " for reading: " + (reader ? sqlite3_errmsg(reader) : "out of memory");
        sqlite3_close(reader);
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(reader, 5000);
    return std::make_unique<SqliteStore>(db, reader);
}

SqliteStore::~SqliteStore()
{
    sqlite3_close(m_reader);
    sqlite3_close(m_db);
}

std::optional<std::vector<StoredToggle>> SqliteStore::toggles(std::string& error) const
{
    std::lock_guard lock(m_mutex);
    std::vector<StoredToggle> out;
    Statement s(m_db, (std::string(kToggleColumns) + " ORDER BY key, scope").c_str());
    while (s.step() == SQLITE_ROW) {
        auto t = readToggle(s, error);
        if (!t)
            return std::nullopt;
        out.push_back(std::move(*t));
    }
    return out;
}

std::optional<StoredToggle> SqliteStore::toggle(const std::string& key, const std::string& scope) const
{
    std::lock_guard lock(m_mutex);
    std::string error;
    return selectToggle(m_db, key, scope, error);
}

Store::SetResult SqliteStore::setToggle(const std::string& key, const std::string& scope, const ToggleValue& value,
                                  std::uint64_t expectedVersion, const AuditEntry& who)
{
    std::lock_guard lock(m_mutex);
    SetResult result;
    std::string problem;
    // IMMEDIATE takes the write lock up front: two syncd processes on one file cannot interleave
    // their compare and their set.
    if (!exec(m_db, "BEGIN IMMEDIATE", &problem)) {
        result.error = problem;
        return result;
    }
    const std::optional<StoredToggle> current = selectToggle(m_db, key, scope, problem);
    if (!problem.empty()) {
        exec(m_db, "ROLLBACK");
        result.error = problem;
        return result;
    }
    const std::uint64_t version = current ? current->version : 0;
    if (version != expectedVersion) {
        exec(m_db, "ROLLBACK");
        result.outcome = Outcome::Conflict;
        result.current = current ? *current : StoredToggle{key, scope, {}, 0, 0};
        return result;
    }
    AuditEntry entry = who;
    entry.action = "set_toggle";
    entry.target = key + "@" + scope;
    const ToggleDefinition* definition = findToggle(key);
    entry.oldValue = current && !current->cleared ? formatValue(current->value) : (definition ? formatValue(definition->defaultValue) : std::string{});
    entry.newValue = formatValue(value);
    auto written = insertAudit(m_db, entry);
    StoredToggle next{key, scope, value, version + 1, written ? written->id : 0};
    if (!written || !upsertToggle(m_db, next) || !exec(m_db, "COMMIT", &problem)) {
        result.error = problem.empty() ? std::string(sqlite3_errmsg(m_db)) : problem;
        exec(m_db, "ROLLBACK");
        return result;
    }
    result.current = next;
    result.audit = *written;
    result.outcome = Outcome::Applied;
    return result;
}

Store::SetResult SqliteStore::clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion, const AuditEntry& entry)
{
    std::lock_guard lock(m_mutex);
    SetResult result;
    std::string problem;
    if (!exec(m_db, "BEGIN IMMEDIATE", &problem)) {
        result.error = problem;
        return result;
    }
    const std::optional<StoredToggle> current = selectToggle(m_db, key, scope, problem);
    if (!problem.empty() || !current || current->cleared || current->version != expectedVersion) {
        exec(m_db, "ROLLBACK");
        result.error = problem;
        result.outcome = problem.empty() ? Outcome::Conflict : Outcome::Failed;
        result.current = current ? *current : StoredToggle{key, scope, {}, 0, 0};
        return result;
    }
    AuditEntry e = entry;
    e.action = "clear_toggle";
    e.target = key + "@" + scope;
    e.oldValue = formatValue(current->value);
    auto written = insertAudit(m_db, e);
    StoredToggle next{key, scope, current->value, current->version + 1, written ? written->id : 0, true};
    if (!written || !upsertToggle(m_db, next) || !exec(m_db, "COMMIT", &problem)) {
        result.error = problem.empty() ? std::string(sqlite3_errmsg(m_db)) : problem;
        exec(m_db, "ROLLBACK");
        return result;
    }
    result.current = next;
    result.audit = *written;
    result.outcome = Outcome::Applied;
    return result;
}

std::optional<AuditEntry> SqliteStore::appendAudit(const AuditEntry& entry, StoreFailure* failure)
{
    std::lock_guard lock(m_mutex);
    auto written = insertAudit(m_db, entry);
    if (!written && failure)
        failure->message = sqlite3_errmsg(m_db);
    return written;
}

bool SqliteStore::appendAudits(const std::vector<AuditEntry>& entries, std::string& error)
{
    std::lock_guard lock(m_mutex);
    if (!exec(m_db, "BEGIN IMMEDIATE", &error))
        return false;
    for (const AuditEntry& e : entries)
        if (!insertAudit(m_db, e)) {
            error = sqlite3_errmsg(m_db);
            exec(m_db, "ROLLBACK");
            return false;
        }
    return exec(m_db, "COMMIT", &error);
}

std::optional<Store::OperationResult> SqliteStore::applyOperation(const std::vector<std::pair<std::string, ToggleChange>>& changes,
                                                           const AuditEntry& entry, StoreFailure& failure)
{
    std::string& error = failure.message;
    std::lock_guard lock(m_mutex);
    if (!exec(m_db, "BEGIN IMMEDIATE", &error))
        return std::nullopt;
    OperationResult result;
    auto written = insertAudit(m_db, entry);
    bool ok = written.has_value();
    for (std::size_t i = 0; ok && i < changes.size(); ++i) {
        const auto& [scope, change] = changes[i];
        const auto current = selectToggle(m_db, change.key, scope, error);
        if (!error.empty())
            break;
        StoredToggle next{change.key, scope, change.value, (current ? current->version : 0) + 1, written->id, change.clear};
        ok = upsertToggle(m_db, next);
        result.toggles.push_back(std::move(next));
    }
    if (!ok || !exec(m_db, "COMMIT", &error)) {
        if (error.empty())
            error = sqlite3_errmsg(m_db);
        exec(m_db, "ROLLBACK");
        return std::nullopt;
    }
    result.audit = *written;
    return result;
}

std::optional<AuditEntry> SqliteStore::auditEntry(std::uint64_t id) const
{
    std::lock_guard lock(m_readMutex);
    Statement s(m_reader, (std::string(kAuditColumns) + " WHERE id = ?").c_str());
    s.bind(1, static_cast<std::int64_t>(id));
    if (s.step() != SQLITE_ROW)
        return std::nullopt;
    return readAudit(s);
}

std::vector<AuditEntry> SqliteStore::audit(std::uint64_t afterId, std::size_t limit, const std::string& target) const
{
    std::lock_guard lock(m_readMutex);
    std::vector<AuditEntry> out;
    Statement s(m_reader, target.empty()
                          ? "SELECT id, time_ms, actor, role, action, target, old_value, new_value, reason FROM audit WHERE id > ? ORDER BY id LIMIT ?"
                          : "SELECT id, time_ms, actor, role, action, target, old_value, new_value, reason FROM audit WHERE id > ? AND target = ? ORDER BY id LIMIT ?");
    s.bind(1, static_cast<std::int64_t>(afterId));
    if (target.empty()) {
        s.bind(2, static_cast<std::int64_t>(limit));
    } else {
        s.bind(2, target);
        s.bind(3, static_cast<std::int64_t>(limit));
    }
    while (s.step() == SQLITE_ROW)
        out.push_back(readAudit(s));
    return out;
}

} // namespace lv::liveops
