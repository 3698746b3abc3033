#include "synccore/conditioner.h"
#include "synccore/interest.h"
#include "synccore/world.h"

#include <QtTest>

using namespace lv;

namespace {
PlayerState at(std::uint16_t index, double xMetres, double yMetres, Platform platform = Platform::Pc)
{
    PlayerState s;
    s.id = {index, 1};
    s.platform = platform;
    s.position = {static_cast<std::int32_t>(xMetres * kPositionUnitsPerMetre), static_cast<std::int32_t>(yMetres * kPositionUnitsPerMetre), 0};
    return s;
}
InterestSettings settingsOf(double radius, double hysteresis, std::size_t cap)
{
    return {static_cast<std::int32_t>(radius * kPositionUnitsPerMetre), static_cast<std::int32_t>(hysteresis * kPositionUnitsPerMetre), cap};
}
} // namespace

class TestInterest : public QObject {
    Q_OBJECT
private slots:
    void entitiesOutsideRadiusAreNeverSent()
    {
        // A real world: 400 players over 1 km, views built through snapshots.
        RuntimeKnobs knobs;
        knobs.interestRadiusM = 50;
        knobs.interestHysteresisM = 5;
        knobs.maxVisible = 1000;
        ServerWorld world(knobs);
        Rng rng(3);
        std::vector<EntityId> ids;
        for (int i = 0; i < 400; ++i)
            ids.push_back(*world.spawn(Platform::Pc, {static_cast<std::int32_t>(rng.range(-500, 500) * kPositionUnitsPerMetre),
                                                     static_cast<std::int32_t>(rng.range(-500, 500) * kPositionUnitsPerMetre), 0}));
        world.step();
        const std::int64_t leave = std::int64_t{55} * kPositionUnitsPerMetre;
        for (int v = 0; v < 40; ++v) {
            ClientView view(ids[static_cast<std::size_t>(v)]);
            BitWriter w;
            const auto out = view.buildSnapshot(world, w, 1 << 30);
            const PlayerState* self = world.state(ids[static_cast<std::size_t>(v)]);
            std::size_t expectedInside = 0;
            for (const PlayerState& p : world.players())
                if (p.id != self->id && distanceSquared(p.position, self->position) <= std::int64_t{50 * kPositionUnitsPerMetre} * (50 * kPositionUnitsPerMetre))
                    ++expectedInside;
            QCOMPARE(out.record.entities.size(), expectedInside + 1);  // + the client's own player
            for (const PlayerState& s : out.record.entities)
                QVERIFY(s.id == self->id || distanceSquared(s.position, self->position) <= leave * leave);
        }
    }

    void hysteresisPreventsFlappingAtTheEdge()
    {
        std::vector<PlayerState> players{at(0, 0, 0), at(1, 49.5, 0)};
        SpatialGrid grid;
        InterestSet set;
        const auto settings = settingsOf(50, 5, 64);
        std::uint64_t flipsWithout = 0;
        InterestSet noHysteresis;
        bool wasIn = false;
        // The other player wobbles ±1 m around the 50 m edge for 200 updates.
        for (int i = 0; i < 200; ++i) {
            players[1] = at(1, 50.0 + ((i % 2) ? 1.0 : -1.0), 0);
            grid.rebuild(players, settings.radius);
            set.update(players, grid, players[0].position, 0, settings);
            noHysteresis.update(players, grid, players[0].position, 0, settingsOf(50, 0, 64));
            const bool in = noHysteresis.contains(1);
            flipsWithout += (i > 0 && in != wasIn) ? 1 : 0;
            wasIn = in;
        }
        QCOMPARE(set.enters(), std::uint64_t{1});
        QCOMPARE(set.leaves(), std::uint64_t{0});
        QVERIFY(flipsWithout > 100);  // the same wobble without hysteresis flaps constantly
        // Beyond radius + hysteresis it does leave.
        players[1] = at(1, 56, 0);
        grid.rebuild(players, settings.radius);
        set.update(players, grid, players[0].position, 0, settings);
        QVERIFY(!set.contains(1));
    }

    void capKeepsNearestAndResistsChurn()
    {
        std::vector<PlayerState> players{at(0, 0, 0)};
        for (std::uint16_t i = 1; i <= 100; ++i)
            players.push_back(at(i, i * 0.4, 0));  // 0.4 m .. 40 m away
        SpatialGrid grid;
        grid.rebuild(players, 50 * kPositionUnitsPerMetre);
        InterestSet set;
        set.update(players, grid, players[0].position, 0, settingsOf(50, 5, 10));
        QCOMPARE(set.members().size(), std::size_t{10});
        for (std::uint16_t i = 1; i <= 10; ++i)
            QVERIFY(set.contains(i));
        // Someone slightly nearer than member #10 does not displace it (members rank 10 % nearer).
        players[50] = at(50, 3.9, 0.3);
        grid.rebuild(players, 50 * kPositionUnitsPerMetre);
        set.update(players, grid, players[0].position, 0, settingsOf(50, 5, 10));
        QVERIFY(set.contains(10));
        QVERIFY(!set.contains(50));
    }

    void crossPlayOffSeparatesPlatforms()
    {
        RuntimeKnobs knobs;
        knobs.crossPlay = false;
        ServerWorld world(knobs);
        const auto pc = *world.spawn(Platform::Pc, {0, 0, 0});
        world.spawn(Platform::Mobile, {kPositionUnitsPerMetre, 0, 0});
        world.spawn(Platform::Pc, {2 * kPositionUnitsPerMetre, 0, 0});
        world.step();
        ClientView view(pc);
        BitWriter w;
        QCOMPARE(view.buildSnapshot(world, w, 1 << 30).record.entities.size(), std::size_t{2});
        knobs.crossPlay = true;
        world.setKnobs(knobs);
        ClientView open(pc);
        BitWriter w2;
        QCOMPARE(open.buildSnapshot(world, w2, 1 << 30).record.entities.size(), std::size_t{3});
    }
};

QTEST_APPLESS_MAIN(TestInterest)
#include "tst_interest.moc"
