// A fleet of syncd servers on a real etcd (issue 15): Clusters of this process play the servers,
// each with its own etcd client, the way separate syncd processes would; one test runs real
// syncd processes with --fleet-etcd and kills one. etcd members are started here (one, or three
// for the quorum cases) and stopped by the tests.
#include "etcdcluster.h"
#include "fleetservers.h"
#include "syncdprocess.h"
#include "liveops/apiserver.h"
#include "liveops/cluster.h"
#include "liveops/etcdstore.h"
#include "liveops/fleetmember.h"
#include "liveops/swarm.h"
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

using namespace lv;
using namespace lv::liveops;

namespace {
const Identity kProducer{"producer-ana", Role::Admin};

std::optional<ToggleState> toggleAt(const Cluster& cluster, const std::string& key, const std::string& scope)
{
    for (const ToggleState& t : cluster.toggles(scope))
        if (t.definition->key == key)
            return t;
    return std::nullopt;
}

bool knobsSay(const Cluster& cluster, const std::string& region, bool maintenance)
{
    for (const RegionInfo& r : cluster.regions())
        if (r.name == region)
            return (r.state == RegionState::Maintenance) == maintenance;
    return false;
}
} // namespace

class TestFleet : public QObject {
    Q_OBJECT
    lvtest::EtcdCluster m_one;

private slots:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_one.start(1, error), qPrintable(error));
    }

    void aChangeOnOneServerReachesTheOthersWithItsAudit()
    {
        std::string error;
        FleetServer a = startServer(m_one.urls(), "share", "eu-west", error);
        QVERIFY2(a.cluster, error.c_str());
        FleetServer b = startServer(m_one.urls(), "share", "eu-west", error);
        QVERIFY2(b.cluster, error.c_str());
        QVERIFY(knobsSay(*b.cluster, "eu-west", false));

        const auto before = toggleAt(*a.cluster, "maintenance_mode", "*");
        QVERIFY(before);
        const OperationResult set = a.cluster->setToggle(kProducer, "maintenance_mode", "*", true, before->version, "event starts");
        QCOMPARE(int(set.outcome), int(Outcome::Ok));
        QVERIFY(set.audit);
        // B applies it to its engines, and shows the same version and the change that made it.
        QVERIFY(QTest::qWaitFor([&] { return knobsSay(*b.cluster, "eu-west", true); }, 3000));
        const auto seen = toggleAt(*b.cluster, "maintenance_mode", "*");
        QCOMPARE(seen->version, set.toggle->version);
        QVERIFY(seen->lastChange);
        QCOMPARE(seen->lastChange->actor, std::string("producer-ana"));
        QCOMPARE(seen->lastChange->reason, std::string("event starts"));
        // One audit log for the fleet: B reads the entry A wrote.
        const auto log = b.cluster->audit(0, 100, "maintenance_mode@*");
        QCOMPARE(log.size(), std::size_t(1));
        QCOMPARE(log[0].id, set.audit->id);
        QCOMPARE(log[0].newValue, std::string("true"));

        // A region's own value overrides the fleet's, on every server of that region.
        const auto region = toggleAt(*b.cluster, "maintenance_mode", "eu-west");
        QCOMPARE(int(b.cluster->setToggle(kProducer, "maintenance_mode", "eu-west", false, region->version, "eu-west stays open").outcome),
                 int(Outcome::Ok));
        QVERIFY(QTest::qWaitFor([&] { return knobsSay(*a.cluster, "eu-west", false); }, 3000));
        // And clearing it there: the fleet's value applies again, everywhere.
        const auto own = toggleAt(*a.cluster, "maintenance_mode", "eu-west");
        QCOMPARE(int(a.cluster->clearToggle(kProducer, "maintenance_mode", "eu-west", own->version, "back to the fleet value").outcome),
                 int(Outcome::Ok));
        QVERIFY(QTest::qWaitFor([&] { return knobsSay(*b.cluster, "eu-west", true); }, 3000));
        QCOMPARE(int(toggleAt(*b.cluster, "maintenance_mode", "eu-west")->source), int(ToggleSource::Cluster));
    }

    void ofTwoRacingSettersExactlyOneWins()
    {
        std::string error;
        FleetServer a = startServer(m_one.urls(), "race", "eu-west", error);
        QVERIFY2(a.cluster, error.c_str());
        FleetServer b = startServer(m_one.urls(), "race", "eu-west", error);
        QVERIFY2(b.cluster, error.c_str());
        for (int round = 0; round < 10; ++round) {
            QVERIFY(QTest::qWaitFor(
                [&] { return toggleAt(*a.cluster, "max_visible", "*")->version == toggleAt(*b.cluster, "max_visible", "*")->version; }, 3000));
            const std::uint64_t version = toggleAt(*a.cluster, "max_visible", "*")->version;
            Outcome first{}, second{};
            std::atomic<bool> go{false};
            std::thread ta([&] {
                while (!go) {}
                first = a.cluster->setToggle(kProducer, "max_visible", "*", std::int64_t{40 + round}, version, "a").outcome;
            });
            std::thread tb([&] {
                while (!go) {}
                second = b.cluster->setToggle(kProducer, "max_visible", "*", std::int64_t{80 + round}, version, "b").outcome;
            });
            go = true;
            ta.join();
            tb.join();
            QVERIFY2((first == Outcome::Ok) != (second == Outcome::Ok), qPrintable(QStringLiteral("round %1").arg(round)));
            QCOMPARE(int(first == Outcome::Ok ? second : first), int(Outcome::Aborted));
        }
        // No change without its entry, no entry without its change: ten winners, ten entries.
        QCOMPARE(a.cluster->audit(0, 1000, "max_visible@*").size(), std::size_t(10));
    }

    void newServersRunTheSwitchFromTheirFirstTick()
    {
        std::string error;
        FleetServer first = startServer(m_one.urls(), "autoscale", "ap-south", error);
        QVERIFY2(first.cluster, error.c_str());
        QCOMPARE(int(first.cluster->setToggle(kProducer, "maintenance_mode", "*", true, 0, "kill switch").outcome), int(Outcome::Ok));
        QCOMPARE(int(first.cluster->setToggle(kProducer, "cross_play", "ap-south", false, 0, "cross-play bug").outcome), int(Outcome::Ok));
        std::vector<FleetServer> scaled;
        for (int i = 0; i < 5; ++i) {
            std::vector<RuntimeKnobs> firstKnobs;
            scaled.push_back(startServer(m_one.urls(), "autoscale", "ap-south", error, &firstKnobs));
            QVERIFY2(scaled.back().cluster, error.c_str());
            QCOMPARE(firstKnobs.size(), std::size_t(1));
            QVERIFY2(firstKnobs[0].maintenanceMode, "the engine was created without the fleet's kill switch");
            QVERIFY(!firstKnobs[0].crossPlay);
        }
    }

    void aServerScopeDrainsThatServerOnly()
    {
        std::string error;
        const auto ms = std::chrono::milliseconds(3000);
        FleetServer a = startServer(m_one.urls(), "scopes", "eu-west", error, nullptr, ms, "a");
        QVERIFY2(a.cluster, error.c_str());
        FleetServer b = startServer(m_one.urls(), "scopes", "eu-west", error, nullptr, ms, "b");
        QVERIFY2(b.cluster, error.c_str());
        auto state = [](const Cluster& c) { return c.regions().at(0).state; };
        QCOMPARE(a.cluster->serverScope(), std::string("server/a"));
        QVERIFY(toggleAt(*a.cluster, "admissions_open", "server/a"));  // listed among its scopes

        // Set on a's own scope (through a): a's regions drain, b's keep serving.
        QCOMPARE(int(a.cluster->setToggle(kProducer, "admissions_open", "server/a", false, 0, "drain server a for its upgrade").outcome),
                 int(Outcome::Ok));
        QCOMPARE(int(state(*a.cluster)), int(RegionState::Draining));
        QTest::qWait(300);  // b's watch has had time to bring it
        QCOMPARE(int(state(*b.cluster)), int(RegionState::Serving));
        // The server's value overrides the region's: opening the region does not undo it.
        QCOMPARE(int(b.cluster->setToggle(kProducer, "admissions_open", "eu-west", true, 0, "region stays open").outcome), int(Outcome::Ok));
        QVERIFY(QTest::qWaitFor([&] { return toggleAt(*a.cluster, "admissions_open", "eu-west")->version > 0; }, 3000));
        QCOMPARE(int(state(*a.cluster)), int(RegionState::Draining));
        const auto onA = toggleAt(*a.cluster, "admissions_open", "eu-west");
        QCOMPARE(int(onA->source), int(ToggleSource::Server));
        QCOMPARE(std::get<bool>(onA->effective), false);
        QCOMPARE(std::get<bool>(onA->value), true);  // the region's own value, shown as overridden
        // An unknown server is refused, and names what was wrong.
        const OperationResult unknown = a.cluster->setToggle(kProducer, "admissions_open", "server/nobody", false, 0, "typo");
        QCOMPARE(int(unknown.outcome), int(Outcome::NotFound));
        QVERIFY2(unknown.message.find("nobody") != std::string::npos, unknown.message.c_str());
        // Cleared: a serves again, with the region's value.
        const auto own = toggleAt(*a.cluster, "admissions_open", "server/a");
        QCOMPARE(int(a.cluster->clearToggle(kProducer, "admissions_open", "server/a", own->version, "upgrade done").outcome), int(Outcome::Ok));
        QCOMPARE(int(state(*a.cluster)), int(RegionState::Serving));
    }

    void aFlipReachesThirtyServers()
    {
        // Thirty servers of one fleet (three region names), each with its own etcd client and
        // watch, as thirty syncd processes would have; a toggle flipped twenty times through one
        // of them. Every flip must reach every server; how long it took is printed (from the
        // setter's answer to each server's engines having it), never asserted.
        constexpr int kServers = 30, kFlips = 20;
        std::string error;
        std::vector<FleetServer> servers;
        const char* names[] = {"eu-west", "us-east", "ap-south"};
        for (int i = 0; i < kServers; ++i) {
            servers.push_back(startServer(m_one.urls(), "thirty", names[i % 3], error));
            QVERIFY2(servers.back().cluster, error.c_str());
        }
        std::mutex mutex;
        std::vector<std::vector<std::chrono::steady_clock::time_point>> applied(kServers);
        std::vector<Feed<ToggleEvent>::Subscription> watches;
        for (int i = 0; i < kServers; ++i)
            watches.push_back(servers[i].cluster->watchToggles([&, i](const ToggleEvent& e) {
                if (!e.initial && e.toggle.definition->key == "max_visible" && e.toggle.scope == "*") {
                    std::lock_guard lock(mutex);
                    applied[i].push_back(std::chrono::steady_clock::now());
                }
            }));
        std::vector<double> delays;
        for (int flip = 0; flip < kFlips; ++flip) {
            const std::uint64_t version = toggleAt(*servers[0].cluster, "max_visible", "*")->version;
            QCOMPARE(int(servers[0].cluster->setToggle(kProducer, "max_visible", "*", std::int64_t{30 + flip}, version, "flip").outcome),
                     int(Outcome::Ok));
            const auto answered = std::chrono::steady_clock::now();
            const bool everywhere = QTest::qWaitFor(
                [&] {
                    std::lock_guard lock(mutex);
                    return std::all_of(applied.begin(), applied.end(), [&](const auto& times) { return int(times.size()) == flip + 1; });
                },
                5000);
            if (!everywhere) {
                std::lock_guard lock(mutex);
                QString counts;
                for (int i = 0; i < kServers; ++i)
                    counts += QStringLiteral(" %1").arg(applied[i].size());
                QFAIL(qPrintable(QStringLiteral("flip %1 did not reach every server exactly once; changes seen per server:%2").arg(flip).arg(counts)));
            }
            for (int i = 1; i < kServers; ++i)  // server 0 applied it before answering
                delays.push_back(std::chrono::duration<double, std::milli>(applied[i][flip] - answered).count());
        }
        for (int i = 0; i < kServers; ++i)
            QCOMPARE(std::get<std::int64_t>(toggleAt(*servers[i].cluster, "max_visible", "*")->effective), std::int64_t{30 + kFlips - 1});
        std::sort(delays.begin(), delays.end());
        qInfo("toggle propagation to %d servers over %d flips: p50 %.1f ms, p99 %.1f ms, max %.1f ms (from the setter's answer; "
              "negative = applied before the answer returned)",
              kServers - 1, kFlips, delays[delays.size() / 2], delays[delays.size() * 99 / 100], delays.back());
    }

    void serversAreListedWhileTheyLive()
    {
        auto etcd = [&] {
            std::string error;
            EtcdOptions options;
            options.endpoints = m_one.urls();
            return std::shared_ptr<EtcdClient>(EtcdClient::create(options, error));
        };
        auto snapshot = [](std::string region) {
            return [region] {
                ServerInfo s;
                s.apiEndpoint = "127.0.0.1:1";
                s.version = "test";
                s.state = ServerState::Serving;
                s.regions.push_back(RegionInfo{region, "10.0.0.1:7777", RegionState::Serving, 3, 100, ""});
                s.players = 3;
                return s;
            };
        };
        std::string error;
        auto a = FleetMember::join(etcd(), {"members", "syncd-a", 2}, snapshot("eu-west"), error);
        QVERIFY2(a, error.c_str());
        auto b = FleetMember::join(etcd(), {"members", "syncd-b", 2}, snapshot("us-east"), error);
        QVERIFY2(b, error.c_str());
        auto listed = a->servers(error);
        QVERIFY2(listed, error.c_str());
        QCOMPARE(listed->size(), std::size_t(2));
        QCOMPARE((*listed)[1].id, std::string("syncd-b"));
        QCOMPARE((*listed)[1].regions.at(0).name, std::string("us-east"));
        QCOMPARE((*listed)[1].players, std::size_t(3));
        // Kept alive past several TTLs.
        QTest::qWait(4500);
        QCOMPARE(a->servers(error)->size(), std::size_t(2));
        // A server that leaves is gone at once.
        b->leave();
        QCOMPARE(a->servers(error)->size(), std::size_t(1));
    }

    void supportFindsKicksAndMovesAPlayerAnywhereInTheFleet()
    {
        // Thirty servers, each with its API on TCP and its record in the fleet (as syncd runs
        // them); three players on server 17. Support asks server 0.
        namespace pb = ::liveops::v1;
        constexpr int kServers = 30;
        std::vector<std::unique_ptr<FleetMemberWithApi>> fleet;
        const char* names[] = {"eu-west", "us-east", "ap-south"};
        std::string error;
        for (int i = 0; i < kServers; ++i) {
            const std::string id = QStringLiteral("s%1").arg(i, 2, 10, QLatin1Char('0')).toStdString();
            auto m = FleetMemberWithApi::start(m_one.urls(), "support", names[i % 3], id, error);
            QVERIFY2(m, error.c_str());
            fleet.push_back(std::move(m));
        }
        SwarmConfig swarm;
        swarm.server = fleet[17]->server.cluster->regions()[0].endpoint.empty() ? Address{}
                                                                                 : *Address::parse(fleet[17]->server.cluster->regions()[0].endpoint);
        swarm.count = 3;
        swarm.firstClientId = 5001;
        auto players = BotSwarm::start(swarm, error);
        QVERIFY2(players, error.c_str());
        QVERIFY(QTest::qWaitFor([&] { return players->report().connected == 3; }, 5000));
        QTest::qWait(1500);  // the servers' records now carry their players (refreshed each second or so)

        auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(fleet[0]->api->port()), grpc::InsecureChannelCredentials());
        auto stub = pb::LiveOps::NewStub(channel);
        auto context = [](const char* token) {
            auto c = std::make_unique<grpc::ClientContext>();
            c->AddMetadata("authorization", std::string("Bearer ") + token);
            c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
            return c;
        };
        auto find = [&](std::uint64_t clientId, pb::FindPlayerResponse& where, bool thisServerOnly = false) {
            pb::FindPlayerRequest request;
            request.set_client_id(clientId);
            request.set_this_server_only(thisServerOnly);
            where.Clear();
            return stub->FindPlayer(context("tok-support").get(), request, &where);
        };

        // Found on server 17, with its link and how long it has been there; every server asked.
        pb::FindPlayerResponse where;
        grpc::Status status = find(5002, where);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(where.player().server_id(), std::string("s17"));
        QCOMPARE(where.player().region(), std::string(names[17 % 3]));
        QCOMPARE(where.player().api_endpoint(), "127.0.0.1:" + std::to_string(fleet[17]->api->port()));
        QVERIFY(where.player().rtt_ms() >= 0.0 && where.player().rtt_ms() < 100.0);
        QVERIFY(where.player().connected_since().seconds() > 0);
        QCOMPARE(where.servers_asked(), std::uint32_t(kServers));
        QCOMPARE(find(5002, where, true).error_code(), grpc::StatusCode::NOT_FOUND);  // not on server 0 itself

        // Unknown: NOT_FOUND, saying how many servers were asked.
        status = find(999, where);
        QCOMPARE(status.error_code(), grpc::StatusCode::NOT_FOUND);
        QCOMPARE(status.error_message(), std::string("client 999 is not connected to any of the fleet's 30 servers"));

        // How long support waits for an answer (printed, never asserted).
        std::vector<double> answers;
        for (int i = 0; i < 20; ++i) {
            QElapsedTimer timer;
            timer.start();
            QVERIFY(find(5001 + i % 3, where).ok());
            answers.push_back(double(timer.nsecsElapsed()) / 1e6);
        }
        // Baseline in the same run: the player's own server asked directly (no fan-out).
        auto direct = pb::LiveOps::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(fleet[17]->api->port()), grpc::InsecureChannelCredentials()));
        std::vector<double> directAnswers;
        for (int i = 0; i < 20; ++i) {
            pb::FindPlayerRequest request;
            request.set_client_id(5001 + i % 3);
            request.set_this_server_only(true);
            QElapsedTimer timer;
            timer.start();
            QVERIFY(direct->FindPlayer(context("tok-support").get(), request, &where).ok());
            directAnswers.push_back(double(timer.nsecsElapsed()) / 1e6);
        }
        std::sort(answers.begin(), answers.end());
        std::sort(directAnswers.begin(), directAnswers.end());
        qInfo("FindPlayer over %d servers: p50 %.1f ms, max %.1f ms (20 lookups through one server); the player's own server asked "
              "directly: p50 %.1f ms, max %.1f ms",
              kServers, answers[answers.size() / 2], answers.back(), directAnswers[directAnswers.size() / 2], directAnswers.back());

        // Kick: a viewer may not (the player's server says so); an operator may, audited once.
        pb::KickPlayerRequest kick;
        kick.set_client_id(5001);
        kick.set_reason("speed hack, ticket 4411");
        pb::OperationResponse op;
        QCOMPARE(stub->KickPlayer(context("tok-support").get(), kick, &op).error_code(), grpc::StatusCode::PERMISSION_DENIED);
        status = stub->KickPlayer(context("tok-ops").get(), kick, &op);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(op.audit().action(), std::string("kick_player"));
        QCOMPARE(op.audit().actor(), std::string("olga-ops"));
        QCOMPARE(op.audit().old_value(), std::string(names[17 % 3]) + "@s17");
        QVERIFY(QTest::qWaitFor([&] { return find(5001, where).error_code() == grpc::StatusCode::NOT_FOUND; }, 2000));

        // Move: to server 4, through server 0; the player lands there and plays on.
        pb::MovePlayerRequest move;
        move.set_client_id(5003);
        move.set_to_server("s04");
        move.set_reason("support: stuck in a wall");
        status = stub->MovePlayer(context("tok-ops").get(), move, &op);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(op.audit().action(), std::string("move_player"));
        QVERIFY(QTest::qWaitFor([&] { return find(5003, where).ok() && where.player().server_id() == "s04"; }, 3000));
        // The fleet's audit has both operations, whichever server is asked.
        const auto audit = fleet[29]->server.cluster->audit(0, 100, "");
        const auto count = [&](const char* action) {
            return std::count_if(audit.begin(), audit.end(), [&](const AuditEntry& e) { return e.action == action; });
        };
        QCOMPARE(count("kick_player"), 1L);
        QCOMPARE(count("move_player"), 1L);
        // A region nobody serves is refused with the reason.
        move.set_client_id(5002);
        move.clear_to_server();
        move.set_to_region("mars-north");
        status = stub->MovePlayer(context("tok-ops").get(), move, &op);
        QCOMPARE(status.error_code(), grpc::StatusCode::NOT_FOUND);
        QCOMPARE(status.error_message(), std::string("no serving server of the fleet serves region 'mars-north'"));
        players.reset();
    }

    // Drains and failovers name servers and regions anywhere in the fleet, asked of any server;
    // players go to the advertised endpoints of the servers named (or the roomiest serving one).
    void drainsAndFailoversNameServersAnywhereInTheFleet()
    {
        namespace pb = ::liveops::v1;
        std::string error;
        auto a = FleetMemberWithApi::start(m_one.urls(), "ops", "eu-west", "a", error, 2);
        QVERIFY2(a, error.c_str());
        auto b = FleetMemberWithApi::start(m_one.urls(), "ops", "eu-west", "b", error, 2);
        QVERIFY2(b, error.c_str());
        auto c = FleetMemberWithApi::start(m_one.urls(), "ops", "us-east", "c", error, 2);
        QVERIFY2(c, error.c_str());
        const auto endpointOf = [](const FleetMemberWithApi& m) { return m.server.cluster->regions()[0].endpoint; };
        SwarmConfig swarm;
        swarm.server = *Address::parse(endpointOf(*a));
        swarm.count = 4;
        swarm.firstClientId = 7001;
        auto players = BotSwarm::start(swarm, error);
        QVERIFY2(players, error.c_str());
        QVERIFY(QTest::qWaitFor([&] { return players->report().connected == 4; }, 5000));
        // Every server has read the others' records (each re-reads them every third of the TTL).
        QVERIFY(QTest::qWaitFor([&] { return a->member->known().size() == 3 && b->member->known().size() == 3 && c->member->known().size() == 3; }, 5000));

        // Asked of c (which serves neither): drain server a, its players to the fleet's eu-west.
        auto stub = pb::LiveOps::NewStub(grpc::CreateChannel(c->apiEndpoint(), grpc::InsecureChannelCredentials()));
        auto context = [] {
            auto ctx = std::make_unique<grpc::ClientContext>();
            ctx->AddMetadata("authorization", "Bearer tok-ops");
            ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
            return ctx;
        };
        const auto onlyOn = [&](const std::string& endpoint) {
            const SwarmReport r = players->report();
            return r.connected == 4 && r.byServer.count(endpoint) && r.byServer.at(endpoint) == 4;
        };
        pb::DrainRegionRequest drain;
        drain.set_server_id("a");
        drain.set_failover_region("eu-west");
        drain.set_reason("kernel update on a");
        pb::OperationResponse op;
        grpc::Status status = stub->DrainRegion(context().get(), drain, &op);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(op.audit().target(), std::string("server/a"));
        QCOMPARE(op.audit().action(), std::string("drain"));
        QVERIFY2(QTest::qWaitFor([&] { return onlyOn(endpointOf(*b)); }, 8000), "a's players did not reach b");
        QCOMPARE(int(a->server.cluster->regions()[0].state), int(RegionState::Draining));
        QCOMPARE(int(b->server.cluster->regions()[0].state), int(RegionState::Serving));  // the region's other server is untouched

        // b fails over to us-east on c, named exactly.
        pb::FailoverRequest failover;
        failover.set_from_server_id("b");
        failover.set_to_region("us-east@c");
        failover.set_reason("b's rack loses power at 14:00");
        status = stub->Failover(context().get(), failover, &op);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QVERIFY2(QTest::qWaitFor([&] { return onlyOn(endpointOf(*c)); }, 8000), "b's players did not reach c");

        // Undrained: each server's own values are cleared, and it runs what its region says again.
        pb::UndrainRegionRequest undrain;
        undrain.set_reason("done");
        for (const char* id : {"a", "b"}) {
            undrain.set_server_id(id);
            status = stub->UndrainRegion(context().get(), undrain, &op);
            QVERIFY2(status.ok(), status.error_message().c_str());
        }
        QVERIFY(QTest::qWaitFor([&] {
            return a->server.cluster->regions()[0].state == RegionState::Serving && b->server.cluster->regions()[0].state == RegionState::Serving;
        }, 5000));
        const auto own = toggleAt(*a->server.cluster, "admissions_open", "server/a");  // cleared: inherited again, not set there
        QVERIFY(own && own->source != ToggleSource::Here && std::get<bool>(own->effective));

        // A region is the fleet's: c drains eu-west, which it does not serve, on both its servers.
        pb::DrainRegionRequest region;
        region.set_region("eu-west");
        region.set_reason("eu-west maintenance window");
        status = stub->DrainRegion(context().get(), region, &op);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QVERIFY(QTest::qWaitFor([&] {
            return a->server.cluster->regions()[0].state == RegionState::Draining && b->server.cluster->regions()[0].state == RegionState::Draining;
        }, 5000));
        undrain.clear_server_id();
        undrain.set_region("eu-west");
        status = stub->UndrainRegion(context().get(), undrain, &op);
        QVERIFY2(status.ok(), status.error_message().c_str());

        // Refused with the reason: a server not in the fleet, both names, a server onto itself,
        // and a server drain outside a fleet.
        drain.set_server_id("zz");
        status = stub->DrainRegion(context().get(), drain, &op);
        QCOMPARE(status.error_code(), grpc::StatusCode::NOT_FOUND);
        QCOMPARE(status.error_message(), std::string("no server 'zz' in this fleet"));
        drain.set_server_id("a");
        drain.set_region("eu-west");
        QCOMPARE(stub->DrainRegion(context().get(), drain, &op).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        failover.set_from_server_id("c");
        failover.set_to_region("us-east@c");
        QCOMPARE(stub->Failover(context().get(), failover, &op).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        FleetServer alone = startServer(m_one.urls(), "ops", "ap-south", error);
        QVERIFY2(alone.cluster, error.c_str());
        QCOMPARE(int(alone.cluster->drainServer(kProducer, "a", {}, "no directory").outcome), int(Outcome::FailedPrecondition));
        players.reset();
    }

    // The fleet store over TLS, with client certificates and an etcd user whose role reaches only
    // the fleet's keys: servers work; a wrong password or no client certificate is refused with
    // the reason, and such a server does not start.
    void theFleetStoreOverTlsWithAUser()
    {
        QTemporaryDir dir;
        QProcess shell;
        shell.setWorkingDirectory(dir.path());
        shell.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral(
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=etcd-ca 2>/dev/null && "
            "openssl req -newkey rsa:2048 -nodes -keyout member.key -out member.csr -subj /CN=127.0.0.1 2>/dev/null && "
            "printf 'subjectAltName=IP:127.0.0.1' > san.ext && "
            "openssl x509 -req -in member.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out member.crt -days 2 -extfile san.ext 2>/dev/null && "
            "openssl req -newkey rsa:2048 -nodes -keyout syncd.key -out syncd.csr -subj /CN=syncd 2>/dev/null && "
            "openssl x509 -req -in syncd.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out syncd.crt -days 2 2>/dev/null")});
        QVERIFY(shell.waitForFinished(60'000) && shell.exitCode() == 0);
        const auto file = [&](const char* name) { return dir.filePath(QLatin1String(name)); };
        lvtest::EtcdCluster secure;
        secure.setTls(file("ca.crt"), file("member.crt"), file("member.key"), true);
        secure.setClientCertificate(file("syncd.crt"), file("syncd.key"));
        QString why;
        QVERIFY2(secure.start(1, why), qPrintable(why));

        // Users and roles as an operator would set them up: root, and syncd with read-write on
        // /secure/ only; then authentication on.
        auto auth = etcdserverpb::Auth::NewStub(grpc::CreateChannel(secure.url(0).substr(8), secure.credentials()));
        const auto call = [&](auto method, const auto& request, auto& response) {
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
            return (auth.get()->*method)(&context, request, &response);
        };
        etcdserverpb::AuthUserAddRequest root;
        root.set_name("root");
        root.set_password("root-password");
        etcdserverpb::AuthUserAddResponse added;
        QVERIFY(call(&etcdserverpb::Auth::Stub::UserAdd, root, added).ok());
        etcdserverpb::AuthUserGrantRoleRequest rootRole;
        rootRole.set_user("root");
        rootRole.set_role("root");
        etcdserverpb::AuthUserGrantRoleResponse granted;
        QVERIFY(call(&etcdserverpb::Auth::Stub::UserGrantRole, rootRole, granted).ok());
        etcdserverpb::AuthRoleAddRequest role;
        role.set_name("fleet-secure");
        etcdserverpb::AuthRoleAddResponse roleAdded;
        QVERIFY(call(&etcdserverpb::Auth::Stub::RoleAdd, role, roleAdded).ok());
        etcdserverpb::AuthRoleGrantPermissionRequest permission;
        permission.set_name("fleet-secure");
        permission.mutable_perm()->set_permtype(authpb::Permission::READWRITE);
        permission.mutable_perm()->set_key("/secure/");
        permission.mutable_perm()->set_range_end("/secure0");
        etcdserverpb::AuthRoleGrantPermissionResponse permitted;
        QVERIFY(call(&etcdserverpb::Auth::Stub::RoleGrantPermission, permission, permitted).ok());
        etcdserverpb::AuthUserAddRequest user;
        user.set_name("syncd");
        user.set_password("s3cret-fleet");
        QVERIFY(call(&etcdserverpb::Auth::Stub::UserAdd, user, added).ok());
        etcdserverpb::AuthUserGrantRoleRequest userRole;
        userRole.set_user("syncd");
        userRole.set_role("fleet-secure");
        QVERIFY(call(&etcdserverpb::Auth::Stub::UserGrantRole, userRole, granted).ok());
        etcdserverpb::AuthEnableRequest enable;
        etcdserverpb::AuthEnableResponse enabled;
        QVERIFY(call(&etcdserverpb::Auth::Stub::AuthEnable, enable, enabled).ok());

        EtcdOptions options;
        options.endpoints = secure.urls();
        options.caFile = file("ca.crt").toStdString();
        options.certFile = file("syncd.crt").toStdString();
        options.keyFile = file("syncd.key").toStdString();
        options.user = "syncd";
        options.password = "s3cret-fleet";
        options.timeout = std::chrono::milliseconds(3000);
        std::string error;
        FleetServer a = startServerWith(options, "secure", "eu-west", error, nullptr, "a");
        QVERIFY2(a.cluster, error.c_str());
        FleetServer b = startServerWith(options, "secure", "eu-west", error, nullptr, "b");
        QVERIFY2(b.cluster, error.c_str());
        auto member = FleetMember::join(a.etcd, {"secure", "a", 2}, [&a] { return a.cluster->describeSelf(); }, error);
        QVERIFY2(member, error.c_str());
        QCOMPARE(member->servers(error)->size(), std::size_t{1});
        QCOMPARE(int(a.cluster->setToggle(kProducer, "max_visible", "*", std::int64_t{33}, 0, "over TLS").outcome), int(Outcome::Ok));
        QVERIFY(QTest::qWaitFor([&] { return std::get<std::int64_t>(toggleAt(*b.cluster, "max_visible", "*")->effective) == 33; }, 5000));

        // Outside its role's keys the user is refused: another fleet's name does not start.
        FleetServer other = startServerWith(options, "someone-else", "eu-west", error, nullptr, "c");
        QVERIFY(!other.cluster);
        QVERIFY2(error.find("permission") != std::string::npos, error.c_str());
        // A wrong password: refused, saying so.
        EtcdOptions wrong = options;
        wrong.password = "not-it";
        FleetServer refused = startServerWith(wrong, "secure", "eu-west", error, nullptr, "d");
        QVERIFY(!refused.cluster);
        QVERIFY2(error.find("authentication failed") != std::string::npos || error.find("invalid") != std::string::npos, error.c_str());
        // No client certificate: the member does not take the connection.
        EtcdOptions anonymous = options;
        anonymous.certFile.clear();
        anonymous.keyFile.clear();
        anonymous.timeout = std::chrono::milliseconds(1500);
        FleetServer noCert = startServerWith(anonymous, "secure", "eu-west", error, nullptr, "e");
        QVERIFY(!noCert.cluster);
        QVERIFY2(!error.empty(), "refused without saying why");
        qInfo("without a client certificate: %s", error.c_str());
        member.reset();
    }

    void realServersFormAFleetAndAKilledOneLeavesIt()
    {
        // Three syncd processes started with the fleet flags, as a Deployment would run them.
        const QString fleet = QStringLiteral("[fleet]\netcd = [\"%1\"]\nname = \"procs\"\nlease_ttl_s = 2\n")
                                  .arg(QString::fromStdString(m_one.url(0)));
        std::vector<std::unique_ptr<lv::test::State>> states;
        std::vector<std::unique_ptr<lv::test::Syncd>> servers;
        for (int i = 0; i < 3; ++i) {
            states.push_back(std::make_unique<lv::test::State>(fleet));
            servers.push_back(std::make_unique<lv::test::Syncd>(states.back()->path()));
            QVERIFY2(servers.back()->start({QStringLiteral("--config"), states.back()->path() + QStringLiteral("/syncd.toml"),
                                            QStringLiteral("--server-id"), QStringLiteral("s%1").arg(i)}),
                     qPrintable(servers.back()->log()));
        }
        auto list = [&](int via) {
            lv::test::pb::ListServersResponse response;
            const grpc::Status status = servers[via]->stub->ListServers(lv::test::Syncd::context().get(), {}, &response);
            return status.ok() ? response : lv::test::pb::ListServersResponse{};
        };
        auto listed = list(0);
        QCOMPARE(listed.fleet(), std::string("procs"));
        QCOMPARE(listed.servers_size(), 3);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(listed.servers(i).id(), "s" + std::to_string(i));
            QCOMPARE(listed.servers(i).api_endpoint(), "127.0.0.1:" + std::to_string(servers[i]->port()));
            QCOMPARE(listed.servers(i).regions_size(), 2);
            QCOMPARE(int(listed.servers(i).state()), int(lv::test::pb::SERVER_STATE_SERVING));
        }
        // A kill switch set through one server's API is in force on the others'.
        lv::test::pb::SetToggleRequest set;
        set.set_key("maintenance_mode");
        set.set_scope("*");
        set.mutable_value()->set_bool_value(true);
        set.set_reason("fleet-wide kill switch");
        lv::test::pb::SetToggleResponse setResponse;
        QVERIFY(servers[1]->stub->SetToggle(lv::test::Syncd::context().get(), set, &setResponse).ok());
        QVERIFY(QTest::qWaitFor(
            [&] {
                const auto regions = servers[2]->regions();
                return !regions.empty() && regions[0].status() == lv::test::pb::REGION_STATUS_MAINTENANCE;
            },
            3000));

        // kill -9: no goodbye; the fleet forgets the server when its lease runs out.
        QElapsedTimer sinceKill;
        servers[2]->process().kill();
        sinceKill.start();
        QVERIFY(QTest::qWaitFor([&] { return list(0).servers_size() == 2; }, 2000 + 1000 + 1000));
        qInfo("a server killed with SIGKILL left the fleet's list after %lld ms (lease TTL 2 s)", sinceKill.elapsed());
        // A server that stops cleanly leaves at once.
        servers[1]->process().terminate();
        QVERIFY(servers[1]->process().waitForFinished(10'000));
        QCOMPARE(list(0).servers_size(), 1);
        QCOMPARE(list(0).servers(0).id(), std::string("s0"));
    }

    void playersOfAKilledServerPlayOnAnotherOfTheirRegion()
    {
        // Three syncd servers of one fleet sharing the cluster key (as a fleet's pods do), 300
        // syncbot players on the first, their tokens listing all three servers' eu-west.
        const QString fleet = QStringLiteral("[fleet]\netcd = [\"%1\"]\nname = \"heal\"\nlease_ttl_s = 2\n")
                                  .arg(QString::fromStdString(m_one.url(0)));
        std::vector<std::unique_ptr<lv::test::State>> states;
        std::vector<std::unique_ptr<lv::test::Syncd>> servers;
        const QString key = lv::test::randomKeyHex();
        QStringList endpoints;
        for (int i = 0; i < 3; ++i) {
            states.push_back(std::make_unique<lv::test::State>(fleet));
            states.back()->write(QStringLiteral("cluster.key"), key);
            servers.push_back(std::make_unique<lv::test::Syncd>(states.back()->path()));
            QVERIFY2(servers.back()->start({QStringLiteral("--config"), states.back()->path() + QStringLiteral("/syncd.toml"),
                                            QStringLiteral("--server-id"), QStringLiteral("h%1").arg(i)}),
                     qPrintable(servers.back()->log()));
            endpoints << QString::fromStdString(servers.back()->regions()[0].endpoint());
        }
        QProcess syncbot;
        syncbot.start(QStringLiteral(SYNCBOT_PATH), {QStringLiteral("--server"), endpoints.join(QLatin1Char(',')), QStringLiteral("--key-file"),
                                                     states[0]->dir.filePath(QStringLiteral("cluster.key")), QStringLiteral("--clients"),
                                                     QStringLiteral("300"), QStringLiteral("--every"), QStringLiteral("0.1"), QStringLiteral("--json")});
        QVERIFY(syncbot.waitForStarted(5000));
        QVERIFY2(QTest::qWaitFor([&] { return servers[0]->regions()[0].players() == 300; }, 20000), qPrintable(servers[0]->log()));

        // The latest report syncbot printed: how many play, and where.
        QByteArray pending;
        QJsonObject latest;
        auto readReports = [&] {
            pending += syncbot.readAllStandardOutput();
            qsizetype newline;
            while ((newline = pending.indexOf('\n')) >= 0) {
                const QJsonDocument line = QJsonDocument::fromJson(pending.left(newline));
                pending.remove(0, newline + 1);
                if (line.isObject())
                    latest = line.object();
            }
        };
        auto playingElsewhere = [&] {
            readReports();
            const QJsonObject where = latest.value(QStringLiteral("servers")).toObject();
            return latest.value(QStringLiteral("connected")).toInt() == 300 && where.value(endpoints[0]).toInt() == 0;
        };
        auto listed = [&] {
            lv::test::pb::ListServersResponse response;
            return servers[1]->stub->ListServers(lv::test::Syncd::context().get(), {}, &response).ok() ? response.servers_size() : -1;
        };
        QCOMPARE(listed(), 3);

        // kill -9: no goodbye to the players, none to the fleet.
        QElapsedTimer sinceKill;
        servers[0]->process().kill();
        sinceKill.start();
        qint64 playingAfter = -1, goneAfter = -1;
        while (sinceKill.elapsed() < 10000 && (playingAfter < 0 || goneAfter < 0)) {
            QTest::qWait(20);
            if (playingAfter < 0 && playingElsewhere())
                playingAfter = sinceKill.elapsed();
            if (goneAfter < 0 && listed() == 2)
                goneAfter = sinceKill.elapsed();
        }
        QVERIFY2(playingAfter >= 0, qPrintable(QStringLiteral("after 10 s: %1").arg(QString::fromUtf8(QJsonDocument(latest).toJson(QJsonDocument::Compact)))));
        QVERIFY2(goneAfter >= 0, "the killed server is still listed 10 s later");
        QCOMPARE(servers[1]->regions()[0].players() + servers[2]->regions()[0].players(), 300u);
        QCOMPARE(latest.value(QStringLiteral("failovers")).toInt(), 300);
        qInfo("kill -9 of one of three servers with 300 syncbot players: all playing on another server of eu-west after %lld ms "
              "(syncbot reports every 100 ms); the server left ListServers after %lld ms (lease TTL 2 s)",
              playingAfter, goneAfter);
        syncbot.terminate();
        QVERIFY(syncbot.waitForFinished(10000));
    }

    // Three members from here on: quorum and a member going away under a watch.
    void withoutQuorumServersServeAndWritesAreRefused()
    {
        lvtest::EtcdCluster three;
        QString why;
        QVERIFY2(three.start(3, why), qPrintable(why));
        std::string error;
        FleetServer a = startServer(three.urls(), "quorum", "eu-west", error, nullptr, std::chrono::milliseconds(1000));
        QVERIFY2(a.cluster, error.c_str());
        QCOMPARE(int(a.cluster->setToggle(kProducer, "maintenance_mode", "*", true, 0, "before").outcome), int(Outcome::Ok));

        // One member stopped: nothing changes.
        three.stop(2);
        auto current = toggleAt(*a.cluster, "maintenance_mode", "*");
        QCOMPARE(int(a.cluster->setToggle(kProducer, "maintenance_mode", "*", false, current->version, "one member down").outcome),
                 int(Outcome::Ok));

        // Two of three stopped: no quorum. The server goes on with what it knows; writes are refused
        // with a reason, and nothing is written.
        three.stop(1);
        current = toggleAt(*a.cluster, "maintenance_mode", "*");
        const OperationResult refused = a.cluster->setToggle(kProducer, "maintenance_mode", "*", true, current->version, "no quorum");
        QCOMPARE(int(refused.outcome), int(Outcome::Unavailable));
        QVERIFY2(refused.message.find("no quorum") != std::string::npos, refused.message.c_str());
        QCOMPARE(int(a.cluster->startDrill(kProducer, "eu-west", DrillKind::Latency, 50, 0, std::chrono::seconds(5), "drill").outcome),
                 int(Outcome::Unavailable));
        QCOMPARE(std::get<bool>(toggleAt(*a.cluster, "maintenance_mode", "*")->effective), false);
        QVERIFY(knobsSay(*a.cluster, "eu-west", false));
        QCOMPARE(a.cluster->regions().size(), std::size_t(1));

        // Members back: writes work again, and the log holds each applied change once.
        QVERIFY2(three.restart(1, why), qPrintable(why));
        QVERIFY2(three.restart(2, why), qPrintable(why));
        Outcome after = Outcome::Unavailable;
        QVERIFY(QTest::qWaitFor(
            [&] {
                after = a.cluster->setToggle(kProducer, "maintenance_mode", "*", true, toggleAt(*a.cluster, "maintenance_mode", "*")->version,
                                             "quorum back")
                            .outcome;
                return after != Outcome::Unavailable;
            },
            15'000));
        QCOMPARE(int(after), int(Outcome::Ok));
        const auto log = a.cluster->audit(0, 100, "maintenance_mode@*");
        QCOMPARE(log.size(), std::size_t(3));
        QCOMPARE(log[0].reason, std::string("before"));
        QCOMPARE(log[1].reason, std::string("one member down"));
        QCOMPARE(log[2].reason, std::string("quorum back"));
    }

    void aBrokenWatchResumesAndACompactedOneReloads()
    {
        lvtest::EtcdCluster three;
        QString why;
        QVERIFY2(three.start(3, why), qPrintable(why));
        std::string error;
        // A talks to member 0 only, B to member 1 only: stopping member 0 breaks A's watch.
        FleetServer a = startServer({three.url(0)}, "resume", "eu-west", error, nullptr, std::chrono::milliseconds(1000));
        QVERIFY2(a.cluster, error.c_str());
        FleetServer b = startServer({three.url(1)}, "resume", "eu-west", error);
        QVERIFY2(b.cluster, error.c_str());
        auto maxVisible = [](const Cluster& c) { return std::get<std::int64_t>(toggleAt(c, "max_visible", "*")->effective); };

        three.stop(0);
        QCOMPARE(int(b.cluster->setToggle(kProducer, "max_visible", "*", std::int64_t{50}, 0, "while A's member is away").outcome),
                 int(Outcome::Ok));
        QVERIFY2(three.restart(0, why), qPrintable(why));
        QVERIFY(QTest::qWaitFor([&] { return maxVisible(*a.cluster) == 50; }, 10'000));
        QCOMPARE(a.store->reloads(), std::uint64_t(0));  // resumed from its revision: nothing reloaded
        QVERIFY(a.store->watchStarts() >= 2);

        // Away again; meanwhile two changes and a compaction past them: A must reload.
        three.stop(0);
        std::uint64_t version = toggleAt(*b.cluster, "max_visible", "*")->version;
        QCOMPARE(int(b.cluster->setToggle(kProducer, "max_visible", "*", std::int64_t{51}, version, "one").outcome), int(Outcome::Ok));
        version = toggleAt(*b.cluster, "max_visible", "*")->version;
        QCOMPARE(int(b.cluster->setToggle(kProducer, "max_visible", "*", std::int64_t{52}, version, "two").outcome), int(Outcome::Ok));
        {
            auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel(three.url(1).substr(7), grpc::InsecureChannelCredentials()));
            grpc::ClientContext c;
            etcdserverpb::CompactionRequest compact;
            compact.set_revision(static_cast<std::int64_t>(toggleAt(*b.cluster, "max_visible", "*")->version));
            compact.set_physical(true);
            etcdserverpb::CompactionResponse done;
            QVERIFY(kv->Compact(&c, compact, &done).ok());
        }
        QVERIFY2(three.restart(0, why), qPrintable(why));
        QVERIFY(QTest::qWaitFor([&] { return maxVisible(*a.cluster) == 52; }, 10'000));
        QVERIFY(a.store->reloads() >= 1);
        QCOMPARE(toggleAt(*a.cluster, "max_visible", "*")->lastChange->reason, std::string("two"));
    }
};

QTEST_GUILESS_MAIN(TestFleet)
#include "tst_fleet.moc"
