#include "synccore/conditioner.h"
#include "synccore/knobs.h"
#include "synccore/messages.h"

#include <QtTest>

using namespace lv;

class TestMessages : public QObject {
    Q_OBJECT
private slots:
    void inputMessageRoundTrips()
    {
        Rng rng(1);
        for (int round = 0; round < 2000; ++round) {
            InputMessage m;
            if (rng.chancePercent(80))
                m.ackedSnapshot = static_cast<Tick>(rng.range(0, 1'000'000));
            m.correctionsTotal = static_cast<std::uint32_t>(rng.range(0, 1000));
            const auto count = rng.range(1, kMaxInputsPerMessage);
            std::uint32_t seq = static_cast<std::uint32_t>(rng.range(100, 1'000'000));
            Tick tick = static_cast<Tick>(rng.range(100, 1'000'000));
            std::uint32_t view = tick * 256;
            for (std::int64_t i = 0; i < count; ++i) {
                InputCommand c;
                c.sequence = seq--;
                c.tick = tick;
                tick -= static_cast<Tick>(rng.range(0, 2));
                c.viewTime256 = view;
                view -= static_cast<std::uint32_t>(rng.range(0, 300));
                c.moveForward = static_cast<std::int8_t>(rng.range(-127, 127));
                c.moveRight = static_cast<std::int8_t>(rng.range(-127, 127));
                c.yaw = static_cast<std::uint16_t>(rng.range(0, 65535));
                c.pitch = static_cast<std::int16_t>(rng.range(-kPitchLimit, kPitchLimit));
                c.buttons = static_cast<std::uint16_t>(rng.range(0, 31));
                m.commands.push_back(c);
            }
            BitWriter w;
            writeInputMessage(w, m);
            const auto bytes = w.finish();
            BitReader r(bytes);
            auto decoded = readInputMessage(r);
            QVERIFY(decoded.ok());
            QCOMPARE(decoded->ackedSnapshot, m.ackedSnapshot);
            QCOMPARE(decoded->correctionsTotal, m.correctionsTotal);
            QCOMPARE(decoded->commands.size(), m.commands.size());
            for (std::size_t i = 0; i < m.commands.size(); ++i)
                QCOMPARE(decoded->commands[i], m.commands[i]);
            QVERIFY(r.atPaddedEnd());
            // Every truncation fails.
            for (std::size_t len = 0; len < bytes.size(); ++len) {
                BitReader t(std::span<const std::uint8_t>(bytes.data(), len));
                QVERIFY(!readInputMessage(t).ok());
            }
        }
    }

    void redundantCommandsAreCheap()
    {
        InputMessage one, six;
        for (std::uint32_t i = 0; i < 6; ++i) {
            InputCommand c;
            c.sequence = 100 - i;
            c.tick = 1000 - i;
            c.viewTime256 = 256000 - 256 * i;
            (i == 0 ? one : six).commands.push_back(c);
            if (i == 0)
                six.commands.push_back(c);
        }
        BitWriter a, b;
        writeInputMessage(a, one);
        writeInputMessage(b, six);
        QVERIFY(b.bitCount() - a.bitCount() < 5 * 80);  // each older command < 80 bits (a full one is ~150)
    }

    void controlMessagesRoundTripAndRejectGarbage()
    {
        ControlMessage m{ControlMessage::Kind::Redirect, Address{0x7F000001, 7001}, 0, "failover to eu-west"};
        auto decoded = decodeControl(encodeControl(m));
        QVERIFY(decoded.ok());
        QCOMPARE(decoded->target, m.target);
        QCOMPARE(decoded->text, m.text);
        std::vector<std::uint8_t> garbage{9, 1, 2, 3};
        QVERIFY(!decodeControl(garbage).ok());
        auto bytes = encodeControl(m);
        bytes.push_back(0xFF);  // trailing data
        QVERIFY(!decodeControl(bytes).ok());
    }

    void snapshotHeaderRejectsWrongType()
    {
        BitWriter w;
        writeSnapshotHeader(w, SnapshotHeader{});
        auto bytes = w.finish();
        bytes[0] = static_cast<std::uint8_t>(MessageType::Input);
        BitReader r(bytes);
        QCOMPARE(readSnapshotHeader(r).error(), ErrorCode::BadProtocol);
    }

    void knobsAreValidated()
    {
        RuntimeKnobs k;
        QVERIFY(validateKnobs(k).empty());
        k.snapshotHz = 60;
        QVERIFY(validateKnobs(k).find("snapshot_hz") != std::string::npos);
        k = {};
        k.failoverTarget = "not an address";
        QVERIFY(validateKnobs(k).find("failover_target") != std::string::npos);
        k = {};
        k.tickHz = 5;
        QVERIFY(!validateKnobs(k).empty());
    }
};

QTEST_APPLESS_MAIN(TestMessages)
#include "tst_messages.moc"
