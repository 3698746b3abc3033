// A real Prometheus (Debian's prometheus, started here on 127.0.0.1 with a temporary data
// directory) scrapes three syncd servers of one fleet region whose players sit on different
// networks (issue 16). The region's p99 over a minute, as Prometheus computes it from the
// servers' syncd_rtt_seconds histograms, is compared with the p99 the console shows for the same
// minute (its merged samples' histograms). Tolerance: Prometheus interpolates linearly inside the
// `le` bucket that holds the p99, so it can be off by at most that bucket's width; the console is
// exact to its histogram's ~1.6 %. The difference is printed.
#include "etcdcluster.h"
#include "syncdprocess.h"

#include "console/session.h"
#include "mainwindow.h"
#include "regionspage.h"
#include "widgets/latencychart.h"
#include "liveops/promexport.h"
#include "synccore/metrics.h"

#include <QComboBox>
#include <QDir>
#include <QJsonArray>
#include <QTableView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QUrlQuery>
#include <QtTest>

#include <deque>

namespace lc = lv::liveops::client;

namespace {
quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

/// GET on the Prometheus HTTP API; the parsed JSON, or an empty object.
QJsonObject getJson(QNetworkAccessManager& http, const QUrl& url)
{
    QNetworkReply* reply = http.get(QNetworkRequest(url));
    if (!QTest::qWaitFor([&] { return reply->isFinished(); }, 10'000))
        return {};
    const QJsonObject out = QJsonDocument::fromJson(reply->readAll()).object();
    reply->deleteLater();
    return out;
}
} // namespace

class TestPrometheus : public QObject {
    Q_OBJECT
    lvtest::EtcdCluster m_etcd;
    std::vector<std::unique_ptr<lv::test::State>> m_states;
    std::vector<std::unique_ptr<lv::test::Syncd>> servers;
    QTemporaryDir data;
    QProcess server;
    QString base;
    QElapsedTimer m_scraping;  // since Prometheus answered ready

private slots:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_etcd.start(1, error), qPrintable(error));
        const QString prometheus = QStandardPaths::findExecutable(QStringLiteral("prometheus"));
        QVERIFY2(!prometheus.isEmpty(), "prometheus is needed (package prometheus; scripts/setup.sh installs it)");

        // Three servers of eu-west, 8 bots each at 10, 40 and 90 ms one-way.
        const QString key = lv::test::randomKeyHex();
        QStringList targets;
        const int delays[] = {10, 40, 90};
        for (int i = 0; i < 3; ++i) {
            m_states.push_back(std::make_unique<lv::test::State>());
            lv::test::State& state = *m_states.back();
            state.write(QStringLiteral("cluster.key"), key);
            state.write(QStringLiteral("syncd.toml"),
                        QStringLiteral("[syncd]\ngrpc_address = \"127.0.0.1:0\"\nmetrics_address = \"127.0.0.1:0\"\n"
                                       "token_file = \"tokens.txt\"\ntoken_key_file = \"cluster.key\"\ntelemetry_interval_ms = 500\n\n"
                                       "[[region]]\nname = \"eu-west\"\nbots = 8\n[region.bot_network]\nlatency_ms = %1\njitter_ms = %2\n\n"
                                       "[fleet]\netcd = [\"%3\"]\nname = \"prom\"\nlease_ttl_s = 3\n")
                            .arg(delays[i])
                            .arg(delays[i] / 5)
                            .arg(QString::fromStdString(m_etcd.url(0))));
            servers.push_back(std::make_unique<lv::test::Syncd>(state.path()));
            QVERIFY2(servers.back()->start({QStringLiteral("--config"), state.path() + QStringLiteral("/syncd.toml"), QStringLiteral("--server-id"),
                                            QStringLiteral("p%1").arg(i)}),
                     qPrintable(servers.back()->log()));
            QString log;
            QVERIFY(QTest::qWaitFor([&] { return (log = servers.back()->log()).contains(QStringLiteral("metrics on http://")); }, 5000));
            const auto at = log.indexOf(QStringLiteral("metrics on http://")) + 18;
            targets << QStringLiteral("'%1'").arg(log.mid(at).section(QLatin1Char('/'), 0, 0));
        }

        // Prometheus, scraping every second.
        const quint16 port = freePort();
        QFile config(data.filePath(QStringLiteral("prometheus.yml")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(QStringLiteral("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                                    "  - job_name: syncd\n    static_configs:\n      - targets: [%1]\n")
                         .arg(targets.join(QStringLiteral(", ")))
                         .toUtf8());
        config.close();
        server.setProcessChannelMode(QProcess::MergedChannels);
        server.start(prometheus, {QStringLiteral("--config.file=") + config.fileName(), QStringLiteral("--storage.tsdb.path=") + data.filePath(QStringLiteral("tsdb")),
                                  QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(port)});
        QVERIFY(server.waitForStarted(5000));
        QNetworkAccessManager http;
        base = QStringLiteral("http://127.0.0.1:%1").arg(port);
        QVERIFY2(QTest::qWaitFor([&] {
            QNetworkReply* ready = http.get(QNetworkRequest(QUrl(base + QStringLiteral("/-/ready"))));
            (void)QTest::qWaitFor([&] { return ready->isFinished(); }, 2000);
            const bool ok = ready->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200;
            ready->deleteLater();
            return ok;
        }, 30'000),
                 qPrintable(QString::fromUtf8(server.readAll())));
        m_scraping.start();
    }

    void cleanupTestCase()
    {
        server.terminate();
        if (!server.waitForFinished(10'000))
            server.kill();
    }

    void prometheusAndTheConsoleAgreeOnARegionsP99()
    {
        QNetworkAccessManager http;
        // The console, attached through the first server; every merged eu-west sample kept.
        lv::console::ConsoleSession session;
        lc::ClientOptions options;
        options.target = "127.0.0.1:" + std::to_string(servers[0]->port());
        options.token = lv::test::kAdmin;
        session.addFleet(QStringLiteral("prom"), options, QStringLiteral("staging"));
        lv::console::Fleet* fleet = session.fleet(QStringLiteral("prom"));
        std::deque<lc::Telemetry> merged;
        connect(fleet, &lv::console::Fleet::telemetryMerged, this, [&](const std::vector<lc::Telemetry>& samples) {
            for (const auto& t : samples)
                if (t.region == "eu-west" && fleet->merge().mergedFrom(QStringLiteral("eu-west")).size() == 3)
                    merged.push_back(t);
        });
        // A minute and a bit of all three servers' players playing.
        QVERIFY(QTest::qWaitFor([&] { return !merged.empty() && merged.back().players == 24; }, 30'000));
        const std::int64_t from = merged.back().timeMs;
        QTest::qWait(62'000);
        const std::int64_t to = merged.back().timeMs;

        // The console's minute: its merged samples in (to - 60 s, to], their histograms merged.
        lv::LatencyHistogram console;
        int windows = 0;
        for (const lc::Telemetry& t : merged)
            if (t.timeMs > to - 60'000 && t.timeMs <= to) {
                std::string why;
                auto h = lv::LatencyHistogram::fromBuckets(t.rttUs, why);
                QVERIFY2(h, why.c_str());
                console.merge(*h);
                ++windows;
            }
        QVERIFY(to - from >= 60'000 && windows >= 100);
        const double consoleP99 = double(console.p99()) / 1e6;

        // Prometheus's, for the minute ending at the same moment.
        QUrlQuery query;
        query.addQueryItem(QStringLiteral("query"),
                           QStringLiteral("histogram_quantile(0.99, sum by (le) (increase(syncd_rtt_seconds_bucket{region=\"eu-west\"}[60s])))"));
        query.addQueryItem(QStringLiteral("time"), QString::number(double(to) / 1000.0, 'f', 3));
        QUrl url(base + QStringLiteral("/api/v1/query"));
        url.setQuery(query);
        const QJsonObject answer = getJson(http, url);
        const QJsonArray result = answer.value(QStringLiteral("data")).toObject().value(QStringLiteral("result")).toArray();
        QVERIFY2(result.size() == 1, QJsonDocument(answer).toJson().constData());
        const double promP99 = result[0].toObject().value(QStringLiteral("value")).toArray()[1].toString().toDouble();

        // The `le` bucket holding the p99 bounds how far Prometheus's interpolation can be off.
        const auto bounds = lv::liveops::PrometheusExporter::rttBounds();
        double lower = 0, upper = bounds.back();
        for (double le : bounds)
            if (le >= consoleP99) {
                upper = le;
                break;
            } else {
                lower = le;
            }
        const double tolerance = (upper - lower) + consoleP99 * 0.016;
        qInfo("eu-west over 3 servers, the minute to %lld: console p99 %.1f ms (%d merged windows), Prometheus p99 %.1f ms; difference %.1f ms, "
              "tolerance %.1f ms (the %g-%g s bucket it falls in, plus the console's 1.6 %%)",
              static_cast<long long>(to), consoleP99 * 1000, windows, promP99 * 1000, (promP99 - consoleP99) * 1000, tolerance * 1000, lower, upper);
        QVERIFY2(std::abs(promP99 - consoleP99) <= tolerance, qPrintable(QStringLiteral("%1 vs %2").arg(promP99).arg(consoleP99)));
        // And both say the far server's players decide it: well above the near servers' own p99s.
        QVERIFY(consoleP99 > 0.15);
    }

    // A console opened during an incident sees what happened before it opened: the last hour and
    // day from Prometheus in the latency views, and the SLO windows covered back as far.
    void aConsoleOpenedLaterSeesThePastFromPrometheus()
    {
        // Prometheus has at least 75 s of the region (the test before takes that long anyway).
        QTest::qWait(static_cast<int>(std::max<qint64>(0, 75'000 - m_scraping.elapsed())));
        lv::console::ConsoleSession session;
        lc::ClientOptions options;
        options.target = "127.0.0.1:" + std::to_string(servers[1]->port());
        options.token = lv::test::kAdmin;
        const std::int64_t opened = QDateTime::currentMSecsSinceEpoch();
        session.addFleet(QStringLiteral("prom"), options, QStringLiteral("staging"));
        session.setPrometheus(QStringLiteral("prom"), QUrl(base));
        QStringList said;
        connect(&session, &lv::console::ConsoleSession::prometheusChanged, this,
                [&](const QString& cluster) { said << session.prometheusState(cluster); });
        QVERIFY2(QTest::qWaitFor([&] { return session.prometheusState(QStringLiteral("prom")) == QStringLiteral("history from Prometheus"); }, 30'000),
                 qPrintable(said.join(QStringLiteral(" | "))));
        QVERIFY2(said.first().startsWith(QStringLiteral("loading history from Prometheus…")), qPrintable(said.join(QStringLiteral(" | "))));

        // The hour view has 10 s points from before the console opened, with the far server's
        // players in its p99; the day view has its 4-minute buckets.
        auto* series = session.history().series(QStringLiteral("prom"), QStringLiteral("eu-west"));
        session.history().setWindow(lv::console::HistoryWindow::OneHour);
        QVERIFY(series->rowCount() >= 6);
        const double firstTime = series->index(0, lv::console::LatencySeriesModel::Time).data().toDouble();
        const double firstP99 = series->index(0, lv::console::LatencySeriesModel::P99).data().toDouble();
        qInfo("the hour view starts %.0f s before the console opened (p99 %.1f ms there, when the first server's players alone "
              "were in); %d points", (double(opened) - firstTime) / 1000.0, firstP99, series->rowCount());
        QVERIFY(firstTime < double(opened) - 50'000);
        double worstBefore = 0;  // the far server's players are in the history's p99 too
        for (int r = 0; r < series->rowCount(); ++r)
            if (series->index(r, lv::console::LatencySeriesModel::Time).data().toDouble() < double(opened))
                worstBefore = std::max(worstBefore, series->index(r, lv::console::LatencySeriesModel::P99).data().toDouble());
        QVERIFY2(worstBefore > 150, qPrintable(QString::number(worstBefore)));
        session.history().setWindow(lv::console::HistoryWindow::Day);
        QVERIFY(series->rowCount() >= 1);
        QVERIFY(series->index(0, lv::console::LatencySeriesModel::Time).data().toDouble() < double(opened));
        // The SLO windows reach back before the console opened.
        const int row = session.regions().rowOf(QStringLiteral("prom"), QStringLiteral("eu-west"));
        QVERIFY(row >= 0);
        QVERIFY2(session.regions().sloAt(row).coverageMs() > 50'000, qPrintable(QString::number(session.regions().sloAt(row).coverageMs())));

        // What the operator sees: the hour view with the minute before the console opened.
        lv::console::MainWindow window(session);
        window.resize(1366, 768);
        window.show();
        window.tabs()->setCurrentWidget(window.regionsPage());
        QTableView* table = window.regionsPage()->table();
        for (int r = 0; r < table->model()->rowCount(); ++r)
            if (table->model()->index(r, lv::console::RegionModel::Region).data().toString() == QStringLiteral("eu-west"))
                table->selectRow(r);
        for (QComboBox* box : window.regionsPage()->findChildren<QComboBox*>())
            if (box->accessibleName() == QStringLiteral("Chart window"))
                box->setCurrentIndex(1);  // last hour
        QTest::qWait(1500);
        QDir().mkpath(QStringLiteral(SCREENSHOT_DIR));
        QVERIFY(window.grab().save(QStringLiteral(SCREENSHOT_DIR "/prometheus-history.png")));

        // A Prometheus that is not there: said so, plainly; the live views go on.
        lv::console::ConsoleSession alone;
        alone.addFleet(QStringLiteral("prom"), options, QStringLiteral("staging"));
        alone.setPrometheus(QStringLiteral("prom"), QUrl(QStringLiteral("http://127.0.0.1:%1").arg(freePort())));
        QVERIFY(QTest::qWaitFor([&] { return alone.prometheusState(QStringLiteral("prom")).contains(QStringLiteral("cannot be reached")); }, 30'000));
        qInfo("with Prometheus down: %s", qPrintable(alone.prometheusState(QStringLiteral("prom"))));
    }
};

QTEST_MAIN(TestPrometheus)
#include "tst_prometheus.moc"
