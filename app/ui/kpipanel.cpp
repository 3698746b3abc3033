#include "kpipanel.h"

#include "incidents/export.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace lv::console {

using namespace lv::incidents;

KpiPanel::KpiPanel(IncidentDesk& desk, QWidget* parent)
    : QWidget(parent), m_desk(desk), m_period(new QComboBox), m_window(new QSpinBox), m_table(new QTableWidget), m_chart(new QChartView),
      m_caption(new QLabel)
{
    const std::pair<QString, int> periods[] = {{tr("Last 24 hours"), 1}, {tr("Last 7 days"), 7}, {tr("Last 30 days"), 30}, {tr("Last 90 days"), 90},
                                               {tr("Last 365 days"), 365}};
    for (const auto& [label, days] : periods)
        m_period->addItem(label, days);
    m_period->setCurrentIndex(2);
    m_period->setAccessibleName(tr("KPI period"));
    m_window->setRange(5, 24 * 60);
    m_window->setValue(60);
    m_window->setSuffix(tr(" min"));
    m_window->setAccessibleName(tr("Change failure window"));
    m_window->setToolTip(tr("A change counts as failed when an incident in its region starts within this long after it"));
    auto* refreshButton = new QPushButton(tr("&Update"));
    auto* csv = new QPushButton(tr("E&xport CSV…"));
    auto* pdf = new QPushButton(tr("Export &PDF…"));
    refreshButton->setAccessibleName(tr("Recompute the KPIs"));
    csv->setAccessibleName(tr("Export the KPI report as CSV"));
    pdf->setAccessibleName(tr("Export the KPI report as PDF"));
    connect(refreshButton, &QPushButton::clicked, this, &KpiPanel::refresh);
    connect(m_period, &QComboBox::currentIndexChanged, this, &KpiPanel::refresh);
    connect(m_window, &QSpinBox::valueChanged, this, &KpiPanel::refresh);
    const auto exportAs = [this](IncidentDesk::ExportFormat format, const QString& name) {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export KPI report"), name);
        if (!path.isEmpty()) {
            const auto [from, to] = period();
            m_desk.exportKpis(from, to, changeWindowMs(), format, path);
        }
    };
    connect(csv, &QPushButton::clicked, this, [exportAs] { exportAs(IncidentDesk::ExportFormat::Csv, QStringLiteral("kpi.csv")); });
    connect(pdf, &QPushButton::clicked, this, [exportAs] { exportAs(IncidentDesk::ExportFormat::Pdf, QStringLiteral("kpi.pdf")); });

    const QStringList headers{tr("Scope"), tr("Incidents"), tr("MTTD (min)"), tr("MTTA (min)"), tr("MTTR (min)"), tr("MTBF (h)"),
                              tr("Changes"), tr("Change failure rate"), tr("Player-minutes affected")};
    m_table->setColumnCount(static_cast<int>(headers.size()));
    m_table->setHorizontalHeaderLabels(headers);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->setAccessibleName(tr("Reliability KPIs per region"));
    m_chart->setAccessibleName(tr("Restore and acknowledge times per region"));
    m_chart->setMinimumHeight(240);
    m_caption->setWordWrap(true);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Period")));
    controls->addWidget(m_period);
    controls->addWidget(new QLabel(tr("Change failure window")));
    controls->addWidget(m_window);
    controls->addStretch(1);
    controls->addWidget(refreshButton);
    controls->addWidget(csv);
    controls->addWidget(pdf);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_caption);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_chart, 1);
    connect(&desk, &IncidentDesk::kpisReady, this, &KpiPanel::show);
    connect(&desk, &IncidentDesk::opened, this, [this](bool ok) {
        if (ok)
            refresh();
    });
    connect(&desk, &IncidentDesk::incidentsListed, this, &KpiPanel::refresh);  // an incident changed: the figures did too
}

std::pair<std::int64_t, std::int64_t> KpiPanel::period() const
{
    const std::int64_t to = QDateTime::currentMSecsSinceEpoch();
    return {to - std::int64_t(m_period->currentData().toInt()) * 24 * 3'600'000, to};
}

std::int64_t KpiPanel::changeWindowMs() const { return std::int64_t(m_window->value()) * 60'000; }

void KpiPanel::refresh()
{
    const auto [from, to] = period();
    m_desk.computeKpis(from, to, changeWindowMs());
}

void KpiPanel::show(const KpiReport& report)
{
    const auto cell = [](const std::optional<double>& v, int decimals = 1) { return v ? QString::number(*v, 'f', decimals) : QStringLiteral("—"); };
    std::vector<const KpiFigures*> rows{&report.overall};
    for (const KpiFigures& f : report.regions)
        rows.push_back(&f);
    m_table->setRowCount(static_cast<int>(rows.size()));
    for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
        const KpiFigures& f = *rows[static_cast<std::size_t>(r)];
        const QStringList values{f.scope,
                                 QString::number(f.incidents),
                                 cell(f.mttdMinutes),
                                 cell(f.mttaMinutes),
                                 cell(f.mttrMinutes),
                                 cell(f.mtbfHours),
                                 QString::number(f.changes),
                                 f.changeFailureRate ? tr("%1 % (%2 of %3)").arg(*f.changeFailureRate * 100, 0, 'f', 0).arg(f.failedChanges).arg(f.changes)
                                                     : QStringLiteral("—"),
                                 QString::number(f.playerMinutes, 'f', 0)};
        for (int c = 0; c < values.size(); ++c) {
            auto* item = new QTableWidgetItem(values[c]);
            if (c > 0)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (r == 0) {
                QFont bold = item->font();
                bold.setBold(true);
                item->setFont(bold);
            }
            m_table->setItem(r, c, item);
        }
    }
    m_caption->setText(tr("%1 to %2. Definitions: docs/incidents.md (MTTR from the problem's start to resolution; MTBF is time outside "
                          "incidents per incident).")
                           .arg(m_time ? m_time->dateTime(report.fromMs) : formatTime(report.fromMs), m_time ? m_time->dateTime(report.toMs) : formatTime(report.toMs)));

    auto* chart = new QChart;
    chart->setTitle(tr("Mean time to acknowledge and to restore, per scope (minutes)"));
    auto* ack = new QBarSet(tr("MTTA"));
    auto* restore = new QBarSet(tr("MTTR"));
    QStringList scopes;
    double top = 0.0;
    for (const KpiFigures* f : rows) {
        // A figure with nothing to measure (no incident acknowledged, none resolved) is not a
        // zero: its bar is left out (height 0) and the category says so.
        QStringList missing;
        if (!f->mttaMinutes)
            missing << tr("no MTTA");
        if (!f->mttrMinutes)
            missing << tr("no MTTR");
        scopes << (missing.isEmpty() ? f->scope : tr("%1 (%2)").arg(f->scope, missing.join(QStringLiteral(", "))));
        *ack << f->mttaMinutes.value_or(0.0);
        *restore << f->mttrMinutes.value_or(0.0);
        top = std::max({top, f->mttaMinutes.value_or(0.0), f->mttrMinutes.value_or(0.0)});
    }
    auto* series = new QBarSeries;
    series->append(ack);
    series->append(restore);
    chart->addSeries(series);
    auto* x = new QBarCategoryAxis;
    x->append(scopes);
    auto* y = new QValueAxis;
    y->setLabelFormat(QStringLiteral("%.0f"));
    y->setRange(0, std::max(10.0, std::ceil(top * 1.1 / 10.0) * 10.0));  // never a 0..0 axis
    y->applyNiceNumbers();
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    chart->legend()->setAlignment(Qt::AlignBottom);
    QChart* old = m_chart->chart();
    m_chart->setChart(chart);
    delete old;
}

QStringList KpiPanel::rowTexts() const
{
    QStringList out;
    for (int r = 0; r < m_table->rowCount(); ++r) {
        QStringList cells;
        for (int c = 0; c < m_table->columnCount(); ++c)
            cells << (m_table->item(r, c) ? m_table->item(r, c)->text() : QString());
        out << cells.join(QStringLiteral(" | "));
    }
    return out;
}

} // namespace lv::console
