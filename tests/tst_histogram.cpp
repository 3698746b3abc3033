#include "synccore/conditioner.h"
#include "synccore/metrics.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace lv;

namespace {
void checkAgainstSorted(std::vector<std::uint64_t> samples)
{
    LatencyHistogram h;
    for (auto v : samples)
        h.record(v);
    std::sort(samples.begin(), samples.end());
    for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
        const auto rank = static_cast<std::size_t>(std::ceil(q * double(samples.size()))) - 1;
        const double truth = double(samples[rank]);
        const double got = double(h.quantile(q));
        QVERIFY2(std::abs(got - truth) <= std::max(1.0, truth * 0.016), qPrintable(QStringLiteral("q%1: %2 vs %3").arg(q).arg(got).arg(truth)));
    }
    QCOMPARE(h.min(), samples.front());
    QCOMPARE(h.max(), samples.back());
}
} // namespace

class TestHistogram : public QObject {
    Q_OBJECT
private slots:
    void quantilesWithinOnePointSixPercent()
    {
        Rng rng(1);
        std::vector<std::uint64_t> uniform, exponential, bimodal;
        for (int i = 0; i < 100000; ++i) {
            uniform.push_back(static_cast<std::uint64_t>(rng.range(1000, 200000)));
            exponential.push_back(static_cast<std::uint64_t>(-std::log(1.0 - rng.uniform()) * 40000.0));
            bimodal.push_back(static_cast<std::uint64_t>(rng.chancePercent(80) ? rng.range(20000, 30000) : rng.range(150000, 400000)));
        }
        checkAgainstSorted(uniform);
        checkAgainstSorted(exponential);
        checkAgainstSorted(bimodal);
    }

    void smallValuesAreExact()
    {
        LatencyHistogram h;
        for (std::uint64_t v = 0; v < 64; ++v)
            h.record(v);
        QCOMPARE(h.quantile(0.5), std::uint64_t{31});
        QCOMPARE(h.quantile(1.0), std::uint64_t{63});
    }

    void mergeEqualsRecordingBoth()
    {
        Rng rng(2);
        LatencyHistogram a, b, both;
        for (int i = 0; i < 10000; ++i) {
            const auto v = static_cast<std::uint64_t>(rng.range(0, 1'000'000));
            (i % 2 ? a : b).record(v);
            both.record(v);
        }
        a.merge(b);
        QCOMPARE(a.count(), both.count());
        for (double q : {0.1, 0.5, 0.99})
            QCOMPARE(a.quantile(q), both.quantile(q));
        QCOMPARE(a.mean(), both.mean());
    }

    void bucketsTravelAndMergeExactly()
    {
        // Three servers' RTTs, sent as buckets and merged on the other side: the same histogram,
        // quantile for quantile, as recording every sample in one.
        LatencyHistogram servers[3], all;
        lv::Rng rng(7);
        for (int s = 0; s < 3; ++s)
            for (int i = 0; i < 5000; ++i) {
                const auto v = static_cast<std::uint64_t>(20'000 * (s + 1) + rng.range(0, 40'000));
                servers[s].record(v);
                all.record(v);
            }
        LatencyHistogram merged;
        std::string error;
        for (const LatencyHistogram& h : servers) {
            auto received = LatencyHistogram::fromBuckets(h.buckets(), error);
            QVERIFY2(received, error.c_str());
            QCOMPARE(received->buckets(), h.buckets());
            merged.merge(*received);
        }
        QCOMPARE(merged.buckets(), all.buckets());
        for (double q : {0.5, 0.9, 0.99, 0.999})
            QCOMPARE(merged.quantile(q), all.quantile(q));
        // Averaging the servers' p99s is not the fleet's p99.
        const double averaged = double(servers[0].p99() + servers[1].p99() + servers[2].p99()) / 3.0;
        QVERIFY(std::abs(averaged - double(all.p99())) > 0.05 * double(all.p99()));

        // Nonsense is refused with the reason.
        HistogramBuckets bad = servers[0].buckets();
        std::swap(bad.buckets[0], bad.buckets[1]);
        QVERIFY(!LatencyHistogram::fromBuckets(bad, error));
        QVERIFY2(error.find("out of order") != std::string::npos, error.c_str());
        bad = servers[0].buckets();
        bad.buckets.back().first = LatencyHistogram::kBucketCount;
        QVERIFY(!LatencyHistogram::fromBuckets(bad, error));
        bad = servers[0].buckets();
        bad.buckets[0].second = ~std::uint64_t{0};
        QVERIFY(!LatencyHistogram::fromBuckets(bad, error));
        QCOMPARE(error, std::string("bucket counts overflow"));
        QVERIFY(LatencyHistogram::fromBuckets({}, error));  // empty is fine
    }

    void emptyAndReset()
    {
        LatencyHistogram h;
        QCOMPARE(h.p99(), std::uint64_t{0});
        h.record(5000, 10);
        QVERIFY(h.p50() > 4900 && h.p50() < 5100);
        h.reset();
        QCOMPARE(h.count(), std::uint64_t{0});
        QCOMPARE(h.p50(), std::uint64_t{0});
    }

    void regionMetricsMergeAndLoss()
    {
        RegionMetrics a, b;
        a.packetsLost = 1;
        a.packetsAcked = 9;
        b.packetsLost = 1;
        b.packetsAcked = 89;
        a.merge(b);
        QCOMPARE(a.lossPercent(), 2.0);
    }
};

QTEST_APPLESS_MAIN(TestHistogram)
#include "tst_histogram.moc"
