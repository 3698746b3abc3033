#include "widgets/syncview.h"

#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace lv::widgets {

SyncView::SyncView(QWidget* parent) : QWidget(parent)
{
    setAccessibleName(tr("Sync view"));
    setAccessibleDescription(tr("Top-down view of one region: server truth, the observed client's prediction, and interpolated players"));
    setMinimumSize(320, 240);
}

void SyncView::setScene(const SyncScene& scene)
{
    if (m_paused) {
        m_pending = scene;
        m_hasPending = true;
        return;
    }
    m_shown = scene;
    if (scene.correctedJustNow)
        m_flash = 10;
    else if (m_flash > 0)
        --m_flash;
    update();
}

void SyncView::setPaused(bool paused)
{
    m_paused = paused;
    if (!paused && m_hasPending) {
        m_hasPending = false;
        setScene(m_pending);
    }
    update();
}

void SyncView::step()
{
    if (!m_paused || !m_hasPending)
        return;
    m_hasPending = false;
    m_paused = false;
    setScene(m_pending);
    m_paused = true;
}

void SyncView::setFollow(bool follow)
{
    m_follow = follow;
    update();
}

void SyncView::setMetresAcross(double metres)
{
    m_metresAcross = std::clamp(metres, 10.0, 5000.0);
    update();
}

void SyncView::wheelEvent(QWheelEvent* event)
{
    setMetresAcross(m_metresAcross * std::pow(0.999, event->angleDelta().y()));
    event->accept();
}

void SyncView::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), palette().base());
    const double scale = width() / m_metresAcross;  // pixels per metre
    SyncScene::Dot centre{0, 0};
    if (m_follow && m_shown.localTruth)
        centre = *m_shown.localTruth;
    const auto toPixel = [&](const SyncScene::Dot& d) {
        return QPointF(width() / 2.0 + (d.x - centre.x) * scale, height() / 2.0 - (d.y - centre.y) * scale);
    };
    // A 10 m grid.
    p.setPen(QPen(palette().mid().color(), 0));
    const double grid = 10.0;
    const double left = centre.x - width() / 2.0 / scale, top = centre.y + height() / 2.0 / scale;
    for (double x = std::floor(left / grid) * grid; x < left + width() / scale; x += grid)
        p.drawLine(toPixel({x, top}), toPixel({x, top - height() / scale}));
    for (double y = std::floor((top - height() / scale) / grid) * grid; y < top; y += grid)
        p.drawLine(toPixel({left, y}), toPixel({left + width() / scale, y}));

    const double r = std::max(3.0, 0.6 * scale);  // a player is about 1.2 m across
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(QColor(0x80, 0x80, 0x80), 1.5));
    for (const auto& d : m_shown.truth)
        p.drawEllipse(toPixel(d), r, r);
    p.setPen(QPen(QColor(0x1f, 0x77, 0xb4), 2));
    for (const auto& d : m_shown.interpolated) {
        const QPointF c = toPixel(d);
        p.drawLine(c + QPointF(-r * 0.7, -r * 0.7), c + QPointF(r * 0.7, r * 0.7));
        p.drawLine(c + QPointF(-r * 0.7, r * 0.7), c + QPointF(r * 0.7, -r * 0.7));
    }
    if (m_shown.predicted) {
        const QPointF predicted = toPixel(*m_shown.predicted);
        if (m_shown.localTruth) {
            p.setPen(QPen(QColor(0x2c, 0xa0, 0x2c), 1, Qt::DashLine));
            p.drawLine(predicted, toPixel(*m_shown.localTruth));
            p.setPen(QPen(QColor(0x2c, 0xa0, 0x2c), 2));
            p.drawEllipse(toPixel(*m_shown.localTruth), r, r);
        }
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(0x2c, 0xa0, 0x2c));
        p.drawEllipse(predicted, r * 0.8, r * 0.8);
        if (m_flash > 0) {
            p.setBrush(Qt::NoBrush);
            p.setPen(QPen(Qt::red, 3));
            p.drawEllipse(predicted, r * 2.2, r * 2.2);
        }
    }
    // Legend and caption.
    p.setPen(palette().text().color());
    const QString legend = tr("○ server truth   ● predicted (own player)   ✕ interpolated   red ring: correction%1")
                               .arg(m_paused ? tr("   — PAUSED") : QString());
    p.drawText(rect().adjusted(8, 6, -8, -6), Qt::AlignLeft | Qt::AlignTop, m_shown.caption);
    p.drawText(rect().adjusted(8, 6, -8, -6), Qt::AlignLeft | Qt::AlignBottom, legend);
    p.drawText(rect().adjusted(8, 6, -8, -6), Qt::AlignRight | Qt::AlignBottom, tr("%1 m across").arg(m_metresAcross, 0, 'f', 0));
}

} // namespace lv::widgets
