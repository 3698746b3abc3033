#include "synccore/conditioner.h"
#include "synccore/socket.h"

#include <QtTest>

#include <thread>

using namespace lv;

namespace {
std::optional<Datagram> receiveWithin(DatagramSocket& s, TimeUs now, int attempts = 200)
{
    for (int i = 0; i < attempts; ++i) {  // bounded: at most ~200 ms of real time
        if (auto d = s.receive(now))
            return d;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return std::nullopt;
}
} // namespace

class TestUdpSocket : public QObject {
    Q_OBJECT
private slots:
    void loopbackExchange()
    {
        auto a = UdpSocket::bind(Address::loopback(0));
        auto b = UdpSocket::bind(Address::loopback(0));
        QVERIFY(a.ok() && b.ok());
        QVERIFY((*a)->localAddress().port != 0);
        const std::vector<std::uint8_t> payload{9, 8, 7};
        (*a)->send((*b)->localAddress(), payload, 0);
        auto got = receiveWithin(**b, 0);
        QVERIFY(got.has_value());
        QCOMPARE(got->data, payload);
        QCOMPARE(got->from, (*a)->localAddress());
    }

    void oversizeIsDroppedNotTruncated()
    {
        auto a = UdpSocket::bind(Address::loopback(0));
        auto b = UdpSocket::bind(Address::loopback(0));
        std::vector<std::uint8_t> big(kMaxDatagramSize + 1, 1);
        (*a)->send((*b)->localAddress(), big, 0);
        QCOMPARE((*a)->sendErrors(), std::uint64_t{1});
        QVERIFY(!receiveWithin(**b, 0, 20).has_value());
    }

    void addressesParseStrictly()
    {
        auto ok = Address::parse("127.0.0.1:9000");
        QVERIFY(ok.ok());
        QCOMPARE(*ok, Address::loopback(9000));
        QCOMPARE(ok->toString(), std::string("127.0.0.1:9000"));
        for (const char* bad : {"1.2.3:4", "x", "1.2.3.4:99999", "1.2.3.256:1", "1.2.3.4:", ":80", "1.2.3.4:80x", ""})
            QVERIFY2(!Address::parse(bad).ok(), bad);
    }

    void conditionerInFrontOfUdp()
    {
        auto a = UdpSocket::bind(Address::loopback(0));
        auto b = UdpSocket::bind(Address::loopback(0));
        const Address target = (*b)->localAddress();
        ConditionerSettings slow;
        slow.latencyMs = 30;
        ConditionedSocket conditioned(std::move(*a), slow, {}, 1);
        const std::vector<std::uint8_t> payload{1};
        conditioned.send(target, payload, 0);
        conditioned.flush(millis(29));
        QVERIFY(!receiveWithin(**b, 0, 20).has_value());  // held back: host time is only 29 ms
        conditioned.flush(millis(30));
        QVERIFY(receiveWithin(**b, 0).has_value());
    }
};

QTEST_APPLESS_MAIN(TestUdpSocket)
#include "tst_udpsocket.moc"
