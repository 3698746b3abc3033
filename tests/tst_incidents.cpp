// The incident store, KPIs and exports: notes keep their history, events attach by time and
// region, migrations keep rows, damaged or newer files are left alone, two consoles share a file,
// a writer killed at random loses no saved note, KPI arithmetic, exports that parse back.
#include "incidents/export.h"
#include "incidents/kpi.h"
#include "incidents/store.h"
#include "postgres.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <thread>

using namespace lv::incidents;

namespace {
constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kT0 = 1'793'491'200'000;  // 2026-11-01 00:00:00 UTC

std::unique_ptr<Store> openStore(const QString& path)
{
    auto r = Store::open(path);
    if (!r.store)
        qWarning("%s", qPrintable(r.error));
    return std::move(r.store);
}

Incident incidentAt(const QString& title, std::int64_t started, std::vector<RegionRef> regions)
{
    Incident i;
    i.title = title;
    i.startedMs = started;
    i.detectedMs = started;
    i.regions = std::move(regions);
    return i;
}

/// RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks.
std::vector<QStringList> parseCsv(const QByteArray& bytes)
{
    const QString text = QString::fromUtf8(bytes);
    std::vector<QStringList> rows(1);
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) {
                field += QLatin1Char('"');
                ++i;
            } else if (c == QLatin1Char('"')) {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char(',')) {
            rows.back() << field;
            field.clear();
        } else if (c == QLatin1Char('\r') && i + 1 < text.size() && text[i + 1] == QLatin1Char('\n')) {
            rows.back() << field;
            field.clear();
            rows.emplace_back();
            ++i;
        } else {
            field += c;
        }
    }
    if (rows.back().isEmpty() && field.isEmpty())
        rows.pop_back();
    return rows;
}

QString run(const QString& program, const QStringList& args)
{
    QProcess p;
    p.start(program, args);
    p.waitForFinished(30000);
    return QString::fromUtf8(p.readAllStandardOutput());
}

/// A fixed record for the export tests: awkward text on purpose.
IncidentRecord sampleRecord()
{
    IncidentRecord r;
    Incident& i = r.incident;
    i.id = 7;
    i.title = QStringLiteral("eu-west latency, \"rubber-banding\"");
    i.severity = 2;
    i.status = Status::Resolved;
    i.commander = QStringLiteral("ines");
    i.regions = {{QStringLiteral("live"), QStringLiteral("eu-west")}};
    i.startedMs = kT0 + 60 * kMin;
    i.detectedMs = i.startedMs + 4 * kMin;
    i.acknowledgedMs = i.detectedMs + 6 * kMin;
    i.mitigatedMs = i.startedMs + 30 * kMin;
    i.resolvedMs = i.startedMs + 50 * kMin;
    i.summary = QStringLiteral("Players in eu-west saw 300 ms round trips after a snapshot-rate change.");
    i.rootCause = QStringLiteral("snapshot_hz set to 60 on a region sized for 20.");
    i.actionItems = QStringLiteral("- [ ] Cap snapshot_hz per region size\n- [ ] Alert on tick p99");
    r.timeline = {
        {TimelineItem::Kind::Event, i.startedMs - 10 * kMin, QStringLiteral("pat"), QStringLiteral("live/eu-west: snapshot_hz 20 → 60 (\"event prep\")"),
         QStringLiteral("toggle_change"), 0, false},
        {TimelineItem::Kind::Event, i.detectedMs, QStringLiteral("console"), QStringLiteral("live/eu-west: latency SLO burning fast (page)"),
         QStringLiteral("slo_alert_raised"), 0, false},
        {TimelineItem::Kind::Note, i.acknowledgedMs, QStringLiteral("ines"), QStringLiteral("Looking, p99 at 310 ms, | in text,\nsecond line"),
         QStringLiteral("note"), 11, true},
        {TimelineItem::Kind::Change, i.mitigatedMs, QStringLiteral("ines"), QStringLiteral("status: identified → monitoring"), QStringLiteral("status"), 0, false},
    };
    r.playerMinutes = 3000;
    r.exportedMs = kT0 + 2 * 24 * 60 * kMin;
    return r;
}
} // namespace

class TestIncidents : public QObject {
    Q_OBJECT
private slots:
    void notesKeepTheirHistoryAndDeletesAreSoft()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("i.db")));
        QVERIFY(store);
        const auto id = store->createIncident(incidentAt(QStringLiteral("eu-west slow"), kT0, {{QStringLiteral("live"), QStringLiteral("eu-west")}}),
                                              QStringLiteral("ines"), kT0 + kMin);
        QVERIFY2(id > 0, qPrintable(store->lastError()));
        const auto note = store->addNote(id, QStringLiteral("ines"), QStringLiteral("first text"), kT0 + 2 * kMin);
        QVERIFY(note > 0);
        QVERIFY(store->editNote(note, QStringLiteral("omar"), QStringLiteral("second text"), kT0 + 3 * kMin));
        QVERIFY(store->editNote(note, QStringLiteral("ines"), QStringLiteral("third text"), kT0 + 4 * kMin));
        auto notes = store->notes(id);
        QCOMPARE(notes.size(), std::size_t(1));
        QCOMPARE(notes[0].body, QStringLiteral("third text"));
        QCOMPARE(notes[0].editedMs, kT0 + 4 * kMin);
        const auto history = store->noteHistory(note);
        QCOMPARE(history.size(), std::size_t(2));
        QCOMPARE(history[0].body, QStringLiteral("first text"));
        QCOMPARE(history[0].author, QStringLiteral("ines"));
        QCOMPARE(history[1].body, QStringLiteral("second text"));
        QCOMPARE(history[1].author, QStringLiteral("omar"));

        QVERIFY(store->deleteNote(note, QStringLiteral("omar"), kT0 + 5 * kMin));
        QVERIFY(store->notes(id).empty());
        notes = store->notes(id, true);
        QCOMPARE(notes.size(), std::size_t(1));
        QCOMPARE(notes[0].deletedMs, kT0 + 5 * kMin);
        QCOMPARE(notes[0].deletedBy, QStringLiteral("omar"));  // the record says who took it out
        QCOMPARE(notes[0].author, QStringLiteral("ines"));     // and still who wrote it
        QCOMPARE(notes[0].body, QStringLiteral("third text"));  // still there, only marked
        QVERIFY(!store->editNote(note, QStringLiteral("ines"), QStringLiteral("after delete"), kT0 + 6 * kMin));
        QCOMPARE(store->addNote(id, QStringLiteral("ines"), QStringLiteral("   "), kT0), std::int64_t(0));
    }

    void statusAndSeverityChangesAreRecorded()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("i.db")));
        const auto id = store->createIncident(incidentAt(QStringLiteral("x"), kT0, {}), QStringLiteral("ines"), kT0 + kMin);
        QVERIFY(store->setSeverity(id, 1, QStringLiteral("ines"), kT0 + 2 * kMin));
        QVERIFY(store->setStatus(id, Status::Identified, QStringLiteral("omar"), kT0 + 3 * kMin));
        QVERIFY(store->setStatus(id, Status::Monitoring, QStringLiteral("omar"), kT0 + 4 * kMin));
        QVERIFY(store->setStatus(id, Status::Resolved, QStringLiteral("ines"), kT0 + 9 * kMin));
        QVERIFY(!store->setSeverity(id, 5, QStringLiteral("ines"), kT0));
        const auto i = store->incident(id);
        QCOMPARE(i->severity, 1);
        QCOMPARE(i->status, Status::Resolved);
        QCOMPARE(i->acknowledgedMs, kT0 + 3 * kMin);
        QCOMPARE(i->mitigatedMs, kT0 + 4 * kMin);
        QCOMPARE(i->resolvedMs, kT0 + 9 * kMin);
        const auto changes = store->changes(id);
        QStringList lines;
        for (const auto& c : changes)
            lines << QStringLiteral("%1 %2 %3>%4").arg(c.author, c.field, c.oldValue, c.newValue);
        QCOMPARE(lines, (QStringList{QStringLiteral("ines opened >SEV3 investigating"), QStringLiteral("ines severity SEV3>SEV1"),
                                     QStringLiteral("omar status investigating>identified"), QStringLiteral("omar status identified>monitoring"),
                                     QStringLiteral("ines status monitoring>resolved")}));
    }

    void eventsAttachByTimeAndRegion()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("i.db")));
        const RegionRef eu{QStringLiteral("live"), QStringLiteral("eu-west")};
        const RegionRef us{QStringLiteral("live"), QStringLiteral("us-east")};
        const RegionRef all{QStringLiteral("live"), QStringLiteral("*")};
        const RegionRef sandboxEu{QStringLiteral("sandbox"), QStringLiteral("eu-west")};
        const auto event = [](std::int64_t t, RegionRef where, const char* key) {
            return Event{0, t, std::move(where), QStringLiteral("toggle_change"), QStringLiteral("pat"), QString::fromLatin1(key), QString::fromLatin1(key)};
        };
        QVERIFY(store->addEvent(event(kT0 - 10 * kMin, eu, "before, in the lead")));
        QVERIFY(store->addEvent(event(kT0 - 20 * kMin, eu, "too early")));
        QVERIFY(store->addEvent(event(kT0 + 5 * kMin, us, "other region")));
        QVERIFY(store->addEvent(event(kT0 + 6 * kMin, all, "cluster-wide")));
        QVERIFY(store->addEvent(event(kT0 + 7 * kMin, sandboxEu, "other cluster")));
        QVERIFY(store->addEvent(event(kT0 + 8 * kMin, eu, "during")));
        QVERIFY(store->addEvent(event(kT0 + 40 * kMin, eu, "after resolution")));
        QVERIFY(!store->addEvent(event(kT0 + 8 * kMin, eu, "during")));  // the audit stream again after a reconnect: stored once
        Incident i = incidentAt(QStringLiteral("eu"), kT0, {eu});
        i.resolvedMs = kT0 + 30 * kMin;
        i.id = store->createIncident(i, QStringLiteral("ines"), kT0);
        QStringList seen;
        for (const Event& e : store->eventsFor(*store->incident(i.id), kT0 + 60 * kMin))
            seen << e.summary;
        QCOMPARE(seen, (QStringList{QStringLiteral("before, in the lead"), QStringLiteral("cluster-wide"), QStringLiteral("during")}));

        QVERIFY(store->addNote(i.id, QStringLiteral("ines"), QStringLiteral("a note"), kT0 + 7 * kMin));
        const auto timeline = store->timeline(i.id, kT0 + 60 * kMin);
        QStringList order;
        for (const auto& t : timeline)
            order << t.tag;
        QCOMPARE(order, (QStringList{QStringLiteral("toggle_change"), QStringLiteral("opened"), QStringLiteral("toggle_change"), QStringLiteral("note"),
                                     QStringLiteral("toggle_change")}));
    }

    // A team's record on a real PostgreSQL 15 (started here as the postgres user on a free port):
    // the same migrations (two consoles opening a fresh database at once), the same behaviour as
    // the file, and what sharing needs: a postmortem field edited by two commanders never silently
    // overwrites, an audit event captured by several consoles is stored once, two consoles writing
    // notes at once lose nothing.
    void aTeamSharesItsRecordOnPostgres()
    {
        lvtest::Postgres pg;
        QString why;
        QVERIFY2(pg.start(why), qPrintable(why));
        // Two consoles open the empty database at the same moment: one migrates, both work.
        Store::OpenResult first, second;
        std::thread other([&] { second = Store::openServer(pg.server()); });
        first = Store::openServer(pg.server());
        other.join();
        QVERIFY2(first.store, qPrintable(first.error));
        QVERIFY2(second.store, qPrintable(second.error));
        QVERIFY(first.store->shared());
        QCOMPARE(first.store->schemaVersion(), Store::kSchemaVersion);
        Store& ines = *first.store;
        Store& omar = *second.store;

        const auto id = ines.createIncident(incidentAt(QStringLiteral("eu-west slow"), kT0, {{QStringLiteral("live"), QStringLiteral("eu-west")}}),
                                            QStringLiteral("ines"), kT0 + kMin);
        QVERIFY2(id > 0, qPrintable(ines.lastError()));
        QCOMPARE(omar.incident(id)->title, QStringLiteral("eu-west slow"));  // the other console sees it
        const auto note = omar.addNote(id, QStringLiteral("omar"), QStringLiteral("p99 310 ms"), kT0 + 2 * kMin);
        QVERIFY(note > 0);
        QVERIFY(ines.editNote(note, QStringLiteral("ines"), QStringLiteral("p99 310 ms, since 14:02"), kT0 + 3 * kMin));
        QCOMPARE(omar.noteHistory(note).size(), std::size_t{1});
        QVERIFY(omar.setStatus(id, Status::Monitoring, QStringLiteral("omar"), kT0 + 4 * kMin));
        QCOMPARE(ines.incident(id)->status, Status::Monitoring);

        // Both commanders start editing the summary from the same text; the second to save is told.
        QString current;
        QCOMPARE(ines.setTextIf(id, QStringLiteral("summary"), QString(), QStringLiteral("ines's summary"), QStringLiteral("ines"), kT0 + 5 * kMin, current),
                 Store::TextWrite::Written);
        QCOMPARE(omar.setTextIf(id, QStringLiteral("summary"), QString(), QStringLiteral("omar's summary"), QStringLiteral("omar"), kT0 + 5 * kMin, current),
                 Store::TextWrite::Conflict);
        QCOMPARE(current, QStringLiteral("ines's summary"));  // the loser sees the other text, to merge
        QCOMPARE(omar.incident(id)->summary, QStringLiteral("ines's summary"));

        // The same audit entry captured by both consoles (same cluster, same audit id): stored once.
        Event captured{0, kT0 + 3 * kMin, {QStringLiteral("live"), QStringLiteral("eu-west")}, QStringLiteral("toggle_change"),
                       QStringLiteral("pat"), QStringLiteral("snapshot_hz 20 → 60"), QStringLiteral("live:audit:4711")};
        const auto byInes = ines.addEvents({captured}, {{QStringLiteral("live"), 4711, kT0 + 3 * kMin}});
        const auto byOmar = omar.addEvents({captured}, {{QStringLiteral("live"), 4711, kT0 + 3 * kMin}});
        QVERIFY(byInes && byOmar);
        QCOMPARE(byInes->size() + byOmar->size(), std::size_t{1});
        QCOMPARE(ines.events(kT0, kT0 + 10 * kMin).size(), std::size_t{1});
        QVERIFY(ines.recordPlayers({QStringLiteral("live"), QStringLiteral("eu-west")}, kT0, 120));
        QVERIFY(omar.recordPlayers({QStringLiteral("live"), QStringLiteral("eu-west")}, kT0 + 1000, 90));  // the larger count stays
        QCOMPARE(ines.playerMinutes({QStringLiteral("live"), QStringLiteral("eu-west")}, kT0, kT0 + kMin), 120.0);

        // Two consoles writing notes at once: every one arrives.
        std::atomic<int> failures{0};
        auto writer = [&](const QString& who) {
            auto r = Store::openServer(pg.server());
            if (!r.store) {
                ++failures;
                return;
            }
            for (int n = 0; n < 100; ++n) {
                const auto nid = r.store->addNote(id, who, QStringLiteral("%1 %2").arg(who).arg(n), kT0 + n);
                if (nid == 0 || (n % 5 == 0 && !r.store->editNote(nid, who, QStringLiteral("%1 %2 edited").arg(who).arg(n), kT0 + n))) {
                    qWarning("%s: %s", qPrintable(who), qPrintable(r.store->lastError()));
                    ++failures;
                }
            }
        };
        std::thread a(writer, QStringLiteral("ines")), b(writer, QStringLiteral("omar"));
        a.join();
        b.join();
        QCOMPARE(failures.load(), 0);
        QCOMPARE(ines.notes(id).size(), std::size_t{201});
        QCOMPARE(ines.timeline(id, kT0 + 60 * kMin).empty(), false);

        // The team's KPIs come from the shared record: an incident each console opened, both counted,
        // whichever console asks; the same figures from both.
        Incident drops = incidentAt(QStringLiteral("us-east drops"), kT0 + 120 * kMin, {{QStringLiteral("live"), QStringLiteral("us-east")}});
        drops.detectedMs = drops.startedMs + 6 * kMin;
        const auto secondId = omar.createIncident(drops, QStringLiteral("omar"), kT0 + 121 * kMin);
        QVERIFY(secondId > 0);
        QVERIFY(omar.setStatus(secondId, Status::Resolved, QStringLiteral("omar"), kT0 + 150 * kMin));
        const KpiReport fromInes = kpiReport(ines, kT0, kT0 + 1440 * kMin, kT0 + 1440 * kMin, 60 * kMin);
        const KpiReport fromOmar = kpiReport(omar, kT0, kT0 + 1440 * kMin, kT0 + 1440 * kMin, 60 * kMin);
        QCOMPARE(fromInes.overall.incidents, 2);
        QCOMPARE(fromOmar.overall.incidents, 2);
        QCOMPARE(fromInes.overall.mttdMinutes, fromOmar.overall.mttdMinutes);
        QCOMPARE(*fromInes.overall.mttrMinutes, 30.0);  // the resolved one: 120 -> 150 min
        QCOMPARE(fromInes.overall.changes, 1);          // the captured audit entry, stored once

        // The server goes away: calls fail with the reason, and work again once it is back.
        pg.stop();
        QCOMPARE(ines.addNote(id, QStringLiteral("ines"), QStringLiteral("while the server is down"), kT0 + 7 * kMin), std::int64_t{0});
        QVERIFY(!ines.lastError().isEmpty());
        QVERIFY2(pg.restart(why), qPrintable(why));
        auto again = Store::openServer(pg.server());
        QVERIFY2(again.store, qPrintable(again.error));
        QCOMPARE(again.store->notes(id).size(), std::size_t{201});
    }

    void migrationFromEveryEarlierVersionKeepsRows()
    {
        for (int version = 1; version < Store::kSchemaVersion; ++version) {
            QTemporaryDir dir;
            const QString path = dir.filePath(QStringLiteral("old.db"));
            {
                QString error;
                auto old = Store::createAtVersion(path, version, error);
                QVERIFY2(old, qPrintable(error));
                QCOMPARE(old->schemaVersion(), version);
                QSqlQuery q(old->database());
                QVERIFY(q.exec(QStringLiteral("INSERT INTO incidents(id, title, severity, status, commander, started_ms, detected_ms, created_ms)"
                                              " VALUES(1, 'old incident', 2, 'identified', 'ines', 1000, 2000, 3000)")));
                QVERIFY(q.exec(QStringLiteral("INSERT INTO incident_regions VALUES(1, 'live', 'eu-west')")));
                QVERIFY(q.exec(QStringLiteral("INSERT INTO notes(id, incident_id, author, created_ms, body) VALUES(1, 1, 'ines', 4000, 'kept note')")));
                if (version >= 2) {
                    QVERIFY(q.exec(QStringLiteral("INSERT INTO note_revisions VALUES(1, 1, 3500, 'omar', 'older text')")));
                    QVERIFY(q.exec(QStringLiteral("INSERT INTO incident_changes(incident_id, time_ms, author, field, old_value, new_value)"
                                                  " VALUES(1, 3600, 'ines', 'status', 'investigating', 'identified')")));
                }
            }
            auto store = openStore(path);
            QVERIFY(store);
            QCOMPARE(store->schemaVersion(), Store::kSchemaVersion);
            const auto i = store->incident(1);
            QVERIFY(i);
            QCOMPARE(i->title, QStringLiteral("old incident"));
            QCOMPARE(i->status, Status::Identified);
            QCOMPARE(i->regions.size(), std::size_t(1));
            QCOMPARE(i->rootCause, QString());
            const auto notes = store->notes(1);
            QCOMPARE(notes.size(), std::size_t(1));
            QCOMPARE(notes[0].body, QStringLiteral("kept note"));
            QCOMPARE(store->noteHistory(1).size(), std::size_t(version >= 2 ? 1 : 0));
            QCOMPARE(store->changes(1).size(), std::size_t(version >= 2 ? 1 : 0));
            // And the new schema works on the old rows.
            QVERIFY(store->editNote(1, QStringLiteral("ines"), QStringLiteral("new text"), 5000));
            QVERIFY(store->addEvent({0, 1500, {QStringLiteral("live"), QStringLiteral("eu-west")}, QStringLiteral("drill"), QStringLiteral("pat"),
                                     QStringLiteral("drill"), QStringLiteral("k")}));
            QCOMPARE(store->integrityCheck(), QStringLiteral("ok"));
        }
    }

    void damagedOrNewerFilesAreLeftAlone()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("i.db"));
        {
            auto store = openStore(path);
            QVERIFY(store->createIncident(incidentAt(QStringLiteral("x"), kT0, {}), QStringLiteral("ines"), kT0));
            QSqlQuery q(store->database());
            QVERIFY(q.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")));
        }
        // Newer: a future console's schema.
        {
            QString error;
            auto future = Store::createAtVersion(path, Store::kSchemaVersion, error);
            QSqlQuery q(future->database());
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=%1").arg(Store::kSchemaVersion + 1)));
        }
        auto newer = Store::open(path);
        QVERIFY(!newer.store);
        QCOMPARE(newer.problem, Store::OpenProblem::Newer);
        QVERIFY(newer.error.contains(QStringLiteral("newer console")));
        {
            QString error;
            auto back = Store::createAtVersion(path, Store::kSchemaVersion, error);
            QSqlQuery q(back->database());
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=%1").arg(Store::kSchemaVersion)));
            QVERIFY(q.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")));
        }

        // Damaged: scribble over every page but the first (the header stays valid).
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadWrite));
        const qint64 size = file.size();
        QVERIFY(size >= 8192);
        file.seek(4096);
        file.write(QByteArray(size - 4096, '\xA5'));
        file.close();
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray before = file.readAll();
        file.close();
        // A tool that only reads (the export command) leaves it exactly as it is.
        auto refused = Store::open(path, Store::OnDamage::LeaveAlone);
        QVERIFY(!refused.store);
        QCOMPARE(refused.problem, Store::OpenProblem::Damaged);
        QVERIFY(refused.keptCopy.isEmpty());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), before);
        file.close();
        // The console keeps the damaged file byte for byte and goes on with a fresh one.
        auto damaged = Store::open(path);
        QCOMPARE(damaged.problem, Store::OpenProblem::Damaged);
        QVERIFY(damaged.error.contains(QStringLiteral("damaged")));
        QVERIFY(damaged.error.contains(damaged.keptCopy));
        QFile kept(damaged.keptCopy);
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QCOMPARE(kept.readAll(), before);  // never overwritten
        QVERIFY(damaged.store);
        QVERIFY(damaged.store->incidents().empty());
        QVERIFY(damaged.store->createIncident(incidentAt(QStringLiteral("after"), kT0, {}), QStringLiteral("ines"), kT0));

        // Not a database at all.
        const QString junk = dir.filePath(QStringLiteral("junk.db"));
        QFile j(junk);
        QVERIFY(j.open(QIODevice::WriteOnly));
        j.write(QByteArray(8192, 'j'));
        j.close();
        auto notDb = Store::open(junk);
        QCOMPARE(notDb.problem, Store::OpenProblem::Damaged);
        QFile keptJunk(notDb.keptCopy);
        QVERIFY(keptJunk.open(QIODevice::ReadOnly));
        QCOMPARE(keptJunk.readAll(), QByteArray(8192, 'j'));
        QVERIFY(notDb.store);
    }

    // What a crash leaves: recent writes only in the -wal (not yet checkpointed), and the main file
    // damaged. The kept copy is taken before anything writes: the -wal and -shm are kept with it,
    // unchanged, so the recent writes can still be recovered from the copy.
    void aDamagedFileIsKeptWithItsWriteAheadLog()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("crash.db"));
        const QString wal = path + QStringLiteral("-wal");
        QByteArray mainBytes, walBytes;
        {
            auto store = openStore(path);
            for (int i = 0; i < 20; ++i)
                QVERIFY(store->createIncident(incidentAt(QStringLiteral("early %1").arg(i), kT0, {}), QStringLiteral("ines"), kT0));
            {
                QSqlQuery q(store->database());
                QVERIFY(q.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")));
            }
            QVERIFY(store->createIncident(incidentAt(QStringLiteral("only in the wal"), kT0, {}), QStringLiteral("ines"), kT0));
            // The files as a crash at this moment would leave them.
            QFile m(path), w(wal);
            QVERIFY(m.open(QIODevice::ReadOnly) && w.open(QIODevice::ReadOnly));
            mainBytes = m.readAll();
            walBytes = w.readAll();
        }
        QVERIFY(mainBytes.size() >= 8192);
        QVERIFY(!walBytes.isEmpty());
        mainBytes.replace(4096, mainBytes.size() - 4096, QByteArray(mainBytes.size() - 4096, '\xA5'));
        for (auto [name, bytes] : {std::pair{path, mainBytes}, std::pair{wal, walBytes}}) {
            QFile f(name);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            QCOMPARE(f.write(bytes), bytes.size());
        }

        auto opened = Store::open(path);
        QCOMPARE(opened.problem, Store::OpenProblem::Damaged);
        QVERIFY(!opened.keptCopy.isEmpty());
        QFile keptMain(opened.keptCopy), keptWal(opened.keptCopy + QStringLiteral("-wal"));
        QVERIFY(keptMain.open(QIODevice::ReadOnly));
        QCOMPARE(keptMain.readAll(), mainBytes);
        QVERIFY2(keptWal.open(QIODevice::ReadOnly), qPrintable(opened.error));
        QCOMPARE(keptWal.readAll(), walBytes);
        QVERIFY(opened.error.contains(QStringLiteral("-wal")));
        // Capture and notes go on, in a fresh file where the damaged one was.
        QVERIFY(opened.store);
        const auto id = opened.store->createIncident(incidentAt(QStringLiteral("after the crash"), kT0, {}), QStringLiteral("ines"), kT0);
        QVERIFY(id > 0);
        QVERIFY(opened.store->addNote(id, QStringLiteral("ines"), QStringLiteral("still writing"), kT0) > 0);
        QCOMPARE(opened.store->integrityCheck(), QStringLiteral("ok"));
    }

    void twoConsolesShareOneFileAndLoseNothing()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("shared.db"));
        std::int64_t incident = 0;
        {
            auto store = openStore(path);
            incident = store->createIncident(incidentAt(QStringLiteral("shared"), kT0, {}), QStringLiteral("ines"), kT0);
        }
        std::atomic<int> failures{0};
        auto writer = [&](const QString& who) {
            auto store = openStore(path);  // its own connection, in its own thread
            if (!store) {
                ++failures;
                return;
            }
            for (int n = 0; n < 150; ++n) {
                const auto id = store->addNote(incident, who, QStringLiteral("%1 %2").arg(who).arg(n), kT0 + n);
                if (id == 0 || (n % 5 == 0 && !store->editNote(id, who, QStringLiteral("%1 %2 edited").arg(who).arg(n), kT0 + n)))
                    ++failures;
            }
        };
        std::thread a(writer, QStringLiteral("ines")), b(writer, QStringLiteral("omar"));
        a.join();
        b.join();
        QCOMPARE(failures.load(), 0);
        auto store = openStore(path);
        QCOMPARE(store->notes(incident).size(), std::size_t(300));
        QCOMPARE(store->integrityCheck(), QStringLiteral("ok"));
    }

    void killedWriterLosesNoSavedNote()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("crash.db"));
        std::map<std::int64_t, bool> saved;  // note id -> was edited
        auto* rng = QRandomGenerator::global();
        const int rounds = 300;
        for (int round = 0; round < rounds; ++round) {
            QProcess writer;
            writer.start(QStringLiteral(NOTEWRITER_PATH), {path});
            QVERIFY(writer.waitForStarted());
            QVERIFY2(writer.waitForReadyRead(10000), qPrintable(QString::fromUtf8(writer.readAllStandardError())));
            QTest::qWait(static_cast<int>(rng->bounded(40)));  // a random moment mid-write
            writer.kill();  // SIGKILL
            writer.waitForFinished();
            for (const QByteArray& line : writer.readAllStandardOutput().split('\n'))
                if (line.startsWith("saved ")) {
                    const auto parts = line.split(' ');
                    saved[parts[1].toLongLong()] = parts[2] == "1";
                }
        }
        QVERIFY2(saved.size() > std::size_t(rounds), "the writer should have saved notes in most rounds");
        auto store = openStore(path);
        QVERIFY(store);
        QCOMPARE(store->integrityCheck(), QStringLiteral("ok"));
        std::map<std::int64_t, Note> present;
        for (const auto& i : store->incidents())
            for (const Note& n : store->notes(i.id))
                present[n.id] = n;
        int missing = 0, unedited = 0;
        for (const auto& [id, edited] : saved) {
            auto it = present.find(id);
            if (it == present.end())
                ++missing;
            else if (edited && !it->second.body.endsWith(QStringLiteral("(edited)")))
                ++unedited;
        }
        qInfo("%d kills, %zu saves returned, %zu notes present", rounds, saved.size(), present.size());
        QCOMPARE(missing, 0);
        QCOMPARE(unedited, 0);
    }

    void kpiArithmeticMatchesHandComputedValues()
    {
        const RegionRef eu{QStringLiteral("live"), QStringLiteral("eu-west")};
        const RegionRef us{QStringLiteral("live"), QStringLiteral("us-east")};
        const RegionRef all{QStringLiteral("live"), QStringLiteral("*")};
        std::vector<Incident> incidents;
        Incident a = incidentAt(QStringLiteral("A"), kT0 + 60 * kMin, {eu});
        a.detectedMs = a.startedMs + 4 * kMin;
        a.acknowledgedMs = a.detectedMs + 6 * kMin;
        a.mitigatedMs = a.startedMs + 30 * kMin;
        a.resolvedMs = a.startedMs + 50 * kMin;
        Incident b = incidentAt(QStringLiteral("B"), kT0 + 2 * 1440 * kMin, {eu, us});
        b.detectedMs = b.startedMs + 10 * kMin;
        b.acknowledgedMs = b.detectedMs + 2 * kMin;
        b.mitigatedMs = b.startedMs + 20 * kMin;
        b.resolvedMs = b.startedMs + 120 * kMin;
        Incident c = incidentAt(QStringLiteral("C"), kT0 + 5 * 1440 * kMin, {us});  // still open
        c.detectedMs = c.startedMs + 2 * kMin;
        Incident d = incidentAt(QStringLiteral("D"), kT0 - 1440 * kMin, {eu});       // before the period
        d.resolvedMs = d.startedMs + 10 * kMin;
        incidents = {a, b, c, d};
        const auto change = [](std::int64_t t, RegionRef where, const char* kind) {
            return Event{0, t, std::move(where), QString::fromLatin1(kind), QStringLiteral("pat"), QString(), QString()};
        };
        const std::vector<Event> events{
            change(a.startedMs - 10 * kMin, eu, "toggle_change"),   // followed by A: failed
            change(kT0 + 3 * 1440 * kMin, us, "operation"),         // nothing follows
            change(c.startedMs - 30 * kMin, all, "toggle_change"),  // cluster-wide, followed by C: failed
            change(b.startedMs - 10 * kMin, eu, "drill"),           // a drill is not a change
        };
        const auto hundredPlayers = [](const RegionRef&, std::int64_t from, std::int64_t to) { return 100.0 * double(to - from) / double(kMin); };
        const std::int64_t now = c.startedMs + 60 * kMin;
        const KpiReport r = computeKpis(incidents, events, hundredPlayers, kT0, kT0 + 10 * 1440 * kMin, now, 60 * kMin);

        QCOMPARE(r.overall.incidents, 3);
        QCOMPARE(*r.overall.mttdMinutes, (4.0 + 10.0 + 2.0) / 3.0);
        QCOMPARE(*r.overall.mttaMinutes, (6.0 + 2.0) / 2.0);
        QCOMPARE(*r.overall.mttrMinutes, (50.0 + 120.0) / 2.0);
        QCOMPARE(*r.overall.mtbfHours, (14400.0 - (50.0 + 120.0 + 60.0)) / 3.0 / 60.0);
        QCOMPARE(r.overall.changes, 3);
        QCOMPARE(r.overall.failedChanges, 2);
        QCOMPARE(*r.overall.changeFailureRate, 2.0 / 3.0);
        QCOMPARE(r.overall.playerMinutes, 3000.0 + 2 * 2000.0 + 6000.0);

        QCOMPARE(r.regions.size(), std::size_t(2));
        const KpiFigures& euF = r.regions[0];
        QCOMPARE(euF.scope, QStringLiteral("live/eu-west"));
        QCOMPARE(euF.incidents, 2);
        QCOMPARE(*euF.mttdMinutes, 7.0);
        QCOMPARE(*euF.mttaMinutes, 4.0);
        QCOMPARE(*euF.mttrMinutes, 85.0);
        QCOMPARE(*euF.mtbfHours, (14400.0 - 170.0) / 2.0 / 60.0);
        QCOMPARE(euF.changes, 2);
        QCOMPARE(euF.failedChanges, 1);
        QCOMPARE(euF.playerMinutes, 3000.0 + 2000.0);
        const KpiFigures& usF = r.regions[1];
        QCOMPARE(usF.incidents, 2);
        QCOMPARE(*usF.mttdMinutes, 6.0);
        QCOMPARE(*usF.mttaMinutes, 2.0);
        QCOMPARE(*usF.mttrMinutes, 120.0);
        QCOMPARE(*usF.mtbfHours, (14400.0 - 180.0) / 2.0 / 60.0);
        QCOMPARE(usF.changes, 2);
        QCOMPARE(usF.failedChanges, 1);
        QCOMPARE(usF.playerMinutes, 2000.0 + 6000.0);

        // Player-minutes from the store's recorded minutes: partial minutes count by their share.
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("k.db")));
        for (int m = 0; m < 10; ++m)
            QVERIFY(store->recordPlayers(eu, kT0 + m * kMin + 5000, 40 + m));
        QVERIFY(store->recordPlayers(eu, kT0 + 10, 10));  // lower count in the same minute: the larger is kept
        QCOMPARE(store->playerMinutes(eu, kT0, kT0 + 2 * kMin), 40.0 + 41.0);
        QCOMPARE(store->playerMinutes(eu, kT0 + kMin / 2, kT0 + kMin), 20.0);
        QCOMPARE(store->playerMinutes(us, kT0, kT0 + 2 * kMin), 0.0);
    }

    void exportsParseBack()
    {
        const IncidentRecord record = sampleRecord();
        // JSON through a JSON parser.
        QJsonParseError error{};
        const QJsonDocument json = QJsonDocument::fromJson(incidentJson(record), &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        const QJsonObject incident = json.object().value(QStringLiteral("incident")).toObject();
        QCOMPARE(json.object().value(QStringLiteral("format")).toString(), QStringLiteral("lifeverse-incident"));
        QCOMPARE(incident.value(QStringLiteral("title")).toString(), record.incident.title);
        QCOMPARE(incident.value(QStringLiteral("severity")).toString(), QStringLiteral("SEV2"));
        QCOMPARE(incident.value(QStringLiteral("resolved_ms")).toDouble(), double(record.incident.resolvedMs));
        const QJsonArray timeline = json.object().value(QStringLiteral("timeline")).toArray();
        QCOMPARE(timeline.size(), 4);
        QCOMPARE(timeline[2].toObject().value(QStringLiteral("what")).toString(), record.timeline[2].what);
        QCOMPARE(timeline[2].toObject().value(QStringLiteral("edited")).toBool(), true);

        // CSV: quotes, commas and line breaks survive.
        const auto rows = parseCsv(timelineCsv(record));
        QCOMPARE(rows.size(), std::size_t(5));
        QCOMPARE(rows[0], (QStringList{QStringLiteral("time_utc"), QStringLiteral("time_ms"), QStringLiteral("kind"), QStringLiteral("tag"),
                                       QStringLiteral("who"), QStringLiteral("what")}));
        for (std::size_t i = 0; i < record.timeline.size(); ++i) {
            QCOMPARE(rows[i + 1].size(), 6);
            QCOMPARE(rows[i + 1][5], record.timeline[i].what);
            QCOMPARE(rows[i + 1][1].toLongLong(), record.timeline[i].timeMs);
        }
        QCOMPARE(rows[3][0], QStringLiteral("2026-11-01 01:10:00 UTC"));

        // Markdown against the golden file (LV_UPDATE_GOLDEN=1 rewrites it after a deliberate change).
        QFile golden(QStringLiteral(TEST_DATA "/postmortem.md"));
        if (qEnvironmentVariableIsSet("LV_UPDATE_GOLDEN") && golden.open(QIODevice::WriteOnly)) {
            golden.write(postmortemMarkdown(record).toUtf8());
            golden.close();
        }
        QVERIFY(golden.open(QIODevice::ReadOnly));
        QCOMPARE(postmortemMarkdown(record), QString::fromUtf8(golden.readAll()));

        // PDF: pages and text, read back by poppler.
        QTemporaryDir dir;
        const QString pdf = dir.filePath(QStringLiteral("postmortem.pdf"));
        QString problem;
        QVERIFY2(writePdf(pdf, postmortemMarkdown(record), problem), qPrintable(problem));
        const QString info = run(QStringLiteral("pdfinfo"), {pdf});
        QVERIFY2(info.contains(QRegularExpression(QStringLiteral("Pages:\\s+1\\n"))), qPrintable(info));
        const QString text = run(QStringLiteral("pdftotext"), {QStringLiteral("-layout"), pdf, QStringLiteral("-")});
        QVERIFY2(text.contains(QStringLiteral("Postmortem: eu-west latency")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("Root cause")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("snapshot_hz set to 60")));
        QVERIFY(text.contains(QStringLiteral("3000 player-minutes")));

        // A long timeline spills onto more pages.
        IncidentRecord longer = record;
        for (int n = 0; n < 150; ++n)
            longer.timeline.push_back({TimelineItem::Kind::Note, kT0 + n * kMin, QStringLiteral("ines"), QStringLiteral("note number %1").arg(n),
                                       QStringLiteral("note"), 0, false});
        QVERIFY(writePdf(pdf, postmortemMarkdown(longer), problem));
        const QString longInfo = run(QStringLiteral("pdfinfo"), {pdf});
        const auto pages = QRegularExpression(QStringLiteral("Pages:\\s+(\\d+)")).match(longInfo).captured(1).toInt();
        QVERIFY2(pages >= 3, qPrintable(longInfo));
        QVERIFY(run(QStringLiteral("pdftotext"), {pdf, QStringLiteral("-")}).contains(QStringLiteral("note number 149")));
    }

    void exportsNeverCarryALiveFormulaNorAHalfWrittenPdf()
    {
        // Anyone who can write a note, a reason or an audit entry could put a formula in it; the
        // commander opens the CSV in a spreadsheet. Every risky cell shows as text.
        IncidentRecord record = sampleRecord();
        const QStringList hostile{QStringLiteral("=HYPERLINK(\"http://x\",\"click\")"), QStringLiteral("+1+1"), QStringLiteral("-2+3"),
                                  QStringLiteral("@SUM(A1)"), QStringLiteral("\tcmd")};
        for (int i = 0; i < hostile.size() && i < int(record.timeline.size()); ++i)
            record.timeline[static_cast<std::size_t>(i)].what = hostile[i];
        const auto rows = parseCsv(timelineCsv(record));
        for (int i = 0; i < hostile.size() && i < int(record.timeline.size()); ++i)
            QCOMPARE(rows[static_cast<std::size_t>(i) + 1][5], QLatin1Char('\'') + hostile[i]);
        QVERIFY(!rows[1][1].startsWith(QLatin1Char('\'')));  // numbers stay numbers
        // The PDF replaces what was there whole, and leaves nothing else behind.
        QTemporaryDir dir;
        const QString pdf = dir.filePath(QStringLiteral("incident.pdf"));
        {
            QFile old(pdf);
            QVERIFY(old.open(QIODevice::WriteOnly));
            old.write("an older export");
        }
        QString problem;
        QVERIFY2(writePdf(pdf, postmortemMarkdown(record), problem, QPageLayout::Portrait), qPrintable(problem));
        QFile written(pdf);
        QVERIFY(written.open(QIODevice::ReadOnly));
        QVERIFY(written.read(5).startsWith("%PDF"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("incident.pdf")});
        // A folder it cannot write: an error with the path, and the old file (here: none) untouched.
        QVERIFY(!writePdf(QStringLiteral("/proc/no-such-dir/incident.pdf"), postmortemMarkdown(record), problem, QPageLayout::Portrait));
        QVERIFY(problem.contains(QStringLiteral("/proc/no-such-dir/incident.pdf")));
    }

    void kpiReportExportsAsCsvAndPdf()
    {
        KpiReport r;
        r.fromMs = kT0;
        r.toMs = kT0 + 7 * 1440 * kMin;
        r.changeWindowMs = 60 * kMin;
        r.overall = {QStringLiteral("all regions"), 2, 5.0, 3.0, 40.0, 83.5, 4, 1, 0.25, 1234};
        r.regions = {{QStringLiteral("live/eu-west"), 2, 5.0, std::nullopt, 40.0, 83.5, 4, 1, 0.25, 1234}};
        const auto rows = parseCsv(kpiCsv(r));
        QCOMPARE(rows.size(), std::size_t(3));
        QCOMPARE(rows[0][0], QStringLiteral("scope"));
        QCOMPARE(rows[1][0], QStringLiteral("all regions"));
        QCOMPARE(rows[1][6], QStringLiteral("40.0"));
        QCOMPARE(rows[2][5], QString());  // no acknowledgement: empty, not zero
        QCOMPARE(rows[2][10], QStringLiteral("0.250"));
        QTemporaryDir dir;
        const QString pdf = dir.filePath(QStringLiteral("kpi.pdf"));
        QString problem;
        QVERIFY(writePdf(pdf, kpiMarkdown(r), problem, QPageLayout::Landscape));
        const QString text = run(QStringLiteral("pdftotext"), {QStringLiteral("-layout"), pdf, QStringLiteral("-")});
        QVERIFY2(text.contains(QStringLiteral("Reliability report")) && text.contains(QStringLiteral("live/eu-west")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("25 % (1 of 4)")));
    }
};

QTEST_MAIN(TestIncidents)
#include "tst_incidents.moc"
