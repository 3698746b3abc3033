#pragma once

#include "liveops/client.h"

#include <QAbstractTableModel>

#include <deque>
#include <vector>
#include <map>
#include <memory>

namespace lv::console {

enum class HistoryWindow { FiveMinutes, OneHour, Day };

/// One region's latency over time, as a table a chart maps (QVXYModelMapper): columns time (ms
/// since the epoch), p50, p95, p99. Three tiers keep memory bounded however long it runs:
/// 1-second buckets for 5 minutes (300), 10-second buckets for an hour (360), 4-minute buckets for
/// a day (360). A bucket holds the mean p50 and the highest p95 and p99 of its samples, so
/// downsampling never hides a spike; at syncd's default interval (1 s) the first tier holds every
/// sample. The newest bucket is shown while it fills (its last row changes until the bucket is
/// complete), so the 1 h and 24 h views reach the latest sample. The model shows one tier, chosen
/// by setWindow().
class LatencySeriesModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Time, P50, P95, P99, ColumnCount };

    explicit LatencySeriesModel(QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void append(std::int64_t timeMs, double p50, double p95, double p99);
    /// History from before the live samples (Prometheus, at connect): points oldest first, each
    /// already a `window` bucket's figures. Only what is older than the tier's oldest point is
    /// taken, and the tier's cap still holds (the oldest go first).
    struct HistoryPoint {
        std::int64_t timeMs;
        double p50, p95, p99;
    };
    void backfill(HistoryWindow window, const std::vector<HistoryPoint>& points);
    void setWindow(HistoryWindow window);
    HistoryWindow window() const { return m_window; }
    std::size_t pointsKept() const;
    std::int64_t newestMs() const { return m_newestMs; }

private:
    struct Point {
        std::int64_t timeMs;
        double p50, p95, p99;
    };
    struct Bucket {
        std::int64_t start = -1;
        int count = 0;
        double sum50 = 0, max95 = 0, max99 = 0;
    };
    struct Tier {
        std::int64_t bucketMs;
        std::size_t cap;
        std::deque<Point> points;
        Bucket pending;
    };
    void push(int tier, const Point& p);
    /// The row of the bucket still filling, if the tier has one.
    static Point partial(const Tier& t, std::int64_t newestMs);
    Tier& shown() { return m_tiers[static_cast<int>(m_window)]; }
    const Tier& shown() const { return m_tiers[static_cast<int>(m_window)]; }

    Tier m_tiers[3];
    HistoryWindow m_window = HistoryWindow::FiveMinutes;
    std::int64_t m_newestMs = 0;
};

/// The latency history of every region of every cluster.
class LatencyHistory : public QObject {
    Q_OBJECT
public:
    explicit LatencyHistory(QObject* parent = nullptr) : QObject(parent) {}
    /// The region's series (created empty the first time).
    LatencySeriesModel* series(const QString& cluster, const QString& region);
    void append(const QString& cluster, const std::vector<liveops::client::Telemetry>& samples);
    void setWindow(HistoryWindow window);
    HistoryWindow window() const { return m_window; }
    std::size_t pointsKept() const;

signals:
    void seriesAdded(const QString& cluster, const QString& region);

private:
    std::map<std::pair<QString, QString>, LatencySeriesModel*> m_series;  // children of this
    HistoryWindow m_window = HistoryWindow::FiveMinutes;
};

} // namespace lv::console
