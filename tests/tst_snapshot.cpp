#include "synccore/simulation.h"
#include "synccore/snapshot.h"

#include "fixtures.h"

#include <QtTest>

#include <algorithm>
#include <set>

using namespace lv;

namespace {

std::vector<PlayerState> randomWorld(Rng& rng, std::size_t maxCount)
{
    std::set<std::uint16_t> indices;
    const auto n = static_cast<std::size_t>(rng.range(0, static_cast<std::int64_t>(maxCount)));
    while (indices.size() < n)
        indices.insert(static_cast<std::uint16_t>(rng.range(0, 2000)));
    std::vector<PlayerState> states;
    for (std::uint16_t i : indices)
        states.push_back(test::randomState(rng, i));
    return states;
}

std::vector<SnapshotCandidate> candidatesOf(const std::vector<PlayerState>& states)
{
    std::vector<SnapshotCandidate> c;
    for (const PlayerState& s : states)
        c.push_back({&s, false});
    return c;
}

struct Encoded {
    std::vector<std::uint8_t> bytes;
    SnapshotEncodeOutput out;
};

Encoded encode(Tick tick, const SnapshotRecord* baseline, const std::vector<PlayerState>& truth, std::size_t budgetBits = 1 << 30)
{
    BitWriter w;
    const auto candidates = candidatesOf(truth);
    SnapshotEncodeInput in;
    in.tick = tick;
    in.tickHz = 30;
    in.baseline = baseline;
    in.candidates = candidates;
    in.budgetBits = budgetBits;
    Encoded e;
    e.out = encodeSnapshot(w, in);
    e.bytes = w.finish();
    return e;
}

} // namespace

class TestSnapshot : public QObject {
    Q_OBJECT
private slots:
    void fullStateRoundTrips()
    {
        Rng rng(7);
        for (int round = 0; round < 2000; ++round) {
            const auto truth = randomWorld(rng, 80);
            const Encoded e = encode(static_cast<Tick>(rng.range(1, 1'000'000)), nullptr, truth);
            QCOMPARE(e.out.record.entities, truth);
            BitReader r(e.bytes);
            auto decoded = decodeSnapshot(r, {});
            QVERIFY2(decoded.ok(), errorName(decoded.error()).data());
            QCOMPARE(*decoded, e.out.record);
            QVERIFY(r.atPaddedEnd());
        }
    }

    void deltaRoundTripsAgainstBaseline()
    {
        Rng rng(8);
        for (int round = 0; round < 3000; ++round) {
            auto base = randomWorld(rng, 80);
            const Tick baseTick = static_cast<Tick>(rng.range(1, 1'000'000));
            const Encoded first = encode(baseTick, nullptr, base);
            // Next world: some leave, most change a little, some arrive (possibly a reused slot).
            std::vector<PlayerState> next;
            for (const PlayerState& s : base) {
                if (rng.chancePercent(10))
                    continue;
                PlayerState n = test::perturb(rng, s);
                if (rng.chancePercent(3))
                    n.id.generation = static_cast<std::uint16_t>(n.id.generation + 1);
                next.push_back(n);
            }
            for (const PlayerState& s : randomWorld(rng, 5))
                if (std::none_of(next.begin(), next.end(), [&](const PlayerState& x) { return x.id.index == s.id.index; }))
                    next.push_back(s);
            std::sort(next.begin(), next.end(), [](const PlayerState& a, const PlayerState& b) { return a.id.index < b.id.index; });

            const Tick tick = baseTick + static_cast<Tick>(rng.range(1, 40));
            const Encoded delta = encode(tick, &first.out.record, next);
            QCOMPARE(delta.out.record.entities, next);  // unlimited budget: everything exact
            BitReader r(delta.bytes);
            auto decoded = decodeSnapshot(r, [&](Tick t) { return t == baseTick ? &first.out.record : nullptr; });
            QVERIFY2(decoded.ok(), errorName(decoded.error()).data());
            QCOMPARE(*decoded, delta.out.record);
        }
    }

    void unchangedEntityCostsAboutOneBit()
    {
        Rng rng(9);
        std::vector<PlayerState> world;
        for (std::uint16_t i = 0; i < 64; ++i) {
            PlayerState s = test::randomState(rng, i);
            s.velocity = {};
            world.push_back(s);
        }
        const Encoded base = encode(100, nullptr, world);
        const Encoded same = encode(103, &base.out.record, world);
        // Header (32 + 8 + 1 + age + counts) plus one bit per entity.
        QVERIFY2(same.out.bits <= 64 + 60, qPrintable(QString::number(same.out.bits)));
        QVERIFY(base.out.bits > 64 * 60);  // full state is far larger
    }

    void movingAtConstantVelocityIsPredicted()
    {
        // Players walking at full speed in many directions: what the simulation does over three
        // ticks is exactly what the baseline predicts, so each costs one bit.
        std::vector<PlayerState> world;
        std::vector<InputCommand> inputs;
        for (std::uint16_t i = 0; i < 32; ++i) {
            PlayerState s;
            s.id = {i, 1};
            InputCommand in;
            in.moveForward = 127;
            in.yaw = static_cast<std::uint16_t>(i * 2048 + 77);
            for (int t = 0; t < 60; ++t)
                s = simulate(s, in, 30);  // reach walking speed
            world.push_back(s);
            inputs.push_back(in);
        }
        const Encoded base = encode(30, nullptr, world);
        auto later = world;
        for (std::size_t i = 0; i < later.size(); ++i)
            for (int t = 0; t < 3; ++t)
                later[i] = simulate(later[i], inputs[i], 30);
        QVERIFY(later[5].position != world[5].position);
        const Encoded delta = encode(33, &base.out.record, later);
        QVERIFY2(delta.out.bits <= 32 + 60, qPrintable(QString::number(delta.out.bits)));
    }

    void budgetDefersLowPriorityButStaysConsistent()
    {
        Rng rng(10);
        std::vector<PlayerState> world;
        for (std::uint16_t i = 0; i < 60; ++i)
            world.push_back(test::randomState(rng, i));
        const Encoded base = encode(10, nullptr, world);
        std::vector<PlayerState> moved;
        for (const PlayerState& s : world) {
            PlayerState m = s;
            m.position.x = std::clamp(m.position.x + 5000, -kWorldHalfExtent, kWorldHalfExtent - 1);
            moved.push_back(m);
        }
        const Encoded tight = encode(12, &base.out.record, moved, 600);
        QVERIFY(tight.out.bits <= 600);
        QVERIFY(!tight.out.deferred.empty());
        QVERIFY(!tight.out.updated.empty());
        BitReader r(tight.bytes);
        auto decoded = decodeSnapshot(r, [&](Tick t) { return t == 10 ? &base.out.record : nullptr; });
        QVERIFY(decoded.ok());
        QCOMPARE(*decoded, tight.out.record);
        // Deferred entities sit at the baseline's prediction on both ends.
        for (std::uint16_t idx : tight.out.deferred) {
            const PlayerState* s = decoded->find(idx);
            QVERIFY(s);
            QCOMPARE(*s, predictFromBaseline(*base.out.record.find(idx), 2, 30));
        }
    }

    void everyTruncationIsRejected()
    {
        Rng rng(11);
        for (int round = 0; round < 50; ++round) {
            const auto truth = randomWorld(rng, 30);
            const Encoded base = encode(100, nullptr, truth);
            std::vector<PlayerState> next;
            for (const PlayerState& s : truth)
                next.push_back(test::perturb(rng, s));
            const Encoded delta = encode(102, &base.out.record, next);
            for (const Encoded* e : {&base, &delta}) {
                for (std::size_t len = 0; len < e->bytes.size(); ++len) {
                    BitReader r(std::span<const std::uint8_t>(e->bytes.data(), len));
                    auto decoded = decodeSnapshot(r, [&](Tick t) { return t == 100 ? &base.out.record : nullptr; });
                    QVERIFY2(!decoded.ok(), qPrintable(QStringLiteral("truncated to %1 of %2 bytes decoded").arg(len).arg(e->bytes.size())));
                }
            }
        }
    }

    void structuralCorruptionIsRejected()
    {
        SnapshotRecord base;
        base.tick = 50;
        for (std::uint16_t i = 0; i < 4; ++i) {
            PlayerState s;
            s.id = {i, 1};
            base.entities.push_back(s);
        }
        auto lookup = [&](Tick t) { return t == 50 ? &base : nullptr; };
        auto decodeBits = [&](const std::function<void(BitWriter&)>& write) {
            BitWriter w;
            write(w);
            const auto bytes = w.finish();
            BitReader r(bytes);
            return decodeSnapshot(r, lookup);
        };
        // A tick rate beyond the allowed range.
        QCOMPARE(decodeBits([](BitWriter& w) { w.writeBits(60, 32); w.writeBits(255, 8); }).error(), ErrorCode::OutOfRange);
        // Baseline the receiver does not hold.
        QCOMPARE(decodeBits([](BitWriter& w) {
                     w.writeBits(60, 32); w.writeRanged(30, 1, kMaxTickHz); w.writeBool(false); w.writeBool(true); w.writeGamma(3);
                 }).error(), ErrorCode::BadBaseline);
        // More removals than the baseline has entities.
        QCOMPARE(decodeBits([](BitWriter& w) {
                     w.writeBits(60, 32); w.writeRanged(30, 1, kMaxTickHz); w.writeBool(false); w.writeBool(true); w.writeGamma(10); w.writeGamma(5);
                 }).error(), ErrorCode::Malformed);
        // An added entity that collides with a kept one.
        QCOMPARE(decodeBits([](BitWriter& w) {
                     w.writeBits(60, 32); w.writeRanged(30, 1, kMaxTickHz); w.writeBool(false); w.writeBool(true); w.writeGamma(10);
                     w.writeGamma(0);
                     for (int i = 0; i < 4; ++i) w.writeBool(false);
                     w.writeGamma(1); w.writeGamma(2); w.writeBits(7, 16);
                     PlayerState s; s.id = {2, 7}; writeFullState(w, s);
                 }).error(), ErrorCode::Malformed);
        // A baseline age of zero.
        QCOMPARE(decodeBits([](BitWriter& w) {
                     w.writeBits(60, 32); w.writeRanged(30, 1, kMaxTickHz); w.writeBool(false); w.writeBool(true); w.writeGamma(0);
                 }).error(), ErrorCode::OutOfRange);
        // Too many entities.
        QCOMPARE(decodeBits([](BitWriter& w) {
                     w.writeBits(60, 32); w.writeRanged(30, 1, kMaxTickHz); w.writeBool(false); w.writeBool(false); w.writeGamma(kMaxSnapshotEntities + 1);
                 }).error(), ErrorCode::TooLarge);
    }

    void randomCorruptionNeverYieldsInvalidState()
    {
        Rng rng(12);
        int rejected = 0;
        for (int round = 0; round < 3000; ++round) {
            const auto truth = randomWorld(rng, 20);
            const Encoded base = encode(100, nullptr, truth);
            std::vector<PlayerState> next;
            for (const PlayerState& s : truth)
                next.push_back(test::perturb(rng, s));
            const Encoded delta = encode(101, &base.out.record, next);
            auto bytes = rng.chancePercent(50) ? base.bytes : delta.bytes;
            const int flips = static_cast<int>(rng.range(1, 4));
            for (int f = 0; f < flips && !bytes.empty(); ++f)
                bytes[static_cast<std::size_t>(rng.range(0, static_cast<std::int64_t>(bytes.size()) - 1))] ^= static_cast<std::uint8_t>(1u << rng.range(0, 7));
            BitReader r(bytes);
            auto decoded = decodeSnapshot(r, [&](Tick t) { return t == 100 ? &base.out.record : nullptr; });
            if (!decoded.ok()) {
                ++rejected;
                continue;
            }
            for (std::size_t i = 0; i < decoded->entities.size(); ++i) {
                const PlayerState& s = decoded->entities[i];
                QVERIFY(s.position.x >= -kWorldHalfExtent && s.position.x < kWorldHalfExtent);
                QVERIFY(s.health <= kMaxHealth);
                QVERIFY(static_cast<int>(s.mode) < kMoveModeCount);
                if (i > 0)
                    QVERIFY(decoded->entities[i - 1].id.index < s.id.index);
            }
        }
        QVERIFY(rejected > 1000);  // most corruptions are caught by structure and ranges alone
    }
};

QTEST_APPLESS_MAIN(TestSnapshot)
#include "tst_snapshot.moc"
