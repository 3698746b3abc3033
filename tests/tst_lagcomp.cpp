#include "synccore/lagcomp.h"
#include "synccore/world.h"

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
        QCOMPARE(lc.positionAt(p.id, 30 * 256)->x, 3000);
        QCOMPARE(lc.positionAt(p.id, 30 * 256 + 128)->x, 3050);
        QCOMPARE(lc.positionAt(p.id, 1 * 256)->x, 2500);  // clamped to the oldest kept tick
        QVERIFY(!lc.positionAt(EntityId{3, 2}, 30 * 256));  // another generation is another player
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
        const auto rewound = lc.raycast(shooter.id, eye, 0, pitch, 100 * kPositionUnitsPerMetre, 20 * 256);
        QVERIFY(rewound.has_value());
        QCOMPARE(rewound->target, target.id);
        QVERIFY(!lc.raycast(shooter.id, eye, 0, pitch, 100 * kPositionUnitsPerMetre, 30 * 256).has_value());
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
};

QTEST_APPLESS_MAIN(TestLagComp)
#include "tst_lagcomp.moc"
