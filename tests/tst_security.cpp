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

    void aRestartedServerSendsItsClientsBackAtOnce()
    {
        MemoryNetwork net{7};
        auto clientSocket = net.createSocket();
        ClientTransport client(TransportConfig{}, *clientSocket);
        TimeUs now = 0;
        TimeUs disconnectedAt = -1;
        DisconnectReason reason = DisconnectReason::None;
        const std::vector<std::uint8_t> input{0xC1};
        auto run = [&](ServerTransport& server, TimeUs until) {
            while (now < until) {
                now += millis(1);
                client.receive(now);
                while (auto e = client.pollEvent())
                    if (e->kind == TransportEvent::Kind::Disconnected) {
                        disconnectedAt = now;
                        reason = e->reason;
                    }
                if (client.state() == ClientState::Connected && now % millis(33) == 0)
                    (void)client.send(input, now);  // the player's input keeps flowing
                client.update(now);
                server.receive(now);
                while (server.pollEvent()) {
                }
                server.update(now);
            }
        };
        TimeUs died = 0;
        {
            auto socket = net.createSocket(7000);
            ServerTransport first(TransportConfig{}, test::testKey(), *socket);
            client.connect(test::token(5), socket->localAddress(), now);
            run(first, seconds(1));
            QCOMPARE(client.state(), ClientState::Connected);
            died = now;
        }  // kill -9: the process and every session it knew are gone
        auto socket = net.createSocket(7000);
        ServerTransport second(TransportConfig{}, test::testKey(), *socket);
        // Restarted at once. While the session has been quiet only briefly, "no such session" is
        // not believed (anyone could send it): the client carries on.
        run(second, died + millis(300));
        QCOMPARE(client.state(), ClientState::Connected);
        QVERIFY(client.counters().resetsIgnored > 0);
        run(second, died + seconds(2));
        QCOMPARE(client.state(), ClientState::Disconnected);
        QCOMPARE(reason, DisconnectReason::ServerReset);
        qInfo("session ended %lld ms after the server died (its timeout is %lld ms)", static_cast<long long>((disconnectedAt - died) / 1000),
              static_cast<long long>(TransportConfig{}.timeout / 1000));
        QVERIFY(disconnectedAt - died < millis(700));
        QVERIFY(second.counters().resetsSent > 0);
        QCOMPARE(client.counters().timeouts, std::uint64_t{0});
        // Back in with a fresh token from the matchmaker.
        client.connect(test::token(6), socket->localAddress(), now);
        run(second, now + millis(300));
        QCOMPARE(client.state(), ClientState::Connected);
        QCOMPARE(second.connectedClients().size(), std::size_t{1});
    }

    void sessionUnknownRepliesNeverAmplifyAndAreCapped()
    {
        Fixture f;
        auto attacker = f.net.createSocket();
        std::vector<std::uint8_t> stale(1 + 8 + 16 + 12, 0x22);
        stale[0] = 2;  // looks like a Connected packet from a session the server does not know
        for (int i = 0; i < 1000; ++i)
            attacker->send(f.serverSocket->localAddress(), stale, 0);
        f.server.receive(0);
        const TransportCounters& c = f.server.counters();
        QCOMPARE(c.malformed, std::uint64_t{1000});
        QCOMPARE(c.resetsSent, std::uint64_t(TransportConfig{}.maxResetsPerSecond));
        QVERIFY(c.bytesOut < c.bytesIn / 3);  // 9-byte replies to 37-byte packets, and only 256 of them
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
