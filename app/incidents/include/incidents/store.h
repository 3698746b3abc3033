#pragma once

#include "incidents/types.h"

#include <QSqlDatabase>
#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace lv::incidents {

/// Incidents, notes, their history and the console's captured events in one SQLite file (Qt Sql):
/// versioned migrations (PRAGMA user_version), WAL, foreign keys, synchronous=FULL (a save that
/// returned survives a crash or kill -9), a busy timeout so two consoles can share the file, and
/// bound parameters only. One Store is one connection, used from one thread.
class Store {
public:
    static constexpr int kSchemaVersion = 6;

    enum class OpenProblem { None, Unreadable, Damaged, Newer };
    /// What to do with a damaged file: keep a copy and start a fresh one in its place (the
    /// console: capture and notes go on), or leave it exactly as it is (tools that only read).
    enum class OnDamage { KeepAndStartFresh, LeaveAlone };
    struct OpenResult {
        std::unique_ptr<Store> store;  ///< set when usable, also after a damaged file was replaced
        OpenProblem problem = OpenProblem::None;
        QString error;     ///< plain words for the user (also set, as a warning, when a damaged file was replaced)
        QString keptCopy;  ///< where a damaged file was copied, with its -wal and -shm (never changed)
    };
    /// Opens or creates `path`, migrating an older schema. Whether the file is sound is checked
    /// without writing to it (a read-only connection). A damaged file (fails integrity_check, or
    /// is not a database) is copied with its -wal and -shm before anything touches it, then
    /// replaced by a fresh database, or left alone; a newer console's file is left as it is.
    static OpenResult open(const QString& path, OnDamage onDamage = OnDamage::KeepAndStartFresh);
    /// A team's shared incident record on a PostgreSQL server (Qt's QPSQL driver): the same
    /// migrations as the file (SQLite's types in PostgreSQL's words; version in schema_version,
    /// two consoles migrating at once take turns on an advisory lock). The password is the
    /// caller's (the console keeps it in the keychain).
    struct Server {
        QString host;
        int port = 5432;
        QString database;
        QString user;
        QString password;
    };
    static OpenResult openServer(const Server& server);
    /// On a PostgreSQL server (shared by a team) rather than a file.
    bool shared() const { return m_postgres; }
    /// Shared only: `onChange` runs (on this store's thread, from its event loop) whenever another
    /// console commits a change: the incident's id as text, or "events" for captured events.
    /// PostgreSQL LISTEN/NOTIFY through Qt's driver; false (lastError) if it cannot listen.
    bool subscribe(std::function<void(const QString& payload)> onChange);
    /// A summary of the newest rows of every kind: when it moves, something changed (the
    /// periodic catch-up for a notification lost with a dropped connection).
    QString fingerprint();
    /// For migration tests: a new file built only up to schema `version`.
    static std::unique_ptr<Store> createAtVersion(const QString& path, int version, QString& error);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    int schemaVersion();
    QString integrityCheck();  ///< "ok" when sound
    /// The connection, for tests that need to write rows of an older schema.
    QSqlDatabase& database() { return m_db; }

    // Incidents. Every method returns false / 0 / nullopt with lastError() on failure.
    std::int64_t createIncident(const Incident& incident, const QString& author, std::int64_t nowMs);
    std::optional<Incident> incident(std::int64_t id);
    /// All incidents, newest first, optionally only those started in [fromMs, toMs).
    std::vector<Incident> incidents(std::int64_t fromMs = 0, std::int64_t toMs = 0);
    /// Moves the status on, recording the change; monitoring stamps mitigated, resolved stamps
    /// resolved (and mitigated if unset), when not already stamped.
    bool setStatus(std::int64_t id, Status status, const QString& author, std::int64_t nowMs);
    bool setSeverity(std::int64_t id, int severity, const QString& author, std::int64_t nowMs);
    bool acknowledge(std::int64_t id, const QString& author, std::int64_t nowMs);
    /// Free-text fields: title, commander, summary, root_cause, action_items (recorded too).
    bool setText(std::int64_t id, const QString& field, const QString& value, const QString& author, std::int64_t nowMs);
    /// Compare-and-set for text someone edited: the field changes only if it still holds
    /// `expected` (what the editor started from). Otherwise nothing is written, and `current`
    /// gets what the field holds now (another console saved first): no edit silently overwrites.
    enum class TextWrite { Written, Conflict, Failed };
    TextWrite setTextIf(std::int64_t id, const QString& field, const QString& expected, const QString& value, const QString& author,
                        std::int64_t nowMs, QString& current);
    std::vector<IncidentChange> changes(std::int64_t incidentId);

    // Notes: edits keep the earlier text, deletes are soft.
    /// With `token` (a console's outbox): a note with that token already stored is that note, so a
    /// resend never stores it twice.
    std::int64_t addNote(std::int64_t incidentId, const QString& author, const QString& body, std::int64_t nowMs, const QString& token = {});
    /// Whether the database answers now (a PostgreSQL server may have gone away).
    bool reachable();
    bool editNote(std::int64_t noteId, const QString& author, const QString& body, std::int64_t nowMs);
    bool deleteNote(std::int64_t noteId, const QString& author, std::int64_t nowMs);
    std::vector<Note> notes(std::int64_t incidentId, bool includeDeleted = false);
    std::vector<NoteRevision> noteHistory(std::int64_t noteId);

    // Events captured by the console.
    /// Stores the event unless one with its sourceKey exists; true if it was new.
    bool addEvent(const Event& event);
    /// Stores `events` (those not stored already) and moves the capture cursors on, in one
    /// transaction: one fsync for the batch, and the cursor never runs ahead of what is stored.
    /// Returns the events that were new, or nullopt (lastError) when nothing was stored.
    std::optional<std::vector<Event>> addEvents(const std::vector<Event>& events, const std::vector<CaptureCursor>& cursors);
    std::vector<CaptureCursor> captureCursors();
    std::vector<Event> events(std::int64_t fromMs, std::int64_t toMs);
    /// Events that belong to an incident: from `leadMs` before it started to its end (or now),
    /// in its regions or cluster-wide in its clusters.
    std::vector<Event> eventsFor(const Incident& incident, std::int64_t nowMs, std::int64_t leadMs = 15 * 60'000);
    /// Notes, recorded changes and events merged, oldest first.
    std::vector<TimelineItem> timeline(std::int64_t incidentId, std::int64_t nowMs);

    /// Players online in a region during a minute (the largest count seen in it).
    bool recordPlayers(const RegionRef& where, std::int64_t timeMs, std::uint32_t players);
    /// Player-minutes in [fromMs, toMs) for a region, from the recorded minutes.
    double playerMinutes(const RegionRef& where, std::int64_t fromMs, std::int64_t toMs);

    QString lastError() const { return m_error; }

private:
    explicit Store(QString connection);
    static std::unique_ptr<Store> connect(const QString& path, QString& error);
    bool migrate(int target);
    bool installNotifications();  // PostgreSQL: triggers that NOTIFY every change
    bool begin();   // BEGIN IMMEDIATE: take the write lock up front (waits up to the busy timeout)
    bool beginOn(const char* table, std::int64_t id);  // begin(), and on PostgreSQL lock that row
    bool commit();
    TextWrite writeText(std::int64_t id, const QString& field, const QString* expected, const QString& value, const QString& author,
                        std::int64_t nowMs, QString& current);
    bool exec(QSqlQuery& q, const QString& what);
    bool record(std::int64_t incidentId, const QString& field, const QString& oldValue, const QString& newValue,
                const QString& author, std::int64_t nowMs);
    bool fail(const QString& what, const class QSqlQuery& q);

    static constexpr int kMigrationLock = 0x11f3;  // pg_advisory_xact_lock key of this schema's migrations
    QString m_connection;
    bool m_postgres = false;
    QSqlDatabase m_db;
    QString m_error;
};

} // namespace lv::incidents
