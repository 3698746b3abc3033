#pragma once

#include "console/latencyhistory.h"

#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QUrl>

#include <map>
#include <memory>
#include <vector>

namespace lv::console {

/// A cluster's past from its Prometheus, asked for once at connect so that someone opening the
/// console during an incident sees the day before it, not only the minutes since: each region's
/// RTT p50/p95/p99 (from syncd_rtt_seconds, merged over the region's servers) per minute for the
/// last 24 h and per 10 s for the last hour, and its p99 per minute for the last 3 days (the SLO's
/// longest window). Queries go through Qt Network, asynchronously on this object's thread; answers
/// come as signals. One fetch per cluster at a time.
class PrometheusHistory : public QObject {
    Q_OBJECT
public:
    static constexpr int kQueries = 6;

    explicit PrometheusHistory(QObject* parent = nullptr);
    ~PrometheusHistory() override;
    /// Starts (or restarts) the fetch of `regions` of `cluster` from `base` (http://host:9090),
    /// history up to `nowMs`.
    void fetch(const QString& cluster, const QUrl& base, const QStringList& regions, std::int64_t nowMs);
    void cancel(const QString& cluster);
    bool busy(const QString& cluster) const { return m_fetches.count(cluster) > 0; }

    /// The PromQL of one query (for the docs and tests).
    static QString quantileQuery(double q, const QStringList& regions);

signals:
    void progress(const QString& cluster, int done, int total);
    /// One region's points for one view (FiveMinutes is never sent: the live samples cover it).
    void history(const QString& cluster, const QString& region, lv::console::HistoryWindow window,
                 const std::vector<lv::console::LatencySeriesModel::HistoryPoint>& points);
    /// The region's p99 per minute over the last 3 days, for its SLO windows.
    void sloHistory(const QString& cluster, const QString& region, const std::vector<std::pair<std::int64_t, double>>& p99Ms);
    /// Done: `error` says why not (Prometheus down, a query refused), empty when all arrived.
    void finished(const QString& cluster, const QString& error);

private:
    struct Fetch;
    void answered(const QString& cluster, int query, QNetworkReply* reply);
    void complete(const QString& cluster);

    QNetworkAccessManager m_http;
    std::map<QString, std::unique_ptr<Fetch>> m_fetches;
};

} // namespace lv::console
