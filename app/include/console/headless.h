#pragma once

#include "console/alertmodel.h"
#include "console/regionmodel.h"

#include <QObject>
#include <QTextStream>
#include <QTimer>

namespace lv::console {

/// The region overview as text: what the window's table and alert bars show, printed every
/// interval. Used when there is no display (or with --headless).
class HeadlessReport : public QObject {
    Q_OBJECT
public:
    HeadlessReport(const RegionModel& regions, const AlertModel& alerts, std::chrono::milliseconds every, QTextStream& out,
                   QObject* parent = nullptr);
    /// The table, then one "PAGE" or "TICKET" line per alert that is up (none: no such lines).
    static QString render(const RegionModel& regions, const AlertModel* alerts = nullptr);
    void printNow();

private:
    const RegionModel& m_regions;
    const AlertModel& m_alerts;
    QTextStream& m_out;
    QTimer m_timer;
};

} // namespace lv::console
