#include "synccore/conditioner.h"

#include <QtTest>

#include <algorithm>
#include <set>

using namespace lv;

namespace {
struct Delivery {
    TimeUs at;
    std::vector<std::uint8_t> data;
    friend bool operator==(const Delivery&, const Delivery&) = default;
};

std::vector<std::uint8_t> numbered(std::uint32_t i, std::size_t size = 8)
{
    std::vector<std::uint8_t> d(size, 0);
    for (int b = 0; b < 4; ++b)
        d[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(i >> (8 * b));
    return d;
}
std::uint32_t numberOf(const std::vector<std::uint8_t>& d) { return d[0] | d[1] << 8 | d[2] << 16 | std::uint32_t{d[3]} << 24; }

/// Pushes `count` datagrams one every `interval`, pops until everything is out; returns deliveries.
std::vector<Delivery> drive(Conditioner& c, int count, TimeUs interval, std::size_t size = 8)
{
    std::vector<Delivery> out;
    TimeUs now = 0;
    int sent = 0;
    while (sent < count || c.pending() > 0) {
        if (sent < count && now >= sent * interval) {
            c.push(Datagram{{}, {}, numbered(static_cast<std::uint32_t>(sent), size)}, now);
            ++sent;
        }
        while (auto d = c.pop(now))
            out.push_back({now, std::move(d->data)});
        now += 100;
    }
    return out;
}
} // namespace

class TestNetSim : public QObject {
    Q_OBJECT
private slots:
    void sameSeedSameOutput()
    {
        ConditionerSettings s;
        s.latencyMs = 50;
        s.jitterMs = 20;
        s.lossPercent = 10;
        s.duplicatePercent = 5;
        s.reorderPercent = 5;
        s.reorderDelayMs = 30;
        Conditioner a(s, 77), b(s, 77), c(s, 78);
        const auto da = drive(a, 3000, 1000), db = drive(b, 3000, 1000), dc = drive(c, 3000, 1000);
        QCOMPARE(da.size(), db.size());
        QVERIFY(da == db);
        QVERIFY(!(da == dc));
    }

    void lossRateMatchesSetting()
    {
        ConditionerSettings s;
        s.lossPercent = 20;
        Conditioner c(s, 1);
        const auto d = drive(c, 20000, 100);
        const double lost = 100.0 * (20000.0 - double(d.size())) / 20000.0;
        QVERIFY2(std::abs(lost - 20.0) < 1.5, qPrintable(QString::number(lost)));
        QCOMPARE(c.stats().lost, std::uint64_t{20000 - d.size()});
    }

    void latencyAndJitterStayInBounds()
    {
        ConditionerSettings s;
        s.latencyMs = 100;
        s.jitterMs = 30;
        Conditioner c(s, 2);
        std::vector<TimeUs> sentAt;
        const auto d = drive(c, 5000, 1000);
        double sum = 0;
        bool reordered = false;
        std::uint32_t last = 0;
        for (const Delivery& x : d) {
            const TimeUs delay = x.at - TimeUs{numberOf(x.data)} * 1000;
            QVERIFY2(delay >= millis(70) && delay <= millis(130) + 100, qPrintable(QString::number(delay)));
            sum += double(delay);
            reordered |= numberOf(x.data) < last;
            last = std::max(last, numberOf(x.data));
        }
        QVERIFY(std::abs(sum / double(d.size()) - 100000.0) < 2000.0);
        QVERIFY(reordered);  // jitter larger than the spacing reorders
    }

    void burstLossComesInRuns()
    {
        ConditionerSettings s;
        s.burstEnterPercent = 2;
        s.burstExitPercent = 25;  // mean run of 4
        s.burstLossPercent = 100;
        Conditioner c(s, 3);
        const auto d = drive(c, 50000, 100);
        std::set<std::uint32_t> got;
        for (const Delivery& x : d)
            got.insert(numberOf(x.data));
        std::vector<int> runs;
        int run = 0;
        for (std::uint32_t i = 0; i < 50000; ++i) {
            if (!got.count(i)) {
                ++run;
            } else if (run > 0) {
                runs.push_back(run);
                run = 0;
            }
        }
        double mean = 0;
        for (int r : runs)
            mean += r;
        mean /= double(runs.size());
        QVERIFY2(mean > 3.3 && mean < 4.7, qPrintable(QString::number(mean)));
    }

    void duplicationAndReorderingHappenAtTheirRates()
    {
        ConditionerSettings s;
        s.latencyMs = 10;
        s.duplicatePercent = 10;
        s.reorderPercent = 10;
        s.reorderDelayMs = 50;
        Conditioner c(s, 4);
        const auto d = drive(c, 10000, 1000);
        QVERIFY(std::abs(double(d.size()) - 11000.0) < 300.0);
        QVERIFY(std::abs(double(c.stats().reordered) - 1000.0) < 150.0);
        std::size_t outOfOrder = 0;
        for (std::size_t i = 1; i < d.size(); ++i)
            outOfOrder += numberOf(d[i].data) < numberOf(d[i - 1].data) ? 1 : 0;
        QVERIFY(outOfOrder > 500);
    }

    void bandwidthCapLimitsThroughput()
    {
        ConditionerSettings s;
        s.bandwidthKbps = 256;
        s.maxQueueMs = 200;
        Conditioner c(s, 5);
        // Offer 1,000-byte datagrams every 10 ms (800 kbps) for 10 s.
        const auto d = drive(c, 1000, millis(10), 1000);
        const double seconds = double(d.back().at) / 1e6;
        const double kbps = double(d.size()) * 1000 * 8 / 1000.0 / seconds;
        QVERIFY2(std::abs(kbps - 256.0) < 256.0 * 0.05, qPrintable(QString::number(kbps)));
        QVERIFY(c.stats().bandwidthDropped > 500);
    }

    void memoryNetworkRoutesAndConditionsOneDirection()
    {
        MemoryNetwork net(9);
        auto a = net.createSocket();
        auto b = net.createSocket();
        ConditionerSettings slow;
        slow.latencyMs = 30;
        net.setLink(a->localAddress(), b->localAddress(), slow);
        const std::vector<std::uint8_t> hello{1, 2, 3};
        a->send(b->localAddress(), hello, 0);
        b->send(a->localAddress(), hello, 0);
        QVERIFY(a->receive(0).has_value());          // b -> a is unconditioned
        QVERIFY(!b->receive(millis(29)).has_value()); // a -> b takes 30 ms
        auto got = b->receive(millis(30));
        QVERIFY(got.has_value());
        QCOMPARE(got->from, a->localAddress());
        QCOMPARE(got->data, hello);
        a->send(Address::loopback(1), hello, 0);
        QCOMPARE(net.undeliverable(), std::uint64_t{1});
    }
};

QTEST_APPLESS_MAIN(TestNetSim)
#include "tst_netsim.moc"
