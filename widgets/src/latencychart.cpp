#include "widgets/latencychart.h"
#include "widgets/tones.h"

#include <QAbstractItemModel>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QLineSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace lv::widgets {

namespace {
// Red is kept for the SLO line.
const QColor kPalette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd),
                           QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2), QColor(0x17, 0xbe, 0xcf), QColor(0x7f, 0x7f, 0x7f)};
const Qt::PenStyle kStyles[] = {Qt::DotLine, Qt::DashLine, Qt::SolidLine};  // p50, p95, p99
const char* const kNames[] = {"p50", "p95", "p99"};
} // namespace

LatencyChart::LatencyChart(QWidget* parent) : QChartView(parent), m_threshold(new QLineSeries), m_time(new QDateTimeAxis), m_latency(new QValueAxis)
{
    auto* chart = new QChart;
    chart->setTheme(isDark(palette()) ? QChart::ChartThemeDark : QChart::ChartThemeLight);  // before any series: it recolours them
    chart->setTitle(tr("Round-trip time"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->addAxis(m_time, Qt::AlignBottom);
    chart->addAxis(m_latency, Qt::AlignLeft);
    m_time->setFormat(QStringLiteral("HH:mm:ss"));
    m_time->setTitleText(tr("time"));
    m_latency->setTitleText(tr("ms"));
    m_latency->setLabelFormat(QStringLiteral("%.0f"));
    m_threshold->setName(tr("SLO %1 ms").arg(m_thresholdMs));
    QPen pen(Qt::red);
    pen.setWidth(2);
    pen.setStyle(Qt::DashDotLine);
    m_threshold->setPen(pen);
    chart->addSeries(m_threshold);
    m_threshold->attachAxis(m_time);
    m_threshold->attachAxis(m_latency);
    QChart* made = QChartView::chart();  // QChartView makes one of its own, and setChart() lets go of it
    setChart(chart);
    delete made;
    setRenderHint(QPainter::Antialiasing, false);  // 24 antialiased polylines cost half a frame
    setAccessibleName(tr("Latency chart"));
    m_refresh.setSingleShot(true);
    m_refresh.setInterval(100);
    connect(&m_refresh, &QTimer::timeout, this, &LatencyChart::refresh);
    refresh();
}

void LatencyChart::addSeries(const QString& name, QAbstractItemModel* model)
{
    Region region{name, model, {}};
    const QColor colour = kPalette[m_regions.size() % std::size(kPalette)];
    for (int p = 0; p < 3; ++p) {
        auto* line = new QLineSeries;
        line->setName(QStringLiteral("%1 %2").arg(name, QLatin1String(kNames[p])));
        QPen pen(colour);
        pen.setWidth(p == 2 ? 2 : 1);
        pen.setStyle(kStyles[p]);
        line->setPen(pen);
        chart()->addSeries(line);
        line->attachAxis(m_time);
        line->attachAxis(m_latency);
        line->setVisible(m_visible[p]);
        connect(line, &QLineSeries::hovered, this, [this, line](const QPointF& point, bool state) {
            if (!state) {
                QToolTip::hideText();
                return;
            }
            QToolTip::showText(QCursor::pos(), tr("%1\n%2\n%3 ms")
                                                   .arg(line->name(),
                                                        QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(point.x())).toString(QStringLiteral("HH:mm:ss")))
                                                   .arg(point.y(), 0, 'f', 2),
                               this);
        });
        region.lines[p] = line;
    }
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(model, signal, this, &LatencyChart::scheduleRefresh);
    connect(model, &QAbstractItemModel::modelReset, this, &LatencyChart::scheduleRefresh);
    connect(model, &QAbstractItemModel::dataChanged, this, &LatencyChart::scheduleRefresh);
    m_regions.push_back(region);
    scheduleRefresh();
}

void LatencyChart::clearSeries()
{
    for (Region& r : m_regions) {
        disconnect(r.model, nullptr, this, nullptr);
        for (QLineSeries* line : r.lines) {
            chart()->removeSeries(line);
            delete line;
        }
    }
    m_regions.clear();
    refresh();
}

void LatencyChart::setThreshold(double ms)
{
    m_thresholdMs = ms;
    m_threshold->setName(tr("SLO %1 ms").arg(ms));
    const double from = static_cast<double>(m_time->min().toMSecsSinceEpoch());
    const double to = static_cast<double>(m_time->max().toMSecsSinceEpoch());
    m_threshold->replace(QList<QPointF>{{from, ms}, {to, ms}});
    scheduleRefresh();
}

void LatencyChart::setPercentilesVisible(bool p50, bool p95, bool p99)
{
    m_visible[0] = p50;
    m_visible[1] = p95;
    m_visible[2] = p99;
    for (Region& r : m_regions)
        for (int p = 0; p < 3; ++p)
            r.lines[p]->setVisible(m_visible[p]);
    scheduleRefresh();
}

void LatencyChart::scheduleRefresh()
{
    if (!m_refresh.isActive())
        m_refresh.start();
}

void LatencyChart::refresh()
{
    m_refresh.stop();  // this refresh answers any pending request
    double first = 0, last = 0;
    bool any = false;
    for (const Region& r : m_regions) {
        const int rows = r.model->rowCount();
        if (rows == 0)
            continue;
        const double a = r.model->index(0, 0).data().toDouble();
        const double b = r.model->index(rows - 1, 0).data().toDouble();
        first = any ? std::min(first, a) : a;
        last = any ? std::max(last, b) : b;
        any = true;
    }
    if (!any) {
        last = static_cast<double>(QDateTime::currentMSecsSinceEpoch());
        first = last - 60'000;
    }
    if (last - first < 10'000)
        first = last - 10'000;
    // Axis ranges move in steps (5 s, 25 ms): a range change re-lays out every line, so it should
    // not happen on every refresh.
    first = std::floor(first / 5'000) * 5'000;
    last = std::ceil(last / 5'000) * 5'000;
    // One point per column of pixels and line: the highest value in the column.
    const int columns = std::max(50, static_cast<int>(chart()->plotArea().width() / 4));  // a point per 4 px: the line still reads as a line
    const double perColumn = (last - first) / columns;
    double top = m_thresholdMs * 1.2;
    QList<QPointF> points[3];
    for (Region& r : m_regions) {
        const int rows = r.model->rowCount();
        for (auto& list : points) {
            list.clear();
            list.reserve(std::min(rows, columns + 1));
        }
        int column = -1;
        for (int row = 0; row < rows; ++row) {
            const double x = r.model->index(row, 0).data().toDouble();
            const int c = static_cast<int>((x - first) / perColumn);
            for (int p = 0; p < 3; ++p) {
                const double y = r.model->index(row, p + 1).data().toDouble();
                if (c != column)
                    points[p].append(QPointF(x, y));
                else if (y > points[p].back().y())
                    points[p].back() = QPointF(x, y);
            }
            column = c;
        }
        for (int p = 0; p < 3; ++p) {
            r.lines[p]->replace(points[p]);
            if (m_visible[p])
                for (const QPointF& point : points[p])
                    top = std::max(top, point.y() * 1.1);
        }
    }
    top = std::ceil(top / 25.0) * 25.0;
    const QDateTime from = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(first));
    const QDateTime to = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(last));
    if (m_time->min() != from || m_time->max() != to) {
        m_time->setRange(from, to);
        m_threshold->replace(QList<QPointF>{{first, m_thresholdMs}, {last, m_thresholdMs}});
    }
    if (m_latency->max() != top)
        m_latency->setRange(0, top);
}

double LatencyChart::maxP99Since(const QString& name, double sinceMs) const
{
    double best = 0;
    for (const Region& r : m_regions)
        if (r.name == name)
            for (QPointF point : r.lines[2]->points())
                if (point.x() >= sinceMs)
                    best = std::max(best, point.y());
    return best;
}

} // namespace lv::widgets
