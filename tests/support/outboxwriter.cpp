// outboxwriter PORT OUTBOX INCIDENT: the outbox crash test's child, a console's incident desk on
// the team's PostgreSQL (127.0.0.1:PORT, the test server's user) with its outbox at OUTBOX. It
// says "ready", then writes a note every 20 ms; each time the desk acknowledges one (saved to the
// server, or queued in the outbox) it prints "acked <body>" and flushes, so the parent knows which
// notes were acknowledged when it killed this process.
#include "console/incidentdesk.h"
#include "postgres.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    if (argc != 4) {
        std::fprintf(stderr, "usage: outboxwriter PORT OUTBOX INCIDENT\n");
        return 2;
    }
    lv::incidents::Store::Server server;
    server.host = QStringLiteral("127.0.0.1");
    server.port = QString::fromLocal8Bit(argv[1]).toInt();
    server.database = QLatin1String(lvtest::Postgres::kDatabase);
    server.user = QLatin1String(lvtest::Postgres::kUser);
    server.password = QLatin1String(lvtest::Postgres::kPassword);
    const std::int64_t incident = QString::fromLocal8Bit(argv[3]).toLongLong();
    lv::console::IncidentDesk desk;
    desk.setAuthor(QStringLiteral("writer"));
    std::map<quint64, QString> bodies;
    const auto acked = [&](quint64 request) {
        if (auto it = bodies.find(request); it != bodies.end()) {
            std::printf("acked %s\n", qPrintable(it->second));
            std::fflush(stdout);
        }
    };
    QObject::connect(&desk, &lv::console::IncidentDesk::noteSaved, [&](std::int64_t, std::int64_t, quint64 request) { acked(request); });
    QObject::connect(&desk, &lv::console::IncidentDesk::noteQueued, [&](std::int64_t, quint64 request) { acked(request); });
    QTimer writer;
    int n = 0;
    QObject::connect(&writer, &QTimer::timeout, [&] {
        const QString body = QStringLiteral("note %1 of process %2").arg(n++).arg(QCoreApplication::applicationPid());
        bodies[desk.addNote(incident, body)] = body;
    });
    QObject::connect(&desk, &lv::console::IncidentDesk::opened, [&](bool ok, const QString& problem) {
        if (!ok) {
            std::fprintf(stderr, "%s\n", qPrintable(problem));
            QCoreApplication::exit(1);
            return;
        }
        std::printf("ready\n");
        std::fflush(stdout);
        writer.start(20);
    });
    desk.openServer(server, QString::fromLocal8Bit(argv[2]));
    return app.exec();
}
