#include "liveops/toggles.h"

#include <QtTest>

using namespace lv;
using namespace lv::liveops;

class TestToggles : public QObject {
    Q_OBJECT
private slots:
    void everyEngineKnobIsAToggle()
    {
        for (const char* key : {"tick_hz", "snapshot_hz", "delta_compression", "interest_radius_m", "max_visible", "bandwidth_cap_kbps",
                                "prediction", "cross_play", "admissions_open", "maintenance_mode", "failover_target",
                                "interpolation_delay_override_ms"}) {
            const ToggleDefinition* d = findToggle(key);
            QVERIFY2(d, key);
            QVERIFY(!d->description.empty());
            QVERIFY(!d->runbook.empty());
            QVERIFY(validateValue(*d, d->defaultValue, {}).empty());
        }
        QVERIFY(!findToggle("no_such_toggle"));
    }

    void valuesAreTypedAndBounded()
    {
        const auto regions = std::vector<std::string>{"eu-west", "us-east"};
        QVERIFY(validateValue(*findToggle("tick_hz"), std::int64_t{60}, regions).empty());
        QVERIFY(!validateValue(*findToggle("tick_hz"), std::int64_t{500}, regions).empty());
        QVERIFY(!validateValue(*findToggle("tick_hz"), true, regions).empty());
        QVERIFY(!validateValue(*findToggle("prediction"), std::int64_t{1}, regions).empty());
        QVERIFY(validateValue(*findToggle("failover_target"), std::string("us-east"), regions).empty());
        QVERIFY(validateValue(*findToggle("failover_target"), std::string(), regions).empty());
        QVERIFY(validateValue(*findToggle("failover_target"), std::string("mars"), regions).find("mars") != std::string::npos);
    }

    void applyingChangesTheEngineKnob()
    {
        RuntimeKnobs k;
        auto r = applyToggle(k, "snapshot_hz", std::int64_t{10}, {});
        QVERIFY(r.error.empty());
        QCOMPARE(r.knobs.snapshotHz, 10);
        r = applyToggle(r.knobs, "delta_compression", false, {});
        QVERIFY(!r.knobs.deltaCompression);
        r = applyToggle(r.knobs, "failover_target", std::string("us-east"), "127.0.0.1:7001");
        QCOMPARE(r.knobs.failoverTarget, std::string("127.0.0.1:7001"));
        // Inconsistent combinations are refused and change nothing.
        const auto bad = applyToggle(r.knobs, "snapshot_hz", std::int64_t{60}, {});
        QVERIFY(bad.error.find("snapshot_hz") != std::string::npos);
        QVERIFY(bad.knobs == r.knobs);
        QVERIFY(!applyToggle(k, "nope", true, {}).error.empty());
    }
};

QTEST_APPLESS_MAIN(TestToggles)
#include "tst_toggles.moc"
