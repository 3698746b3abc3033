#include "widgets/latencychart.h"
#include "widgets/tones.h"

#include <QAbstractItemModel>
#include <QDateTime>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolButton>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace lv::widgets {

namespace {
// Red is kept for the SLO line.
const QColor kPalette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd),
                           QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2), QColor(0x17, 0xbe, 0xcf), QColor(0x7f, 0x7f, 0x7f)};
const Qt::PenStyle kStyles[] = {Qt::DotLine, Qt::DashLine, Qt::SolidLine};  // p50, p95, p99
const char* const kNames[] = {"p50", "p95", "p99"};
// Time-axis steps: whole seconds, minutes and hours, so that ticks fall on round times.
constexpr qint64 kTimeSteps[] = {1'000,     2'000,     5'000,     10'000,    15'000,     30'000,     60'000,     120'000,   300'000,
                                 600'000,   900'000,   1'800'000, 3'600'000, 7'200'000, 10'800'000, 21'600'000, 43'200'000, 86'400'000};
constexpr int kColumnPx = 2;     // one point per this many pixels and line
constexpr int kSample = 28;      // legend: length of a line sample
constexpr int kMarkHoverPx = 4;  // how near a change mark the pointer must be
constexpr int kLineHoverPx = 8;

/// A round step for about `target` intervals over [0, range]: 1, 2, 2.5 or 5 × 10ⁿ.
double niceStep(double range, int target)
{
    const double raw = std::max(range, 1e-9) / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0})
        if (m * magnitude >= raw)
            return m * magnitude;
    return 10 * magnitude;
}

QString zoneName(const QTimeZone& zone, qint64 atMs)
{
    if (zone == QTimeZone::utc() || zone.id() == "UTC")
        return QStringLiteral("UTC");
    return QDateTime::fromMSecsSinceEpoch(atMs, zone).timeZoneAbbreviation();
}
} // namespace

LatencyChart::LatencyChart(QWidget* parent)
    : QWidget(parent), m_now([] { return QDateTime::currentMSecsSinceEpoch(); }), m_liveButton(new QToolButton(this))
{
    setAccessibleName(tr("Latency chart"));
    setFocusPolicy(Qt::StrongFocus);  // Escape returns to live
    setMouseTracking(false);
    m_liveButton->setText(tr("Back to live"));
    m_liveButton->setToolTip(tr("Follow the latest samples again (Esc)"));
    m_liveButton->setAccessibleName(tr("Back to live"));
    m_liveButton->hide();
    connect(m_liveButton, &QToolButton::clicked, this, &LatencyChart::backToLive);
    m_refresh.setSingleShot(true);
    m_refresh.setInterval(100);
    connect(&m_refresh, &QTimer::timeout, this, &LatencyChart::refresh);
    m_follow.setInterval(1000);
    connect(&m_follow, &QTimer::timeout, this, [this] {
        if (isVisible())
            refresh();
    });
    m_follow.start();
    refresh();
}

void LatencyChart::addSeries(const QString& name, QAbstractItemModel* model)
{
    Region region{name, model, kPalette[m_regions.size() % std::size(kPalette)], {}};
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(model, signal, this, &LatencyChart::scheduleRefresh);
    connect(model, &QAbstractItemModel::modelReset, this, &LatencyChart::scheduleRefresh);
    connect(model, &QAbstractItemModel::dataChanged, this, &LatencyChart::scheduleRefresh);
    m_regions.push_back(std::move(region));
    scheduleRefresh();
}

void LatencyChart::clearSeries()
{
    for (Region& r : m_regions)
        disconnect(r.model, nullptr, this, nullptr);
    m_regions.clear();
    refresh();
}

void LatencyChart::setThreshold(double ms)
{
    m_thresholdMs = ms;
    scheduleRefresh();
}

void LatencyChart::setPercentilesVisible(bool p50, bool p95, bool p99)
{
    m_visible[0] = p50;
    m_visible[1] = p95;
    m_visible[2] = p99;
    refresh();
}

void LatencyChart::setSpan(qint64 spanMs, qint64 gapMs)
{
    m_spanMs = std::max<qint64>(spanMs, 10'000);
    m_gapMs = std::max<qint64>(gapMs, 1);
    refresh();
}

void LatencyChart::setTimeZone(const QTimeZone& zone)
{
    m_zone = zone.isValid() ? zone : QTimeZone::utc();
    refresh();
}

void LatencyChart::setMarks(std::vector<ChartMark> marks)
{
    m_marks = std::move(marks);
    std::sort(m_marks.begin(), m_marks.end(), [](const ChartMark& a, const ChartMark& b) { return a.timeMs < b.timeMs; });
    refresh();  // the legend gains or loses its "change" entry
}

void LatencyChart::setClock(std::function<qint64()> now)
{
    m_now = std::move(now);
    refresh();
}

void LatencyChart::zoomTo(qint64 fromMs, qint64 toMs)
{
    if (toMs - fromMs < 1'000)
        toMs = fromMs + 1'000;  // a second is the finest the data has
    const bool was = m_live;
    m_live = false;
    m_from = fromMs;
    m_to = toMs;
    m_liveButton->show();
    placeLiveButton();
    refresh();
    if (was)
        emit liveChanged(false);
}

void LatencyChart::backToLive()
{
    if (m_live)
        return;
    m_live = true;
    m_liveButton->hide();
    refresh();
    emit liveChanged(true);
}

void LatencyChart::scheduleRefresh()
{
    if (!m_refresh.isActive())
        m_refresh.start();
}

QPen LatencyChart::percentilePen(const QColor& colour, int percentile) const
{
    QPen pen(colour);
    pen.setWidthF(percentile == 2 ? 2.0 : 1.0);
    pen.setStyle(kStyles[percentile]);
    pen.setCapStyle(Qt::FlatCap);
    return pen;
}

QPen LatencyChart::thresholdPen() const
{
    QPen pen(toneColour(Tone::Error, palette()));
    pen.setWidthF(1.5);
    pen.setStyle(Qt::DashDotLine);
    return pen;
}

QPen LatencyChart::markPen() const
{
    QPen pen(toneColour(Tone::Change, palette()));
    pen.setWidthF(1.0);
    pen.setStyle(Qt::DashLine);
    return pen;
}

std::vector<LatencyChart::LegendEntry> LatencyChart::legend() const
{
    std::vector<LegendEntry> out;
    const bool dark = isDark(palette());
    for (const Region& r : m_regions)
        out.push_back({r.name, percentilePen(dark ? r.colour.lighter(130) : r.colour, 2)});
    for (int p = 0; p < 3; ++p)
        if (m_visible[p])
            out.push_back({QString::fromLatin1(kNames[p]), percentilePen(palette().color(QPalette::Text), p)});
    out.push_back({tr("SLO %1 ms").arg(m_thresholdMs), thresholdPen()});
    if (!m_marks.empty())
        out.push_back({tr("change"), markPen()});
    return out;
}

void LatencyChart::layoutPlot()
{
    const QFontMetrics fm(font());
    const int line = fm.height();
    // The legend flows in rows under the axis.
    int rows = 1, x = 0;
    const int width = std::max(100, this->width() - 16);
    for (const LegendEntry& e : legend()) {
        const int w = kSample + 6 + fm.horizontalAdvance(e.text) + 16;
        if (x > 0 && x + w > width) {
            ++rows;
            x = 0;
        }
        x += w;
    }
    const int left = 8 + line + 6 + fm.horizontalAdvance(QStringLiteral("00000")) + 6;
    const int top = 8 + line + 8;
    const int bottom = 6 + line + 4 + line + 8 + rows * (line + 4) + 4;
    m_plot = QRectF(left, top, std::max(10, this->width() - left - 16), std::max(10, height() - top - bottom));
    m_legendTop = static_cast<int>(m_plot.bottom()) + 6 + line + 4 + line + 8;
}

void LatencyChart::placeLiveButton()
{
    m_liveButton->adjustSize();
    m_liveButton->move(width() - m_liveButton->width() - 8, 4);
}

void LatencyChart::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    placeLiveButton();
    refresh();
}

void LatencyChart::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        refresh();
}

void LatencyChart::refresh()
{
    m_refresh.stop();  // this refresh answers any pending request
    layoutPlot();
    if (m_live) {
        m_to = m_now();
        m_from = m_to - m_spanMs;
    }
    const double span = static_cast<double>(std::max<qint64>(m_to - m_from, 1));
    const double perColumn = span / std::max(1.0, m_plot.width() / kColumnPx);
    double top = m_thresholdMs * 1.2;
    for (Region& r : m_regions) {
        for (auto& lines : r.pieces)
            lines.clear();
        const int rows = r.model->rowCount();
        if (rows == 0)
            continue;
        // A region's usual spacing (median of its last steps) widens the gap limit: a server
        // that reports every 5 s is not a gap every 5 s.
        std::vector<double> steps;
        for (int row = std::max(1, rows - 33); row < rows; ++row)
            steps.push_back(r.model->index(row, 0).data().toDouble() - r.model->index(row - 1, 0).data().toDouble());
        double gap = static_cast<double>(m_gapMs);
        if (!steps.empty()) {
            std::nth_element(steps.begin(), steps.begin() + static_cast<long>(steps.size() / 2), steps.end());
            gap = std::max(gap, 3 * steps[steps.size() / 2]);
        }
        double previous = -1;
        long column = -1;
        for (int row = 0; row < rows; ++row) {
            const double x = r.model->index(row, 0).data().toDouble();
            if (x > static_cast<double>(m_to) + perColumn)
                break;
            const bool nextVisible = row + 1 < rows && r.model->index(row + 1, 0).data().toDouble() >= static_cast<double>(m_from);
            if (x < static_cast<double>(m_from) && !nextVisible)
                continue;  // before the range (the last one before it is kept, so the line enters from the edge)
            const bool split = previous < 0 || x - previous > gap;
            previous = x;
            const long c = static_cast<long>(std::floor((x - static_cast<double>(m_from)) / perColumn));
            for (int p = 0; p < 3; ++p) {
                const double y = r.model->index(row, p + 1).data().toDouble();
                auto& lines = r.pieces[p];
                if (split)
                    lines.emplace_back();
                auto& piece = lines.back();
                if (split || c != column)
                    piece.emplace_back(x, y);
                else if (y > piece.back().y())
                    piece.back() = QPointF(x, y);
                if (m_visible[p] && x >= static_cast<double>(m_from))
                    top = std::max(top, y * 1.1);
            }
            column = c;
        }
    }
    const double yStep = niceStep(top, 5);
    m_top = std::ceil(top / yStep - 1e-9) * yStep;
    m_yTicks.clear();
    for (double v = 0; v <= m_top + yStep / 2; v += yStep)
        m_yTicks.push_back(v);
    // Time ticks: the finest round step whose labels fit.
    const QFontMetrics fm(font());
    const int labelWidth = fm.horizontalAdvance(QStringLiteral("00-00 00:00:00")) + 12;
    m_xStep = kTimeSteps[std::size(kTimeSteps) - 1];
    for (qint64 step : kTimeSteps)
        if (span / static_cast<double>(step) * labelWidth <= m_plot.width()) {
            m_xStep = step;
            break;
        }
    const qint64 offset = 1000LL * m_zone.offsetFromUtc(QDateTime::fromMSecsSinceEpoch(m_from, Qt::UTC));
    m_xTicks.clear();
    for (qint64 t = ((m_from + offset + m_xStep - 1) / m_xStep) * m_xStep - offset; t <= m_to; t += m_xStep)
        m_xTicks.push_back(t);
    update();
}

double LatencyChart::xFor(qint64 ms) const
{
    return m_plot.left() + static_cast<double>(ms - m_from) / static_cast<double>(std::max<qint64>(m_to - m_from, 1)) * m_plot.width();
}

double LatencyChart::yFor(double value) const { return m_plot.bottom() - value / m_top * m_plot.height(); }

qint64 LatencyChart::timeAt(double x) const
{
    return m_from + static_cast<qint64>((x - m_plot.left()) / m_plot.width() * static_cast<double>(m_to - m_from));
}

QString LatencyChart::timeLabel(qint64 ms) const
{
    return QDateTime::fromMSecsSinceEpoch(ms, m_zone).toString(m_xStep < 60'000 ? QStringLiteral("HH:mm:ss") : QStringLiteral("HH:mm"));
}

QString LatencyChart::timeAxisTitle() const
{
    const QString name = zoneName(m_zone, m_to);
    if (name == QLatin1String("UTC"))
        return tr("time (UTC)");
    const int offset = m_zone.offsetFromUtc(QDateTime::fromMSecsSinceEpoch(m_to, Qt::UTC));
    const QString utc = QStringLiteral("UTC%1%2:%3")
                            .arg(offset < 0 ? QLatin1Char('-') : QLatin1Char('+'))
                            .arg(std::abs(offset) / 3600, 2, 10, QLatin1Char('0'))
                            .arg(std::abs(offset) % 3600 / 60, 2, 10, QLatin1Char('0'));
    return tr("time (%1, %2)").arg(name, utc);
}

void LatencyChart::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing, true);
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::Text);
    QColor grid = pal.color(QPalette::Text);
    grid.setAlpha(40);
    painter.fillRect(rect(), pal.color(QPalette::Base));
    const QFontMetrics fm(font());
    const int line = fm.height();

    QFont bold = font();
    bold.setBold(true);
    painter.setFont(bold);
    painter.setPen(text);
    painter.drawText(QRect(8, 8, width() - 16, line), Qt::AlignLeft | Qt::AlignVCenter, tr("Round-trip time"));
    painter.setFont(font());

    // Axes, grid and their labels.
    for (double v : m_yTicks) {
        const double y = yFor(v);
        painter.setPen(QPen(grid, 1));
        painter.drawLine(QPointF(m_plot.left(), y), QPointF(m_plot.right(), y));
        painter.setPen(text);
        painter.drawText(QRectF(0, y - line / 2.0, m_plot.left() - 6, line), Qt::AlignRight | Qt::AlignVCenter, QString::number(v, 'g', 6));
    }
    QDate previousDay;
    for (qint64 t : m_xTicks) {
        const double x = xFor(t);
        painter.setPen(QPen(grid, 1));
        painter.drawLine(QPointF(x, m_plot.top()), QPointF(x, m_plot.bottom()));
        const QDate day = QDateTime::fromMSecsSinceEpoch(t, m_zone).date();
        QString label = timeLabel(t);
        if (previousDay.isValid() && day != previousDay)
            label = QDateTime::fromMSecsSinceEpoch(t, m_zone).toString(QStringLiteral("MM-dd ")) + label;
        previousDay = day;
        painter.setPen(text);
        painter.drawText(QRectF(x - 60, m_plot.bottom() + 4, 120, line), Qt::AlignHCenter | Qt::AlignTop, label);
    }
    painter.setPen(QPen(pal.color(QPalette::Mid), 1));
    painter.drawRect(m_plot);
    painter.setPen(text);
    painter.drawText(QRectF(m_plot.left(), m_plot.bottom() + 6 + line, m_plot.width(), line), Qt::AlignHCenter, timeAxisTitle());
    painter.save();
    painter.translate(8 + line / 2.0, m_plot.center().y());
    painter.rotate(-90);
    painter.drawText(QRectF(-m_plot.height() / 2, -line / 2.0, m_plot.height(), line), Qt::AlignCenter, tr("ms"));
    painter.restore();

    // The plot: threshold, lines, changes.
    painter.save();
    painter.setClipRect(m_plot.adjusted(0, -2, 0, 0));
    painter.setPen(thresholdPen());
    painter.drawLine(QPointF(m_plot.left(), yFor(m_thresholdMs)), QPointF(m_plot.right(), yFor(m_thresholdMs)));
    const bool dark = isDark(pal);
    bool anyPoint = false;
    for (const Region& r : m_regions)
        for (int p = 0; p < 3; ++p) {
            if (!m_visible[p])
                continue;
            painter.setPen(percentilePen(dark ? r.colour.lighter(130) : r.colour, p));
            // Antialiased dashes cost the raster engine about six times a solid line (measured:
            // tst_console prints it); the thin dotted and dashed lines are drawn aliased, the
            // solid p99 smooth.
            painter.setRenderHint(QPainter::Antialiasing, p == 2);
            for (const auto& piece : r.pieces[p]) {
                QPolygonF polyline;
                polyline.reserve(static_cast<int>(piece.size()));
                for (const QPointF& point : piece)
                    polyline.append(QPointF(xFor(static_cast<qint64>(point.x())), yFor(point.y())));
                if (polyline.size() == 1)
                    painter.drawPoint(polyline.front());  // a lone sample between two gaps
                else
                    painter.drawPolyline(polyline);
                anyPoint = anyPoint || !piece.empty();
            }
        }
    painter.setRenderHint(QPainter::Antialiasing, true);
    for (const ChartMark& m : m_marks) {
        if (m.timeMs < m_from || m.timeMs > m_to)
            continue;
        const double x = xFor(m.timeMs);
        painter.setPen(markPen());
        painter.drawLine(QPointF(x, m_plot.top()), QPointF(x, m_plot.bottom()));
        QPainterPath flag;
        flag.moveTo(x - 4, m_plot.top());
        flag.lineTo(x + 4, m_plot.top());
        flag.lineTo(x, m_plot.top() + 6);
        flag.closeSubpath();
        painter.fillPath(flag, markPen().color());
    }
    if (m_dragFrom >= 0) {
        QColor band = pal.color(QPalette::Highlight);
        band.setAlpha(60);
        painter.fillRect(QRectF(QPointF(std::min(m_dragFrom, m_dragTo), m_plot.top()), QPointF(std::max(m_dragFrom, m_dragTo), m_plot.bottom())), band);
    }
    painter.restore();
    if (!anyPoint) {
        painter.setPen(toneColour(Tone::Muted, pal));
        painter.drawText(m_plot, Qt::AlignCenter, m_regions.empty() ? tr("No region to show") : tr("No samples in this time range"));
    }

    // The legend: each entry's sample is drawn with its own pen, so the line styles read.
    int x = 8, y = m_legendTop;
    for (const LegendEntry& e : legend()) {
        const int w = kSample + 6 + fm.horizontalAdvance(e.text) + 16;
        if (x > 8 && x + w > width() - 8) {
            x = 8;
            y += line + 4;
        }
        painter.setPen(e.pen);
        painter.drawLine(QPointF(x, y + line / 2.0), QPointF(x + kSample, y + line / 2.0));
        painter.setPen(text);
        painter.drawText(QRect(x + kSample + 6, y, w, line), Qt::AlignLeft | Qt::AlignVCenter, e.text);
        x += w;
    }
}

QString LatencyChart::toolTipAt(QPoint at) const
{
    if (!m_plot.adjusted(-2, -2, 2, 2).contains(at))
        return {};
    const QString zone = zoneName(m_zone, m_to);
    auto when = [&](qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, m_zone).toString(QStringLiteral("HH:mm:ss ")) + zone; };
    QStringList changes;
    for (const ChartMark& m : m_marks)
        if (m.timeMs >= m_from && m.timeMs <= m_to && std::abs(xFor(m.timeMs) - at.x()) <= kMarkHoverPx)
            changes << tr("%1 · %2\n%3\nwhy: %4").arg(when(m.timeMs), m.who, m.what, m.why.isEmpty() ? tr("(no reason given)") : m.why);
    if (!changes.isEmpty())
        return changes.join(QStringLiteral("\n\n"));
    double best = kLineHoverPx * kLineHoverPx;
    QString found;
    for (const Region& r : m_regions)
        for (int p = 0; p < 3; ++p) {
            if (!m_visible[p])
                continue;
            for (const auto& piece : r.pieces[p])
                for (const QPointF& point : piece) {
                    const double dx = xFor(static_cast<qint64>(point.x())) - at.x(), dy = yFor(point.y()) - at.y();
                    if (dx * dx + dy * dy <= best) {
                        best = dx * dx + dy * dy;
                        found = tr("%1 %2\n%3\n%4 ms").arg(r.name, QLatin1String(kNames[p]), when(static_cast<qint64>(point.x()))).arg(point.y(), 0, 'f', 2);
                    }
                }
        }
    return found;
}

bool LatencyChart::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const QString text = toolTipAt(help->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

void LatencyChart::mousePressEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton && m_plot.contains(event->position())) {
        m_dragFrom = m_dragTo = event->position().x();
        update();
        return;
    }
    QWidget::mousePressEvent(event);
}

void LatencyChart::mouseMoveEvent(QMouseEvent* event)
{
    if (m_dragFrom < 0)
        return QWidget::mouseMoveEvent(event);
    m_dragTo = std::clamp(event->position().x(), m_plot.left(), m_plot.right());
    update();
}

void LatencyChart::mouseReleaseEvent(QMouseEvent* event)
{
    if (m_dragFrom < 0 || event->button() != Qt::LeftButton)
        return QWidget::mouseReleaseEvent(event);
    const double a = std::min(m_dragFrom, m_dragTo), b = std::max(m_dragFrom, m_dragTo);
    m_dragFrom = m_dragTo = -1;
    if (b - a >= 6)  // a click is not a zoom
        zoomTo(timeAt(a), timeAt(b));
    update();
}

void LatencyChart::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (!m_live && event->button() == Qt::LeftButton)
        backToLive();
    else
        QWidget::mouseDoubleClickEvent(event);
}

void LatencyChart::keyPressEvent(QKeyEvent* event)
{
    if (event->key() == Qt::Key_Escape && !m_live) {
        backToLive();
        return;
    }
    QWidget::keyPressEvent(event);
}

double LatencyChart::maxP99Since(const QString& name, double sinceMs) const
{
    double best = 0;
    for (const Region& r : m_regions)
        if (r.name == name)
            for (const auto& piece : r.pieces[2])
                for (QPointF point : piece)
                    if (point.x() >= sinceMs)
                        best = std::max(best, point.y());
    return best;
}

QStringList LatencyChart::seriesNames() const
{
    QStringList names;
    for (const Region& r : m_regions)
        names << r.name;
    return names;
}

int LatencyChart::pieces(const QString& name, int percentile) const
{
    for (const Region& r : m_regions)
        if (r.name == name)
            return static_cast<int>(r.pieces[std::clamp(percentile, 0, 2)].size());
    return 0;
}

} // namespace lv::widgets
