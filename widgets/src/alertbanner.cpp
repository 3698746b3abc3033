#include "widgets/alertbanner.h"
#include "widgets/tones.h"

#include <QDesktopServices>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace lv::widgets {

AlertBanner::AlertBanner(QWidget* parent) : QFrame(parent), m_text(new QLabel), m_open(new QPushButton(tr("Open run&book")))
{
    setFrameShape(QFrame::StyledPanel);
    setAccessibleName(tr("Alert"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* dismiss = new QPushButton(tr("Dismiss"));
    auto* incident = new QPushButton(tr("Open incident…"));
    incident->setAccessibleName(tr("Open an incident for this alert"));
    connect(incident, &QPushButton::clicked, this, &AlertBanner::incidentRequested);
    m_open->setAccessibleName(tr("Open the runbook for this alert"));
    dismiss->setAccessibleName(tr("Dismiss the alert"));
    connect(m_open, &QPushButton::clicked, this, [this] {
        QDesktopServices::openUrl(m_runbook);
        emit runbookOpened(m_runbook);
    });
    connect(dismiss, &QPushButton::clicked, this, &AlertBanner::clear);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_open);
    layout->addWidget(incident);
    layout->addWidget(dismiss);
    setVisible(false);
}

void AlertBanner::raiseAlert(const QString& text, const QUrl& runbook, bool severe)
{
    m_text->setText(text);
    m_runbook = runbook;
    m_open->setEnabled(runbook.isValid());
    // Colour is a second signal only: the text says how bad it is.
    // A tinted background that keeps the palette's text readable, light or dark.
    const bool dark = isDark(palette());
    const QColor background = severe ? (dark ? QColor(0x4a, 0x1c, 0x1c) : QColor(0xfd, 0xe0, 0xe0)) : (dark ? QColor(0x45, 0x36, 0x12) : QColor(0xff, 0xf1, 0xd6));
    setStyleSheet(QStringLiteral("lv--widgets--AlertBanner { background: %1; border: 1px solid %2; }")
                      .arg(background.name(), toneColour(severe ? Tone::Error : Tone::Warning, palette()).name()));
    setVisible(true);
}

void AlertBanner::clear()
{
    m_text->clear();
    m_runbook = QUrl();
    setVisible(false);
}

QString AlertBanner::text() const { return isVisible() ? m_text->text() : QString(); }

} // namespace lv::widgets
