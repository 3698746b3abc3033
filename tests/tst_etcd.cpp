// The etcd v3 API stubs generated from Debian's golang-etcd-server-dev protos (backend/proto,
// Go-only options stripped) against a real etcd started here on 127.0.0.1 with a temporary data
// directory: the calls the fleet store is built on (issue 15) — put and range, a compare-and-set
// transaction on a key's revision, a lease that takes its key with it, a watch.
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include <thread>

namespace {
quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}
} // namespace

class TestEtcd : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QProcess m_etcd;
    std::shared_ptr<grpc::Channel> m_channel;

private slots:
    void initTestCase()
    {
        const QString etcd = QStandardPaths::findExecutable(QStringLiteral("etcd"));
        QVERIFY2(!etcd.isEmpty(), "etcd is needed (package etcd-server; scripts/setup.sh installs it)");
        const quint16 client = freePort(), peer = freePort();
        const QString clientUrl = QStringLiteral("http://127.0.0.1:%1").arg(client), peerUrl = QStringLiteral("http://127.0.0.1:%1").arg(peer);
        m_etcd.setProcessChannelMode(QProcess::MergedChannels);
        m_etcd.start(etcd, {QStringLiteral("--name"), QStringLiteral("t"), QStringLiteral("--data-dir"), m_dir.filePath(QStringLiteral("etcd")),
                            QStringLiteral("--listen-client-urls"), clientUrl, QStringLiteral("--advertise-client-urls"), clientUrl,
                            QStringLiteral("--listen-peer-urls"), peerUrl, QStringLiteral("--initial-advertise-peer-urls"), peerUrl,
                            QStringLiteral("--initial-cluster"), QStringLiteral("t=") + peerUrl});
        QVERIFY2(m_etcd.waitForStarted(5000), qPrintable(m_etcd.errorString()));
        m_channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(client), grpc::InsecureChannelCredentials());
        QVERIFY2(m_channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)), qPrintable(QString::fromUtf8(m_etcd.readAll())));
    }

    void cleanupTestCase()
    {
        m_etcd.terminate();
        if (!m_etcd.waitForFinished(5000))
            m_etcd.kill();
    }

    void putRangeAndCompareAndSet()
    {
        auto kv = etcdserverpb::KV::NewStub(m_channel);
        grpc::ClientContext put;
        etcdserverpb::PutRequest p;
        p.set_key("/prod/toggles/fleet/kill_switch");
        p.set_value("false");
        etcdserverpb::PutResponse pr;
        QVERIFY(kv->Put(&put, p, &pr).ok());
        const auto revision = pr.header().revision();

        grpc::ClientContext get;
        etcdserverpb::RangeRequest r;
        r.set_key("/prod/toggles/fleet/kill_switch");
        etcdserverpb::RangeResponse rr;
        QVERIFY(kv->Range(&get, r, &rr).ok());
        QCOMPARE(rr.kvs_size(), 1);
        QCOMPARE(rr.kvs(0).value(), std::string("false"));
        QCOMPARE(rr.kvs(0).mod_revision(), revision);

        // Two setters race from the same revision: exactly one transaction succeeds.
        auto set = [&](const std::string& value) {
            grpc::ClientContext c;
            etcdserverpb::TxnRequest t;
            auto* cmp = t.add_compare();
            cmp->set_key("/prod/toggles/fleet/kill_switch");
            cmp->set_target(etcdserverpb::Compare::MOD);
            cmp->set_result(etcdserverpb::Compare::EQUAL);
            cmp->set_mod_revision(revision);
            auto* op = t.add_success()->mutable_request_put();
            op->set_key("/prod/toggles/fleet/kill_switch");
            op->set_value(value);
            etcdserverpb::TxnResponse tr;
            const grpc::Status s = kv->Txn(&c, t, &tr);
            return s.ok() && tr.succeeded();
        };
        const bool first = set("true"), second = set("true-too");
        QVERIFY(first);
        QVERIFY(!second);
    }

    void aLeaseTakesItsKeyWithIt()
    {
        auto lease = etcdserverpb::Lease::NewStub(m_channel);
        auto kv = etcdserverpb::KV::NewStub(m_channel);
        grpc::ClientContext g;
        etcdserverpb::LeaseGrantRequest lg;
        lg.set_ttl(1);
        etcdserverpb::LeaseGrantResponse lgr;
        QVERIFY(lease->LeaseGrant(&g, lg, &lgr).ok());
        grpc::ClientContext put;
        etcdserverpb::PutRequest p;
        p.set_key("/prod/servers/syncd-a");
        p.set_value("{\"regions\":[\"eu-west\"]}");
        p.set_lease(lgr.id());
        etcdserverpb::PutResponse pr;
        QVERIFY(kv->Put(&put, p, &pr).ok());
        // Nobody keeps the lease alive: the server's key goes when it expires.
        const bool gone = QTest::qWaitFor(
            [&] {
                grpc::ClientContext c;
                etcdserverpb::RangeRequest r;
                r.set_key("/prod/servers/syncd-a");
                etcdserverpb::RangeResponse rr;
                return kv->Range(&c, r, &rr).ok() && rr.kvs_size() == 0;
            },
            10'000);
        QVERIFY(gone);
    }

    void aWatchSeesTheChange()
    {
        auto watch = etcdserverpb::Watch::NewStub(m_channel);
        grpc::ClientContext c;
        auto stream = watch->Watch(&c);
        etcdserverpb::WatchRequest w;
        w.mutable_create_request()->set_key("/prod/toggles/");
        w.mutable_create_request()->set_range_end("/prod/toggles0");  // the prefix
        QVERIFY(stream->Write(w));
        etcdserverpb::WatchResponse created;
        QVERIFY(stream->Read(&created));
        QVERIFY(created.created());
        auto kv = etcdserverpb::KV::NewStub(m_channel);
        grpc::ClientContext put;
        etcdserverpb::PutRequest p;
        p.set_key("/prod/toggles/region/eu-west/max_visible");
        p.set_value("32");
        etcdserverpb::PutResponse pr;
        QVERIFY(kv->Put(&put, p, &pr).ok());
        etcdserverpb::WatchResponse event;
        QVERIFY(stream->Read(&event));
        QCOMPARE(event.events_size(), 1);
        QCOMPARE(event.events(0).kv().key(), std::string("/prod/toggles/region/eu-west/max_visible"));
        QCOMPARE(event.events(0).kv().value(), std::string("32"));
        c.TryCancel();
        etcdserverpb::WatchResponse rest;
        while (stream->Read(&rest)) {
        }
        (void)stream->Finish();
    }
};

QTEST_GUILESS_MAIN(TestEtcd)
#include "tst_etcd.moc"
