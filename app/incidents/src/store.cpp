#include "incidents/store.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QRegularExpression>
#include <QUuid>
#include <QVariant>

#include <algorithm>

namespace lv::incidents {

QString statusName(Status status)
{
    switch (status) {
    case Status::Identified: return QStringLiteral("identified");
    case Status::Monitoring: return QStringLiteral("monitoring");
    case Status::Resolved: return QStringLiteral("resolved");
    case Status::Investigating: break;
    }
    return QStringLiteral("investigating");
}

std::optional<Status> statusFromName(const QString& name)
{
    for (auto s : {Status::Investigating, Status::Identified, Status::Monitoring, Status::Resolved})
        if (statusName(s) == name)
            return s;
    return std::nullopt;
}

bool Incident::touches(const RegionRef& r) const
{
    return std::any_of(regions.begin(), regions.end(), [&](const RegionRef& mine) {
        return mine.cluster == r.cluster && (mine.region == r.region || mine.region == QLatin1String("*") || r.region == QLatin1String("*"));
    });
}

namespace {
/// Each entry takes the schema from version i to i + 1. Append only: a released step never changes.
const char* const kMigrations[] = {
    // 1: incidents, their regions, notes.
    "CREATE TABLE incidents(id INTEGER PRIMARY KEY, title TEXT NOT NULL, severity INTEGER NOT NULL CHECK(severity BETWEEN 1 AND 4),"
    " status TEXT NOT NULL, commander TEXT NOT NULL DEFAULT '', started_ms INTEGER NOT NULL, detected_ms INTEGER NOT NULL DEFAULT 0,"
    " acknowledged_ms INTEGER NOT NULL DEFAULT 0, mitigated_ms INTEGER NOT NULL DEFAULT 0, resolved_ms INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE incident_regions(incident_id INTEGER NOT NULL REFERENCES incidents(id), cluster TEXT NOT NULL, region TEXT NOT NULL,"
    " PRIMARY KEY(incident_id, cluster, region));"
    "CREATE TABLE notes(id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL REFERENCES incidents(id), author TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, body TEXT NOT NULL);",
    // 2: notes keep their history and are deleted softly; status and severity changes are recorded.
    "ALTER TABLE notes ADD COLUMN edited_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE notes ADD COLUMN deleted_ms INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE note_revisions(note_id INTEGER NOT NULL REFERENCES notes(id), revision INTEGER NOT NULL, time_ms INTEGER NOT NULL,"
    " author TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY(note_id, revision));"
    "CREATE TABLE incident_changes(id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL REFERENCES incidents(id), time_ms INTEGER NOT NULL,"
    " author TEXT NOT NULL, field TEXT NOT NULL, old_value TEXT NOT NULL, new_value TEXT NOT NULL);"
    "CREATE INDEX notes_incident ON notes(incident_id);"
    "CREATE INDEX changes_incident ON incident_changes(incident_id);",
    // 3: captured events, players per region-minute (customer impact), postmortem text.
    "CREATE TABLE events(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, cluster TEXT NOT NULL, region TEXT NOT NULL,"
    " kind TEXT NOT NULL, actor TEXT NOT NULL, summary TEXT NOT NULL, source_key TEXT NOT NULL UNIQUE);"
    "CREATE INDEX events_time ON events(time_ms);"
    "CREATE TABLE player_minutes(cluster TEXT NOT NULL, region TEXT NOT NULL, minute INTEGER NOT NULL, players INTEGER NOT NULL,"
    " PRIMARY KEY(cluster, region, minute));"
    "ALTER TABLE incidents ADD COLUMN summary TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE incidents ADD COLUMN root_cause TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE incidents ADD COLUMN action_items TEXT NOT NULL DEFAULT '';",
    // 4: who deleted a note (the record of the incident says who took words out of it).
    "ALTER TABLE notes ADD COLUMN deleted_by TEXT NOT NULL DEFAULT '';",
    // 5: where capture of each cluster's audit log got to (a restart does not capture it again).
    "CREATE TABLE capture_cursors(cluster TEXT PRIMARY KEY, audit_id INTEGER NOT NULL, audit_time_ms INTEGER NOT NULL);",
    // 6: a note sent again from a console's outbox (after a crash mid-send) is stored once.
    "ALTER TABLE notes ADD COLUMN client_token TEXT;"
    "CREATE UNIQUE INDEX notes_client_token ON notes(client_token);",
};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

QSqlQuery prepared(QSqlDatabase& db, const QString& sql, const QVariantList& binds)
{
    QSqlQuery q(db);
    q.prepare(sql);
    for (const QVariant& v : binds)  // a null QString would bind as SQL NULL: text columns hold ''
        q.addBindValue(v.typeId() == QMetaType::QString && v.toString().isNull() ? QVariant(QStringLiteral("")) : v);
    return q;
}

const QStringList kTextFields{QStringLiteral("title"), QStringLiteral("commander"), QStringLiteral("summary"), QStringLiteral("root_cause"),
                              QStringLiteral("action_items")};
constexpr auto kIncidentColumns = "id, title, severity, status, commander, started_ms, detected_ms, acknowledged_ms, mitigated_ms, "
                                  "resolved_ms, created_ms, summary, root_cause, action_items";
} // namespace

Store::Store(QString connection) : m_connection(std::move(connection)) {}

Store::~Store()
{
    if (m_db.isOpen())
        m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connection);
}

bool Store::fail(const QString& what, const QSqlQuery& q)
{
    m_error = what + QStringLiteral(": ") + q.lastError().text();
    return false;
}

namespace {
/// The files SQLite keeps for one database: the -wal holds writes not yet checkpointed into the
/// main file, the -shm its index. A copy without them loses the most recent writes.
QStringList withCompanions(const QString& path)
{
    return {path, path + QStringLiteral("-wal"), path + QStringLiteral("-shm")};
}

/// Copies the database and whichever companions exist to `to` (+ "-wal", "-shm"), each completely
/// or not at all; on failure nothing is left half-copied and `error` says why.
bool copyWithCompanions(const QString& from, const QString& to, QString& error)
{
    const QStringList sources = withCompanions(from), targets = withCompanions(to);
    for (int i = 0; i < sources.size(); ++i) {
        if (!QFileInfo::exists(sources[i]))
            continue;
        if (!QFile::copy(sources[i], targets[i]) || QFileInfo(targets[i]).size() != QFileInfo(sources[i]).size()) {
            error = QObject::tr("cannot copy %1 to %2").arg(sources[i], targets[i]);
            for (const QString& t : targets)
                QFile::remove(t);
            return false;
        }
    }
    return true;
}

/// Why the file at `path` is not a sound incident database, or an empty string. Only reads: the
/// header is checked by hand, then a read-only connection (no journal-mode change, no
/// checkpoint, nothing written to the main file or its -wal) runs integrity_check.
QString whyUnsound(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return file.errorString();
    if (file.read(16) != QByteArray("SQLite format 3\0", 16))
        return QObject::tr("not an SQLite database");
    file.close();
    const QString name = QStringLiteral("incidents-check-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    QString why;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=10000"));
        if (!db.open()) {
            why = db.lastError().text();
        } else {
            QSqlQuery q(db);
            if (!q.exec(QStringLiteral("PRAGMA integrity_check"))) {
                why = q.lastError().text();
            } else {
                QStringList problems;
                while (q.next())
                    problems << q.value(0).toString();
                if (problems != QStringList{QStringLiteral("ok")})
                    why = QObject::tr("integrity_check: %1").arg(problems.join(QStringLiteral("; ")));
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return why;
}
} // namespace

Store::OpenResult Store::open(const QString& path, OnDamage onDamage)
{
    OpenResult result;
    const bool existed = QFileInfo::exists(path) && QFileInfo(path).size() > 0;
    if (existed) {
        const QString why = whyUnsound(path);
        if (!why.isEmpty()) {
            result.problem = OpenProblem::Damaged;
            if (onDamage == OnDamage::LeaveAlone) {
                result.error = QObject::tr("The incident database %1 is damaged (%2). It was left untouched.").arg(path, why);
                return result;
            }
            // Keep it, as it is, before anything writes; then start afresh where it was.
            const QString kept = path + QStringLiteral(".damaged-") + QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"));
            QString copyError;
            if (!copyWithCompanions(path, kept, copyError)) {
                result.error = QObject::tr("The incident database %1 is damaged (%2) and could not be kept (%3). It was left untouched; "
                                           "the console runs without incidents until it is repaired or moved away.")
                                   .arg(path, why, copyError);
                return result;
            }
            result.keptCopy = kept;
            for (const QString& f : withCompanions(path))
                QFile::remove(f);
            QString error;
            auto fresh = connect(path, error);
            if (!fresh || !fresh->migrate(kSchemaVersion)) {
                result.error = QObject::tr("The incident database %1 is damaged (%2); it was kept at %3, but a new one could not be started: %4")
                                   .arg(path, why, kept, fresh ? fresh->lastError() : error);
                return result;
            }
            result.store = std::move(fresh);
            result.error = QObject::tr("The incident database %1 was damaged (%2). It was kept unchanged, with its -wal and -shm, at %3; "
                                       "a new database was started in its place, so capture and notes go on. Earlier incidents are in the copy.")
                               .arg(path, why, kept);
            return result;
        }
    }
    QString error;
    auto store = connect(path, error);
    if (!store) {
        result.problem = OpenProblem::Unreadable;
        result.error = QObject::tr("The incident database %1 cannot be opened: %2").arg(path, error);
        return result;
    }
    const int version = store->schemaVersion();
    if (version > kSchemaVersion) {
        result.problem = OpenProblem::Newer;
        result.error = QObject::tr("The incident database %1 was written by a newer console (schema %2; this one knows up to %3). "
                                   "It was left untouched: update the console to use it.")
                           .arg(path)
                           .arg(version)
                           .arg(kSchemaVersion);
        return result;
    }
    if (!store->migrate(kSchemaVersion)) {
        result.problem = OpenProblem::Unreadable;
        result.error = QObject::tr("The incident database %1 could not be upgraded: %2").arg(path, store->lastError());
        return result;
    }
    result.store = std::move(store);
    return result;
}

std::unique_ptr<Store> Store::createAtVersion(const QString& path, int version, QString& error)
{
    auto store = connect(path, error);
    if (store && !store->migrate(version)) {
        error = store->lastError();
        return nullptr;
    }
    return store;
}

Store::OpenResult Store::openServer(const Server& server)
{
    OpenResult result;
    const QString name = QStringLiteral("incidents-pg-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    std::unique_ptr<Store> store(new Store(name));
    store->m_postgres = true;
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL"))) {
        result.problem = OpenProblem::Unreadable;
        result.error = QObject::tr("Qt's PostgreSQL driver is missing (package libqt6sql6-psql)");
        return result;
    }
    store->m_db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
    store->m_db.setHostName(server.host);
    store->m_db.setPort(server.port);
    store->m_db.setDatabaseName(server.database);
    store->m_db.setUserName(server.user);
    store->m_db.setPassword(server.password);
    // A server that vanishes from the network (no RST) must not hold a call for the kernel's TCP
    // timeout: unanswered data or keepalives end the connection within about 5 s, and the note goes
    // to the outbox.
    store->m_db.setConnectOptions(QStringLiteral("connect_timeout=5;tcp_user_timeout=5000;keepalives=1;keepalives_idle=5;"
                                                 "keepalives_interval=2;keepalives_count=2;application_name=lifeverse-console;"
                                                 "options='-c client_min_messages=warning'"));
    if (!store->m_db.open()) {
        result.problem = OpenProblem::Unreadable;
        result.error = QObject::tr("cannot reach the team's incident database %1@%2:%3/%4: %5")
                           .arg(server.user, server.host)
                           .arg(server.port)
                           .arg(server.database, store->m_db.lastError().text().trimmed());
        return result;
    }
    QSqlQuery q(store->m_db);
    // Under the migrations' lock: two consoles creating it at once would collide in the catalogue.
    if (!q.exec(QStringLiteral("BEGIN")) || !q.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(kMigrationLock))
        || !q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")) || !q.exec(QStringLiteral("COMMIT"))) {
        result.problem = OpenProblem::Unreadable;
        result.error = q.lastError().text();
        return result;
    }
    const int version = store->schemaVersion();
    if (version > kSchemaVersion) {
        result.problem = OpenProblem::Newer;
        result.error = QObject::tr("the team's incident database was written by a newer console (schema %1); update this one").arg(version);
        return result;
    }
    if (!store->migrate(kSchemaVersion) || !store->installNotifications()) {
        result.problem = OpenProblem::Unreadable;
        result.error = store->lastError();
        return result;
    }
    result.store = std::move(store);
    return result;
}

bool Store::installNotifications()
{
    // Every change a console makes is a row inserted or updated in incidents, notes or events:
    // triggers tell every other console (NOTIFY is sent at commit, only for what committed).
    const char* const statements[] = {
        "CREATE OR REPLACE FUNCTION lifeverse_notify_incident() RETURNS trigger AS $$ BEGIN"
        " PERFORM pg_notify('lifeverse_incidents', NEW.id::text); RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION lifeverse_notify_note() RETURNS trigger AS $$ BEGIN"
        " PERFORM pg_notify('lifeverse_incidents', NEW.incident_id::text); RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION lifeverse_notify_event() RETURNS trigger AS $$ BEGIN"
        " PERFORM pg_notify('lifeverse_incidents', 'events'); RETURN NEW; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS lifeverse_incidents_changed ON incidents",
        "CREATE TRIGGER lifeverse_incidents_changed AFTER INSERT OR UPDATE ON incidents FOR EACH ROW EXECUTE FUNCTION lifeverse_notify_incident()",
        "DROP TRIGGER IF EXISTS lifeverse_notes_changed ON notes",
        "CREATE TRIGGER lifeverse_notes_changed AFTER INSERT OR UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION lifeverse_notify_note()",
        "DROP TRIGGER IF EXISTS lifeverse_events_added ON events",
        "CREATE TRIGGER lifeverse_events_added AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION lifeverse_notify_event()",
    };
    QSqlQuery q(m_db);
    // Installed once: dropping and creating a trigger locks its table against every writer, so a
    // console opening while others write must not do it again.
    const auto installed = [&] {
        QSqlQuery t(m_db);
        return t.exec(QStringLiteral("SELECT COUNT(*) FROM pg_trigger WHERE tgname IN "
                                     "('lifeverse_incidents_changed', 'lifeverse_notes_changed', 'lifeverse_events_added')"))
               && t.next() && t.value(0).toInt() == 3;
    };
    if (installed())
        return true;
    if (!q.exec(QStringLiteral("BEGIN")) || !q.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(kMigrationLock)))
        return fail(QStringLiteral("notifications"), q);
    if (installed())  // another console did it while we waited for the lock
        return commit();
    for (const char* sql : statements)
        if (!q.exec(QLatin1String(sql))) {
            fail(QStringLiteral("notifications"), q);
            QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
            return false;
        }
    return commit();
}

bool Store::subscribe(std::function<void(const QString& payload)> onChange)
{
    if (!m_postgres)
        return false;
    QSqlDriver* driver = m_db.driver();
    if (!driver->subscribeToNotification(QStringLiteral("lifeverse_incidents"))) {
        m_error = QObject::tr("cannot listen for the team's changes: %1").arg(driver->lastError().text());
        return false;
    }
    QObject::connect(driver, &QSqlDriver::notification, driver,
                     [onChange = std::move(onChange)](const QString&, QSqlDriver::NotificationSource source, const QVariant& payload) {
                         if (source == QSqlDriver::OtherSource)  // our own writes we know about
                             onChange(payload.toString());
                     });
    return true;
}

bool Store::reachable()
{
    QSqlQuery q(m_db);
    return q.exec(QStringLiteral("SELECT 1")) && q.next();
}

QString Store::fingerprint()
{
    // What a missed notification would have changed: the newest of each kind of row.
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT (SELECT COALESCE(MAX(id), 0) FROM incidents), (SELECT COALESCE(MAX(id), 0) FROM incident_changes),"
                               " (SELECT COALESCE(MAX(id), 0) FROM notes), (SELECT COALESCE(MAX(edited_ms), 0) FROM notes),"
                               " (SELECT COALESCE(MAX(deleted_ms), 0) FROM notes), (SELECT COALESCE(MAX(id), 0) FROM events)"))
        || !q.next())
        return {};
    QStringList parts;
    for (int i = 0; i < 6; ++i)
        parts << q.value(i).toString();
    return parts.join(QLatin1Char(','));
}

std::unique_ptr<Store> Store::connect(const QString& path, QString& error)
{
    const QString name = QStringLiteral("incidents-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    std::unique_ptr<Store> store(new Store(name));
    store->m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    store->m_db.setDatabaseName(path);
    // Another console may hold the write lock for a moment: wait for it rather than fail.
    store->m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
    if (!store->m_db.open()) {
        error = store->m_db.lastError().text();
        return nullptr;
    }
    QSqlQuery q(store->m_db);
    // journal_mode is the first statement that reads the file: "file is not a database" shows here.
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"})
        if (!q.exec(QLatin1String(pragma))) {
            error = q.lastError().text();
            return nullptr;
        }
    return store;
}

bool Store::exec(QSqlQuery& q, const QString& what)
{
    if (q.exec())
        return true;
    return fail(what, q);
}

bool Store::begin()
{
    QSqlQuery q(m_db);
    return q.exec(m_postgres ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE")) || fail(QStringLiteral("begin"), q);
}

bool Store::beginOn(const char* table, std::int64_t id)
{
    if (!begin())
        return false;
    if (!m_postgres)
        return true;  // BEGIN IMMEDIATE already holds the file's write lock
    // READ COMMITTED reads what others committed a moment ago: lock the row that is read, then
    // changed, so two consoles of a team take turns on it (SQLite's write lock does this for one file).
    auto q = prepared(m_db, QStringLiteral("SELECT id FROM %1 WHERE id = ? FOR UPDATE").arg(QLatin1String(table)), {qint64(id)});
    if (exec(q, QStringLiteral("lock")))
        return true;
    QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
    return false;
}

bool Store::commit()
{
    QSqlQuery q(m_db);
    if (q.exec(QStringLiteral("COMMIT")))
        return true;
    fail(QStringLiteral("commit"), q);
    QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
    return false;
}

int Store::schemaVersion()
{
    QSqlQuery q(m_db);
    if (m_postgres)
        return q.exec(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM schema_version")) && q.next() ? q.value(0).toInt() : -1;
    return q.exec(QStringLiteral("PRAGMA user_version")) && q.next() ? q.value(0).toInt() : -1;
}

QString Store::integrityCheck()
{
    if (m_postgres)
        return QStringLiteral("ok");  // the server keeps its own pages sound (checksums, WAL)
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("PRAGMA integrity_check")))
        return q.lastError().text();
    QStringList problems;
    while (q.next())
        problems << q.value(0).toString();
    return problems.join(QStringLiteral("; "));
}

bool Store::migrate(int target)
{
    for (int version = schemaVersion(); version >= 0 && version < target; ++version) {
        if (!begin())
            return false;
        if (m_postgres) {
            // Two consoles of a team may start at once: one migrates, the other waits and sees it done.
            QSqlQuery lock(m_db);
            if (!lock.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(kMigrationLock)))
                return fail(QStringLiteral("migration lock"), lock);
            if (const int now = schemaVersion(); now > version) {
                if (!commit())
                    return false;
                version = now - 1;
                continue;
            }
        }
        // Each step and its version number commit together: a crash leaves the old or the new schema.
        const QStringList statements = QString::fromLatin1(kMigrations[version]).split(QLatin1Char(';'), Qt::SkipEmptyParts);
        for (QString sql : statements) {
            if (m_postgres)  // SQLite's 64-bit INTEGER and rowid keys, in PostgreSQL's words
                sql.replace(QStringLiteral("INTEGER PRIMARY KEY"), QStringLiteral("BIGSERIAL PRIMARY KEY"))
                    .replace(QRegularExpression(QStringLiteral("\\bINTEGER\\b")), QStringLiteral("BIGINT"));
            QSqlQuery q(m_db);
            if (!q.exec(sql)) {
                fail(QStringLiteral("migration to schema %1").arg(version + 1), q);
                QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
                return false;
            }
        }
        QSqlQuery v(m_db);
        const bool stamped = m_postgres ? v.exec(QStringLiteral("DELETE FROM schema_version"))
                                              && v.exec(QStringLiteral("INSERT INTO schema_version(version) VALUES(%1)").arg(version + 1))
                                        : v.exec(QStringLiteral("PRAGMA user_version=%1").arg(version + 1));
        if (!stamped || !commit())
            return fail(QStringLiteral("schema version"), v);
    }
    return schemaVersion() >= target || (m_error = QStringLiteral("unreadable schema version"), false);
}

namespace {
Incident incidentFrom(const QSqlQuery& q)
{
    Incident i;
    i.id = q.value(0).toLongLong();
    i.title = q.value(1).toString();
    i.severity = q.value(2).toInt();
    i.status = statusFromName(q.value(3).toString()).value_or(Status::Investigating);
    i.commander = q.value(4).toString();
    i.startedMs = q.value(5).toLongLong();
    i.detectedMs = q.value(6).toLongLong();
    i.acknowledgedMs = q.value(7).toLongLong();
    i.mitigatedMs = q.value(8).toLongLong();
    i.resolvedMs = q.value(9).toLongLong();
    i.createdMs = q.value(10).toLongLong();
    i.summary = q.value(11).toString();
    i.rootCause = q.value(12).toString();
    i.actionItems = q.value(13).toString();
    return i;
}
} // namespace

std::int64_t Store::createIncident(const Incident& in, const QString& author, std::int64_t nowMs)
{
    if (in.title.trimmed().isEmpty() || in.severity < 1 || in.severity > 4) {
        m_error = QObject::tr("an incident needs a title and a severity of 1 to 4");
        return 0;
    }
    if (!begin())
        return 0;
    auto q = prepared(m_db,
                      QStringLiteral("INSERT INTO incidents(title, severity, status, commander, started_ms, detected_ms, acknowledged_ms,"
                                     " mitigated_ms, resolved_ms, created_ms, summary, root_cause, action_items)"
                                     " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id"),
                      {in.title, in.severity, statusName(in.status), in.commander, qint64(in.startedMs ? in.startedMs : nowMs),
                       qint64(in.detectedMs ? in.detectedMs : nowMs), qint64(in.acknowledgedMs), qint64(in.mitigatedMs), qint64(in.resolvedMs),
                       qint64(nowMs), in.summary, in.rootCause, in.actionItems});
    if (!exec(q, QStringLiteral("create incident"))) {
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        return 0;
    }
    const std::int64_t id = q.next() ? q.value(0).toLongLong() : 0;  // RETURNING: the same on SQLite and PostgreSQL
    q.finish();  // SQLite commits only once no statement is in progress
    for (const RegionRef& r : in.regions) {
        auto rq = prepared(m_db, QStringLiteral("INSERT INTO incident_regions(incident_id, cluster, region) VALUES(?,?,?) ON CONFLICT DO NOTHING"),
                           {qint64(id), r.cluster, r.region});
        if (!exec(rq, QStringLiteral("incident region"))) {
            QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
            return 0;
        }
    }
    if (!record(id, QStringLiteral("opened"), QString(), QStringLiteral("SEV%1 %2").arg(in.severity).arg(statusName(in.status)), author, nowMs)
        || !commit())
        return 0;
    return id;
}

std::optional<Incident> Store::incident(std::int64_t id)
{
    auto q = prepared(m_db, QStringLiteral("SELECT %1 FROM incidents WHERE id = ?").arg(QLatin1String(kIncidentColumns)), {qint64(id)});
    if (!exec(q, QStringLiteral("read incident")) || !q.next())
        return std::nullopt;
    Incident i = incidentFrom(q);
    auto rq = prepared(m_db, QStringLiteral("SELECT cluster, region FROM incident_regions WHERE incident_id = ? ORDER BY cluster, region"),
                       {qint64(id)});
    if (exec(rq, QStringLiteral("read regions")))
        while (rq.next())
            i.regions.push_back({rq.value(0).toString(), rq.value(1).toString()});
    return i;
}

std::vector<Incident> Store::incidents(std::int64_t fromMs, std::int64_t toMs)
{
    std::vector<std::int64_t> ids;
    auto q = toMs > 0 ? prepared(m_db, QStringLiteral("SELECT id FROM incidents WHERE started_ms >= ? AND started_ms < ? ORDER BY started_ms DESC, id DESC"),
                                 {qint64(fromMs), qint64(toMs)})
                      : prepared(m_db, QStringLiteral("SELECT id FROM incidents ORDER BY started_ms DESC, id DESC"), {});
    if (exec(q, QStringLiteral("list incidents")))
        while (q.next())
            ids.push_back(q.value(0).toLongLong());
    std::vector<Incident> out;
    for (std::int64_t id : ids)
        if (auto i = incident(id))
            out.push_back(std::move(*i));
    return out;
}

bool Store::record(std::int64_t incidentId, const QString& field, const QString& oldValue, const QString& newValue, const QString& author,
                   std::int64_t nowMs)
{
    auto q = prepared(m_db,
                      QStringLiteral("INSERT INTO incident_changes(incident_id, time_ms, author, field, old_value, new_value) VALUES(?,?,?,?,?,?)"),
                      {qint64(incidentId), qint64(nowMs), author, field, oldValue, newValue});
    return exec(q, QStringLiteral("record change"));
}

bool Store::setStatus(std::int64_t id, Status status, const QString& author, std::int64_t nowMs)
{
    if (!beginOn("incidents", id))
        return false;
    const auto current = incident(id);
    if (!current) {
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        m_error = QObject::tr("no incident %1").arg(id);
        return false;
    }
    Incident next = *current;
    next.status = status;
    if ((status == Status::Monitoring || status == Status::Resolved) && next.mitigatedMs == 0)
        next.mitigatedMs = nowMs;
    if (status == Status::Resolved && next.resolvedMs == 0)
        next.resolvedMs = nowMs;
    if (status != Status::Resolved)
        next.resolvedMs = 0;  // reopened
    if (next.acknowledgedMs == 0)
        next.acknowledgedMs = nowMs;  // whoever moves it on has taken it
    auto q = prepared(m_db, QStringLiteral("UPDATE incidents SET status = ?, mitigated_ms = ?, resolved_ms = ?, acknowledged_ms = ? WHERE id = ?"),
                      {statusName(status), qint64(next.mitigatedMs), qint64(next.resolvedMs), qint64(next.acknowledgedMs), qint64(id)});
    if (!exec(q, QStringLiteral("set status")) || !record(id, QStringLiteral("status"), statusName(current->status), statusName(status), author, nowMs)) {
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        return false;
    }
    return commit();
}

bool Store::setSeverity(std::int64_t id, int severity, const QString& author, std::int64_t nowMs)
{
    if (severity < 1 || severity > 4) {
        m_error = QObject::tr("severity is 1 to 4");
        return false;
    }
    if (!beginOn("incidents", id))
        return false;
    const auto current = incident(id);
    auto q = prepared(m_db, QStringLiteral("UPDATE incidents SET severity = ? WHERE id = ?"), {severity, qint64(id)});
    if (!current || !exec(q, QStringLiteral("set severity"))
        || !record(id, QStringLiteral("severity"), QStringLiteral("SEV%1").arg(current->severity), QStringLiteral("SEV%1").arg(severity), author, nowMs)) {
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        if (!current)
            m_error = QObject::tr("no incident %1").arg(id);
        return false;
    }
    return commit();
}

bool Store::acknowledge(std::int64_t id, const QString& author, std::int64_t nowMs)
{
    if (!beginOn("incidents", id))
        return false;
    auto q = prepared(m_db, QStringLiteral("UPDATE incidents SET acknowledged_ms = ? WHERE id = ? AND acknowledged_ms = 0"), {qint64(nowMs), qint64(id)});
    if (!exec(q, QStringLiteral("acknowledge"))
        || (q.numRowsAffected() > 0 && !record(id, QStringLiteral("acknowledged"), QString(), author, author, nowMs))) {
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        return false;
    }
    return commit();
}

bool Store::setText(std::int64_t id, const QString& field, const QString& value, const QString& author, std::int64_t nowMs)
{
    QString current;
    return writeText(id, field, nullptr, value, author, nowMs, current) == TextWrite::Written;
}

Store::TextWrite Store::setTextIf(std::int64_t id, const QString& field, const QString& expected, const QString& value, const QString& author,
                                  std::int64_t nowMs, QString& current)
{
    return writeText(id, field, &expected, value, author, nowMs, current);
}

Store::TextWrite Store::writeText(std::int64_t id, const QString& field, const QString* expected, const QString& value, const QString& author,
                                  std::int64_t nowMs, QString& current)
{
    if (!kTextFields.contains(field)) {  // the column name is spliced in: only known names
        m_error = QObject::tr("no incident field %1").arg(field);
        return TextWrite::Failed;
    }
    if (!beginOn("incidents", id))
        return TextWrite::Failed;
    auto old = prepared(m_db, QStringLiteral("SELECT %1 FROM incidents WHERE id = ?").arg(field), {qint64(id)});
    const bool read = exec(old, QStringLiteral("read field"));
    if (!read || !old.next()) {
        if (read)
            m_error = QObject::tr("no incident #%1").arg(id);
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        return TextWrite::Failed;
    }
    current = old.value(0).toString();
    old.finish();
    if (expected && current != *expected) {
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        m_error = QObject::tr("%1 was changed by someone else meanwhile").arg(field);
        return TextWrite::Conflict;
    }
    auto q = prepared(m_db, QStringLiteral("UPDATE incidents SET %1 = ? WHERE id = ?").arg(field), {value, qint64(id)});
    if (!exec(q, QStringLiteral("set field")) || !record(id, field, current, value, author, nowMs)) {
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        return TextWrite::Failed;
    }
    if (!commit())
        return TextWrite::Failed;
    current = value;
    return TextWrite::Written;
}

std::vector<IncidentChange> Store::changes(std::int64_t incidentId)
{
    std::vector<IncidentChange> out;
    auto q = prepared(m_db, QStringLiteral("SELECT time_ms, author, field, old_value, new_value FROM incident_changes WHERE incident_id = ? ORDER BY id"),
                      {qint64(incidentId)});
    if (exec(q, QStringLiteral("read changes")))
        while (q.next())
            out.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString(), q.value(4).toString()});
    return out;
}

std::int64_t Store::addNote(std::int64_t incidentId, const QString& author, const QString& body, std::int64_t nowMs, const QString& token)
{
    if (body.trimmed().isEmpty()) {
        m_error = QObject::tr("an empty note is not saved");
        return 0;
    }
    if (!token.isEmpty()) {  // sent before (its answer lost with the connection, or the console killed): the same note
        auto known = prepared(m_db, QStringLiteral("SELECT id FROM notes WHERE client_token = ?"), {token});
        if (exec(known, QStringLiteral("find note")) && known.next())
            return known.value(0).toLongLong();
    }
    auto q = prepared(m_db, QStringLiteral("INSERT INTO notes(incident_id, author, created_ms, body, client_token) VALUES(?,?,?,?,?) RETURNING id"),
                      {qint64(incidentId), author, qint64(nowMs), body, token.isEmpty() ? QVariant() : QVariant(token)});  // invalid: NULL (not unique)
    const std::int64_t id = exec(q, QStringLiteral("save note")) && q.next() ? q.value(0).toLongLong() : 0;
    q.finish();
    return id;
}

bool Store::editNote(std::int64_t noteId, const QString& author, const QString& body, std::int64_t nowMs)
{
    if (!beginOn("notes", noteId))
        return false;
    // The text being replaced goes to the history first, with who wrote it.
    auto keep = prepared(m_db,
                         QStringLiteral("INSERT INTO note_revisions(note_id, revision, time_ms, author, body)"
                                        " SELECT id, (SELECT COUNT(*) FROM note_revisions WHERE note_id = ?) + 1, ?, author, body"
                                        " FROM notes WHERE id = ? AND deleted_ms = 0"),
                         {qint64(noteId), qint64(nowMs), qint64(noteId)});
    auto q = prepared(m_db, QStringLiteral("UPDATE notes SET body = ?, author = ?, edited_ms = ? WHERE id = ? AND deleted_ms = 0"),
                      {body, author, qint64(nowMs), qint64(noteId)});
    if (!exec(keep, QStringLiteral("keep note history")) || keep.numRowsAffected() != 1 || !exec(q, QStringLiteral("edit note"))) {
        if (m_error.isEmpty() || keep.numRowsAffected() != 1)
            m_error = QObject::tr("no note %1 to edit").arg(noteId);
        QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        return false;
    }
    return commit();
}

bool Store::deleteNote(std::int64_t noteId, const QString& author, std::int64_t nowMs)
{
    // The note keeps its author and its text; the delete is a stamp of when and by whom.
    auto q = prepared(m_db, QStringLiteral("UPDATE notes SET deleted_ms = ?, deleted_by = ? WHERE id = ? AND deleted_ms = 0"),
                      {qint64(nowMs), author, qint64(noteId)});
    return exec(q, QStringLiteral("delete note")) && (q.numRowsAffected() == 1 || (m_error = QObject::tr("no note %1").arg(noteId), false));
}

std::vector<Note> Store::notes(std::int64_t incidentId, bool includeDeleted)
{
    std::vector<Note> out;
    auto q = prepared(m_db,
                      QStringLiteral("SELECT id, incident_id, author, created_ms, edited_ms, deleted_ms, body, deleted_by FROM notes"
                                     " WHERE incident_id = ? AND (? OR deleted_ms = 0) ORDER BY created_ms, id"),
                      {qint64(incidentId), includeDeleted});
    if (exec(q, QStringLiteral("read notes")))
        while (q.next())
            out.push_back({q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(), q.value(3).toLongLong(),
                           q.value(4).toLongLong(), q.value(5).toLongLong(), q.value(6).toString(), q.value(7).toString()});
    return out;
}

std::vector<NoteRevision> Store::noteHistory(std::int64_t noteId)
{
    std::vector<NoteRevision> out;
    auto q = prepared(m_db, QStringLiteral("SELECT revision, time_ms, author, body FROM note_revisions WHERE note_id = ? ORDER BY revision"),
                      {qint64(noteId)});
    if (exec(q, QStringLiteral("read note history")))
        while (q.next())
            out.push_back({q.value(0).toInt(), q.value(1).toLongLong(), q.value(2).toString(), q.value(3).toString()});
    return out;
}

bool Store::addEvent(const Event& e)
{
    auto q = prepared(m_db,
                      QStringLiteral("INSERT INTO events(time_ms, cluster, region, kind, actor, summary, source_key) VALUES(?,?,?,?,?,?,?)"
                                                   " ON CONFLICT DO NOTHING"),
                      {qint64(e.timeMs), e.where.cluster, e.where.region, e.kind, e.actor, e.summary,
                       e.sourceKey.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : e.sourceKey});
    return exec(q, QStringLiteral("save event")) && q.numRowsAffected() == 1;
}

std::optional<std::vector<Event>> Store::addEvents(const std::vector<Event>& events, const std::vector<CaptureCursor>& cursors)
{
    if (!begin())
        return std::nullopt;
    std::vector<Event> added;
    for (const Event& e : events) {
        auto q = prepared(m_db,
                          QStringLiteral("INSERT INTO events(time_ms, cluster, region, kind, actor, summary, source_key) VALUES(?,?,?,?,?,?,?)"
                                                   " ON CONFLICT DO NOTHING"),
                          {qint64(e.timeMs), e.where.cluster, e.where.region, e.kind, e.actor, e.summary,
                           e.sourceKey.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : e.sourceKey});
        if (!exec(q, QStringLiteral("save events"))) {
            QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
            return std::nullopt;
        }
        if (q.numRowsAffected() == 1)
            added.push_back(e);
    }
    for (const CaptureCursor& c : cursors) {
        auto q = prepared(m_db, QStringLiteral("INSERT INTO capture_cursors(cluster, audit_id, audit_time_ms) VALUES(?,?,?) ON CONFLICT(cluster)"
                                                " DO UPDATE SET audit_id = excluded.audit_id, audit_time_ms = excluded.audit_time_ms"),
                          {c.cluster, qint64(c.auditId), qint64(c.auditTimeMs)});
        if (!exec(q, QStringLiteral("save capture position"))) {
            QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
            return std::nullopt;
        }
    }
    if (!commit())
        return std::nullopt;
    return added;
}

std::vector<CaptureCursor> Store::captureCursors()
{
    std::vector<CaptureCursor> out;
    QSqlQuery q(m_db);
    if (q.exec(QStringLiteral("SELECT cluster, audit_id, audit_time_ms FROM capture_cursors ORDER BY cluster")))
        while (q.next())
            out.push_back({q.value(0).toString(), q.value(1).toULongLong(), q.value(2).toLongLong()});
    return out;
}

std::vector<Event> Store::events(std::int64_t fromMs, std::int64_t toMs)
{
    std::vector<Event> out;
    auto q = prepared(m_db,
                      QStringLiteral("SELECT id, time_ms, cluster, region, kind, actor, summary, source_key FROM events"
                                     " WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms, id"),
                      {qint64(fromMs), qint64(toMs)});
    if (exec(q, QStringLiteral("read events")))
        while (q.next())
            out.push_back({q.value(0).toLongLong(), q.value(1).toLongLong(), {q.value(2).toString(), q.value(3).toString()},
                           q.value(4).toString(), q.value(5).toString(), q.value(6).toString(), q.value(7).toString()});
    return out;
}

std::vector<Event> Store::eventsFor(const Incident& incident, std::int64_t nowMs, std::int64_t leadMs)
{
    const std::int64_t end = incident.resolvedMs ? incident.resolvedMs + 1 : nowMs + 1;
    std::vector<Event> out;
    for (Event& e : events(incident.startedMs - leadMs, end))
        if (incident.touches(e.where))
            out.push_back(std::move(e));
    return out;
}

std::vector<TimelineItem> Store::timeline(std::int64_t incidentId, std::int64_t nowMs)
{
    std::vector<TimelineItem> out;
    const auto incident = this->incident(incidentId);
    if (!incident)
        return out;
    for (const Note& n : notes(incidentId)) {
        TimelineItem item{TimelineItem::Kind::Note, n.createdMs, n.author, n.body, QStringLiteral("note"), n.id, n.editedMs != 0};
        out.push_back(item);
    }
    for (const IncidentChange& c : changes(incidentId)) {
        const QString what = c.oldValue.isEmpty() ? QStringLiteral("%1: %2").arg(c.field, c.newValue)
                                                  : QStringLiteral("%1: %2 → %3").arg(c.field, c.oldValue, c.newValue);
        out.push_back({TimelineItem::Kind::Change, c.timeMs, c.author, what, c.field, 0, false});
    }
    for (const Event& e : eventsFor(*incident, nowMs))
        out.push_back({TimelineItem::Kind::Event, e.timeMs, e.actor,
                       QStringLiteral("%1/%2: %3").arg(e.where.cluster, e.where.region, e.summary), e.kind, 0, false});
    std::stable_sort(out.begin(), out.end(), [](const TimelineItem& a, const TimelineItem& b) { return a.timeMs < b.timeMs; });
    return out;
}

bool Store::recordPlayers(const RegionRef& where, std::int64_t timeMs, std::uint32_t players)
{
    auto q = prepared(m_db,
                      QStringLiteral("INSERT INTO player_minutes(cluster, region, minute, players) VALUES(?,?,?,?)"
                                     " ON CONFLICT(cluster, region, minute) DO UPDATE SET players ="
                                     " CASE WHEN excluded.players > player_minutes.players THEN excluded.players ELSE player_minutes.players END"),
                      {where.cluster, where.region, qint64(timeMs / 60'000), qint64(players)});
    return exec(q, QStringLiteral("record players"));
}

double Store::playerMinutes(const RegionRef& where, std::int64_t fromMs, std::int64_t toMs)
{
    if (toMs <= fromMs)
        return 0.0;
    // Whole minutes inside the span count fully; the first and last count by the share covered.
    auto q = prepared(m_db, QStringLiteral("SELECT minute, players FROM player_minutes WHERE cluster = ? AND region = ? AND minute >= ? AND minute <= ?"),
                      {where.cluster, where.region, qint64(fromMs / 60'000), qint64((toMs - 1) / 60'000)});
    double total = 0.0;
    if (exec(q, QStringLiteral("read players")))
        while (q.next()) {
            const std::int64_t start = q.value(0).toLongLong() * 60'000;
            const double covered = double(std::min(toMs, start + 60'000) - std::max(fromMs, start)) / 60'000.0;
            total += covered * q.value(1).toDouble();
        }
    return total;
}

} // namespace lv::incidents
