// syncd and syncbot as processes: config errors, kill -9 durability, SIGTERM drain, /metrics,
// syncbot's JSON, and a client not written in C++ (Python's grpcio).
#include "liveops/client.h"
#include "liveops/config.h"
#include "liveops/swarm.h"
#include "eventually.h"
#include "syncdprocess.h"

#include "agones/dev/sdk/sdk.grpc.pb.h"

#include <httplib.h>

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <thread>

using namespace lv;
using namespace lv::test;

namespace {

QJsonObject lastJsonLine(const QByteArray& output)
{
    const auto lines = output.trimmed().split('\n');
    return QJsonDocument::fromJson(lines.isEmpty() ? QByteArray() : lines.last()).object();
}

} // namespace

/// A stand-in for the Agones SDK sidecar, built from the SDK's public service definition: it
/// records what the game server tells it.
class StandInAgonesSdk final : public agones::dev::sdk::SDK::Service {
public:
    std::atomic<int> ready{0}, shutdown{0}, pings{0};
    grpc::Status Ready(grpc::ServerContext*, const agones::dev::sdk::Empty*, agones::dev::sdk::Empty*) override
    {
        ++ready;
        return grpc::Status::OK;
    }
    grpc::Status Shutdown(grpc::ServerContext*, const agones::dev::sdk::Empty*, agones::dev::sdk::Empty*) override
    {
        ++shutdown;
        return grpc::Status::OK;
    }
    grpc::Status GetGameServer(grpc::ServerContext*, const agones::dev::sdk::Empty*, agones::dev::sdk::GameServer* response) override
    {
        // As Agones reports a GameServer on a node: its address and the host ports it mapped.
        response->mutable_status()->set_state("Scheduled");
        response->mutable_status()->set_address("198.51.100.20");
        auto* port = response->mutable_status()->add_ports();
        port->set_name("eu-west");
        port->set_port(7031);
        return grpc::Status::OK;
    }
    grpc::Status SetAnnotation(grpc::ServerContext*, const agones::dev::sdk::KeyValue* request, agones::dev::sdk::Empty*) override
    {
        std::lock_guard lock(mutex);
        annotations[request->key()] = request->value();
        return grpc::Status::OK;
    }
    std::map<std::string, std::string> annotationsNow()
    {
        std::lock_guard lock(mutex);
        return annotations;
    }
    std::mutex mutex;
    std::map<std::string, std::string> annotations;
    grpc::Status Health(grpc::ServerContext*, grpc::ServerReader<agones::dev::sdk::Empty>* reader, agones::dev::sdk::Empty*) override
    {
        agones::dev::sdk::Empty ping;
        while (reader->Read(&ping))
            ++pings;
        return grpc::Status::OK;
    }
};

class TestSyncd : public QObject {
    Q_OBJECT
private slots:
    void badConfigNamesTheLine()
    {
        State state;
        state.write(QStringLiteral("syncd.toml"), QStringLiteral("[syncd]\ntoken_file = \"tokens.txt\"\n\n[[region]]\nname = \"eu\"\ncapacty = 10\n"));
        QProcess syncd;
        syncd.start(QStringLiteral(SYNCD_PATH), {QStringLiteral("--config"), state.dir.filePath(QStringLiteral("syncd.toml"))});
        QVERIFY(syncd.waitForFinished(10000));
        QCOMPARE(syncd.exitCode(), 2);
        const QString error = QString::fromUtf8(syncd.readAllStandardError());
        QVERIFY2(error.contains(QStringLiteral("syncd.toml:6: unknown key 'capacty'")), qPrintable(error));

        std::string message;
        QVERIFY(!lv::liveops::parseConfig("[syncd]\ntelemetry_interval_ms = 5\n[[region]]\nname = \"a\"\n", "x.toml", "/tmp", message));
        QCOMPARE(QString::fromStdString(message), QStringLiteral("x.toml:2: 'telemetry_interval_ms' must be a number in [100, 60000]"));
        QVERIFY(!lv::liveops::parseConfig("[[region]]\nname = \"a\"\n[[region]]\nname = \"a\"\n", "x.toml", "/tmp", message));
        QCOMPARE(QString::fromStdString(message), QStringLiteral("x.toml:3: region 'a' is defined twice"));
        QVERIFY(!lv::liveops::parseConfig("[[region]]\nname = \"a\"\nudp = \"nowhere\"\n", "x.toml", "/tmp", message));
        QCOMPARE(QString::fromStdString(message), QStringLiteral("x.toml:3: 'udp' must be ip:port or [ipv6]:port, e.g. \"0.0.0.0:7777\" or \"[::]:7777\""));
        QVERIFY(!lv::liveops::parseConfig("[[region]]\nname = \"a\"\nudp = \"0.0.0.0:7777\"\npublic_endpoint = \"0.0.0.0:7777\"\n", "x.toml", "/tmp", message));
        QCOMPARE(QString::fromStdString(message),
                 QStringLiteral("x.toml:4: 'public_endpoint' must be the ip:port or [ipv6]:port players reach, e.g. \"203.0.113.7:7777\""));
        QVERIFY(!lv::liveops::parseConfig("[[region]]\nname = \"a\"\ncapacity = 70000\n", "x.toml", "/tmp", message));
        QCOMPARE(QString::fromStdString(message), QStringLiteral("x.toml:3: 'capacity' must be a number in [1, 65535]"));
        auto v6 = lv::liveops::parseConfig("[[region]]\nname = \"a\"\nudp = \"[::]:7777\"\npublic_endpoint = \"[2001:db8::5]:7777\"\n", "x.toml", "/tmp", message);
        QVERIFY2(v6, message.c_str());
        QCOMPARE(v6->regions[0].publicEndpoint->toString(), std::string("[2001:db8::5]:7777"));
        QVERIFY(!lv::liveops::parseConfig("[syncd\n", "x.toml", "/tmp", message));
        QVERIFY2(message.rfind("x.toml:1:", 0) == 0, message.c_str());
    }

    void theShippedConfigsAreOnesSyncdAccepts()
    {
        // The package's /etc/syncd/syncd.toml and the Kubernetes ConfigMap's syncd.toml, read by
        // syncd's own parser (they once lacked the [syncd] table, and syncd refused to start).
        std::string error;
        const auto installed = lv::liveops::loadConfig(PACKAGING_DIR "/syncd/syncd.toml", error);
        QVERIFY2(installed, error.c_str());
        QCOMPARE(installed->regions.size(), std::size_t{1});
        QFile map(QStringLiteral(PACKAGING_DIR "/k8s/configmap.yaml"));
        QVERIFY(map.open(QIODevice::ReadOnly));
        QString toml;
        bool inside = false;
        for (const QString& line : QString::fromUtf8(map.readAll()).split(QLatin1Char('\n'))) {
            if (line.trimmed() == QStringLiteral("syncd.toml: |")) {
                inside = true;
                continue;
            }
            if (inside)
                toml += line.mid(4) + QLatin1Char('\n');  // the block is indented by four spaces
        }
        QVERIFY(!toml.isEmpty());
        const auto fleet = lv::liveops::parseConfig(toml.toStdString(), "configmap.yaml", "/tmp", error);
        QVERIFY2(fleet, error.c_str());
        QCOMPARE(fleet->grpcAddress, std::string("0.0.0.0:50051"));
    }

    void killNineKeepsEveryAcknowledgedChange()
    {
        State state;
        constexpr int kChanges = 12;
        {
            Syncd syncd(state.path());
            QVERIFY2(syncd.start(), qPrintable(syncd.log()));
            for (int i = 0; i < kChanges; ++i) {
                pb::SetToggleRequest request;
                request.set_key(i % 2 ? "max_visible" : "interest_radius_m");
                request.set_scope(i % 3 ? "eu-west" : "us-east");
                request.mutable_value()->set_int_value(20 + i);
                pb::ListTogglesRequest list;
                list.set_scope(request.scope());
                pb::ListTogglesResponse toggles;
                QVERIFY(syncd.stub->ListToggles(Syncd::context().get(), list, &toggles).ok());
                for (const auto& t : toggles.toggles())
                    if (t.key() == request.key())
                        request.set_expected_version(t.version());
                request.set_reason("change " + std::to_string(i));
                pb::SetToggleResponse response;
                QVERIFY(syncd.stub->SetToggle(Syncd::context().get(), request, &response).ok());  // acknowledged
            }
            syncd.process().kill();  // SIGKILL: no chance to flush anything
            QVERIFY(syncd.process().waitForFinished(5000));
            QCOMPARE(syncd.process().exitStatus(), QProcess::CrashExit);
        }
        Syncd again(state.path());
        QVERIFY2(again.start(), qPrintable(again.log()));
        pb::ListAuditRequest request;
        request.set_limit(1000);
        pb::ListAuditResponse audit;
        QVERIFY(again.stub->ListAudit(Syncd::context().get(), request, &audit).ok());
        QCOMPARE(audit.entries_size(), kChanges);
        for (int i = 0; i < kChanges; ++i) {
            QCOMPARE(audit.entries(i).id(), std::uint64_t(i + 1));
            QCOMPARE(audit.entries(i).reason(), "change " + std::to_string(i));
            QCOMPARE(audit.entries(i).actor(), std::string("alice"));
        }
        // The last value written to each (key, scope) is the one served, and the engine runs it.
        pb::ListTogglesRequest list;
        list.set_scope("eu-west");
        pb::ListTogglesResponse toggles;
        QVERIFY(again.stub->ListToggles(Syncd::context().get(), list, &toggles).ok());
        for (const auto& t : toggles.toggles()) {
            if (t.key() == "max_visible") {
                QCOMPARE(t.value().int_value(), std::int64_t{20 + 11});
                QCOMPARE(t.last_change().reason(), std::string("change 11"));
            }
            if (t.key() == "interest_radius_m")
                QCOMPARE(t.value().int_value(), std::int64_t{20 + 10});
        }
    }

    void killNineUnderLoadEveryoneIsBackWithinFiveSeconds()
    {
        // syncd with players on both regions, a console's client watching, toggles changed; then
        // SIGKILL and a restart on the same ports (as systemd or Kubernetes would do it).
        State state;
        auto syncd = std::make_unique<Syncd>(state.path());
        QVERIFY2(syncd->start(), qPrintable(syncd->log()));
        const auto regions = syncd->regions();
        QCOMPARE(regions.size(), std::size_t{2});
        // The restart must come back on the same addresses: pin what port 0 gave us.
        state.write(QStringLiteral("syncd.toml"),
                    QStringLiteral("[syncd]\ngrpc_address = \"127.0.0.1:%1\"\ntoken_file = \"tokens.txt\"\ntoken_key_file = \"cluster.key\"\n"
                                   "telemetry_interval_ms = 200\n\n[[region]]\nname = \"eu-west\"\nudp = \"%2\"\n\n"
                                   "[[region]]\nname = \"us-east\"\nudp = \"%3\"\n")
                        .arg(syncd->port())
                        .arg(QString::fromStdString(regions[0].endpoint()), QString::fromStdString(regions[1].endpoint())));
        QFile keyFile(state.dir.filePath(QStringLiteral("cluster.key")));
        QVERIFY(keyFile.open(QIODevice::ReadOnly));
        const auto key = lv::liveops::parseKey(keyFile.readAll().toStdString());
        QVERIFY(key);
        std::vector<std::unique_ptr<lv::liveops::BotSwarm>> swarms;
        for (std::size_t r = 0; r < regions.size(); ++r) {
            lv::liveops::SwarmConfig config;
            config.server = *Address::parse(regions[r].endpoint());
            config.count = 25;
            config.tokenKey = *key;
            config.firstClientId = 1 + 1000 * r;
            std::string error;
            swarms.push_back(lv::liveops::BotSwarm::start(config, error));
            QVERIFY2(swarms.back(), error.c_str());
        }
        auto connectedBots = [&] {
            std::size_t n = 0;
            for (const auto& s : swarms)
                n += s->report().connected;
            return n;
        };
        auto botDisconnects = [&] {
            std::uint64_t n = 0;
            for (const auto& s : swarms)
                n += s->report().disconnects;
            return n;
        };
        // What the console's watches report; declared before the client, so that it outlives
        // the client's threads.
        std::mutex mutex;
        std::map<std::string, bool> watchUp;
        std::map<std::string, std::int64_t> togglesSeen;  // key@scope -> value, as the console shows it
        std::uint64_t lastAudit = 0;
        lv::liveops::client::ClientOptions options;
        options.target = "127.0.0.1:" + std::to_string(syncd->port());
        options.token = kAdmin;
        lv::liveops::client::LiveOpsClient console(options);
        auto onState = [&](const char* name) {
            return [&mutex, &watchUp, name](const lv::liveops::client::StreamState& s) {
                std::lock_guard lock(mutex);
                watchUp[name] = s.connected;
            };
        };
        console.watchTelemetry({}, 0, [](const lv::liveops::client::Telemetry&) {}, onState("telemetry"));
        console.watchToggles(
            [&](const lv::liveops::client::Toggle& t) {
                std::lock_guard lock(mutex);
                if (const auto* v = std::get_if<std::int64_t>(&t.value))
                    togglesSeen[t.key + "@" + t.scope] = *v;
            },
            onState("toggles"));
        console.watchAudit(
            0,
            [&](const lv::liveops::AuditEntry& e) {
                std::lock_guard lock(mutex);
                lastAudit = std::max(lastAudit, e.id);
            },
            onState("audit"));
        auto watchesUp = [&] {
            std::lock_guard lock(mutex);
            return watchUp.size() == 3 && watchUp["telemetry"] && watchUp["toggles"] && watchUp["audit"];
        };
        QVERIFY(eventually([&] { return connectedBots() == 50 && watchesUp(); }, std::chrono::seconds(20)));

        // Acknowledged changes, under load.
        constexpr int kChanges = 6;
        for (int i = 0; i < kChanges; ++i) {
            pb::SetToggleRequest request;
            request.set_key("interest_radius_m");
            request.set_scope(i % 2 ? "eu-west" : "us-east");
            request.mutable_value()->set_int_value(40 + i);
            request.set_expected_version(std::uint64_t(i / 2));
            request.set_reason("under load " + std::to_string(i));
            pb::SetToggleResponse response;
            const auto status = syncd->stub->SetToggle(Syncd::context().get(), request, &response);
            QVERIFY2(status.ok(), status.error_message().c_str());
        }
        QVERIFY(eventually([&] { std::lock_guard lock(mutex); return lastAudit == kChanges; }));

        syncd->process().kill();
        QVERIFY(syncd->process().waitForFinished(5000));
        QVERIFY(eventually([&] { return !watchesUp(); }));
        syncd.reset();
        auto again = std::make_unique<Syncd>(state.path());
        QVERIFY2(again->start(), qPrintable(again->log()));
        QElapsedTimer sinceRestart;
        sinceRestart.start();
        qint64 botsBack = -1, consoleBack = -1;
        while (sinceRestart.elapsed() < 15000 && (botsBack < 0 || consoleBack < 0)) {
            if (botsBack < 0 && botDisconnects() == 50 && connectedBots() == 50)  // each lost its session, and is back
                botsBack = sinceRestart.elapsed();
            if (consoleBack < 0 && watchesUp())
                consoleBack = sinceRestart.elapsed();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        qInfo("after kill -9 and restart: 50 bots back in %lld ms, the console's three watches in %lld ms", botsBack, consoleBack);
        QVERIFY2(botsBack >= 0 && botsBack <= 5000, qPrintable(QString::number(botsBack)));
        QVERIFY2(consoleBack >= 0 && consoleBack <= 5000, qPrintable(QString::number(consoleBack)));

        // Toggles and audit intact, and the console, resumed, shows the acknowledged values.
        pb::ListAuditRequest list;
        list.set_limit(100);
        pb::ListAuditResponse audit;
        QVERIFY(again->stub->ListAudit(Syncd::context().get(), list, &audit).ok());
        QCOMPARE(audit.entries_size(), kChanges);
        for (int i = 0; i < kChanges; ++i)
            QCOMPARE(audit.entries(i).reason(), "under load " + std::to_string(i));
        QVERIFY(eventually([&] {
            std::lock_guard lock(mutex);
            return togglesSeen["interest_radius_m@eu-west"] == 45 && togglesSeen["interest_radius_m@us-east"] == 44;
        }));
        QCOMPARE(botDisconnects(), std::uint64_t{50});  // each bot lost its session once, and only once
    }

    void failoverToAnotherSyncdMovesEveryPlayer()
    {
        // Blue/green between two processes (docs/deployment.md): the same cluster key, each with
        // its own region; the blue region fails over to the green one's endpoint.
        State blue, green;
        QFile blueKey(blue.dir.filePath(QStringLiteral("cluster.key")));
        QVERIFY(blueKey.open(QIODevice::ReadOnly));
        green.write(QStringLiteral("cluster.key"), QString::fromLatin1(blueKey.readAll()));
        Syncd a(blue.path()), b(green.path());
        QVERIFY2(a.start(), qPrintable(a.log()));
        QVERIFY2(b.start(), qPrintable(b.log()));
        const std::string from = a.regions()[0].endpoint(), to = b.regions()[1].endpoint();
        QProcess syncbot;
        syncbot.start(QStringLiteral(SYNCBOT_PATH),
                      {QStringLiteral("--server"), QString::fromStdString(from), QStringLiteral("--key-file"),
                       blue.dir.filePath(QStringLiteral("cluster.key")), QStringLiteral("--clients"), QStringLiteral("40"),
                       QStringLiteral("--duration"), QStringLiteral("40"), QStringLiteral("--every"), QStringLiteral("0.5"),
                       QStringLiteral("--json")});
        QVERIFY(syncbot.waitForStarted(5000));
        QVERIFY(QTest::qWaitFor([&] { return a.regions()[0].players() == 40; }, 15000));

        pb::FailoverRequest failover;
        failover.set_from_region(a.regions()[0].name());
        failover.set_to_region(to);
        failover.set_reason("blue/green: onto green");
        pb::OperationResponse done;
        const grpc::Status status = a.stub->Failover(Syncd::context().get(), failover, &done);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QElapsedTimer moving;
        moving.start();
        QVERIFY(QTest::qWaitFor([&] { return b.regions()[1].players() == 40; }, 15000));
        qInfo("40 players moved from %s (syncd A) to %s (syncd B) in %lld ms", from.c_str(), to.c_str(), moving.elapsed());
        QTest::qWait(1000);
        QCOMPARE(b.regions()[1].players(), 40u);
        QVERIFY(QTest::qWaitFor([&] { return a.regions()[0].players() == 0; }, 10000));
        // A region of A that points elsewhere refuses to fail over to itself, by name or endpoint.
        failover.set_to_region(from);
        QCOMPARE(a.stub->Failover(Syncd::context().get(), failover, &done).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        failover.set_to_region("nowhere");
        QCOMPARE(a.stub->Failover(Syncd::context().get(), failover, &done).error_code(), grpc::StatusCode::NOT_FOUND);

        syncbot.terminate();
        QVERIFY(syncbot.waitForFinished(10000));
        const QJsonObject last = lastJsonLine(syncbot.readAllStandardOutput());
        // Every bot is on green, none lost on the way: one redirect each, no timeouts.
        QCOMPARE(last.value(QStringLiteral("connected")).toInt(), 40);
        QCOMPARE(last.value(QStringLiteral("redirects")).toInt(), 40);
        QCOMPARE(last.value(QStringLiteral("servers")).toObject().value(QString::fromStdString(to)).toInt(), 40);
    }

    void syncbotPlaysOverIpv6AndIsRedirected()
    {
        State state(QStringLiteral("udp = \"[::1]:0\"\n"));  // us-east on IPv6 loopback, eu-west on IPv4
        Syncd syncd(state.path());
        QVERIFY2(syncd.start(), qPrintable(syncd.log()));
        const auto regions = syncd.regions();
        QVERIFY2(regions[1].endpoint().rfind("[::1]:", 0) == 0, regions[1].endpoint().c_str());
        QProcess syncbot;
        syncbot.start(QStringLiteral(SYNCBOT_PATH),
                      {QStringLiteral("--server"), QString::fromStdString(regions[1].endpoint()), QStringLiteral("--key-file"),
                       state.dir.filePath(QStringLiteral("cluster.key")), QStringLiteral("--clients"), QStringLiteral("20"),
                       QStringLiteral("--duration"), QStringLiteral("30"), QStringLiteral("--every"), QStringLiteral("0.5"),
                       QStringLiteral("--json")});
        QVERIFY(syncbot.waitForStarted(5000));
        QVERIFY(QTest::qWaitFor([&] { return syncd.regions()[1].players() == 20; }, 15000));
        pb::FailoverRequest failover;
        failover.set_from_region("us-east");
        failover.set_to_region("eu-west");  // across families: IPv6 players to an IPv4 region
        failover.set_reason("IPv6 test");
        pb::OperationResponse done;
        QVERIFY(syncd.stub->Failover(Syncd::context().get(), failover, &done).ok());
        QVERIFY(QTest::qWaitFor([&] { return syncd.regions()[0].players() == 20; }, 15000));
        QTest::qWait(1500);
        syncbot.terminate();
        QVERIFY(syncbot.waitForFinished(10000));
        const QJsonObject last = lastJsonLine(syncbot.readAllStandardOutput());
        QCOMPARE(last.value(QStringLiteral("connected")).toInt(), 20);
        QCOMPARE(last.value(QStringLiteral("redirects")).toInt(), 20);
        QCOMPARE(last.value(QStringLiteral("servers")).toObject().value(QString::fromStdString(regions[0].endpoint())).toInt(), 20);
        QVERIFY(last.value(QStringLiteral("snapshots")).toInt() > 20 * 20);
    }

    void syncbotReportsAndSigtermDrainsInBoundedTime()
    {
        State state({}, QStringLiteral("127.0.0.1:0"));
        Syncd syncd(state.path());
        QVERIFY2(syncd.start(), qPrintable(syncd.log()));
        const auto regions = syncd.regions();
        QCOMPARE(regions.size(), std::size_t{2});
        QProcess syncbot;
        syncbot.start(QStringLiteral(SYNCBOT_PATH),
                      {QStringLiteral("--server"), QString::fromStdString(regions[0].endpoint()), QStringLiteral("--key-file"),
                       state.dir.filePath(QStringLiteral("cluster.key")), QStringLiteral("--clients"), QStringLiteral("30"),
                       QStringLiteral("--duration"), QStringLiteral("30"), QStringLiteral("--every"), QStringLiteral("0.5"),
                       QStringLiteral("--json")});
        QVERIFY(syncbot.waitForStarted(5000));
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 15000 && syncd.regions()[0].players() < 30)
            QTest::qWait(100);
        QCOMPARE(syncd.regions()[0].players(), 30u);
        QTest::qWait(1500);

        // /metrics serves Prometheus text with the region's figures.
        const QString log = syncd.log();
        const auto at = log.indexOf(QStringLiteral("metrics on http://127.0.0.1:"));
        QVERIFY2(at >= 0, qPrintable(log));
        const int metricsPort = log.mid(at + 28).section(QLatin1Char('/'), 0, 0).toInt();
        httplib::Client http("127.0.0.1", metricsPort);
        auto metrics = http.Get("/metrics");
        QVERIFY(metrics);
        QCOMPARE(metrics->status, 200);
        QVERIFY2(metrics->body.find("syncd_region_players{region=\"eu-west\",server=\"syncd\"} 30") != std::string::npos, metrics->body.c_str());
        QVERIFY(metrics->body.find("# TYPE syncd_region_sent_bytes_total counter") != std::string::npos);
        // Round-trip time as a real histogram: buckets in seconds (0.15, the SLO's threshold, among
        // them), cumulative, ending in +Inf = _count, which has every pong of the 30 players.
        QVERIFY(metrics->body.find("# TYPE syncd_rtt_seconds histogram") != std::string::npos);
        const auto valueOf = [&](const std::string& series) {
            const auto where = metrics->body.find(series + ' ');
            return where == std::string::npos ? -1.0 : std::stod(metrics->body.substr(where + series.size() + 1));
        };
        const std::string labels = "region=\"eu-west\",server=\"syncd\"";
        const double count = valueOf("syncd_rtt_seconds_count{" + labels + "}");
        QVERIFY2(count > 30, metrics->body.c_str());
        QCOMPARE(valueOf("syncd_rtt_seconds_bucket{" + labels + ",le=\"+Inf\"}"), count);
        QVERIFY(valueOf("syncd_rtt_seconds_bucket{" + labels + ",le=\"0.15\"}") >= valueOf("syncd_rtt_seconds_bucket{" + labels + ",le=\"0.1\"}"));
        QVERIFY(valueOf("syncd_rtt_seconds_sum{" + labels + "}") > 0);
        QVERIFY(valueOf("syncd_tick_seconds_count{" + labels + "}") > 0);
        // And promtool, the Prometheus project's own linter, finds nothing to say about the scrape.
        QProcess promtool;
        promtool.start(QStringLiteral("promtool"), {QStringLiteral("check"), QStringLiteral("metrics")});
        QVERIFY2(promtool.waitForStarted(5000), "promtool is needed (package prometheus; scripts/setup.sh installs it)");
        promtool.write(metrics->body.data(), static_cast<qint64>(metrics->body.size()));
        promtool.closeWriteChannel();
        QVERIFY(promtool.waitForFinished(10000));
        const QByteArray lint = promtool.readAllStandardOutput() + promtool.readAllStandardError();
        QVERIFY2(promtool.exitCode() == 0 && lint.trimmed().isEmpty(), lint.constData());

        // SIGTERM: admissions stop, the players are told, and syncd is gone within the drain bound.
        QElapsedTimer drain;
        drain.start();
        syncd.process().terminate();
        QVERIFY(syncd.process().waitForFinished(10000));
        const qint64 took = drain.elapsed();
        QCOMPARE(syncd.process().exitStatus(), QProcess::NormalExit);
        QCOMPARE(syncd.process().exitCode(), 0);
        QVERIFY2(took < 2000 + 3000, qPrintable(QString::number(took)));  // drain_timeout_s = 2, plus shutdown
        QVERIFY(syncd.log().contains(QStringLiteral("stopped in")));
        // Secrets stay out of the log: neither the API tokens nor the cluster key appear in it.
        QVERIFY(!syncd.log().contains(QLatin1String(kAdmin)));
        QVERIFY(!syncd.log().contains(QStringLiteral("viewer-token-0123456789")));
        QFile keyFile(state.dir.filePath(QStringLiteral("cluster.key")));
        QVERIFY(keyFile.open(QIODevice::ReadOnly));
        QVERIFY(!syncd.log().contains(QString::fromLatin1(keyFile.readAll().trimmed())));

        syncbot.terminate();
        QVERIFY(syncbot.waitForFinished(10000));
        const QByteArray output = syncbot.readAllStandardOutput();
        const auto lines = output.trimmed().split('\n');
        QVERIFY(lines.size() >= 3);
        // A report taken while everyone was playing.
        QJsonObject playing;
        for (const auto& line : lines) {
            const auto object = QJsonDocument::fromJson(line).object();
            if (object.value(QStringLiteral("connected")).toInt() == 30)
                playing = object;
        }
        QVERIFY2(!playing.isEmpty(), output.constData());
        QVERIFY(playing.value(QStringLiteral("rtt_p50_ms")).toDouble() > 0.0);
        QVERIFY(playing.value(QStringLiteral("kbps_in_per_client")).toDouble() > 1.0);
        const QJsonObject last = lastJsonLine(output);
        QCOMPARE(last.value(QStringLiteral("final")).toBool(), true);
        QCOMPARE(last.value(QStringLiteral("connected")).toInt(), 0);  // the server is gone
    }

    void speaksTheAgonesSdkWhenAgonesIsThere()
    {
        StandInAgonesSdk sdk;
        int sdkPort = 0;
        grpc::ServerBuilder builder;
        builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &sdkPort);
        builder.RegisterService(&sdk);
        auto server = builder.BuildAndStart();
        QVERIFY(server && sdkPort > 0);

        // Under Agones (the variables set): Ready once serving, Health pings, Shutdown after the drain.
        {
            State state;
            Syncd syncd(state.path());
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("AGONES_SDK_GRPC_HOST"), QStringLiteral("127.0.0.1"));
            env.insert(QStringLiteral("AGONES_SDK_GRPC_PORT"), QString::number(sdkPort));
            syncd.process().setProcessEnvironment(env);
            QVERIFY2(syncd.start(), qPrintable(syncd.log()));
            QVERIFY(QTest::qWaitFor([&] { return sdk.ready == 1 && sdk.pings >= 2; }, 10000));
            QCOMPARE(sdk.shutdown.load(), 0);
            // Each region's advertised endpoint is on the GameServer, as ListRegions shows it: the
            // node's address and the host port Agones mapped for the region's port.
            QCOMPARE(syncd.regions()[0].endpoint(), std::string("198.51.100.20:7031"));
            QVERIFY(syncd.regions()[1].endpoint().rfind("127.0.0.1:", 0) == 0);  // no port of its name: its own bind address
            const auto annotations = sdk.annotationsNow();
            for (const pb::Region& region : syncd.regions()) {
                auto it = annotations.find("endpoint-" + region.name());
                QVERIFY2(it != annotations.end(), region.name().c_str());
                QCOMPARE(it->second, region.endpoint());
            }
            QVERIFY(syncd.log().contains(QStringLiteral("Agones SDK at 127.0.0.1:%1: Ready").arg(sdkPort)));
            syncd.process().terminate();
            QVERIFY(syncd.process().waitForFinished(15000));
            QCOMPARE(syncd.process().exitCode(), 0);
            QCOMPARE(sdk.shutdown.load(), 1);
            QVERIFY(syncd.log().contains(QStringLiteral("Agones SDK: Shutdown")));
        }
        // Without them, plain syncd: the SDK hears nothing.
        {
            const int pingsBefore = sdk.pings;
            State state;
            Syncd syncd(state.path());
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.remove(QStringLiteral("AGONES_SDK_GRPC_PORT"));
            syncd.process().setProcessEnvironment(env);
            QVERIFY2(syncd.start(), qPrintable(syncd.log()));
            QTest::qWait(2500);
            syncd.process().terminate();
            QVERIFY(syncd.process().waitForFinished(15000));
            QCOMPARE(sdk.ready.load(), 1);
            QCOMPARE(sdk.shutdown.load(), 1);
            QCOMPARE(sdk.pings.load(), pingsBefore);
            QVERIFY(!syncd.log().contains(QStringLiteral("Agones")));
        }
        server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    }

    void demoServesThreeRegionsWithDifferentNetworks()
    {
        QTemporaryDir dir;
        Syncd syncd(dir.path());
        QVERIFY2(syncd.start({QStringLiteral("--demo"), QStringLiteral("--state-dir"), dir.filePath(QStringLiteral("state")),
                              QStringLiteral("--grpc"), QStringLiteral("127.0.0.1:0")}),
                 qPrintable(syncd.log()));
        // The demo wrote its tokens to a file only its owner can read, from its first byte, and the
        // log says where they are, never what they are.
        QFile tokens(dir.filePath(QStringLiteral("state/tokens.txt")));
        QVERIFY(tokens.open(QIODevice::ReadOnly));
        QCOMPARE(tokens.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther),
                 QFileDevice::Permissions{});
        QFile key(dir.filePath(QStringLiteral("state/cluster.key")));
        QCOMPARE(key.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther), QFileDevice::Permissions{});
        std::string admin;
        for (const QByteArray& line : tokens.readAll().split('\n'))
            if (line.endsWith(" admin"))
                admin = line.split(' ').at(0).toStdString();
        QVERIFY(!admin.empty());
        QVERIFY(!syncd.log().contains(QString::fromStdString(admin)));
        QVERIFY2(syncd.log().contains(dir.filePath(QStringLiteral("state/tokens.txt"))), qPrintable(syncd.log()));
        QElapsedTimer timer;
        timer.start();
        auto everyoneIn = [&] {
            const auto regions = syncd.regions(admin);
            return regions.size() == 3 && regions[0].players() == 40 && regions[1].players() == 40 && regions[2].players() == 40;
        };
        while (timer.elapsed() < 15000 && !everyoneIn())
            QTest::qWait(200);
        QVERIFY(everyoneIn());
        // Each region's bots see a different network, and telemetry shows it.
        pb::WatchTelemetryRequest request;
        auto ctx = Syncd::context(admin);
        auto reader = syncd.stub->WatchTelemetry(ctx.get(), request);
        std::map<std::string, double> p50;
        pb::TelemetrySample sample;
        while (reader->Read(&sample)) {
            if (sample.players() == 40)
                p50[sample.region()] = sample.rtt_p50_ms();
            if (p50.size() == 3 && sample.sequence() > 9)
                break;
        }
        ctx->TryCancel();
        reader->Finish();
        qInfo("demo p50 RTT: eu-west %.1f ms, us-east %.1f ms, ap-south %.1f ms", p50["eu-west"], p50["us-east"], p50["ap-south"]);
        QVERIFY(p50["eu-west"] > 10.0 && p50["eu-west"] < p50["us-east"] && p50["us-east"] < p50["ap-south"]);
    }

    void pythonClientSpeaksTheApi()
    {
        State state;
        Syncd syncd(state.path());
        QVERIFY2(syncd.start(), qPrintable(syncd.log()));
        QProcess python;
        python.start(QStringLiteral(DEBIAN_PYTHON),
                     {QStringLiteral(PROBE_SCRIPT), QStringLiteral("--target"), QStringLiteral("127.0.0.1:%1").arg(syncd.port()),
                      QStringLiteral("--token"), QStringLiteral("viewer-token-0123456789"), QStringLiteral("--proto-root"),
                      QStringLiteral(LIVEOPS_PROTO_ROOT), QStringLiteral("--proto-root"), QStringLiteral(HEALTH_PROTO_ROOT),
                      QStringLiteral("--samples"), QStringLiteral("4")});
        QVERIFY(python.waitForFinished(60000));
        const QByteArray error = python.readAllStandardError();
        QVERIFY2(python.exitCode() == 0, error.constData());
        const QJsonObject result = lastJsonLine(python.readAllStandardOutput());
        QCOMPARE(result.value(QStringLiteral("health")).toString(), QStringLiteral("SERVING"));
        const QJsonArray regions = result.value(QStringLiteral("regions")).toArray();
        QCOMPARE(regions.size(), 2);
        QCOMPARE(regions[0].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("eu-west"));
        QCOMPARE(regions[0].toObject().value(QStringLiteral("status")).toString(), QStringLiteral("REGION_STATUS_SERVING"));
        const QJsonArray samples = result.value(QStringLiteral("samples")).toArray();
        QCOMPARE(samples.size(), 4);
        QVERIFY(samples[1].toObject().value(QStringLiteral("sequence")).toInteger() > samples[0].toObject().value(QStringLiteral("sequence")).toInteger());
        QCOMPARE(result.value(QStringLiteral("no_token_is_unauthenticated")).toBool(), true);
    }
};

QTEST_GUILESS_MAIN(TestSyncd)
#include "tst_syncd.moc"
