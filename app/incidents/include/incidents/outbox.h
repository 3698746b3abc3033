#pragma once

#include <QSqlDatabase>
#include <QString>

#include <memory>
#include <vector>

namespace lv::incidents {

/// Notes written while the team's database cannot be reached: kept in a local SQLite file (WAL,
/// synchronous=FULL: a note acknowledged as queued survives kill -9) until they are sent, in the
/// order they were written. Each carries a token the server stores with it, so sending one again
/// (the answer lost, the console killed mid-send) never stores it twice. One connection, one thread.
class Outbox {
public:
    struct Note {
        std::int64_t seq = 0;  ///< order of writing
        QString token;
        std::int64_t incidentId = 0;
        QString author;
        std::int64_t createdMs = 0;
        QString body;
    };
    static std::unique_ptr<Outbox> open(const QString& path, QString& error);
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    /// Queues a note (a fresh token is given to it); true once it is on disk.
    bool put(Note& note);
    std::vector<Note> pending();
    int count();
    bool remove(std::int64_t seq);
    QString lastError() const { return m_error; }

private:
    explicit Outbox(QString connection) : m_connection(std::move(connection)) {}
    QString m_connection;
    QSqlDatabase m_db;
    QString m_error;
};

} // namespace lv::incidents
