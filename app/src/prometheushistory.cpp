#include "console/prometheushistory.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QUrlQuery>

#include <cmath>

namespace lv::console {

namespace {
constexpr std::int64_t kMinute = 60'000, kHour = 60 * kMinute, kDay = 24 * kHour;

struct Query {
    double quantile;
    std::int64_t spanMs;
    int stepSeconds;
};
// 0: p99 over the SLO's longest window (3 d) per minute; 1-2: p50, p95 over a day per minute;
// 3-5: p50, p95, p99 over the last hour per 10 s.
constexpr Query kQueryPlan[PrometheusHistory::kQueries] = {
    {0.99, 3 * kDay, 60}, {0.50, kDay, 60}, {0.95, kDay, 60}, {0.50, kHour, 10}, {0.95, kHour, 10}, {0.99, kHour, 10},
};

using Series = std::map<std::int64_t, double>;  // time (ms) -> value (ms)
} // namespace

struct PrometheusHistory::Fetch {
    QUrl base;
    QStringList regions;
    std::int64_t nowMs = 0;
    std::vector<QPointer<QNetworkReply>> replies;
    std::map<QString, Series> results[kQueries];  // per query: region -> series
    int done = 0;
};

PrometheusHistory::PrometheusHistory(QObject* parent) : QObject(parent) {}

PrometheusHistory::~PrometheusHistory()
{
    for (auto& [cluster, fetch] : m_fetches)
        for (auto& reply : fetch->replies)
            if (reply && reply->isRunning())
                reply->abort();
}

QString PrometheusHistory::quantileQuery(double q, const QStringList& regions)
{
    // The regions as an anchored regex inside a PromQL string: regex-escaped, then each
    // backslash doubled for the string literal.
    QStringList escaped;
    for (const QString& r : regions)
        escaped << QRegularExpression::escape(r).replace(QLatin1Char('\\'), QStringLiteral("\\\\"));
    return QStringLiteral("histogram_quantile(%1, sum by (le, region) (rate(syncd_rtt_seconds_bucket{region=~\"%2\"}[1m])))")
        .arg(q)
        .arg(escaped.join(QLatin1Char('|')));
}

void PrometheusHistory::fetch(const QString& cluster, const QUrl& base, const QStringList& regions, std::int64_t nowMs)
{
    cancel(cluster);
    auto fetch = std::make_unique<Fetch>();
    fetch->base = base;
    fetch->regions = regions;
    fetch->nowMs = nowMs;
    Fetch* f = fetch.get();
    m_fetches[cluster] = std::move(fetch);
    for (int i = 0; i < kQueries; ++i) {
        const Query& q = kQueryPlan[i];
        QUrl url = base;
        url.setPath(base.path() + QStringLiteral("/api/v1/query_range"));
        QUrlQuery params;
        params.addQueryItem(QStringLiteral("query"), quantileQuery(q.quantile, regions));
        params.addQueryItem(QStringLiteral("start"), QString::number(double(nowMs - q.spanMs) / 1000.0, 'f', 3));
        params.addQueryItem(QStringLiteral("end"), QString::number(double(nowMs) / 1000.0, 'f', 3));
        params.addQueryItem(QStringLiteral("step"), QString::number(q.stepSeconds));
        url.setQuery(params);
        QNetworkRequest request(url);
        request.setTransferTimeout(30'000);
        QNetworkReply* reply = m_http.get(request);
        f->replies.emplace_back(reply);
        connect(reply, &QNetworkReply::finished, this, [this, cluster, i, reply] { answered(cluster, i, reply); });
    }
    emit progress(cluster, 0, kQueries);
}

void PrometheusHistory::cancel(const QString& cluster)
{
    auto it = m_fetches.find(cluster);
    if (it == m_fetches.end())
        return;
    std::unique_ptr<Fetch> going = std::move(it->second);
    m_fetches.erase(it);
    for (auto& reply : going->replies)
        if (reply && reply->isRunning())
            reply->abort();  // their finished() finds no fetch and only cleans up
}

void PrometheusHistory::answered(const QString& cluster, int query, QNetworkReply* reply)
{
    reply->deleteLater();
    auto it = m_fetches.find(cluster);
    if (it == m_fetches.end() || std::find(it->second->replies.begin(), it->second->replies.end(), reply) == it->second->replies.end())
        return;  // cancelled or superseded
    Fetch& f = *it->second;
    QString error;
    const QJsonObject answer = QJsonDocument::fromJson(reply->readAll()).object();
    if (reply->error() != QNetworkReply::NoError && answer.isEmpty())
        error = tr("Prometheus at %1 cannot be reached: %2").arg(f.base.toString(), reply->errorString());
    else if (answer.value(QStringLiteral("status")).toString() != QLatin1String("success"))
        error = tr("Prometheus at %1 refused the history query: %2")
                    .arg(f.base.toString(), answer.value(QStringLiteral("error")).toString(reply->errorString()));
    if (!error.isEmpty()) {
        cancel(cluster);
        emit finished(cluster, error);
        return;
    }
    for (const QJsonValue& one : answer.value(QStringLiteral("data")).toObject().value(QStringLiteral("result")).toArray()) {
        const QString region = one.toObject().value(QStringLiteral("metric")).toObject().value(QStringLiteral("region")).toString();
        if (!f.regions.contains(region))
            continue;  // not asked for; never trusted
        Series& series = f.results[query][region];
        for (const QJsonValue& point : one.toObject().value(QStringLiteral("values")).toArray()) {
            const QJsonArray pair = point.toArray();
            const double seconds = pair.at(1).toString().toDouble();
            if (pair.size() == 2 && std::isfinite(seconds) && seconds >= 0 && seconds < 600)
                series[static_cast<std::int64_t>(std::llround(pair.at(0).toDouble() * 1000.0))] = seconds * 1000.0;
        }
    }
    ++f.done;
    emit progress(cluster, f.done, kQueries);
    if (f.done == kQueries)
        complete(cluster);
}

void PrometheusHistory::complete(const QString& cluster)
{
    std::unique_ptr<Fetch> f = std::move(m_fetches[cluster]);
    m_fetches.erase(cluster);
    // Points for a view, in that view's buckets (p50: mean; p95, p99: max, as the live buckets).
    const auto bucketed = [](const Series& p50, const Series& p95, const Series& p99, std::int64_t bucketMs, std::int64_t fromMs) {
        std::vector<LatencySeriesModel::HistoryPoint> out;
        std::int64_t start = -1;
        int n = 0;
        LatencySeriesModel::HistoryPoint acc{};
        const auto flush = [&] {
            if (n > 0)
                out.push_back({start + bucketMs / 2, acc.p50 / n, acc.p95, acc.p99});
        };
        for (const auto& [t, v50] : p50) {
            const auto a95 = p95.find(t), a99 = p99.find(t);
            if (t < fromMs || a95 == p95.end() || a99 == p99.end())
                continue;
            const std::int64_t s = t - t % bucketMs;
            if (s != start) {
                flush();
                start = s;
                n = 0;
                acc = {};
            }
            ++n;
            acc.p50 += v50;
            acc.p95 = std::max(acc.p95, a95->second);
            acc.p99 = std::max(acc.p99, a99->second);
        }
        flush();
        return out;
    };
    for (const QString& region : f->regions) {
        auto& r = f->results;
        emit history(cluster, region, HistoryWindow::Day, bucketed(r[1][region], r[2][region], r[0][region], 240'000, f->nowMs - kDay));
        emit history(cluster, region, HistoryWindow::OneHour, bucketed(r[3][region], r[4][region], r[5][region], 10'000, f->nowMs - kHour));
        std::vector<std::pair<std::int64_t, double>> slo(r[0][region].begin(), r[0][region].end());
        emit sloHistory(cluster, region, slo);
    }
    emit finished(cluster, {});
}

} // namespace lv::console
