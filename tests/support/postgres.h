#pragma once
// A real PostgreSQL 15 for tests: initdb and pg_ctl on a temporary directory as the `postgres`
// system user (the server refuses to run as root), on a free 127.0.0.1 port, with password
// (scram-sha-256) authentication for TCP, and stopped again. A missing server is an error, never
// a skip.
#include "incidents/store.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>

#include <unistd.h>

namespace lvtest {

class Postgres {
public:
    static constexpr const char* kUser = "lifeverse";
    static constexpr const char* kPassword = "incident-room-pass";
    static constexpr const char* kDatabase = "incidents";

    ~Postgres() { stop(); }

    bool start(QString& error)
    {
        m_bin = QStringLiteral("/usr/lib/postgresql/15/bin");
        if (!QFile::exists(m_bin + QStringLiteral("/initdb"))) {
            error = QStringLiteral("PostgreSQL 15 is needed (package postgresql; scripts/setup.sh installs it)");
            return false;
        }
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        m_port = probe.serverPort();
        probe.close();
        // The data directory belongs to postgres; the temporary directory is ours (root's), so let
        // postgres into it.
        m_data = m_dir.filePath(QStringLiteral("data"));
        QFile pw(m_dir.filePath(QStringLiteral("pw")));
        if (!pw.open(QIODevice::WriteOnly) || pw.write(kPassword) < 0)
            return (error = QStringLiteral("cannot write the password file"), false);
        pw.close();
        if (!asRoot({QStringLiteral("chown"), QStringLiteral("-R"), QStringLiteral("postgres:postgres"), m_dir.path()}, error))
            return false;
        QFile::setPermissions(m_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ExeOther);
        if (!asPostgres({m_bin + QStringLiteral("/initdb"), QStringLiteral("-D"), m_data, QStringLiteral("-U"), QLatin1String(kUser),
                         QStringLiteral("--pwfile=") + pw.fileName(), QStringLiteral("--auth-host=scram-sha-256"), QStringLiteral("--auth-local=trust"),
                         QStringLiteral("-E"), QStringLiteral("UTF8"), QStringLiteral("--no-instructions")},
                        error))
            return false;
        return startServer(error) && asPostgres({m_bin + QStringLiteral("/createdb"), QStringLiteral("-h"), m_dir.path(), QStringLiteral("-p"),
                                                 QString::number(m_port), QStringLiteral("-U"), QLatin1String(kUser), QLatin1String(kDatabase)},
                                                error);
    }

    /// Stops the server (fast shutdown: sessions are ended), keeping its data.
    void stop()
    {
        if (!m_running)
            return;
        QString ignored;
        asPostgres({m_bin + QStringLiteral("/pg_ctl"), QStringLiteral("-D"), m_data, QStringLiteral("-m"), QStringLiteral("fast"), QStringLiteral("-w"),
                    QStringLiteral("stop")},
                   ignored);
        m_running = false;
    }
    /// Starts it again on the same port and data.
    bool restart(QString& error) { return startServer(error); }

    int port() const { return m_port; }
    /// How a console reaches it (the password as a console would have it from the keychain).
    lv::incidents::Store::Server server() const
    {
        lv::incidents::Store::Server s;
        s.host = QStringLiteral("127.0.0.1");
        s.port = m_port;
        s.database = QLatin1String(kDatabase);
        s.user = QLatin1String(kUser);
        s.password = QLatin1String(kPassword);
        return s;
    }

private:
    bool startServer(QString& error)
    {
        const QString options = QStringLiteral("-p %1 -c listen_addresses=127.0.0.1 -c unix_socket_directories=%2 -c fsync=off")
                                    .arg(m_port)
                                    .arg(m_dir.path());
        if (!asPostgres({m_bin + QStringLiteral("/pg_ctl"), QStringLiteral("-D"), m_data, QStringLiteral("-o"), options, QStringLiteral("-l"),
                         m_dir.filePath(QStringLiteral("server.log")), QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("30"),
                         QStringLiteral("start")},
                        error)) {
            QFile log(m_dir.filePath(QStringLiteral("server.log")));
            if (log.open(QIODevice::ReadOnly))
                error += QStringLiteral("\n") + QString::fromUtf8(log.readAll().right(2000));
            return false;
        }
        m_running = true;
        return true;
    }
    bool asPostgres(QStringList command, QString& error)
    {
        // runuser: root becomes postgres without a password or a terminal.
        return run(QStringLiteral("runuser"), QStringList{QStringLiteral("-u"), QStringLiteral("postgres"), QStringLiteral("--")} + command, error);
    }
    bool asRoot(QStringList command, QString& error)
    {
        const QString program = command.takeFirst();
        return run(program, command, error);
    }
    bool run(const QString& program, const QStringList& arguments, QString& error)
    {
        QProcess p;
        p.setWorkingDirectory(QStringLiteral("/"));
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(program, arguments);
        if (!p.waitForFinished(60'000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
            error = QStringLiteral("%1 %2 failed: %3").arg(program, arguments.join(QLatin1Char(' ')), QString::fromUtf8(p.readAll()));
            return false;
        }
        return true;
    }

    QTemporaryDir m_dir;
    QString m_bin, m_data;
    quint16 m_port = 0;
    bool m_running = false;
};

} // namespace lvtest
