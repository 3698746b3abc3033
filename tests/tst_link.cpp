#include "synccore/conditioner.h"
#include "synccore/transport.h"

#include "links.h"

#include <QtTest>

using namespace lv;

namespace {
/// A server and one client on an in-memory network whose links all carry `link`.
struct Pair {
    MemoryNetwork net;
    std::unique_ptr<DatagramSocket> serverSocket;
    std::unique_ptr<DatagramSocket> clientSocket;
    ServerTransport server;
    ClientTransport client;
    test::Pump pump;
    Pair(std::uint64_t seed, const ConditionerSettings& link = {}, std::uint64_t clientId = 1)
        : net(seed), serverSocket((net.setDefaultLink(link), net.createSocket(7000))), clientSocket(net.createSocket()),
          server(TransportConfig{}, test::testKey(), *serverSocket), client(TransportConfig{}, *clientSocket),
          pump(server, {&client})
    {
        client.connect(test::token(clientId), serverSocket->localAddress(), 0);
    }
};
} // namespace

class TestLink : public QObject {
    Q_OBJECT
private slots:
    void handshakeAndPayloadBothWays()
    {
        Pair p(1, {}, 42);
        auto& [net, serverSocket, clientSocket, server, client, pump] = p;
        pump.clientInterval = millis(33);
        pump.serverInterval = millis(50);
        pump.run(seconds(1));
        QCOMPARE(client.state(), ClientState::Connected);
        QCOMPARE(pump.serverCount(TransportEvent::Kind::Connected), std::size_t{1});
        QCOMPARE(pump.serverEvents.front().clientId, std::uint64_t{42});
        QCOMPARE(int(pump.serverEvents.front().userData[3]), 4);
        QVERIFY(pump.serverCount(TransportEvent::Kind::Message) >= 25);
        QVERIFY(pump.clientCount(0, TransportEvent::Kind::Message) >= 15);
        QCOMPARE(server.counters().malformed + server.counters().authFailed, std::uint64_t{0});
    }

    void ackBookkeepingSurvivesLossReorderingAndDuplication()
    {
        ConditionerSettings nasty;
        nasty.latencyMs = 40;
        nasty.jitterMs = 25;  // reorders on its own
        nasty.lossPercent = 20;
        nasty.duplicatePercent = 10;
        nasty.reorderPercent = 15;
        nasty.reorderDelayMs = 30;
        Pair p(2, nasty);
        auto& [net, serverSocket, clientSocket, server, client, pump] = p;
        pump.clientInterval = millis(33);
        pump.serverInterval = millis(50);
        pump.run(seconds(60));
        QCOMPARE(client.state(), ClientState::Connected);
        const LinkStats& c = client.linkStats();
        const LinkStats& s = server.linkStats(0);
        // An ack is only ever reported for a packet that arrived: never more acks than receipts.
        QVERIFY(c.packetsAcked <= s.packetsReceived);
        QVERIFY(s.packetsAcked <= c.packetsReceived);
        // And almost every arrival is acknowledged (the 33-packet window covers these rates).
        QVERIFY2(c.packetsAcked >= s.packetsReceived * 97 / 100, qPrintable(QStringLiteral("%1 of %2").arg(c.packetsAcked).arg(s.packetsReceived)));
        // Duplicates were seen and dropped, never delivered twice.
        QVERIFY(s.duplicates > 0 && c.duplicates > 0);
        QVERIFY(server.counters().replayed > 0);
        // The loss estimate follows the conditioner's truth.
        const ConditionerStats truth = net.linkStats(clientSocket->localAddress(), serverSocket->localAddress());
        const double trueLoss = 100.0 * double(truth.lost) / double(truth.accepted);
        QVERIFY2(std::abs(c.lossPercent - trueLoss) < 7.0, qPrintable(QStringLiteral("estimate %1 vs truth %2").arg(c.lossPercent).arg(trueLoss)));
        QVERIFY(std::abs(double(c.packetsLost) / double(c.packetsSent) * 100.0 - trueLoss) < 2.5);
    }

    void rttConvergesToInjectedLatency()
    {
        for (double oneWay : {20.0, 60.0, 150.0}) {
            MemoryNetwork net(3);
            ConditionerSettings link;
            link.latencyMs = oneWay;
            net.setDefaultLink(link);
            auto serverSocket = net.createSocket(7000);
            auto clientSocket = net.createSocket();
            ServerTransport server(TransportConfig{}, test::testKey(), *serverSocket);
            ClientTransport client(TransportConfig{}, *clientSocket);
            client.connect(test::token(1), serverSocket->localAddress(), 0);
            test::Pump pump{server, {&client}};
            pump.clientInterval = millis(33);  // 30 Hz inputs
            pump.serverInterval = millis(50);  // 20 Hz snapshots: acks wait up to 50 ms, ack delay corrects it
            pump.run(seconds(10));
            const double injected = 2 * oneWay * 1000;
            QVERIFY2(std::abs(double(client.linkStats().smoothedRtt) - injected) <= 2000,
                     qPrintable(QStringLiteral("client %1 us vs %2").arg(client.linkStats().smoothedRtt).arg(injected)));
            QVERIFY2(std::abs(double(server.linkStats(0).smoothedRtt) - injected) <= 2000,
                     qPrintable(QStringLiteral("server %1 us vs %2").arg(server.linkStats(0).smoothedRtt).arg(injected)));
        }
    }

    void reliableMessagesArriveInOrderExactlyOnce()
    {
        ConditionerSettings nasty;
        nasty.latencyMs = 30;
        nasty.jitterMs = 20;
        nasty.lossPercent = 20;
        nasty.duplicatePercent = 10;
        nasty.reorderPercent = 20;
        nasty.reorderDelayMs = 40;
        Pair p(4, nasty);
        auto& [net, serverSocket, clientSocket, server, client, pump] = p;
        pump.clientInterval = millis(33);
        pump.run(seconds(2));
        QCOMPARE(client.state(), ClientState::Connected);
        for (int i = 0; i < 500; ++i) {
            // Two bytes of sequence number, then 0..200 bytes of filler: sizes vary.
            std::vector<std::uint8_t> m{static_cast<std::uint8_t>(i & 0xFF), static_cast<std::uint8_t>(i >> 8)};
            m.resize(2 + static_cast<std::size_t>((i * 37) % 201), 0xAB);
            QVERIFY(server.sendReliable(0, m).ok());
            if (i % 50 == 49)
                pump.run(millis(200));
        }
        pump.run(seconds(20));
        std::vector<int> order;
        for (const TransportEvent& e : pump.clientEvents[0])
            if (e.kind == TransportEvent::Kind::Reliable)
                order.push_back(e.data[0] | e.data[1] << 8);
        QCOMPARE(order.size(), std::size_t{500});
        for (int i = 0; i < 500; ++i)
            QCOMPARE(order[static_cast<std::size_t>(i)], i);
    }

    void silenceTimesOutBothEnds()
    {
        Pair p(5);
        auto& [net, serverSocket, clientSocket, server, client, pump] = p;
        pump.run(seconds(1));
        QCOMPARE(client.state(), ClientState::Connected);
        ConditionerSettings cut;
        cut.lossPercent = 100;
        net.setDefaultLink(cut);
        net.setLink(clientSocket->localAddress(), serverSocket->localAddress(), cut);
        net.setLink(serverSocket->localAddress(), clientSocket->localAddress(), cut);
        pump.run(seconds(4));
        QCOMPARE(client.state(), ClientState::Connected);  // not yet: the timeout is 5 s
        pump.run(seconds(2));
        QCOMPARE(client.state(), ClientState::Disconnected);
        QCOMPARE(pump.clientEvents[0].back().reason, DisconnectReason::Timeout);
        QCOMPARE(pump.serverEvents.back().kind, TransportEvent::Kind::Disconnected);
        QCOMPARE(pump.serverEvents.back().reason, DisconnectReason::Timeout);
        QCOMPARE(server.connectedClients().size(), std::size_t{0});
    }

    void disconnectReachesThePeerAtOnce()
    {
        Pair p(6);
        auto& [net, serverSocket, clientSocket, server, client, pump] = p;
        pump.run(seconds(1));
        client.disconnect(pump.now);
        pump.run(millis(10));
        QCOMPARE(server.connectedClients().size(), std::size_t{0});
        QCOMPARE(pump.serverEvents.back().reason, DisconnectReason::ClosedByPeer);
    }

    void worksOverRealUdp()
    {
        auto serverSocket = UdpSocket::bind(Address::loopback(0));
        auto clientSocket = UdpSocket::bind(Address::loopback(0));
        QVERIFY(serverSocket.ok() && clientSocket.ok());
        ServerTransport server(TransportConfig{}, test::testKey(), **serverSocket);
        ClientTransport client(TransportConfig{}, **clientSocket);
        client.connect(test::token(9), (*serverSocket)->localAddress(), 0);
        std::size_t messages = 0;
        TimeUs now = 0;
        for (int i = 0; i < 2000 && messages < 10; ++i) {  // bounded: at most ~2 s of real time
            now += millis(1);
            client.receive(now);
            while (client.pollEvent()) {
            }
            if (client.state() == ClientState::Connected)
                (void)client.send(std::vector<std::uint8_t>{1, 2, 3}, now);
            client.update(now);
            (*serverSocket)->waitReadable(millis(1));
            server.receive(now);
            while (auto e = server.pollEvent())
                messages += e->kind == TransportEvent::Kind::Message ? 1 : 0;
            server.update(now);
        }
        QVERIFY(messages >= 10);
        QCOMPARE(server.clientId(0), std::uint64_t{9});
    }
};

QTEST_APPLESS_MAIN(TestLink)
#include "tst_link.moc"
