// The console's client library against a real server: asynchronous calls with deadlines,
// watches that survive a server restart and resume where they left off.
#include "apifixture.h"
#include "liveops/client.h"

using namespace lv;
using namespace lv::test;
namespace lc = lv::liveops::client;

namespace {

/// Collects what callbacks deliver on other threads.
template <typename T>
struct Inbox {
    std::mutex mutex;
    std::vector<T> items;
    void add(const T& item)
    {
        std::lock_guard lock(mutex);
        items.push_back(item);
    }
    std::vector<T> take()
    {
        std::lock_guard lock(mutex);
        return items;
    }
    std::size_t size()
    {
        std::lock_guard lock(mutex);
        return items.size();
    }
};

lc::ClientOptions optionsFor(int port, const char* token)
{
    lc::ClientOptions options;
    options.target = "127.0.0.1:" + std::to_string(port);
    options.token = token;
    options.backoffInitial = std::chrono::milliseconds(100);
    options.backoffMax = std::chrono::milliseconds(400);
    return options;
}

std::unique_ptr<lv::liveops::ApiServer> serveOn(ApiFixture& api, int port)
{
    lv::liveops::TokenTable tokens;
    tokens.add(kAdminToken, {"alice", lv::liveops::Role::Admin});
    tokens.add(kViewerToken, {"victor", lv::liveops::Role::Viewer});
    lv::liveops::ApiServerOptions options;
    options.address = "127.0.0.1:" + std::to_string(port);
    std::string error;
    auto server = lv::liveops::ApiServer::start(*api.cluster, std::move(tokens), options, error);
    if (!server)
        qWarning("%s", error.c_str());
    return server;
}

} // namespace

class TestClient : public QObject {
    Q_OBJECT
private slots:
    void backoffGrowsIsCappedAndJittered()
    {
        lc::ClientOptions o;  // 250 ms doubling to 4 s, +-20 %
        QCOMPARE(lc::LiveOpsClient::backoff(o, 1, 0.5).count(), 250);
        QCOMPARE(lc::LiveOpsClient::backoff(o, 2, 0.5).count(), 500);
        QCOMPARE(lc::LiveOpsClient::backoff(o, 5, 0.5).count(), 4000);
        QCOMPARE(lc::LiveOpsClient::backoff(o, 7, 0.5).count(), 4000);
        QCOMPARE(lc::LiveOpsClient::backoff(o, 30, 1.0).count(), 4800);  // the longest wait: back within 5 s
        QCOMPARE(lc::LiveOpsClient::backoff(o, 3, 0.0).count(), 800);
        QCOMPARE(lc::LiveOpsClient::backoff(o, 3, 1.0).count(), 1200);
    }

    void callsEndWithinTheirDeadlineWhenNobodyAnswers()
    {
        lc::ClientOptions options = optionsFor(1, kViewerToken);  // nothing listens on port 1
        options.deadline = std::chrono::milliseconds(300);
        lc::LiveOpsClient client(options);
        Inbox<lc::CallStatus> replies;
        client.listRegions([&](lc::Reply<std::vector<lc::Region>> reply) { replies.add(reply.status); });
        QVERIFY(eventually([&] { return replies.size() == 1; }, std::chrono::seconds(5)));
        const auto status = replies.take().front();
        QVERIFY(status.code == int(grpc::StatusCode::UNAVAILABLE) || status.code == int(grpc::StatusCode::DEADLINE_EXCEEDED));
    }

    void unaryCallsReportResultsAndStatuses()
    {
        ApiFixture api;
        lc::LiveOpsClient admin(optionsFor(api.server->port(), kAdminToken));
        Inbox<lc::Reply<lc::Identity>> who;
        admin.whoAmI([&](lc::Reply<lc::Identity> r) { who.add(r); });
        Inbox<lc::Reply<lc::Toggle>> sets;
        admin.setToggle("snapshot_hz", "eu-west", std::int64_t{15}, 0, "tune", [&](lc::Reply<lc::Toggle> r) { sets.add(r); });
        QVERIFY(eventually([&] { return who.size() == 1 && sets.size() == 1; }));
        QCOMPARE(who.take()[0].value.role, lv::liveops::Role::Admin);
        const auto first = sets.take()[0];
        QVERIFY(first.status.ok());
        QCOMPARE(first.value.version, std::uint64_t{1});
        QCOMPARE(std::get<std::int64_t>(first.value.value), std::int64_t{15});
        // Same expected version again: stale.
        admin.setToggle("snapshot_hz", "eu-west", std::int64_t{12}, 0, "tune", [&](lc::Reply<lc::Toggle> r) { sets.add(r); });
        QVERIFY(eventually([&] { return sets.size() == 2; }));
        QCOMPARE(sets.take()[1].status.code, int(grpc::StatusCode::ABORTED));
        Inbox<lc::Reply<std::vector<lc::Region>>> regions;
        admin.listRegions([&](lc::Reply<std::vector<lc::Region>> r) { regions.add(r); });
        QVERIFY(eventually([&] { return regions.size() == 1; }));
        QCOMPARE(regions.take()[0].value.size(), std::size_t{2});
    }

    void tlsWithOptionalClientCertificates()
    {
        QTemporaryDir dir;
        auto run = [&](const QString& script) {
            QProcess shell;
            shell.setWorkingDirectory(dir.path());
            shell.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), script});
            return shell.waitForFinished(30000) && shell.exitCode() == 0;
        };
        // A CA, a server certificate for 127.0.0.1, and a client certificate, all from that CA.
        QVERIFY(run(QStringLiteral(
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca 2>/dev/null && "
            "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null && "
            "printf 'subjectAltName=IP:127.0.0.1' > san.ext && "
            "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext 2>/dev/null && "
            "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=console 2>/dev/null && "
            "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 2>/dev/null && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca 2>/dev/null")));
        const auto file = [&](const char* name) { return dir.filePath(QLatin1String(name)).toStdString(); };
        ApiFixture api;
        lv::liveops::TokenTable tokens;
        tokens.add(kViewerToken, {"victor", lv::liveops::Role::Viewer});
        lv::liveops::ApiServerOptions options;
        options.tlsCertFile = file("server.crt");
        options.tlsKeyFile = file("server.key");
        options.tlsClientCaFile = file("ca.crt");
        std::string error;
        auto secure = lv::liveops::ApiServer::start(*api.cluster, std::move(tokens), options, error);
        QVERIFY2(secure, error.c_str());

        auto listRegions = [&](lc::ClientOptions o) {
            lc::LiveOpsClient client(std::move(o));
            Inbox<lc::CallStatus> replies;
            client.listRegions([&](lc::Reply<std::vector<lc::Region>> r) { replies.add(r.status); });
            eventually([&] { return replies.size() == 1; });
            return replies.take().at(0);
        };
        lc::ClientOptions o = optionsFor(secure->port(), kViewerToken);
        o.tlsRootCertFile = file("ca.crt");
        o.tlsClientCertFile = file("client.crt");
        o.tlsClientKeyFile = file("client.key");
        QVERIFY(listRegions(o).ok());
        lc::ClientOptions noCertificate = o;
        noCertificate.tlsClientCertFile.clear();
        noCertificate.tlsClientKeyFile.clear();
        QCOMPARE(listRegions(noCertificate).code, int(grpc::StatusCode::UNAVAILABLE));  // handshake refused
        lc::ClientOptions plaintext = optionsFor(secure->port(), kViewerToken);
        QVERIFY(!listRegions(plaintext).ok());
        lc::ClientOptions wrongCa = o;  // a server this client has no reason to trust
        wrongCa.tlsRootCertFile = file("other-ca.crt");
        QCOMPARE(listRegions(wrongCa).code, int(grpc::StatusCode::UNAVAILABLE));

        // TLS without client certificates: any client that trusts the CA gets in (the token is
        // what identifies it); plaintext and an untrusted server still fail.
        lv::liveops::TokenTable moreTokens;
        moreTokens.add(kViewerToken, {"victor", lv::liveops::Role::Viewer});
        options.tlsClientCaFile.clear();
        auto tlsOnly = lv::liveops::ApiServer::start(*api.cluster, std::move(moreTokens), options, error);
        QVERIFY2(tlsOnly, error.c_str());
        lc::ClientOptions serverOnly = optionsFor(tlsOnly->port(), kViewerToken);
        serverOnly.tlsRootCertFile = file("ca.crt");
        QVERIFY(listRegions(serverOnly).ok());
        QVERIFY(!listRegions(optionsFor(tlsOnly->port(), kViewerToken)).ok());
        serverOnly.tlsRootCertFile = file("other-ca.crt");
        QCOMPARE(listRegions(serverOnly).code, int(grpc::StatusCode::UNAVAILABLE));
        serverOnly.tlsRootCertFile = file("ca.crt");
        serverOnly.token = "not-a-real-token-at-all";
        QCOMPARE(listRegions(serverOnly).code, int(grpc::StatusCode::UNAUTHENTICATED));

        // A CA file that cannot be read is an error, never a silent fall-back to the system's
        // roots (which, for a public certificate, would connect): calls and watches say why.
        lc::ClientOptions missingCa = optionsFor(tlsOnly->port(), kViewerToken);
        missingCa.tlsRootCertFile = file("no-such-ca.crt");
        const lc::CallStatus refused = listRegions(missingCa);
        QCOMPARE(refused.code, int(grpc::StatusCode::FAILED_PRECONDITION));
        QVERIFY2(QString::fromStdString(refused.message).contains(QStringLiteral("no-such-ca.crt")), refused.message.c_str());
        QFile empty(dir.filePath(QStringLiteral("empty.crt")));
        QVERIFY(empty.open(QIODevice::WriteOnly));
        empty.close();
        missingCa.tlsRootCertFile = file("empty.crt");
        QCOMPARE(listRegions(missingCa).code, int(grpc::StatusCode::FAILED_PRECONDITION));
        {
            lc::LiveOpsClient client(missingCa);
            Inbox<lc::StreamState> states;
            client.watchToggles([](const lc::Toggle&) {}, [&](const lc::StreamState& st) { states.add(st); });
            QVERIFY(eventually([&] { return states.size() >= 1; }));
            const auto first = states.take().front();
            QVERIFY(!first.connected);
            QVERIFY2(QString::fromStdString(first.lastError.message).contains(QStringLiteral("empty.crt")), first.lastError.message.c_str());
        }
    }

    void watchesResumeAfterTheServerComesBack()
    {
        ApiFixture api;
        const int port = api.server->port();
        lc::LiveOpsClient client(optionsFor(port, kViewerToken));
        Inbox<lc::Telemetry> samples;
        Inbox<lc::StreamState> states;
        Inbox<lc::Toggle> toggles;
        Inbox<lv::liveops::AuditEntry> audit;
        client.watchTelemetry({}, 0, [&](const lc::Telemetry& t) { samples.add(t); }, [&](const lc::StreamState& s) { states.add(s); });
        client.watchToggles([&](const lc::Toggle& t) { toggles.add(t); });
        client.watchAudit(0, [&](const lv::liveops::AuditEntry& e) { audit.add(e); });
        QVERIFY(eventually([&] { return samples.size() >= 4 && toggles.size() >= 36; }));
        QVERIFY(states.take().front().connected);

        // syncd's API goes away; meanwhile a change lands (another syncd process, say).
        api.server.reset();
        QVERIFY(eventually([&] {
            const auto s = states.take();
            return !s.empty() && !s.back().connected;
        }));
        const auto down = states.take().back();
        QVERIFY(down.attempt >= 1);
        QCOMPARE(down.lastError.code, int(grpc::StatusCode::UNAVAILABLE));
        QVERIFY(down.retryIn.count() >= 80 && down.retryIn.count() <= 480);  // 100 ms doubling, capped at 400, +-20 %
        lv::liveops::Identity who{"alice", lv::liveops::Role::Admin};
        QCOMPARE(api.cluster->setToggle(who, "max_visible", "*", std::int64_t{33}, 0, "while the console was away").outcome,
                 lv::liveops::Outcome::Ok);
        std::this_thread::sleep_for(std::chrono::milliseconds(700));  // several telemetry windows pass unseen

        api.server = serveOn(api, port);
        QVERIFY(api.server);
        const std::size_t before = samples.size();
        QVERIFY(eventually([&] { return samples.size() >= before + 6; }));
        QVERIFY(states.take().back().connected);
        // Telemetry: every sequence exactly once, none missing across the outage.
        const auto all = samples.take();
        for (std::size_t i = 1; i < all.size(); ++i)
            QCOMPARE(all[i].sequence, all[i - 1].sequence + 1);
        // Audit: the change made during the outage arrives once.
        QVERIFY(eventually([&] { return audit.size() == 1; }));
        QCOMPARE(audit.take()[0].reason, std::string("while the console was away"));
        // Toggles: a fresh state dump after the reconnect carries the new value.
        QVERIFY(eventually([&] {
            for (const auto& t : toggles.take())
                if (t.initial && t.key == "max_visible" && t.scope == "*" && t.version == 1)
                    return true;
            return false;
        }));
        client.stopWatches();
    }
};

QTEST_GUILESS_MAIN(TestClient)
#include "tst_client.moc"
