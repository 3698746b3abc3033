// The sandbox's simulated world: live sessions replay byte for byte, a changed recording does
// not, and operations (failover) work across its regions.
#include "liveops/simworld.h"

#include <QtTest>

#include <chrono>
#include <thread>

using namespace lv;
using namespace lv::liveops;

namespace {
SimulatedWorldConfig twoRegions()
{
    SimulatedWorldConfig c;
    ConditionerSettings near, far;
    near.latencyMs = 8;
    near.jitterMs = 2;
    far.latencyMs = 40;
    far.jitterMs = 10;
    far.lossPercent = 2;
    c.regions = {{"eu-west", 6, near}, {"ap-south", 6, far}};
    BotBehaviour b;
    b.areaRadius = 30 * kPositionUnitsPerMetre;
    c.groups = {{"PC", Platform::Pc, b, 60, 120}, {"mobile", Platform::Mobile, b, 20, 30}};
    c.seed = 42;
    return c;
}

template <typename F>
bool waitFor(F done, int ms = 10000)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > ms)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
} // namespace

class TestSimWorld : public QObject {
    Q_OBJECT
private slots:
    void liveSessionReplaysByteForByte()
    {
        auto world = SimulatedWorld::start(twoRegions());
        QVERIFY(waitFor([&] { return world->truth(0).size() == 6 && world->truth(1).size() == 6; }));
        ConditionerSettings worse;
        worse.latencyMs = 60;
        worse.lossPercent = 5;
        world->setNetwork(0, worse);
        sleepMs(150);
        RuntimeKnobs slower;
        slower.snapshotHz = 10;
        world->setKnobs(1, slower);
        sleepMs(150);
        ConditionerSettings drill;
        drill.latencyMs = 80;
        world->setFault(1, drill);
        sleepMs(200);
        const WorldRecording recorded = world->recording();
        world.reset();

        QCOMPARE(recorded.changes.size(), std::size_t(3));
        QCOMPARE(recorded.changes[0].kind, WorldChange::Kind::Network);
        QCOMPARE(recorded.changes[1].knobs.snapshotHz, 10);
        QCOMPARE(recorded.changes[2].network.latencyMs, 80.0);
        QVERIFY(recorded.changes[0].at < recorded.changes[1].at && recorded.changes[1].at < recorded.changes[2].at);
        QVERIFY(recorded.changes[2].at < recorded.duration);
        QVERIFY(recorded.datagrams > 200);  // 12 clients: 30 Hz inputs, 20 Hz snapshots, for half a second

        const WorldRecording again = rerun(recorded);
        QCOMPARE(again.duration, recorded.duration);
        QCOMPARE(again.datagrams, recorded.datagrams);
        QCOMPARE(again.digest, recorded.digest);

        // Paced replay, as the console runs it: ends identical, and ignores today's changes.
        auto replay = SimulatedWorld::replay(recorded);
        QVERIFY(replay->replaying());
        replay->setNetwork(0, {});  // ignored: the recording decides
        QVERIFY(waitFor([&] { return replay->replayProgress().finished; }));
        QVERIFY(replay->replayProgress().identical);
        QCOMPARE(replay->lag(), TimeUs(0));  // a finished replay waits at its end, it does not fall behind
        QCOMPARE(replay->recording().changes, recorded.changes);
    }

    void aChangedRecordingDiverges()
    {
        auto world = SimulatedWorld::start(twoRegions());
        sleepMs(200);
        ConditionerSettings lossy;
        lossy.lossPercent = 10;
        world->setNetwork(1, lossy);
        sleepMs(400);
        WorldRecording recorded = world->recording();
        world.reset();
        QCOMPARE(rerun(recorded).digest, recorded.digest);

        WorldRecording edited = recorded;
        edited.changes[0].network.lossPercent = 30;
        QVERIFY(rerun(edited).digest != recorded.digest);
        edited = recorded;
        edited.changes[0].at += millis(100);
        QVERIFY(rerun(edited).digest != recorded.digest);
        edited = recorded;
        edited.config.seed += 1;
        QVERIFY(rerun(edited).digest != recorded.digest);
    }

    void failoverMovesPlayersAcrossRegions()
    {
        auto world = SimulatedWorld::start(twoRegions());
        auto eu = world->region(0);
        auto ap = world->region(1);
        QVERIFY(waitFor([&] { return eu->players() == 6 && ap->players() == 6; }));
        RuntimeKnobs failover;
        failover.failoverTarget = ap->endpoint().toString();
        eu->setKnobs(failover);
        QCOMPARE(eu->knobs().failoverTarget, failover.failoverTarget);
        QVERIFY(waitFor([&] { return eu->players() == 0 && ap->players() == 12; }));
        const RegionSample s = ap->sample();
        QCOMPARE(s.players, std::size_t(12));
        QVERIFY(s.windowSeconds > 0.0);
        QVERIFY(s.rttP50Ms > 0.0);
    }
};

QTEST_GUILESS_MAIN(TestSimWorld)
#include "tst_simworld.moc"
