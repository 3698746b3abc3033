// The console attached to a fleet (issue 15): one address typed, every server of the fleet
// listed and connected to, each region one row with percentiles merged from the servers'
// histograms, toggles once, servers that join and leave followed, and the fleet's toggles shown
// read-only and stale while its store has no quorum. Real etcd members, real servers with their
// APIs on TCP, real game clients.
#include "etcdcluster.h"
#include "fleetservers.h"
#include "syncdprocess.h"

#include "console/session.h"
#include "liveops/client.h"
#include "liveops/swarm.h"
#include "synccore/metrics.h"

#include <QtTest>

#include <map>
#include <mutex>

namespace lc = lv::liveops::client;
using lv::console::ConsoleSession;
using lv::console::RegionModel;

namespace {
/// Every sample of every server, as a second client sees them: (server id, sequence) -> sample.
class IndependentWatch {
public:
    void watch(const std::string& target)
    {
        lc::ClientOptions options;
        options.target = target;
        options.token = "tok-support";
        auto client = std::make_unique<lc::LiveOpsClient>(options);
        client->watchTelemetry({}, 0, [this](const lc::Telemetry& t) {
            std::lock_guard lock(m_mutex);
            m_samples[{QString::fromStdString(t.serverId), t.sequence}] = t;
        });
        m_clients.push_back(std::move(client));
    }
    std::optional<lc::Telemetry> sample(const QString& server, std::uint64_t sequence)
    {
        std::lock_guard lock(m_mutex);
        auto it = m_samples.find({server, sequence});
        return it == m_samples.end() ? std::nullopt : std::optional(it->second);
    }

private:
    std::mutex m_mutex;
    std::map<std::pair<QString, std::uint64_t>, lc::Telemetry> m_samples;
    std::vector<std::unique_ptr<lc::LiveOpsClient>> m_clients;
};

lc::ClientOptions through(const FleetMemberWithApi& server, const char* token = kFleetAdmin)
{
    lc::ClientOptions options;
    options.target = server.apiEndpoint();
    options.token = token;
    options.deadline = std::chrono::milliseconds(3000);
    return options;
}

double cell(ConsoleSession& session, int row, int column)
{
    return session.regions().data(session.regions().index(row, column), RegionModel::SortRole).toDouble();
}
} // namespace

class TestConsoleFleet : public QObject {
    Q_OBJECT
    lvtest::EtcdCluster m_one;

private slots:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_one.start(1, error), qPrintable(error));
    }

    void aFleetIsOneRowPerRegionWithExactPercentiles()
    {
        // Three servers of eu-west whose players sit on different networks (20, 60 and 150 ms of
        // one-way delay), and one of us-east.
        std::string error;
        std::vector<std::unique_ptr<FleetMemberWithApi>> servers;
        const char* regions[] = {"eu-west", "eu-west", "eu-west", "us-east"};
        for (int i = 0; i < 4; ++i) {
            servers.push_back(FleetMemberWithApi::start(m_one.urls(), "merge", regions[i], "srv-" + std::to_string(i), error, 2));
            QVERIFY2(servers.back(), error.c_str());
        }
        std::vector<std::unique_ptr<BotSwarm>> swarms;
        const double delays[] = {10, 30, 75, 5};
        for (int i = 0; i < 4; ++i) {
            SwarmConfig swarm;
            swarm.server = *Address::parse(servers[i]->server.cluster->regions()[0].endpoint);
            swarm.count = 6;
            swarm.firstClientId = 100 * (i + 1);
            swarm.network.latencyMs = delays[i];
            swarm.network.jitterMs = delays[i] / 5;
            swarms.push_back(BotSwarm::start(swarm, error));
            QVERIFY2(swarms.back(), error.c_str());
        }
        IndependentWatch independent;
        for (const auto& s : servers)
            independent.watch(s->apiEndpoint());

        // The console is given one server's address, nothing else.
        ConsoleSession session;
        session.addFleet(QStringLiteral("prod"), through(*servers[3]), QStringLiteral("staging"));
        lv::console::Fleet* fleet = session.fleet(QStringLiteral("prod"));
        QVERIFY(fleet);
        QVERIFY(QTest::qWaitFor([&] { return fleet->servers().size() == 4; }, 5000));
        QCOMPARE(fleet->fleetName(), QStringLiteral("merge"));

        // One row per region, all eu-west players in it once every server's sample is merged.
        RegionModel& model = session.regions();
        QVERIFY(QTest::qWaitFor(
            [&] {
                const int row = model.rowOf(QStringLiteral("prod"), QStringLiteral("eu-west"));
                return row >= 0 && cell(session, row, RegionModel::Players) == 18
                       && fleet->merge().mergedFrom(QStringLiteral("eu-west")).size() == 3 && cell(session, row, RegionModel::RttP99) > 100;
            },
            15'000));
        QCOMPARE(model.rowCount(), 2);
        QVERIFY(model.rowOf(QStringLiteral("prod"), QStringLiteral("us-east")) >= 0);

        // The row's p99 is the p99 of the three samples' histograms merged by someone else.
        // (Read together, between two turns of the event loop: the row and what it was made of.)
        const int row = model.rowOf(QStringLiteral("prod"), QStringLiteral("eu-west"));
        const double shown = cell(session, row, RegionModel::RttP99);
        const auto parts = fleet->merge().mergedFrom(QStringLiteral("eu-west"));
        LatencyHistogram merged;
        std::vector<double> perServerP99;
        for (const auto& part : parts) {
            const QString server = part.first;  // (named: clang 14 cannot capture structured bindings)
            const std::uint64_t sequence = part.second;
            std::optional<lc::Telemetry> t;
            QVERIFY(QTest::qWaitFor([&] { return (t = independent.sample(server, sequence)).has_value(); }, 3000));
            std::string why;
            auto h = LatencyHistogram::fromBuckets(t->rttUs, why);
            QVERIFY2(h, why.c_str());
            merged.merge(*h);
            perServerP99.push_back(t->rttP99Ms);
        }
        QCOMPARE(shown, double(merged.p99()) / 1000.0);
        const double average = (perServerP99[0] + perServerP99[1] + perServerP99[2]) / 3;
        qInfo("eu-west over three servers: per-server p99 %.1f, %.1f, %.1f ms; merged p99 %.1f ms; their average %.1f ms",
              perServerP99[0], perServerP99[1], perServerP99[2], shown, average);
        QVERIFY2(*std::max_element(perServerP99.begin(), perServerP99.end()) > 2 * *std::min_element(perServerP99.begin(), perServerP99.end()),
                 "the servers' networks should differ");

        // Drill-down: the region's servers, each with its own figures.
        const auto drill = fleet->merge().servers(QStringLiteral("eu-west"));
        QCOMPARE(drill.size(), std::size_t{3});
        for (const auto& part : drill) {
            QVERIFY(part.hasSample);
            QCOMPARE(part.sample.players, 6u);
            QVERIFY(fleet->server(part.server));
            QCOMPARE(int(fleet->server(part.server)->state), int(lc::ServerState::Serving));
        }

        // Toggles once: the fleet's, not once per server.
        QVERIFY(QTest::qWaitFor([&] { return session.toggles().rowOf(QStringLiteral("prod"), "maintenance_mode", "*") >= 0; }, 5000));
        int copies = 0;
        for (int r = 0; r < session.toggles().rowCount(); ++r)
            copies += session.toggles().toggleAt(r).key == "maintenance_mode" && session.toggles().toggleAt(r).scope == "*";
        QCOMPARE(copies, 1);
        QCOMPARE(int(session.clusters().size()), 1);

        // A server leaves (stopped: its lease revoked), another joins: the console follows.
        swarms[1].reset();
        const QElapsedTimer left = [] { QElapsedTimer t; t.start(); return t; }();
        servers[1].reset();
        QVERIFY(QTest::qWaitFor([&] { return fleet->servers().size() == 3 && !fleet->server(QStringLiteral("srv-1")); }, 5000));
        QVERIFY(QTest::qWaitFor([&] { return cell(session, model.rowOf(QStringLiteral("prod"), QStringLiteral("eu-west")), RegionModel::Players) == 12; }, 5000));
        qInfo("a stopped server left the console's fleet after %lld ms", static_cast<long long>(left.elapsed()));
        servers.push_back(FleetMemberWithApi::start(m_one.urls(), "merge", "ap-south", "srv-4", error, 2));
        QVERIFY2(servers.back(), error.c_str());
        QVERIFY(QTest::qWaitFor([&] { return model.rowOf(QStringLiteral("prod"), QStringLiteral("ap-south")) >= 0; }, 5000));
        QVERIFY(fleet->connectionTo(QStringLiteral("srv-4")));

        // A syncd process joins, then is killed outright (no goodbye): its connection drops at once,
        // so its figures leave the merge and its rows go stale; the lease takes it off the list
        // within the TTL, and the console's next listing (every Fleet::kListIntervalMs) drops it.
        lv::test::State state(QStringLiteral("[fleet]\netcd = [\"%1\"]\nname = \"merge\"\nlease_ttl_s = 2\n").arg(QString::fromStdString(m_one.url(0))));
        lv::test::Syncd process(state.path());
        QVERIFY2(process.start({QStringLiteral("--config"), state.path() + QStringLiteral("/syncd.toml"), QStringLiteral("--server-id"),
                                QStringLiteral("proc")}),
                 qPrintable(process.log()));
        QVERIFY(QTest::qWaitFor([&] {
            auto* c = fleet->connectionTo(QStringLiteral("proc"));
            return c && c->state() == lv::console::ClusterConnection::State::Connected
                   && fleet->merge().servers(QStringLiteral("us-east")).size() == 2;
        }, 10'000));
        QElapsedTimer sinceKill;
        sinceKill.start();
        process.process().kill();
        qint64 unreachableAfter = -1, goneAfter = -1;
        QVERIFY(QTest::qWaitFor([&] {
            const auto now = fleet->merge().servers(QStringLiteral("us-east"));
            for (const auto& p : now)
                if (p.server == QStringLiteral("proc") && !p.reachable && unreachableAfter < 0)
                    unreachableAfter = sinceKill.elapsed();
            if (!fleet->server(QStringLiteral("proc")) && goneAfter < 0)
                goneAfter = sinceKill.elapsed();
            return goneAfter >= 0;
        }, 10'000));
        QVERIFY(!fleet->connectionTo(QStringLiteral("proc")));
        QCOMPARE(fleet->merge().servers(QStringLiteral("us-east")).size(), std::size_t{1});
        qInfo("kill -9 of a syncd in the fleet: its figures left the console's merge after %lld ms, the server its list after %lld ms "
              "(lease TTL 2 s, listed every %d ms)",
              static_cast<long long>(unreachableAfter), static_cast<long long>(goneAfter), lv::console::Fleet::kListIntervalMs);
    }
    // Two of three etcd members stopped: the servers serve on with what they last applied, the
    // console shows the fleet's toggles read-only and as last known, and a change is refused with
    // the reason. Members back: the toggles are current and changeable again.
    void withoutQuorumTheFleetsTogglesAreReadOnlyAndStale()
    {
        lvtest::EtcdCluster three;
        QString why;
        QVERIFY2(three.start(3, why), qPrintable(why));
        std::string error;
        auto server = FleetMemberWithApi::start(three.urls(), "outage", "eu-west", "o-0", error, 2, std::chrono::milliseconds(1000));
        QVERIFY2(server, error.c_str());
        ConsoleSession session;
        session.addFleet(QStringLiteral("prod"), through(*server), QStringLiteral("staging"));
        lv::console::ToggleModel& toggles = session.toggles();
        int row = -1;
        QVERIFY(QTest::qWaitFor([&] {
            row = toggles.rowOf(QStringLiteral("prod"), "maintenance_mode", "*");
            return row >= 0 && toggles.editable(row);
        }, 5000));
        QVERIFY(toggles.staleReason(QStringLiteral("prod")).isEmpty());

        three.stop(2);  // one member down: nothing changes
        QTest::qWait(1500);
        QVERIFY(toggles.staleReason(QStringLiteral("prod")).isEmpty());
        QVERIFY(toggles.editable(row));

        three.stop(1);
        QElapsedTimer sinceLost;
        sinceLost.start();
        QVERIFY(QTest::qWaitFor([&] { return !toggles.staleReason(QStringLiteral("prod")).isEmpty(); }, 10'000));
        qInfo("quorum lost: the console showed the fleet's toggles read-only after %lld ms: %s", static_cast<long long>(sinceLost.elapsed()),
              qPrintable(toggles.staleReason(QStringLiteral("prod"))));
        QVERIFY2(toggles.staleReason(QStringLiteral("prod")).contains(QStringLiteral("no quorum")), qPrintable(toggles.staleReason(QStringLiteral("prod"))));
        QVERIFY(!toggles.editable(row));
        QVERIFY(toggles.data(toggles.index(row, lv::console::ToggleModel::Value)).toString().contains(QStringLiteral("last known")));
        // The region is still served and its figures current.
        const int region = session.regions().rowOf(QStringLiteral("prod"), QStringLiteral("eu-west"));
        QVERIFY(region >= 0);
        QVERIFY(session.regions().data(session.regions().index(region, RegionModel::Region), lv::console::RegionModel::ToneRole).toInt()
                != RegionModel::ToneStale);
        // A change tried anyway (say, from a board opened before) is refused with the reason.
        std::optional<lc::CallStatus> refused;
        session.cluster(QStringLiteral("prod"))->setToggle("maintenance_mode", "*", true, toggles.toggleAt(row).version, "during the outage",
                                                           [&](const lc::Reply<lc::Toggle>& r) { refused = r.status; });
        QVERIFY(QTest::qWaitFor([&] { return refused.has_value(); }, 10'000));
        QCOMPARE(refused->code, int(grpc::StatusCode::UNAVAILABLE));
        QVERIFY2(refused->message.find("no quorum") != std::string::npos, refused->message.c_str());

        QVERIFY2(three.restart(1, why), qPrintable(why));
        QVERIFY2(three.restart(2, why), qPrintable(why));
        QVERIFY(QTest::qWaitFor([&] { return toggles.staleReason(QStringLiteral("prod")).isEmpty(); }, 20'000));
        QVERIFY(toggles.editable(row));
        std::optional<lc::Reply<lc::Toggle>> set;
        session.cluster(QStringLiteral("prod"))->setToggle("maintenance_mode", "*", true, toggles.toggleAt(row).version, "store back",
                                                           [&](const lc::Reply<lc::Toggle>& r) { set = r; });
        QVERIFY(QTest::qWaitFor([&] { return set.has_value(); }, 10'000));
        QVERIFY2(set->status.ok(), set->status.message.c_str());
        QVERIFY(QTest::qWaitFor([&] { return std::get<bool>(toggles.toggleAt(row).effective); }, 5000));
    }
};

QTEST_GUILESS_MAIN(TestConsoleFleet)
#include "tst_consolefleet.moc"
