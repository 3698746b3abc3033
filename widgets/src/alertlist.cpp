#include "widgets/alertlist.h"
#include "widgets/tones.h"

#include <QAbstractItemModel>
#include <QDesktopServices>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace lv::widgets {

AlertBar::AlertBar(bool mnemonic, QWidget* parent)
    : QFrame(parent), m_text(new QLabel), m_open(new QPushButton(mnemonic ? tr("Open run&book") : tr("Open runbook"))),
      m_ack(new QPushButton(tr("Acknowledge"))), m_incident(new QPushButton(tr("Open incident…")))
{
    setFrameShape(QFrame::StyledPanel);
    setAccessibleName(tr("Alert"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_incident->setAccessibleName(tr("Open an incident for this alert"));
    m_open->setAccessibleName(tr("Open the runbook for this alert"));
    m_ack->setAccessibleName(tr("Acknowledge this alert"));
    connect(m_incident, &QPushButton::clicked, this, &AlertBar::incidentRequested);
    connect(m_ack, &QPushButton::clicked, this, &AlertBar::acknowledgeRequested);
    connect(m_open, &QPushButton::clicked, this, [this] {
        QDesktopServices::openUrl(m_runbook);
        emit runbookOpened(m_runbook);
    });
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_open);
    layout->addWidget(m_ack);
    layout->addWidget(m_incident);
}

void AlertBar::fill(const QString& text, const QUrl& runbook, bool severe, bool acknowledged)
{
    m_text->setText(text);
    m_runbook = runbook;
    m_open->setEnabled(runbook.isValid());
    m_ack->setEnabled(!acknowledged);
    // A tinted background that keeps the palette's text readable, light or dark; once someone
    // has it, the tint goes and the border alone says what it was.
    // The parent's palette: this bar's own carries the tint its style sheet gave it.
    const QPalette base = parentWidget() ? parentWidget()->palette() : palette();
    const bool dark = isDark(base);
    const QColor background = acknowledged ? base.color(QPalette::Window)
                              : severe     ? (dark ? QColor(0x4a, 0x1c, 0x1c) : QColor(0xfd, 0xe0, 0xe0))
                                           : (dark ? QColor(0x45, 0x36, 0x12) : QColor(0xff, 0xf1, 0xd6));
    setStyleSheet(QStringLiteral("lv--widgets--AlertBar { background: %1; border: 1px solid %2; }")
                      .arg(background.name(), toneColour(severe ? Tone::Error : Tone::Warning, base).name()));
}

QString AlertBar::text() const { return m_text->text(); }

AlertList::AlertList(QWidget* parent) : QFrame(parent), m_more(new QPushButton)
{
    setAccessibleName(tr("Alerts"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    m_more->setFlat(true);
    m_more->setAccessibleName(tr("Show or hide the other alerts"));
    connect(m_more, &QPushButton::clicked, this, [this] {
        m_expanded = !m_expanded;
        sync();
    });
    layout->addWidget(m_more, 0, Qt::AlignLeft);
    setVisible(false);
}

void AlertList::setModel(QAbstractItemModel* model, Roles roles)
{
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    m_roles = roles;
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(model, signal, this, &AlertList::sync);
    connect(model, &QAbstractItemModel::dataChanged, this, &AlertList::sync);
    connect(model, &QAbstractItemModel::modelReset, this, &AlertList::sync);
    sync();
}

void AlertList::setVisibleLimit(int bars)
{
    m_limit = std::max(1, bars);
    sync();
}

void AlertList::sync()
{
    const int rows = m_model ? m_model->rowCount() : 0;
    const int shown = m_expanded ? rows : std::min(rows, m_limit);
    auto* column = static_cast<QVBoxLayout*>(layout());
    // Bars are kept and refilled in place: one may be emitting the click that changed the model.
    while (barCount() > shown) {
        AlertBar* last = m_bars.back();
        m_bars.pop_back();
        last->hide();
        last->deleteLater();
    }
    while (barCount() < shown) {
        const int row = barCount();
        auto* bar = new AlertBar(row == 0);  // one mnemonic for the runbook: Alt+B opens the first
        connect(bar, &AlertBar::runbookOpened, this, &AlertList::runbookOpened);
        connect(bar, &AlertBar::acknowledgeRequested, this, [this, bar] {
            const auto it = std::find(m_bars.begin(), m_bars.end(), bar);
            if (it != m_bars.end())
                emit acknowledgeRequested(static_cast<int>(it - m_bars.begin()));
        });
        connect(bar, &AlertBar::incidentRequested, this, [this, bar] {
            const auto it = std::find(m_bars.begin(), m_bars.end(), bar);
            if (it != m_bars.end())
                emit incidentRequested(static_cast<int>(it - m_bars.begin()));
        });
        column->insertWidget(row, bar);
        bar->setVisible(true);
        m_bars.push_back(bar);
    }
    for (int row = 0; row < shown; ++row) {
        const QModelIndex index = m_model->index(row, 0);
        m_bars[static_cast<std::size_t>(row)]->fill(index.data().toString(), index.data(m_roles.runbook).toUrl(),
                                                     index.data(m_roles.severe).toBool(), index.data(m_roles.acknowledged).toBool());
    }
    const int hidden = rows - std::min(rows, m_limit);
    m_more->setVisible(hidden > 0);
    m_more->setText(m_expanded ? tr("Show fewer alerts") : tr("%n more alert(s)…", nullptr, hidden));
    setVisible(rows > 0);
}

QString AlertList::text() const
{
    QStringList lines;
    if (m_model)
        for (int row = 0; row < m_model->rowCount(); ++row)
            lines << m_model->index(row, 0).data().toString();
    return lines.join(QLatin1Char('\n'));
}

} // namespace lv::widgets
