#include "incidents/outbox.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

namespace lv::incidents {

std::unique_ptr<Outbox> Outbox::open(const QString& path, QString& error)
{
    const QString name = QStringLiteral("outbox-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    std::unique_ptr<Outbox> box(new Outbox(name));
    box->m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    box->m_db.setDatabaseName(path);
    box->m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
    if (!box->m_db.open()) {
        error = QObject::tr("cannot open the outbox %1: %2").arg(path, box->m_db.lastError().text());
        return nullptr;
    }
    QSqlQuery q(box->m_db);
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                            "CREATE TABLE IF NOT EXISTS outbox(seq INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, incident_id INTEGER NOT NULL,"
                            " author TEXT NOT NULL, created_ms INTEGER NOT NULL, body TEXT NOT NULL)"})
        if (!q.exec(QLatin1String(sql))) {
            error = QObject::tr("the outbox %1: %2").arg(path, q.lastError().text());
            return nullptr;
        }
    return box;
}

Outbox::~Outbox()
{
    if (m_db.isOpen())
        m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connection);
}

bool Outbox::put(Note& note)
{
    note.token = QUuid::createUuid().toString(QUuid::WithoutBraces);
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("INSERT INTO outbox(token, incident_id, author, created_ms, body) VALUES(?,?,?,?,?) RETURNING seq"));
    for (const QVariant& v : {QVariant(note.token), QVariant(qint64(note.incidentId)), QVariant(note.author), QVariant(qint64(note.createdMs)),
                              QVariant(note.body)})
        q.addBindValue(v);
    if (!q.exec() || !q.next()) {
        m_error = q.lastError().text();
        return false;
    }
    note.seq = q.value(0).toLongLong();
    q.finish();
    return true;
}

std::vector<Outbox::Note> Outbox::pending()
{
    std::vector<Note> out;
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT seq, token, incident_id, author, created_ms, body FROM outbox ORDER BY seq"))) {
        m_error = q.lastError().text();
        return out;
    }
    while (q.next())
        out.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toLongLong(), q.value(3).toString(), q.value(4).toLongLong(),
                       q.value(5).toString()});
    return out;
}

int Outbox::count()
{
    QSqlQuery q(m_db);
    return q.exec(QStringLiteral("SELECT COUNT(*) FROM outbox")) && q.next() ? q.value(0).toInt() : 0;
}

bool Outbox::remove(std::int64_t seq)
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("DELETE FROM outbox WHERE seq = ?"));
    q.addBindValue(qint64(seq));
    if (q.exec())
        return true;
    m_error = q.lastError().text();
    return false;
}

} // namespace lv::incidents
