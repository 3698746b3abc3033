// Edge cases of the network layer: link seeding, receive order across links, histogram merge,
// oversize arrivals, incoming conditioning, huge poll timeouts.
#include "synccore/conditioner.h"
#include "synccore/metrics.h"
#include "synccore/socket.h"

#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

using namespace lv;

namespace {
std::optional<Datagram> receiveWithin(DatagramSocket& s, TimeUs now, int attempts = 200)
{
    for (int i = 0; i < attempts; ++i) {
        if (auto d = s.receive(now))
            return d;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return std::nullopt;
}

/// Which of `count` numbered datagrams from each sender arrived, per sender, when links are first used in `order`.
std::map<std::uint16_t, std::vector<std::uint32_t>> arrivals(const std::vector<std::uint16_t>& order)
{
    MemoryNetwork net(42);
    ConditionerSettings lossy;
    lossy.lossPercent = 30;
    lossy.latencyMs = 5;
    lossy.jitterMs = 4;
    net.setDefaultLink(lossy);
    auto sink = net.createSocket(5000);
    std::map<std::uint16_t, std::unique_ptr<DatagramSocket>> senders;
    for (std::uint16_t port : {5001, 5002})
        senders[port] = net.createSocket(port);
    for (std::uint32_t i = 0; i < 200; ++i)
        for (std::uint16_t port : order) {
            const std::vector<std::uint8_t> data{static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8)};
            senders[port]->send(sink->localAddress(), data, TimeUs{i} * 1000);
        }
    std::map<std::uint16_t, std::vector<std::uint32_t>> got;
    while (auto d = sink->receive(seconds(10)))
        got[d->from.port].push_back(d->data[0] | std::uint32_t{d->data[1]} << 8);
    return got;
}
} // namespace

class TestNetEdges : public QObject {
    Q_OBJECT
private slots:
    // netsim
    void linkSeedsComeFromAddressesNotCreationOrder()
    {
        const auto ab = arrivals({5001, 5002});
        const auto ba = arrivals({5002, 5001});
        QCOMPARE(ab, ba);
        QVERIFY(ab.at(5001) != ab.at(5002));  // each link draws its own stream
    }

    void receiveTakesEarliestOverAllLinks()
    {
        MemoryNetwork net(3);
        auto sink = net.createSocket(6000);
        auto slow = net.createSocket(6001);
        auto fast = net.createSocket(6002);
        ConditionerSettings s50, s10;
        s50.latencyMs = 50;
        s10.latencyMs = 10;
        net.setLink(slow->localAddress(), sink->localAddress(), s50);
        net.setLink(fast->localAddress(), sink->localAddress(), s10);
        const std::vector<std::uint8_t> x{1};
        slow->send(sink->localAddress(), x, 0);        // due 50 ms
        fast->send(sink->localAddress(), x, millis(5)); // due 15 ms
        fast->send(sink->localAddress(), x, millis(40)); // due 50 ms: ties with slow's, lower link key first
        std::vector<std::uint16_t> from;
        while (auto d = sink->receive(seconds(1)))
            from.push_back(d->from.port);
        QCOMPARE(from, (std::vector<std::uint16_t>{6002, 6001, 6002}));
    }

    // histogram
    void mergeKeepsMinMaxAndSum()
    {
        LatencyHistogram a, b, both;
        for (std::uint64_t v : {500u, 9000u, 70u}) {
            a.record(v);
            both.record(v);
        }
        for (std::uint64_t v : {3u, 120000u}) {
            b.record(v, 2);
            both.record(v, 2);
        }
        a.merge(b);
        QCOMPARE(a.min(), both.min());
        QCOMPARE(a.max(), both.max());
        QCOMPARE(a.quantile(0.0), std::uint64_t{3});
        QCOMPARE(a.quantile(1.0), std::uint64_t{120000});
        QCOMPARE(a.mean(), both.mean());
        LatencyHistogram empty;
        a.merge(empty);  // an empty side must not drag min to 0
        QCOMPARE(a.min(), std::uint64_t{3});
    }

    // udp
    void oversizeArrivalIsDroppedNotTruncated()
    {
        auto b = UdpSocket::bind(Address::loopback(0));
        QVERIFY(b.ok());
        const int raw = ::socket(AF_INET, SOCK_DGRAM, 0);
        QVERIFY(raw >= 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons((*b)->localAddress().port);
        to.sin_addr.s_addr = htonl((*b)->localAddress().v4Bits());
        const std::vector<std::uint8_t> big(kMaxDatagramSize + 1, 0xAB), small{7};
        for (const auto* d : {&big, &small})
            QCOMPARE(::sendto(raw, d->data(), d->size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to), ssize_t(d->size()));
        ::close(raw);
        auto got = receiveWithin(**b, 0);
        QVERIFY(got.has_value());
        QCOMPARE(got->data, small);  // the oversize one was skipped, not handed up cut short
    }

    void incomingConditioningDelaysReceive()
    {
        auto a = UdpSocket::bind(Address::loopback(0));
        auto b = UdpSocket::bind(Address::loopback(0));
        QVERIFY(a.ok() && b.ok());
        ConditionerSettings slow;
        slow.latencyMs = 20;
        ConditionedSocket conditioned(std::move(*b), {}, slow, 1);
        const std::vector<std::uint8_t> payload{4, 2};
        (*a)->send(conditioned.localAddress(), payload, 0);
        QVERIFY(!receiveWithin(conditioned, 0, 50).has_value());  // arrived in the kernel at host time 0, held 20 ms
        auto got = conditioned.receive(millis(20));
        QVERIFY(got.has_value());
        QCOMPARE(got->data, payload);
    }

    void waitReadableHandlesHugeTimeout()
    {
        auto a = UdpSocket::bind(Address::loopback(0));
        auto b = UdpSocket::bind(Address::loopback(0));
        QVERIFY(a.ok() && b.ok());
        QVERIFY(!(*b)->waitReadable(0));
        const std::vector<std::uint8_t> x{1};
        (*a)->send((*b)->localAddress(), x, 0);
        QVERIFY((*b)->waitReadable(std::numeric_limits<TimeUs>::max()));  // returns at once: data is there
    }
};

QTEST_APPLESS_MAIN(TestNetEdges)
#include "tst_netedges.moc"
