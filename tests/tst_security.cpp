#include "synccore/conditioner.h"
#include "synccore/messages.h"
#include "synccore/transport.h"

#include "link.h"  // detail::setSealTap: sync-core's internal test seam
#include "links.h"

#include <QtTest>

#include <set>

using namespace lv;

namespace {
/// Every (key, sequence) a Connected packet was sealed with, and whether any came twice.
struct SealLog {
    static SealLog& get()
    {
        static SealLog log;
        return log;
    }
    std::set<std::pair<Key, std::uint64_t>> seen;
    std::size_t repeats = 0;
    std::size_t sealed = 0;
    static void tap(const Key& key, std::uint64_t sequence)
    {
        ++get().sealed;
        if (!get().seen.insert({key, sequence}).second)
            ++get().repeats;
    }
    void start()
    {
        seen.clear();
        repeats = 0;
        sealed = 0;
        detail::setSealTap(&SealLog::tap);
    }
    ~SealLog() { detail::setSealTap(nullptr); }
};

/// The handshake packet a client holding `token` sends first, as an attacker would build it.
std::vector<std::uint8_t> requestBytes(const ConnectToken& token, const Address& server, TransportConfig config = {})
{
    MemoryNetwork scratch;  // built aside: nothing reaches the server under test
    test::RecordingSocket socket(scratch.createSocket());
    ClientTransport forger(config, socket);
    forger.connect(token, server, 0);
    return socket.sent.front().data;
}

std::uint64_t serverRefusals(const TransportCounters& c)
{
    return c.malformed + c.authFailed + c.replayed + c.tokensForged + c.tokensExpired + c.tokensReplayed + c.cookiesRejected
        + c.challengesReplayed + c.rateLimited + c.requestsWhileConnected;
}

std::uint64_t clientRefusals(const TransportCounters& c)
{
    return c.malformed + c.authFailed + c.replayed + c.handshakeIgnored + c.resetsIgnored;
}

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

    void reconnectingWithTheSameTokenNeverRepeatsAKeyNoncePair()
    {
        SealLog& log = SealLog::get();
        log.start();
        Fixture f;
        f.pump->serverInterval = millis(50);
        const ConnectToken t = test::token(5);
        const Address server = f.serverSocket->localAddress();
        auto connectAndPlay = [&] {
            f.client->connect(t, server, f.pump->now);
            f.pump->run(seconds(1));
            QCOMPARE(f.client->state(), ClientState::Connected);
        };
        connectAndPlay();
        // 1. The client leaves and comes back with the same token (a redirect back, a reconnect).
        f.client->disconnect(f.pump->now);
        f.pump->run(millis(200));
        connectAndPlay();
        // 2. The server ends the session; the client retries with the same token.
        f.server.disconnect(f.server.connectedClients().front(), f.pump->now);
        f.pump->run(millis(200));
        QCOMPARE(f.client->state(), ClientState::Disconnected);
        connectAndPlay();
        // 3. A Deny, then a retry with the same token.
        f.client->disconnect(f.pump->now);
        f.pump->run(millis(200));
        f.server.setDenyReason(DenyReason::Full);
        f.client->connect(t, server, f.pump->now);
        f.pump->run(millis(500));
        QCOMPARE(f.client->state(), ClientState::Disconnected);
        f.server.setDenyReason(DenyReason::None);
        connectAndPlay();
        // 4. The game restarts on the same port after a crash (no goodbye): once the old session
        //    has timed out, a new client process presents the same token again.
        f.pump->clients.clear();
        f.client.reset();
        f.pump->run(seconds(6));
        QCOMPARE(f.server.connectedClients().size(), std::size_t{0});
        f.client = std::make_unique<ClientTransport>(TransportConfig{}, *f.clientSocket);
        f.pump->clients = {f.client.get()};
        connectAndPlay();
        qInfo("%zu packets sealed over five sessions of one token, %zu distinct (key, nonce) pairs", log.sealed, log.seen.size());
        QVERIFY(log.sealed > 300);
        QCOMPARE(log.repeats, std::size_t{0});
        detail::setSealTap(nullptr);
    }

    void datagramsOfOneSessionAreRejectedInTheNext()
    {
        MemoryNetwork net{9};
        test::RecordingSocket serverSocket(net.createSocket(7000));
        test::RecordingSocket clientSocket(net.createSocket());
        ServerTransport server(TransportConfig{}, test::testKey(), serverSocket);
        ClientTransport client(TransportConfig{}, clientSocket);
        test::Pump pump(server, {&client});
        pump.clientInterval = millis(33);
        pump.serverInterval = millis(50);
        const ConnectToken t = test::token(5);
        client.connect(t, serverSocket.localAddress(), 0);
        pump.run(seconds(1));
        QCOMPARE(client.state(), ClientState::Connected);
        // Session 1 ends with what an attacker would most like to replay: a Redirect elsewhere, then
        // the server's Disconnect.
        ControlMessage redirect;
        redirect.kind = ControlMessage::Kind::Redirect;
        redirect.target = Address::v4(0xC0000201, 9);
        redirect.text = "go away";
        QVERIFY(server.sendReliable(0, encodeControl(redirect)).ok());
        pump.run(millis(300));
        QCOMPARE(pump.clientCount(0, TransportEvent::Kind::Reliable), std::size_t{1});
        const std::size_t disconnectAt = serverSocket.sent.size();
        server.disconnect(0, pump.now);
        pump.run(millis(100));
        QCOMPARE(client.state(), ClientState::Disconnected);
        QVERIFY(serverSocket.sent.size() >= disconnectAt + 3);  // the three Disconnect copies are captured
        const std::vector<Datagram> toClient = serverSocket.sent;
        const std::vector<Datagram> toServer = clientSocket.sent;

        // Session 2: same token, same address.
        client.connect(t, serverSocket.localAddress(), pump.now);
        pump.run(seconds(1));
        QCOMPARE(client.state(), ClientState::Connected);
        pump.clientInterval = 0;
        pump.serverInterval = 0;
        const std::uint64_t clientBefore = clientRefusals(client.counters());
        const std::uint64_t serverBefore = serverRefusals(server.counters());
        const std::size_t reliableBefore = pump.clientCount(0, TransportEvent::Kind::Reliable);
        const std::size_t messagesBefore = pump.serverCount(TransportEvent::Kind::Message);
        for (const Datagram& d : toClient)
            serverSocket.inject(clientSocket.localAddress(), d.data, pump.now);
        for (const Datagram& d : toServer)
            clientSocket.inject(serverSocket.localAddress(), d.data, pump.now);
        pump.run(millis(20));
        qInfo("replayed %zu datagrams to the client and %zu to the server", toClient.size(), toServer.size());
        QCOMPARE(client.state(), ClientState::Connected);  // no old Disconnect took
        QCOMPARE(pump.clientCount(0, TransportEvent::Kind::Reliable), reliableBefore);  // no old Redirect either
        QCOMPARE(pump.clientCount(0, TransportEvent::Kind::Disconnected), std::size_t{1});  // only session 1's real end
        QCOMPARE(pump.serverCount(TransportEvent::Kind::Message), messagesBefore);
        QCOMPARE(server.connectedClients().size(), std::size_t{1});
        // Every one of them refused, and counted.
        QCOMPARE(clientRefusals(client.counters()) - clientBefore, std::uint64_t(toClient.size()));
        QCOMPARE(serverRefusals(server.counters()) - serverBefore, std::uint64_t(toServer.size()));
    }

    void aRequestFromAConnectedAddressNeverEndsItsSession()
    {
        Fixture f;
        f.client->connect(test::token(5), f.serverSocket->localAddress(), 0);
        f.pump->run(seconds(1));
        QCOMPARE(f.client->state(), ClientState::Connected);
        const Address victim = f.clientSocket->localAddress();
        const Address server = f.serverSocket->localAddress();
        // An attacker holding a valid token of its own spoofs the player's address: requests, and
        // the response to a challenge it got at its own address.
        const ConnectToken own = test::token(9);
        const auto request = requestBytes(own, server);
        test::RecordingSocket attackerSocket(f.net.createSocket());
        ClientTransport attacker(TransportConfig{}, attackerSocket);
        attacker.connect(own, server, f.pump->now);
        f.pump->clients.push_back(&attacker);
        f.server.setDenyReason(DenyReason::None);
        f.pump->run(millis(300));
        f.pump->clients.pop_back();
        auto answered = std::find_if(attackerSocket.sent.begin(), attackerSocket.sent.end(),
                                     [](const Datagram& d) { return d.data.size() == detail::kResponseSize; });
        QVERIFY(answered != attackerSocket.sent.end());
        const auto response = answered->data;  // a response with a cookie for the attacker's own address
        const std::uint64_t before = serverRefusals(f.server.counters());
        for (int i = 0; i < 100; ++i) {
            f.net.sendAs(victim, server, request, f.pump->now);
            f.net.sendAs(victim, server, response, f.pump->now);
        }
        f.pump->run(seconds(1));
        QCOMPARE(f.client->state(), ClientState::Connected);
        QCOMPARE(f.pump->clientCount(0, TransportEvent::Kind::Disconnected), std::size_t{0});
        QCOMPARE(f.server.clientId(f.server.connectedClients().front()), std::uint64_t{5});
        QCOMPARE(serverRefusals(f.server.counters()) - before, std::uint64_t{200});
        QVERIFY(f.server.counters().requestsWhileConnected >= 100);
    }

    void aFloodOfValidTokensFromSpoofedAddressesLeavesPlayersUntouched()
    {
        MemoryNetwork net{11};
        auto serverSocket = net.createSocket(7000);
        ServerTransport server(TransportConfig{}, test::testKey(), *serverSocket);
        std::vector<std::unique_ptr<DatagramSocket>> sockets;
        std::vector<std::unique_ptr<ClientTransport>> players;
        std::vector<ClientTransport*> raw;
        for (int i = 0; i < 8; ++i) {
            sockets.push_back(net.createSocket());
            players.push_back(std::make_unique<ClientTransport>(TransportConfig{}, *sockets.back()));
            players.back()->connect(test::token(static_cast<std::uint64_t>(10 + i)), serverSocket->localAddress(), 0);
            raw.push_back(players.back().get());
        }
        test::Pump pump(server, raw);
        pump.clientInterval = millis(33);
        pump.serverInterval = millis(50);
        pump.run(seconds(1));
        QCOMPARE(server.connectedClients().size(), std::size_t{8});
        const std::size_t inputsBefore = pump.serverCount(TransportEvent::Kind::Message);
        // 200 valid tokens, 50,000 requests over 2 s from 1,000 spoofed addresses, a tenth of
        // them from the players' own.
        std::vector<std::vector<std::uint8_t>> requests;
        for (int i = 0; i < 200; ++i)
            requests.push_back(requestBytes(test::token(static_cast<std::uint64_t>(1000 + i)), serverSocket->localAddress()));
        Rng rng(5);
        std::size_t sent = 0;
        const TimeUs floodStart = pump.now;
        while (pump.now < floodStart + seconds(2)) {
            for (int i = 0; i < 25; ++i, ++sent) {
                const Address from = rng.chancePercent(10) ? sockets[static_cast<std::size_t>(rng.range(0, 7))]->localAddress()
                                                           : Address::v4(0x0A000000u + static_cast<std::uint32_t>(rng.range(0, 999)), 4000);
                net.sendAs(from, serverSocket->localAddress(), requests[static_cast<std::size_t>(rng.range(0, 199))], pump.now);
            }
            pump.run(millis(1));
        }
        pump.run(millis(200));
        const TransportCounters& c = server.counters();
        qInfo("flood: %zu requests; %llu challenges sent, %llu rate-limited, %llu from players' addresses ignored, %llu sessions made",
              sent, static_cast<unsigned long long>(c.challengesSent), static_cast<unsigned long long>(c.rateLimited),
              static_cast<unsigned long long>(c.requestsWhileConnected), static_cast<unsigned long long>(c.connects));
        for (auto* p : raw)
            QCOMPARE(p->state(), ClientState::Connected);
        QCOMPARE(pump.serverCount(TransportEvent::Kind::Disconnected), std::size_t{0});
        QCOMPARE(server.connectedClients().size(), std::size_t{8});
        QCOMPARE(c.connects, std::uint64_t{8});  // no spoofed address ever got a session
        // The players' inputs kept arriving at their rate (8 x 30/s over 2.2 s, less a margin).
        QVERIFY(pump.serverCount(TransportEvent::Kind::Message) - inputsBefore > 8 * 30 * 2 * 9 / 10);
        // Unauthenticated work stayed within the global budget (2 s of it, plus its burst).
        QVERIFY(c.challengesSent <= std::uint64_t(3 * TransportConfig{}.handshakesPerSecond));
        QVERIFY(c.rateLimited > 0);
        // No reply is larger than what caused it.
        QVERIFY(detail::kChallengeSize < detail::kRequestSize);
    }

    void refusedRequestsCostNoSession()
    {
        SealLog& log = SealLog::get();
        log.start();
        MemoryNetwork net{12};
        auto serverSocket = net.createSocket(7000);
        ServerTransport server(TransportConfig{}, test::testKey(), *serverSocket);
        server.setDenyReason(DenyReason::AdmissionsClosed);
        for (int i = 0; i < 1000; ++i)
            net.sendAs(Address::v4(0x0A000000u + static_cast<std::uint32_t>(i), 5000), serverSocket->localAddress(),
                       requestBytes(test::token(static_cast<std::uint64_t>(2000 + i)), serverSocket->localAddress()), 0);
        server.receive(0);
        QCOMPARE(server.counters().refused, std::uint64_t{1000});
        QCOMPARE(log.sealed, std::size_t{0});  // no session crypto, no Link: a MAC'd 18-byte Deny each
        QVERIFY(server.counters().bytesOut <= 1000 * detail::kDenySize);
        detail::setSealTap(nullptr);
    }

    void aClientOfAnotherGameVersionIsToldWhy()
    {
        MemoryNetwork net{13};
        auto serverSocket = net.createSocket(7000);
        TransportConfig serverConfig;
        serverConfig.gameVersion = 0xAAAA;
        ServerTransport server(serverConfig, test::testKey(), *serverSocket);
        auto clientSocket = net.createSocket();
        TransportConfig clientConfig;
        clientConfig.gameVersion = 0xBBBB;
        ClientTransport client(clientConfig, *clientSocket);
        test::Pump pump(server, {&client});
        client.connect(test::token(5), serverSocket->localAddress(), 0);
        pump.run(millis(500));
        QCOMPARE(client.state(), ClientState::Disconnected);
        QCOMPARE(pump.clientEvents[0].back().reason, DisconnectReason::Denied);
        QCOMPARE(pump.clientEvents[0].back().denyReason, DenyReason::VersionMismatch);
        QVERIFY(server.counters().versionMismatch >= 1);
        QVERIFY(std::string(denyReasonText(DenyReason::VersionMismatch)).find("version") != std::string::npos);
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
                junk.resize(detail::kRequestSize, 0x11);  // request-sized
            if (rng.chancePercent(5))
                junk.resize(detail::kResponseSize, 0x12);  // response-sized
            attacker->send(f.serverSocket->localAddress(), junk, f.pump->now);
        }
        f.pump->run(millis(10));
        const TransportCounters& c = f.server.counters();
        QCOMPARE(c.malformed + c.tokensForged + c.authFailed + c.replayed + c.tokensExpired + c.rateLimited + c.cookiesRejected,
                 std::uint64_t{5000});
        QCOMPARE(f.server.connectedClients().size(), std::size_t{1});
        f.pump->run(seconds(1));
        QCOMPARE(f.client->state(), ClientState::Connected);
    }
};

QTEST_APPLESS_MAIN(TestSecurity)
#include "tst_security.moc"
