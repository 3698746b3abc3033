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
};

QTEST_APPLESS_MAIN(TestRegionHost)
#include "tst_regionhost.moc"
