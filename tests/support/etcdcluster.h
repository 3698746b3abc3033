#pragma once

// Real etcd members for tests: started here on 127.0.0.1 free ports with temporary data
// directories, stopped (and restarted) by the test. One member, or three for quorum cases.
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

#include <grpcpp/grpcpp.h>

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

    std::string url(int i) const { return "http://127.0.0.1:" + std::to_string(m_members[i].client); }
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
        const QString clientUrl = QStringLiteral("http://127.0.0.1:%1").arg(m.client), peerUrl = QStringLiteral("http://127.0.0.1:%1").arg(m.peer);
        m.process->start(m_binary, {QStringLiteral("--name"), m.name, QStringLiteral("--data-dir"), m_dir.filePath(m.name),
                                    QStringLiteral("--listen-client-urls"), clientUrl, QStringLiteral("--advertise-client-urls"), clientUrl,
                                    QStringLiteral("--listen-peer-urls"), peerUrl, QStringLiteral("--initial-advertise-peer-urls"), peerUrl,
                                    QStringLiteral("--initial-cluster"), m_initial, QStringLiteral("--initial-cluster-state"), state,
                                    QStringLiteral("--initial-cluster-token"), QStringLiteral("lv-test")});
        if (!m.process->waitForStarted(5000)) {
            error = m.process->errorString();
            return false;
        }
        return true;
    }

    bool waitHealthy(int i, QString& error)
    {
        // Up means a linearizable read answers through this member: it has joined and a leader exists.
        auto kv = etcdserverpb::KV::NewStub(
            grpc::CreateChannel("127.0.0.1:" + std::to_string(m_members[i].client), grpc::InsecureChannelCredentials()));
        const bool up = QTest::qWaitFor(
            [&] {
                grpc::ClientContext c;
                c.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
                etcdserverpb::RangeRequest r;
                r.set_key("health");
                etcdserverpb::RangeResponse rr;
                return kv->Range(&c, r, &rr).ok();
            },
            30'000);
        if (!up)
            error = QStringLiteral("etcd member %1 did not start: %2").arg(i).arg(QString::fromUtf8(m_members[i].process->readAll()));
        return up;
    }

    QTemporaryDir m_dir;
    QString m_binary;
    QString m_initial;
    std::vector<Member> m_members;
};

} // namespace lvtest
