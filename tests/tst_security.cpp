#include "synccore/conditioner.h"
#include "synccore/transport.h"

#include "links.h"

#include <QtTest>

using namespace lv;

namespace {
struct Fixture {
    MemoryNetwork net{7};
    std::unique_ptr<DatagramSocket> serverSocket = net.createSocket(7000);
    test::RecordingSocket* clientRecorder = nullptr;
    std::unique_ptr<DatagramSocket> clientSocket;
    ServerTransport server{TransportConfig{}, test::testKey(), *serverSocket};
    std::unique_ptr<ClientTransport> client;
    std::unique_ptr<test::Pump> pump;
    Fixture()
    {
        auto recorder = std::make_unique<test::RecordingSocket>(net.createSocket());
        clientRecorder = recorder.get();
        clientSocket = std::move(recorder);
        client = std::make_unique<ClientTransport>(TransportConfig{}, *clientSocket);
        pump = std::make_unique<test::Pump>(server, std::vector<ClientTransport*>{client.get()});
        pump->clientInterval = millis(33);
    }
};
} // namespace

class TestSecurity : public QObject {
    Q_OBJECT
private slots:
    void forgedTokensAreRejectedAndCounted()
    {
        Fixture f;
        ConnectToken forged = test::token(5);
        Rng rng(1);
        for (auto& b : forged.sealed)
            b = static_cast<std::uint8_t>(rng.next());
        f.client->connect(forged, f.serverSocket->localAddress(), 0);
        f.pump->run(seconds(1));
        QVERIFY(f.server.counters().tokensForged >= 5);  // every retry counted
        QCOMPARE(f.pump->serverCount(TransportEvent::Kind::Connected), std::size_t{0});
        QVERIFY(f.client->state() != ClientState::Connected);

        // A well-formed token sealed with someone else's key.
        Key other = test::testKey();
        other[0] ^= 1;
        const auto before = f.server.counters().tokensForged;
        f.client->connect(test::token(6, seconds(3600), other), f.serverSocket->localAddress(), f.pump->now);
        f.pump->run(seconds(1));
        QVERIFY(f.server.counters().tokensForged > before);
        QCOMPARE(f.server.connectedClients().size(), std::size_t{0});
    }

    void expiredTokensAreRejectedAndCounted()
    {
        Fixture f;
        f.pump->run(seconds(2));
        f.client->connect(test::token(5, seconds(1)), f.serverSocket->localAddress(), f.pump->now);
        f.pump->run(seconds(1));
        QVERIFY(f.server.counters().tokensExpired >= 5);
        QCOMPARE(f.server.connectedClients().size(), std::size_t{0});
    }

    void aTokenWorksFromOneAddressOnly()
    {
        Fixture f;
        const ConnectToken t = test::token(5);
        f.client->connect(t, f.serverSocket->localAddress(), 0);
        f.pump->run(seconds(1));
        QCOMPARE(f.client->state(), ClientState::Connected);
        // Someone else presents the same token from another address.
        auto thiefSocket = f.net.createSocket();
        ClientTransport thief(TransportConfig{}, *thiefSocket);
        thief.connect(t, f.serverSocket->localAddress(), f.pump->now);
        f.pump->clients.push_back(&thief);
        f.pump->run(seconds(1));
        QVERIFY(f.server.counters().tokensReplayed >= 5);
        QVERIFY(thief.state() != ClientState::Connected);
        QCOMPARE(f.server.connectedClients().size(), std::size_t{1});
        QCOMPARE(f.client->state(), ClientState::Connected);  // the rightful owner is unaffected
    }

    void tamperedPacketsAreRejectedAndCounted()
    {
        Fixture f;
        f.client->connect(test::token(5), f.serverSocket->localAddress(), 0);
        f.pump->run(seconds(1));
        QCOMPARE(f.client->state(), ClientState::Connected);
        f.pump->clientInterval = 0;  // quiet while the forgeries travel
        f.pump->run(millis(100));
        const std::size_t messages = f.pump->serverCount(TransportEvent::Kind::Message);
        // Take the newest payload packet the client sent and flip bits in it before resending.
        Datagram captured = f.clientRecorder->sent.back();
        for (std::size_t i = 0; i < 40; ++i) {
            Datagram tampered = captured;
            const std::size_t at = 1 + 8 + (i * 3) % (tampered.data.size() - 9);  // anywhere in the ciphertext or tag
            tampered.data[at] ^= static_cast<std::uint8_t>(1u << (i % 8));
            tampered.data[1] ^= static_cast<std::uint8_t>(i + 100);  // a fresh sequence, so the replay window does not catch it first
            f.clientRecorder->inject(f.serverSocket->localAddress(), tampered.data, f.pump->now);
        }
        f.pump->run(millis(5));
        QCOMPARE(f.server.counters().authFailed, std::uint64_t{40});
        QCOMPARE(f.pump->serverCount(TransportEvent::Kind::Message), messages);  // none got through
        f.pump->clientInterval = millis(33);
        f.pump->run(seconds(1));
        QCOMPARE(f.client->state(), ClientState::Connected);
        QVERIFY(f.pump->serverCount(TransportEvent::Kind::Message) > messages + 20);  // the real traffic goes on
    }

    void replayedPacketsAreDroppedNotDeliveredTwice()
    {
        Fixture f;
        f.pump->clientPayload.assign(20, 0xC1);
        f.client->connect(test::token(5), f.serverSocket->localAddress(), 0);
        f.pump->run(seconds(1));
        const auto replayedBefore = f.server.counters().replayed;
        f.pump->clientInterval = 0;  // quiet: only the replays travel
        f.pump->run(millis(200));
        const std::size_t messages = f.pump->serverCount(TransportEvent::Kind::Message);
        std::size_t injected = 0;
        for (const Datagram& d : f.clientRecorder->sent) {
            if (d.data[0] == 2 && d.data.size() > 50) {  // connected packets with the 20-byte payload
                f.clientRecorder->inject(f.serverSocket->localAddress(), d.data, f.pump->now);
                ++injected;
            }
        }
        f.pump->run(millis(5));
        QVERIFY(injected > 10);
        QCOMPARE(f.server.counters().replayed - replayedBefore, std::uint64_t{injected});
        QCOMPARE(f.pump->serverCount(TransportEvent::Kind::Message), messages);
    }

    void denialsTellTheClientWhy()
    {
        for (DenyReason reason : {DenyReason::Full, DenyReason::AdmissionsClosed, DenyReason::Maintenance}) {
            Fixture f;
            f.server.setDenyReason(reason);
            f.client->connect(test::token(5), f.serverSocket->localAddress(), 0);
            f.pump->run(seconds(1));
            QCOMPARE(f.client->state(), ClientState::Disconnected);
            const TransportEvent& last = f.pump->clientEvents[0].back();
            QCOMPARE(last.reason, DisconnectReason::Denied);
            QCOMPARE(last.denyReason, reason);
            QVERIFY(f.server.counters().refused >= 1);
        }
    }

    void garbageIsCountedAndDropped()
    {
        Fixture f;
        f.client->connect(test::token(5), f.serverSocket->localAddress(), 0);
        f.pump->run(seconds(1));
        auto attacker = f.net.createSocket();
        Rng rng(3);
        for (int i = 0; i < 5000; ++i) {
            std::vector<std::uint8_t> junk(static_cast<std::size_t>(rng.range(0, 300)));
            for (auto& b : junk)
                b = static_cast<std::uint8_t>(rng.next());
            if (!junk.empty() && rng.chancePercent(50))
                junk[0] = static_cast<std::uint8_t>(rng.range(1, 2));  // plausible packet types
            if (rng.chancePercent(10))
                junk.resize(1 + 8 + 8 + 24 + kSealedTokenSize, 0x11);  // request-sized
            attacker->send(f.serverSocket->localAddress(), junk, f.pump->now);
        }
        f.pump->run(millis(10));
        const TransportCounters& c = f.server.counters();
        QCOMPARE(c.malformed + c.tokensForged + c.authFailed + c.replayed + c.tokensExpired, std::uint64_t{5000});
        QCOMPARE(f.server.connectedClients().size(), std::size_t{1});
        f.pump->run(seconds(1));
        QCOMPARE(f.client->state(), ClientState::Connected);
    }
};

QTEST_APPLESS_MAIN(TestSecurity)
#include "tst_security.moc"
