#include "synccore/lagcomp.h"
#include "synccore/server.h"
#include "synccore/world.h"

#include <cmath>

#include <QtTest>

using namespace lv;

class TestLagComp : public QObject {
    Q_OBJECT
private slots:
    void historyIsBoundedAndInterpolated()
    {
        LagCompensation lc(16);
        PlayerState p;
        p.id = {3, 1};
        for (Tick t = 1; t <= 40; ++t) {
            p.position.x = static_cast<std::int32_t>(t * 100);
            lc.record(t, std::span<const PlayerState>(&p, 1));
        }
        QCOMPARE(lc.depth(), std::size_t{16});
        QCOMPARE(lc.oldestTick(), Tick{25});
        // Rewinds are relative to the newest tick (40): 10 ticks back is tick 30.
        QCOMPARE(lc.positionAt(p.id, 10 * 256)->x, 3000);
        QCOMPARE(lc.positionAt(p.id, 10 * 256 - 128)->x, 3050);  // tick 30.5
        QCOMPARE(lc.positionAt(p.id, 39 * 256)->x, 2500);  // clamped to the oldest kept tick
        QCOMPARE(lc.maxRewind256(), std::uint32_t{15 * 256});
        QVERIFY(!lc.positionAt(EntityId{3, 2}, 10 * 256));  // another generation is another player
    }

    void shotHitsWhereTheShooterSawTheTarget()
    {
        // The target runs across the shooter's line of fire; the shooter aimed at where it was
        // 10 ticks ago (its interpolated view). Rewound: hit. Judged at the present: miss.
        LagCompensation lc(64);
        PlayerState shooter, target;
        shooter.id = {0, 1};
        target.id = {1, 1};
        for (Tick t = 1; t <= 30; ++t) {
            target.position = {20 * kPositionUnitsPerMetre, static_cast<std::int32_t>((t - 20) * kPositionUnitsPerMetre / 3), 0};
            const PlayerState both[] = {shooter, target};
            lc.record(t, both);
        }
        const Vec3i eye{0, 0, static_cast<std::int32_t>(1.6 * kPositionUnitsPerMetre)};
        const std::int16_t pitch = -static_cast<std::int16_t>(65536 * 0.0127 / 6.283);  // slightly down towards the chest
        const auto rewound = lc.raycast(shooter.id, eye, 0, pitch, 100 * kPositionUnitsPerMetre, 10 * 256);  // tick 20
        QVERIFY(rewound.has_value());
        QCOMPARE(rewound->target, target.id);
        QVERIFY(!lc.raycast(shooter.id, eye, 0, pitch, 100 * kPositionUnitsPerMetre, 0).has_value());  // tick 30: now
    }

    void worldAppliesLagCompensatedHits()
    {
        ServerWorld world;
        const auto a = *world.spawn(Platform::Pc, {0, 0, 0}, 0);
        const auto b = *world.spawn(Platform::Pc, {10 * kPositionUnitsPerMetre, 0, 0}, 0);
        for (int i = 0; i < 5; ++i)
            world.step();
        InputCommand fire;
        fire.sequence = 1;
        fire.buttons = ButtonFire;
        fire.viewTime256 = (world.tick() - 2) * 256;
        world.queueInput(a, fire);
        world.step();
        QCOMPARE(world.hits(), std::uint64_t{1});
        QCOMPARE(int(world.state(b)->health), kMaxHealth - 10);
    }

    // ---- Fair play: time cannot be cheated ------------------------------------------------------

    static double metres(const Vec3i& a, const Vec3i& b)
    {
        return std::sqrt(double(distanceSquared(a, b))) / kPositionUnitsPerMetre;
    }

    static InputCommand walk(std::uint32_t sequence)
    {
        InputCommand in;
        in.sequence = sequence;
        in.moveForward = 127;
        return in;
    }

    void aSpeedHackGainsAtMostTheBurst()
    {
        // Two players walking the same way for 60 s at 30 Hz: an honest one sends one command per
        // tick, the cheat three (its client ticks three times as fast).
        ServerWorld world;
        const auto honest = *world.spawn(Platform::Pc, {0, -50 * kPositionUnitsPerMetre, 0});
        const auto cheat = *world.spawn(Platform::Pc, {0, 50 * kPositionUnitsPerMetre, 0});
        const Vec3i honestStart = world.state(honest)->position, cheatStart = world.state(cheat)->position;
        std::uint32_t honestSeq = 0, cheatSeq = 0;
        for (int t = 0; t < 30 * 60; ++t) {
            world.queueInput(honest, walk(++honestSeq));
            for (int i = 0; i < 3; ++i)
                world.queueInput(cheat, walk(++cheatSeq));
            world.step();
        }
        const double honestDistance = metres(world.state(honest)->position, honestStart);
        const double cheatDistance = metres(world.state(cheat)->position, cheatStart);
        const double burst = double(world.config().inputBurst) * 4.0 / 30.0;  // walking 4 m/s
        qInfo("60 s: honest %.2f m, 3x speed hack %.2f m (allowed burst %.2f m); %llu of the cheat's commands dropped", honestDistance,
              cheatDistance, burst, static_cast<unsigned long long>(world.inputsDropped(cheat)));
        QVERIFY(honestDistance > 230.0);  // ~4 m/s for 60 s
        QVERIFY(cheatDistance <= honestDistance + burst + 0.01);
        QVERIFY(world.inputsDropped(cheat) > 2 * 30 * 60 * 9 / 10);  // the extra two commands a tick go
        QCOMPARE(world.inputsDropped(honest), std::uint64_t{0});
    }

    void aLagSwitchGainsNothing()
    {
        // The cheat holds its commands back for 2 s, then releases them at once, over and over:
        // invisible while frozen, then a catch-up sprint. It may not end up ahead of an honest twin.
        ServerWorld world;
        const auto honest = *world.spawn(Platform::Pc, {0, -50 * kPositionUnitsPerMetre, 0});
        const auto cheat = *world.spawn(Platform::Pc, {0, 50 * kPositionUnitsPerMetre, 0});
        const Vec3i honestStart = world.state(honest)->position, cheatStart = world.state(cheat)->position;
        std::uint32_t honestSeq = 0, cheatSeq = 0;
        std::vector<InputCommand> held;
        double fastestStep = 0.0;
        for (int t = 0; t < 30 * 60; ++t) {
            world.queueInput(honest, walk(++honestSeq));
            held.push_back(walk(++cheatSeq));
            if (t % 60 == 59) {  // the switch opens
                for (const InputCommand& in : held)
                    world.queueInput(cheat, in);
                held.clear();
            }
            const Vec3i before = world.state(cheat)->position;
            world.step();
            fastestStep = std::max(fastestStep, metres(world.state(cheat)->position, before));
        }
        const double honestDistance = metres(world.state(honest)->position, honestStart);
        const double cheatDistance = metres(world.state(cheat)->position, cheatStart);
        qInfo("60 s: honest %.2f m, lag switch %.2f m; its fastest tick %.2f m (walking: %.2f m)", honestDistance, cheatDistance, fastestStep,
              4.0 / 30.0);
        QVERIFY(cheatDistance <= honestDistance);
        // After each release it catches up at most the banked burst, at the catch-up rate.
        QVERIFY(fastestStep <= double(world.config().maxInputsPerTick) * 4.0 / 30.0 + 0.02);
        QVERIFY(world.inputsDropped(cheat) > 0);
    }

    void aShotClaimingAnOldViewIsClamped()
    {
        // A 50 ms link: the rewind limit is RTT + one snapshot interval + the margin, ~200 ms. A
        // shot claiming to see the world as it was 1.5 s ago is judged at that limit instead.
        ServerWorld world;
        const auto shooter = *world.spawn(Platform::Pc, {0, 0, 0});
        const auto target = *world.spawn(Platform::Pc, {20 * kPositionUnitsPerMetre, -20 * kPositionUnitsPerMetre, 0});
        const std::uint32_t limit = rewindLimit256(millis(50), world.knobs(), millis(100));
        QCOMPARE(limit, std::uint32_t{(50 + 50 + 100) * 30 * 256 / 1000});
        world.setRewindLimit(shooter, limit);
        // The target runs north across the shooter's line of fire (east, yaw 0) at 4 m/s: at the
        // line 5 s from now, so 1.5 s before that it is 6 m short of it.
        InputCommand run;
        run.moveForward = 127;
        run.yaw = 16384;
        std::uint32_t seq = 0;
        std::vector<Vec3i> seen;
        for (int t = 0; t < 200; ++t) {
            run.sequence = ++seq;
            world.queueInput(target, run);
            world.step();
            seen.push_back(world.state(target)->position);
        }
        // Aim at where the target was 45 ticks (1.5 s) ago, and claim that view.
        auto shootAt = [&](int ticksAgo, std::uint32_t sequence) {
            const Vec3i at = seen[seen.size() - 1 - static_cast<std::size_t>(ticksAgo)];
            const Vec3i eye{0, 0, static_cast<std::int32_t>(1.6 * kPositionUnitsPerMetre)};
            InputCommand fire;
            fire.sequence = sequence;
            fire.buttons = ButtonFire;
            fire.yaw = static_cast<std::uint16_t>(std::lround(std::atan2(double(at.y - eye.y), double(at.x - eye.x)) / (2 * M_PI) * 65536.0));
            const double horizontal = std::sqrt(double(at.x - eye.x) * (at.x - eye.x) + double(at.y - eye.y) * (at.y - eye.y));
            fire.pitch = static_cast<std::int16_t>(std::lround(std::atan2(1.0 * kPositionUnitsPerMetre - eye.z, horizontal) / (2 * M_PI) * 65536.0));
            fire.viewTime256 = static_cast<std::uint32_t>(world.tick() - static_cast<Tick>(ticksAgo)) * 256u;
            world.queueInput(shooter, fire);
            run.sequence = ++seq;
            world.queueInput(target, run);
            world.step();
        };
        const std::uint64_t hitsBefore = world.hits();
        shootAt(45, 1);
        QCOMPARE(world.shotsClamped(), std::uint64_t{1});
        QCOMPARE(world.hits(), hitsBefore);  // judged 200 ms back, where the target was not
        for (int i = 0; i < 10; ++i) {        // let the fire-rate limit pass
            run.sequence = ++seq;
            world.queueInput(target, run);
            world.step();
            seen.push_back(world.state(target)->position);
        }
        shootAt(3, 2);  // an honest 100 ms view: within the limit, rewound, a hit
        QCOMPARE(world.shotsClamped(), std::uint64_t{1});
        QCOMPARE(world.hits(), hitsBefore + 1);
    }

    void viewTimesWrapSafely()
    {
        // The 1/256-tick view time wraps at 2^32, i.e. after 2^24 ticks (6.5 days at 30 Hz). Start
        // just before and shoot across it: every shot is judged at the view it claims.
        WorldConfig config;
        config.startTick = (Tick{1} << 24) - 100;
        config.shotsPerSecond = 30;
        ServerWorld world({}, config);
        const auto shooter = *world.spawn(Platform::Pc, {0, 0, 0});
        const auto target = *world.spawn(Platform::Pc, {15 * kPositionUnitsPerMetre, -15 * kPositionUnitsPerMetre, 0});
        InputCommand run;
        run.moveForward = 127;
        run.yaw = 16384;  // north, across the line of fire
        std::uint32_t seq = 0, shots = 0;
        std::vector<Vec3i> seen;
        std::uint64_t hits = 0;
        for (int t = 0; t < 220; ++t) {
            if (seen.size() > 4) {
                const Vec3i at = seen[seen.size() - 3];  // drawn two ticks in the past
                InputCommand fire;
                fire.sequence = ++shots;
                fire.buttons = ButtonFire;
                fire.yaw = static_cast<std::uint16_t>(std::lround(std::atan2(double(at.y), double(at.x)) / (2 * M_PI) * 65536.0));
                const double horizontal = std::sqrt(double(at.x) * at.x + double(at.y) * at.y);
                fire.pitch = static_cast<std::int16_t>(std::lround(std::atan2(-0.6 * kPositionUnitsPerMetre, horizontal) / (2 * M_PI) * 65536.0));
                fire.viewTime256 = (world.tick() - 2) * 256u;  // modulo 2^32, as clients send it
                world.queueInput(shooter, fire);
            }
            run.sequence = ++seq;
            world.queueInput(target, run);
            const std::uint64_t before = world.hits();
            world.step();
            hits += world.hits() - before;
            seen.push_back(world.state(target)->position);
        }
        qInfo("%llu hits of %u shots across the view-time wrap (tick %u to %u)", static_cast<unsigned long long>(hits), shots,
              config.startTick, world.tick());
        QVERIFY(tickBefore(config.startTick, world.tick()));
        QVERIFY(world.tick() * 256u < config.startTick * 256u);  // the view time did wrap
        QCOMPARE(world.shotsClamped(), std::uint64_t{0});
        QVERIFY(hits >= shots * 9 / 10);
    }
};

QTEST_APPLESS_MAIN(TestLagComp)
#include "tst_lagcomp.moc"
