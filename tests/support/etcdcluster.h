#pragma once

// Real etcd members for tests: started here on 127.0.0.1 free ports with temporary data
// directories, stopped (and restarted) by the test. One member, or three for quorum cases.
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <string>
#include <vector>

namespace lvtest {

inline quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

class EtcdCluster {
public:
    /// Starts `members` members and waits until they answer; `error` says why not.
    bool start(int members, QString& error)
    {
        m_binary = QStandardPaths::findExecutable(QStringLiteral("etcd"));
        if (m_binary.isEmpty()) {
            error = QStringLiteral("etcd is needed (package etcd-server; scripts/setup.sh installs it)");
            return false;
        }
        QStringList initial;
        for (int i = 0; i < members; ++i) {
            Member m;
            m.name = QStringLiteral("m%1").arg(i);
            m.client = freePort();
            m.peer = freePort();
            initial << m.name + QStringLiteral("=http://127.0.0.1:%1").arg(m.peer);
            m_members.push_back(std::move(m));
        }
        m_initial = initial.join(QLatin1Char(','));
        for (int i = 0; i < members; ++i)
            if (!startMember(i, QStringLiteral("new"), error))
                return false;
        for (int i = 0; i < members; ++i)
            if (!waitHealthy(i, error))
                return false;
        return true;
    }

    ~EtcdCluster()
    {
        for (std::size_t i = 0; i < m_members.size(); ++i)
            stop(static_cast<int>(i));
    }

    /// Members serve clients over TLS with this certificate (for 127.0.0.1) and, with
    /// `clientCertAuth`, ask every client for one signed by `caFile`. Call before start().
    void setTls(const QString& caFile, const QString& certFile, const QString& keyFile, bool clientCertAuth)
    {
        m_ca = caFile;
        m_cert = certFile;
        m_key = keyFile;
        m_clientCertAuth = clientCertAuth;
    }
    /// The client certificate the health check presents when members ask for one.
    void setClientCertificate(const QString& certFile, const QString& keyFile)
    {
        m_clientCert = certFile;
        m_clientKey = keyFile;
    }

    std::string url(int i) const { return (m_ca.isEmpty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + std::to_string(m_members[i].client); }
    std::vector<std::string> urls() const
    {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < m_members.size(); ++i)
            out.push_back(url(static_cast<int>(i)));
        return out;
    }

    void stop(int i)
    {
        QProcess* p = m_members[i].process.get();
        if (!p || p->state() == QProcess::NotRunning)
            return;
        p->terminate();
        if (!p->waitForFinished(5000))
            p->kill();
        p->waitForFinished(2000);
    }

    bool restart(int i, QString& error) { return startMember(i, QStringLiteral("existing"), error) && waitHealthy(i, error); }

private:
    struct Member {
        QString name;
        quint16 client = 0, peer = 0;
        std::unique_ptr<QProcess> process;
    };

    bool startMember(int i, const QString& state, QString& error)
    {
        Member& m = m_members[i];
        m.process = std::make_unique<QProcess>();
        m.process->setProcessChannelMode(QProcess::MergedChannels);
        const QString clientUrl = QString::fromStdString(url(i)), peerUrl = QStringLiteral("http://127.0.0.1:%1").arg(m.peer);
        QStringList arguments{QStringLiteral("--name"), m.name, QStringLiteral("--data-dir"), m_dir.filePath(m.name),
                              QStringLiteral("--listen-client-urls"), clientUrl, QStringLiteral("--advertise-client-urls"), clientUrl,
                              QStringLiteral("--listen-peer-urls"), peerUrl, QStringLiteral("--initial-advertise-peer-urls"), peerUrl,
                              QStringLiteral("--initial-cluster"), m_initial, QStringLiteral("--initial-cluster-state"), state,
                              QStringLiteral("--initial-cluster-token"), QStringLiteral("lv-test")};
        if (!m_ca.isEmpty()) {
            arguments << QStringLiteral("--cert-file") << m_cert << QStringLiteral("--key-file") << m_key << QStringLiteral("--trusted-ca-file") << m_ca;
            if (m_clientCertAuth)
                arguments << QStringLiteral("--client-cert-auth");
        }
        m.process->start(m_binary, arguments);
        if (!m.process->waitForStarted(5000)) {
            error = m.process->errorString();
            return false;
        }
        return true;
    }

    bool waitHealthy(int i, QString& error)
    {
        // Up means a linearizable read answers through this member: it has joined and a leader exists.
        auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(m_members[i].client), credentials()));
        const bool up = QTest::qWaitFor(
            [&] {
                grpc::ClientContext c;
                c.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
                etcdserverpb::RangeRequest r;
                r.set_key("health");
                etcdserverpb::RangeResponse rr;
                const grpc::Status status = kv->Range(&c, r, &rr);
                return status.ok() || status.error_code() == grpc::StatusCode::INVALID_ARGUMENT;  // (auth on: answered, needs a user)
            },
            30'000);
        if (!up)
            error = QStringLiteral("etcd member %1 did not start: %2").arg(i).arg(QString::fromUtf8(m_members[i].process->readAll()));
        return up;
    }

public:
    /// Credentials that reach the members (TLS with the CA and client certificate when set).
    std::shared_ptr<grpc::ChannelCredentials> credentials() const
    {
        if (m_ca.isEmpty())
            return grpc::InsecureChannelCredentials();
        const auto read = [](const QString& path) {
            QFile f(path);
            return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
        };
        grpc::SslCredentialsOptions ssl;
        ssl.pem_root_certs = read(m_ca);
        if (!m_clientCert.isEmpty()) {
            ssl.pem_cert_chain = read(m_clientCert);
            ssl.pem_private_key = read(m_clientKey);
        }
        return grpc::SslCredentials(ssl);
    }

private:
    QString m_ca, m_cert, m_key, m_clientCert, m_clientKey;
    bool m_clientCertAuth = false;
    QTemporaryDir m_dir;
    QString m_binary;
    QString m_initial;
    std::vector<Member> m_members;
};

} // namespace lvtest
