#pragma once

#include <QChartView>
#include <QTimer>

#include <vector>

class QAbstractItemModel;
class QDateTimeAxis;
class QLineSeries;
class QValueAxis;

namespace lv::widgets {

/// Latency over time for one or more regions: p50, p95 and p99 lines per region (one colour per
/// region, dash style per percentile) and the SLO threshold. Fed by table models with columns
/// time (ms since the epoch), p50, p95, p99 — the same models a table would show. Model changes
/// only mark the chart stale; at most 10 times a second it re-reads the models and draws at most
/// one point per pixel column per line (the highest value in that column, so spikes stay
/// visible), which keeps 64 overlaid regions within a frame. Hovering a line shows its value.
class LatencyChart : public QChartView {
    Q_OBJECT
public:
    explicit LatencyChart(QWidget* parent = nullptr);

    /// Adds a region's model (not owned; must outlive the chart or be removed first).
    void addSeries(const QString& name, QAbstractItemModel* model);
    void clearSeries();
    void setThreshold(double ms);
    /// Which percentiles to draw (p50, p95, p99).
    void setPercentilesVisible(bool p50, bool p95, bool p99);
    int seriesCount() const { return static_cast<int>(m_regions.size()); }
    /// Redraws now (normally at most 10 times a second, after the models changed).
    void refreshNow() { refresh(); }
    /// Highest p99 currently plotted for `name` after `sinceMs` (tests and accessibility summary).
    double maxP99Since(const QString& name, double sinceMs) const;

private:
    struct Region {
        QString name;
        QAbstractItemModel* model;
        QLineSeries* lines[3];
    };
    void scheduleRefresh();
    void refresh();

    std::vector<Region> m_regions;
    QLineSeries* m_threshold;
    QDateTimeAxis* m_time;
    QValueAxis* m_latency;
    double m_thresholdMs = 150.0;
    bool m_visible[3] = {true, true, true};
    QTimer m_refresh;
};

} // namespace lv::widgets
