#include "synccore/bitstream.h"
#include "synccore/conditioner.h"

#include <QtTest>

using namespace lv;

class TestBitstream : public QObject {
    Q_OBJECT
private slots:
    void roundTripsSeededRandomValues()
    {
        Rng rng(42);
        for (int round = 0; round < 2000; ++round) {
            BitWriter w;
            struct Item { int kind; std::uint64_t u; std::int64_t s; int bits; std::int64_t lo, hi; };
            std::vector<Item> items;
            const int n = static_cast<int>(rng.range(1, 40));
            for (int i = 0; i < n; ++i) {
                Item it{static_cast<int>(rng.range(0, 3)), 0, 0, 0, 0, 0};
                switch (it.kind) {
                case 0:
                    it.bits = static_cast<int>(rng.range(0, 64));
                    it.u = rng.next() & (it.bits == 64 ? ~0ULL : ((1ULL << it.bits) - 1));
                    w.writeBits(it.u, it.bits);
                    break;
                case 1:
                    it.lo = rng.range(-100000, 100000);
                    it.hi = it.lo + rng.range(0, 1 << 20);
                    it.s = rng.range(it.lo, it.hi);
                    w.writeRanged(it.s, it.lo, it.hi);
                    break;
                case 2:
                    it.u = rng.next() >> rng.range(1, 63);
                    w.writeGamma(it.u);
                    break;
                default:
                    it.s = static_cast<std::int64_t>(rng.next() >> rng.range(2, 63)) * (rng.chancePercent(50) ? -1 : 1);
                    w.writeSignedGamma(it.s);
                }
                items.push_back(it);
            }
            const auto bytes = w.finish();
            QCOMPARE(bytes.size(), w.byteCount());
            BitReader r(bytes);
            for (const Item& it : items) {
                switch (it.kind) {
                case 0: QCOMPARE(*r.readBits(it.bits), it.u); break;
                case 1: QCOMPARE(*r.readRanged(it.lo, it.hi), it.s); break;
                case 2: QCOMPARE(*r.readGamma(), it.u); break;
                default: QCOMPARE(*r.readSignedGamma(), it.s);
                }
            }
            QVERIFY(!r.failed());
            QVERIFY(r.atPaddedEnd());
        }
    }

    void readingPastTheEndIsAnError()
    {
        BitWriter w;
        w.writeBits(0x5, 3);
        const auto bytes = w.finish();
        BitReader r(bytes);
        QCOMPARE(*r.readBits(3), 5u);
        QCOMPARE(*r.readBits(5), 0u);  // padding is readable
        auto past = r.readBits(1);
        QVERIFY(!past.ok());
        QCOMPARE(past.error(), ErrorCode::EndOfData);
        QVERIFY(r.failed());
        QVERIFY(!r.readBool().ok());  // stays failed
    }

    void outOfRangeValueIsAnError()
    {
        BitWriter w;
        w.writeBits(7, 3);  // 7 is outside [0, 4] yet fits in 3 bits
        const auto bytes = w.finish();
        BitReader r(bytes);
        auto v = r.readRanged(0, 4);
        QVERIFY(!v.ok());
        QCOMPARE(v.error(), ErrorCode::OutOfRange);
    }

    void gammaRejectsOverlongPrefix()
    {
        std::vector<std::uint8_t> zeros(16, 0);
        BitReader r(zeros);
        auto v = r.readGamma();
        QVERIFY(!v.ok());
    }

    void emptyInputFailsCleanly()
    {
        BitReader r(std::span<const std::uint8_t>{});
        QVERIFY(!r.readBits(1).ok());
        QVERIFY(!r.readGamma().ok());
        QVERIFY(!r.readRanged(0, 10).ok());
    }

    void smallSignedValuesAreCheap()
    {
        BitWriter w;
        w.writeSignedGamma(0);
        QCOMPARE(w.bitCount(), std::size_t{1});
        w.writeSignedGamma(-1);
        QCOMPARE(w.bitCount(), std::size_t{4});
    }
};

QTEST_APPLESS_MAIN(TestBitstream)
#include "tst_bitstream.moc"
