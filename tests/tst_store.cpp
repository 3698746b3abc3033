#include "liveops/store.h"

#include <QtTest>

#include <csignal>
#include <sqlite3.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace lv::liveops;

namespace {
AuditEntry who(const std::string& actor, const std::string& reason)
{
    AuditEntry e;
    e.timeMs = 1'700'000'000'000;
    e.actor = actor;
    e.role = Role::Producer;
    e.reason = reason;
    return e;
}

std::unique_ptr<Store> openStore(const QString& path)
{
    std::string error;
    auto store = Store::open(path.toStdString(), error);
    if (!store)
        qWarning("%s", error.c_str());
    return store;
}
} // namespace

class TestStore : public QObject {
    Q_OBJECT
private slots:
    void setReadsBackWithAudit()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("s.db")));
        QVERIFY(store);
        auto r = store->setToggle("snapshot_hz", "eu-west", std::int64_t{10}, 0, who("ana", "halve bandwidth during the event"));
        QCOMPARE(r.outcome, Store::Outcome::Applied);
        QCOMPARE(r.current.version, std::uint64_t{1});
        const auto t = store->toggle("snapshot_hz", "eu-west");
        QVERIFY(t.has_value());
        QCOMPARE(std::get<std::int64_t>(t->value), std::int64_t{10});
        const auto log = store->audit(0, 100);
        QCOMPARE(log.size(), std::size_t{1});
        QCOMPARE(log[0].actor, std::string("ana"));
        QCOMPARE(log[0].target, std::string("snapshot_hz@eu-west"));
        QCOMPARE(log[0].oldValue, std::string("20"));  // the default
        QCOMPARE(log[0].newValue, std::string("10"));
        QCOMPARE(log[0].reason, std::string("halve bandwidth during the event"));
        QCOMPARE(log[0].role, Role::Producer);
    }

    void staleVersionConflictsAndWritesNothing()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("s.db")));
        QVERIFY(store->setToggle("prediction", "*", false, 0, who("a", "r")).outcome == Store::Outcome::Applied);
        auto r = store->setToggle("prediction", "*", true, 0, who("b", "stale"));
        QCOMPARE(r.outcome, Store::Outcome::Conflict);
        QCOMPARE(r.current.version, std::uint64_t{1});        // the newer change, for the user to see
        QCOMPARE(std::get<bool>(r.current.value), false);
        QCOMPARE(std::get<bool>(store->toggle("prediction", "*")->value), false);
        QCOMPARE(store->audit(0, 100).size(), std::size_t{1});
    }

    void racingWritersExactlyOneWins()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.db"));
        for (int round = 0; round < 20; ++round) {
            auto a = openStore(path);  // two connections, as two syncd handlers or processes would be
            auto b = openStore(path);
            const std::uint64_t version = a->toggle("max_visible", "*") ? a->toggle("max_visible", "*")->version : 0;
            Store::Outcome ra{}, rb{};
            std::thread ta([&] { ra = a->setToggle("max_visible", "*", std::int64_t{32 + round}, version, who("a", "race")).outcome; });
            std::thread tb([&] { rb = b->setToggle("max_visible", "*", std::int64_t{96 - round}, version, who("b", "race")).outcome; });
            ta.join();
            tb.join();
            QVERIFY((ra == Store::Outcome::Applied) != (rb == Store::Outcome::Applied));
            QVERIFY(ra == Store::Outcome::Conflict || rb == Store::Outcome::Conflict);
        }
        auto s = openStore(path);
        QCOMPARE(s->audit(0, 1000).size(), std::size_t{20});
        QCOMPARE(s->toggle("max_visible", "*")->version, std::uint64_t{20});
    }

    void auditCannotBeAlteredEvenWithSql()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.db"));
        {
            auto store = openStore(path);
            QVERIFY(store->appendAudit(who("ops", "drill")).has_value());
        }
        sqlite3* raw = nullptr;
        QCOMPARE(sqlite3_open(path.toUtf8().constData(), &raw), SQLITE_OK);
        QVERIFY(sqlite3_exec(raw, "UPDATE audit SET reason = 'nothing happened'", nullptr, nullptr, nullptr) != SQLITE_OK);
        QVERIFY(sqlite3_exec(raw, "DELETE FROM audit", nullptr, nullptr, nullptr) != SQLITE_OK);
        sqlite3_close(raw);
        auto store = openStore(path);
        QCOMPARE(store->audit(0, 10).at(0).reason, std::string("drill"));
    }

    void aDamagedRowIsNamedNotThrown()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.db"));
        {
            auto store = openStore(path);
            QCOMPARE(store->setToggle("max_visible", "eu-west", std::int64_t{40}, 0, who("ops", "x")).outcome, Store::Outcome::Applied);
        }
        // A disk or a hand-edit leaves a non-number where an integer belongs.
        sqlite3* raw = nullptr;
        QCOMPARE(sqlite3_open(path.toUtf8().constData(), &raw), SQLITE_OK);
        QCOMPARE(sqlite3_exec(raw, "UPDATE toggles SET value = '4o' WHERE key = 'max_visible'", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
        auto store = openStore(path);
        std::string error;
        QVERIFY(!store->toggles(error).has_value());
        QVERIFY2(error.find("max_visible@eu-west") != std::string::npos && error.find("'4o'") != std::string::npos, error.c_str());
        // A set against the damaged row fails with the same words, and writes nothing.
        const auto result = store->setToggle("max_visible", "eu-west", std::int64_t{50}, 1, who("ops", "y"));
        QCOMPARE(result.outcome, Store::Outcome::Failed);
        QVERIFY2(result.error.find("max_visible@eu-west") != std::string::npos, result.error.c_str());
        QCOMPARE(store->audit(0, 10).size(), std::size_t{1});
    }

    void refusesANewerSchema()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.db"));
        sqlite3* raw = nullptr;
        sqlite3_open(path.toUtf8().constData(), &raw);
        sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
        sqlite3_close(raw);
        std::string error;
        QVERIFY(!Store::open(path.toStdString(), error));
        QVERIFY(error.find("newer") != std::string::npos);
    }

    void acknowledgedChangesSurviveKillNine()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.db"));
        std::uint64_t acknowledgedTotal = 0;
        for (int run = 0; run < 8; ++run) {
            int fds[2];
            QCOMPARE(pipe(fds), 0);
            const pid_t child = fork();
            QVERIFY(child >= 0);
            if (child == 0) {
                // The writer: set toggles as fast as it can, reporting each acknowledged version.
                close(fds[0]);
                std::string error;
                auto store = Store::open(path.toStdString(), error);
                if (!store)
                    _exit(2);
                for (;;) {
                    const auto current = store->toggle("tick_hz", "*");
                    const std::uint64_t v = current ? current->version : 0;
                    const auto r = store->setToggle("tick_hz", "*", static_cast<std::int64_t>(10 + v % 100), v, who("bot", "soak"));
                    if (r.outcome == Store::Outcome::Applied && write(fds[1], &r.current.version, sizeof r.current.version) < 0)
                        _exit(3);
                }
            }
            close(fds[1]);
            // Let it write for a varying while, then kill it mid-flight.
            std::this_thread::sleep_for(std::chrono::milliseconds(30 + 23 * run));
            kill(child, SIGKILL);
            int status = 0;
            waitpid(child, &status, 0);
            QVERIFY(WIFSIGNALED(status));
            std::uint64_t version = 0, last = 0;
            while (read(fds[0], &version, sizeof version) == static_cast<ssize_t>(sizeof version))
                last = version;
            close(fds[0]);
            auto store = openStore(path);
            QVERIFY(store);
            const auto t = store->toggle("tick_hz", "*");
            QVERIFY2(t && t->version >= last, qPrintable(QStringLiteral("acknowledged %1, found %2").arg(last).arg(t ? t->version : 0)));
            // Every version on disk has its audit entry: the two were committed together.
            QCOMPARE(store->audit(0, 1'000'000, "tick_hz@*").size(), std::size_t(t->version));
            acknowledgedTotal = last;
        }
        QVERIFY(acknowledgedTotal > 8);  // the writers did get work done between kills
    }
};

QTEST_APPLESS_MAIN(TestStore)
#include "tst_store.moc"
