#pragma once

#include "console/incidentdesk.h"
#include "console/timeformat.h"

#include <QWidget>

class QComboBox;
class QSpinBox;
class QTableWidget;
class QLabel;

class QChartView;

namespace lv::console {

/// Reliability KPIs for a period: MTTD, MTTA, MTTR, MTBF, change failure rate and customer impact,
/// overall and per region, as a table and a chart of restore times; CSV and PDF reports.
class KpiPanel : public QWidget {
    Q_OBJECT
public:
    explicit KpiPanel(IncidentDesk& desk, QWidget* parent = nullptr);
    void refresh();
    /// How the period's ends are written (UTC, labelled, when not set).
    void setTimeFormat(const TimeFormat* time) { m_time = time; }
    /// The figures shown, as the table has them (tests read these).
    QStringList rowTexts() const;
    std::pair<std::int64_t, std::int64_t> period() const;
    std::int64_t changeWindowMs() const;

signals:
    void message(const QString& text);

private:
    void show(const incidents::KpiReport& report);

    IncidentDesk& m_desk;
    const TimeFormat* m_time = nullptr;
    QComboBox* m_period;
    QSpinBox* m_window;
    QTableWidget* m_table;
    QChartView* m_chart;
    QLabel* m_caption;
};

} // namespace lv::console
