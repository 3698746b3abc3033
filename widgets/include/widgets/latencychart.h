#pragma once

#include <QPen>
#include <QTimeZone>
#include <QTimer>
#include <QWidget>

#include <functional>
#include <vector>

class QAbstractItemModel;
class QToolButton;

namespace lv::widgets {

/// A change drawn on the chart at the moment it took effect (a toggle change, drain, failover,
/// drill); hovering it says who made it, what it was and why.
struct ChartMark {
    qint64 timeMs = 0;
    QString who, what, why;
};

/// Latency over time for one or more regions: p50, p95 and p99 lines per region (one colour per
/// region, dash style per percentile, both shown in the legend), the SLO threshold and the changes
/// made meanwhile. Fed by table models with columns time (ms since the epoch), p50, p95, p99 — the
/// same models a table would show.
///
/// Live, the right edge is now and the chart shows the last `span`; a step between two samples
/// longer than the gap limit is drawn as a gap, so a cluster that stopped reporting shows as one.
/// Dragging across the plot zooms to that time range (live updates stop moving it) until "Back to
/// live" (or Escape, or a double click). Tick values are round (1, 2, 2.5, 5 × 10ⁿ ms; whole
/// seconds, minutes, hours in the chosen time zone, named in the axis title).
///
/// Model changes only mark the chart stale; at most 10 times a second it re-reads the models and
/// keeps at most one point per 2-pixel column per line (the highest value in it, so spikes stay
/// visible). The solid p99 lines are antialiased; the thin dotted and dashed ones are not (an
/// antialiased dash costs the raster engine several times a solid line), which keeps eight
/// overlaid regions within a frame.
class LatencyChart : public QWidget {
    Q_OBJECT
public:
    explicit LatencyChart(QWidget* parent = nullptr);

    /// Adds a region's model (not owned; must outlive the chart or be removed first).
    void addSeries(const QString& name, QAbstractItemModel* model);
    void clearSeries();
    void setThreshold(double ms);
    /// Which percentiles to draw (p50, p95, p99).
    void setPercentilesVisible(bool p50, bool p95, bool p99);
    /// The live view shows the last `spanMs`; samples further apart than `gapMs` (or than three
    /// times a region's usual spacing, whichever is longer) are not joined.
    void setSpan(qint64 spanMs, qint64 gapMs);
    /// The zone the time labels are in; the axis title names it.
    void setTimeZone(const QTimeZone& zone);
    void setMarks(std::vector<ChartMark> marks);
    /// Where "now" comes from (tests); by default the system clock.
    void setClock(std::function<qint64()> now);

    /// Shows [fromMs, toMs] and stops following now.
    void zoomTo(qint64 fromMs, qint64 toMs);
    void backToLive();
    bool isLive() const { return m_live; }
    /// The time range shown (ms since the epoch).
    qint64 fromMs() const { return m_from; }
    qint64 toMs() const { return m_to; }

    int seriesCount() const { return static_cast<int>(m_regions.size()); }
    QStringList seriesNames() const;
    const std::vector<ChartMark>& marks() const { return m_marks; }
    /// Redraws now (normally at most 10 times a second, after the models changed).
    void refreshNow() { refresh(); }
    /// Highest p99 currently plotted for `name` after `sinceMs` (tests and accessibility summary).
    double maxP99Since(const QString& name, double sinceMs) const;
    /// How many separate pieces the line of `name`'s percentile (0 = p50, 1 = p95, 2 = p99) is
    /// drawn in: 1 without gaps.
    int pieces(const QString& name, int percentile) const;
    /// The tick values of the axes, and the time axis's title.
    const std::vector<double>& latencyTicks() const { return m_yTicks; }
    const std::vector<qint64>& timeTicks() const { return m_xTicks; }
    QString timeLabel(qint64 ms) const;
    QString timeAxisTitle() const;
    /// The legend's entries as drawn: each with its pen.
    struct LegendEntry {
        QString text;
        QPen pen;
    };
    std::vector<LegendEntry> legend() const;
    /// Where `ms` lies on the widget (x), and what hovering at `at` shows (empty: nothing there).
    double xFor(qint64 ms) const;
    double yFor(double value) const;
    QString toolTipAt(QPoint at) const;

    QSize sizeHint() const override { return {640, 320}; }
    QSize minimumSizeHint() const override { return {320, 200}; }

signals:
    /// The chart started or stopped following now.
    void liveChanged(bool live);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;
    bool event(QEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    struct Region {
        QString name;
        QAbstractItemModel* model;
        QColor colour;
        std::vector<std::vector<QPointF>> pieces[3];  // (time ms, value) per percentile, split at gaps
    };
    void scheduleRefresh();
    void refresh();
    void layoutPlot();
    void placeLiveButton();
    QPen percentilePen(const QColor& colour, int percentile) const;
    QPen thresholdPen() const;
    QPen markPen() const;
    qint64 timeAt(double x) const;

    std::vector<Region> m_regions;
    std::vector<ChartMark> m_marks;
    double m_thresholdMs = 150.0;
    bool m_visible[3] = {true, true, true};
    qint64 m_spanMs = 5 * 60'000, m_gapMs = 3'000;
    QTimeZone m_zone = QTimeZone::utc();
    std::function<qint64()> m_now;
    bool m_live = true;
    qint64 m_from = 0, m_to = 0;  // shown time range
    double m_top = 100;           // shown latency range is [0, m_top]
    std::vector<double> m_yTicks;
    std::vector<qint64> m_xTicks;
    qint64 m_xStep = 60'000;
    QRectF m_plot;    // the plot area, in widget coordinates
    int m_legendTop = 0;
    double m_dragFrom = -1, m_dragTo = -1;  // a zoom being dragged (x), or -1
    QTimer m_refresh;                       // after model changes: at most 10 redraws a second
    QTimer m_follow;                        // live: the right edge moves with now
    QToolButton* m_liveButton;
};

} // namespace lv::widgets
