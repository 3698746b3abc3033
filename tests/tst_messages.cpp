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
        ControlMessage m{ControlMessage::Kind::Redirect, Address::v4(0x7F000001, 7001), 0, "failover to eu-west", std::nullopt};
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

    void redirectsCarryEitherFamilyAndAFreshToken()
    {
        // The largest redirect there is: an IPv6 target, the longest reason, a token.
        ControlMessage m;
        m.kind = ControlMessage::Kind::Redirect;
        m.target = *Address::parse("[2001:db8::7]:7777");
        m.text.assign(500, 'x');  // cut to 160
        Key key{};
        key[3] = 9;
        m.token = issueConnectToken(key, TransportConfig{}.protocolId, 42, seconds(100), {}, std::array<std::uint8_t, 32>{});
        const auto bytes = encodeControl(m);
        QVERIFY(bytes.size() <= kMaxReliableMessageSize);  // the transport takes it
        auto decoded = decodeControl(bytes);
        QVERIFY(decoded.ok());
        QCOMPARE(decoded->target, m.target);
        QCOMPARE(decoded->target.toString(), std::string("[2001:db8::7]:7777"));
        QCOMPARE(decoded->text.size(), std::size_t{160});
        QVERIFY(decoded->token.has_value());
        QCOMPARE(decoded->token->clientId, std::uint64_t{42});
        QCOMPARE(decoded->token->expiresAt, seconds(100));
        QVERIFY(decoded->token->sealed == m.token->sealed);
        QVERIFY(decoded->token->clientToServerKey == m.token->clientToServerKey);
        QVERIFY(decoded->token->serverToClientKey == m.token->serverToClientKey);
        // Cut anywhere: an error, never a partial message.
        for (std::size_t n = 0; n < bytes.size(); ++n)
            QVERIFY(!decodeControl(std::span<const std::uint8_t>(bytes.data(), n)).ok());
        // A kick carrying a token is not a message anyone sends.
        ControlMessage kick = m;
        kick.kind = ControlMessage::Kind::Kick;
        QVERIFY(!decodeControl(encodeControl(kick)).ok());
    }

    void addressesParseBothFamilies()
    {
        QCOMPARE(Address::parse("10.1.2.3:80")->toString(), std::string("10.1.2.3:80"));
        QVERIFY(Address::parse("10.1.2.3:80")->isV4());
        QCOMPARE(Address::parse("[::1]:7777")->toString(), std::string("[::1]:7777"));
        QVERIFY(Address::parse("[::1]:7777")->isLoopback());
        QVERIFY(!Address::parse("[::1]:7777")->isV4());
        QVERIFY(Address::parse("[::]:7777")->isUnspecified());
        QVERIFY(Address::parse("0.0.0.0:7777")->isUnspecified());
        QVERIFY(!Address::parse("192.0.2.1:7777")->isUnspecified());
        // An IPv4-mapped IPv6 address is the IPv4 address: one value, one spelling.
        QCOMPARE(*Address::parse("[::ffff:10.0.0.1]:9"), *Address::parse("10.0.0.1:9"));
        for (const char* bad : {"::1:7777", "[::1]", "[::1]:", "[::1]:70000", "[zz::1]:1", "[fe80::1%eth0]:1", "1.2.3:4", "[]:1"})
            QVERIFY2(!Address::parse(bad).ok(), bad);
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
