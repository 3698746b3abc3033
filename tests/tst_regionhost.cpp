#include "liveops/regionhost.h"

#include "synccore/client.h"

#include <QtTest>

#include <chrono>
#include <thread>

using namespace lv;
using namespace lv::liveops;

namespace {
TimeUs wallNow()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

RegionConfig regionNamed(std::string name)
{
    RegionConfig config;
    config.name = std::move(name);
    config.tokenKey = generateKey();
    return config;
}

/// Real game clients over loopback UDP, driven from the test thread.
struct Players {
    std::vector<std::unique_ptr<UdpSocket>> sockets;
    std::vector<std::unique_ptr<Client>> clients;
    Players(int count, const Key& key, const Address& region)
    {
        for (int i = 0; i < count; ++i) {
            sockets.push_back(UdpSocket::bind(Address::loopback(0)).value());
            clients.push_back(std::make_unique<Client>(ClientConfig{}, *sockets.back()));
            std::array<std::uint8_t, 32> seed{};
            seed[0] = static_cast<std::uint8_t>(i + 1);
            const auto token = issueConnectToken(key, TransportConfig{}.protocolId, static_cast<std::uint64_t>(i + 1), unixNowUs() + seconds(600),
                                                 makeUserData(Platform::Pc, Vec3i{i * 2 * kPositionUnitsPerMetre, 0, 0}), seed);
            clients.back()->connect(token, region, wallNow());
        }
    }
    /// Runs the clients for `duration` of real time (bounded), walking in circles.
    void run(TimeUs duration)
    {
        const TimeUs end = wallNow() + duration;
        int step = 0;
        while (wallNow() < end) {
            for (auto& c : clients) {
                c->setInput(100, 0, static_cast<std::uint16_t>(step * 97), 0, 0);
                c->advance(wallNow());
            }
            ++step;
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    }
    bool allPlaying() const
    {
        for (const auto& c : clients)
            if (!c->connected() || !c->latestSnapshot())
                return false;
        return true;
    }
};
} // namespace

class TestRegionHost : public QObject {
    Q_OBJECT
private slots:
    void servesRealClientsAndReportsTelemetry()
    {
        const RegionConfig config = regionNamed("eu-west");
        std::string error;
        auto region = RegionHost::start(config, error);
        QVERIFY2(region, error.c_str());
        QVERIFY(region->endpoint().port != 0);
        Players players(4, config.tokenKey, region->endpoint());
        players.run(seconds(2));
        QVERIFY(players.allPlaying());
        QCOMPARE(region->players(), std::size_t{4});
        const RegionSample s = region->sample();
        QCOMPARE(s.region, std::string("eu-west"));
        QCOMPARE(s.players, std::size_t{4});
        QVERIFY(s.ticks > 50);               // ~60 in 2 s at 30 Hz
        QVERIFY(s.kbpsOut > 1.0 && s.kbpsIn > 1.0);
        QVERIFY(s.rttP50Ms > 0.0 && s.rttP50Ms < 20.0);  // loopback, with loop scheduling
        QCOMPARE(s.errors, std::uint64_t{0});
    }

    void latencyDrillShowsInTelemetryAndEnds()
    {
        const RegionConfig config = regionNamed("us-east");
        std::string error;
        auto region = RegionHost::start(config, error);
        QVERIFY(region);
        Players players(4, config.tokenKey, region->endpoint());
        players.run(seconds(2));
        (void)region->sample();  // discard the connection phase
        players.run(seconds(2));
        const double before = region->sample().rttP50Ms;

        ConditionerSettings drill;
        drill.latencyMs = 80;
        region->setFault(drill);
        players.run(millis(500));
        (void)region->sample();  // discard the transition
        players.run(seconds(2));
        const double during = region->sample().rttP50Ms;
        qInfo("drill +80 ms: telemetry p50 RTT %.2f ms -> %.2f ms", before, during);
        QVERIFY2(std::abs((during - before) - 80.0) <= 5.0, qPrintable(QStringLiteral("p50 %1 ms -> %2 ms").arg(before).arg(during)));

        region->setFault({});
        players.run(millis(500));
        (void)region->sample();
        players.run(seconds(2));
        const double after = region->sample().rttP50Ms;
        QVERIFY2(std::abs(after - before) <= 5.0, qPrintable(QStringLiteral("p50 back to %1 ms (was %2)").arg(after).arg(before)));
        QVERIFY(players.allPlaying());
    }

    void knobsReachTheRunningRegion()
    {
        const RegionConfig config = regionNamed("ap-south");
        std::string error;
        auto region = RegionHost::start(config, error);
        QVERIFY(region);
        Players players(2, config.tokenKey, region->endpoint());
        players.run(seconds(1));
        (void)region->sample();
        players.run(seconds(2));
        const RegionSample at20 = region->sample();
        RuntimeKnobs k = region->knobs();
        k.snapshotHz = 10;
        region->setKnobs(k);
        players.run(millis(300));
        (void)region->sample();
        players.run(seconds(2));
        const RegionSample at10 = region->sample();
        QCOMPARE(region->knobs().snapshotHz, 10);
        // Half the snapshots: the region's outgoing bandwidth drops markedly.
        QVERIFY2(at10.kbpsOut < at20.kbpsOut * 0.75, qPrintable(QStringLiteral("%1 -> %2 kbps").arg(at20.kbpsOut).arg(at10.kbpsOut)));
    }

    void bindingATakenPortFailsClearly()
    {
        std::string error;
        auto first = RegionHost::start(regionNamed("a"), error);
        QVERIFY(first);
        RegionConfig clash = regionNamed("b");
        clash.bind = first->endpoint();
        auto second = RegionHost::start(clash, error);
        QVERIFY(!second);
        QVERIFY(error.find("cannot bind") != std::string::npos);
    }

    void regionsAdvertiseWherePlayersCanReachThem()
    {
        std::string error;
        // Bound to every interface: never told to players as 0.0.0.0.
        RegionConfig any = regionNamed("any");
        any.bind = Address::v4(0, 0);
        auto a = RegionHost::start(any, error);
        QVERIFY2(a, error.c_str());
        QVERIFY(a->boundAddress().isUnspecified());
        QVERIFY(!a->endpoint().isUnspecified());
        QCOMPARE(a->endpoint().port, a->boundAddress().port);
        qInfo("0.0.0.0:%u advertises %s (%s)", a->boundAddress().port, a->endpoint().toString().c_str(), a->endpointNote().c_str());
        // A configured public endpoint wins (NAT, a load balancer, a node port).
        RegionConfig natted = regionNamed("natted");
        natted.bind = Address::v4(0, 0);
        natted.publicEndpoint = *Address::parse("203.0.113.7:27015");
        auto n = RegionHost::start(natted, error);
        QVERIFY2(n, error.c_str());
        QCOMPARE(n->endpoint().toString(), std::string("203.0.113.7:27015"));
        // A public host (the node's address) keeps the bound port.
        RegionConfig hosted = regionNamed("hosted");
        hosted.bind = *Address::parse("[::]:0");
        hosted.publicHost = "2001:db8::9";
        auto h = RegionHost::start(hosted, error);
        QVERIFY2(h, error.c_str());
        QCOMPARE(h->endpoint().toString(), "[2001:db8::9]:" + std::to_string(h->boundAddress().port));
        // A routable bind address is advertised as it is.
        auto plain = RegionHost::start(regionNamed("plain"), error);
        QCOMPARE(plain->endpoint(), plain->boundAddress());
    }

    void aCapacityIsHonouredOrRefused()
    {
        std::string error;
        RegionConfig huge = regionNamed("huge");
        huge.capacity = 70000;
        QVERIFY(!RegionHost::start(huge, error));
        QVERIFY2(error.find("capacity 70000 is out of range: a region holds 1..65535 players") != std::string::npos, error.c_str());
    }

    void playersConnectOverIpv6()
    {
        RegionConfig config = regionNamed("v6");
        config.bind = Address::loopback6(0);
        std::string error;
        auto region = RegionHost::start(config, error);
        QVERIFY2(region, error.c_str());
        QVERIFY(!region->endpoint().isV4());
        std::vector<std::unique_ptr<UdpSocket>> sockets;
        std::vector<std::unique_ptr<Client>> clients;
        for (int i = 0; i < 3; ++i) {
            sockets.push_back(UdpSocket::bind(Address::loopback6(0)).value());
            clients.push_back(std::make_unique<Client>(ClientConfig{}, *sockets.back()));
            clients.back()->connect(issueConnectToken(config.tokenKey, TransportConfig{}.protocolId, static_cast<std::uint64_t>(i + 1),
                                                      unixNowUs() + seconds(600), makeUserData(Platform::Mobile, std::nullopt)),
                                    region->endpoint(), wallNow());
        }
        const TimeUs end = wallNow() + seconds(3);
        while (wallNow() < end && region->players() < 3) {
            for (auto& c : clients)
                c->advance(wallNow());
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        QCOMPARE(region->players(), std::size_t{3});
        for (auto& c : clients)
            QCOMPARE(c->serverAddress(), region->endpoint());
    }
};

QTEST_APPLESS_MAIN(TestRegionHost)
#include "tst_regionhost.moc"
