#pragma once

#include "console/regionmodel.h"

#include <QObject>
#include <QTextStream>
#include <QTimer>

namespace lv::console {

/// The region overview as text: what the window's table shows, printed every interval. Used when
/// there is no display (or with --headless).
class HeadlessReport : public QObject {
    Q_OBJECT
public:
    HeadlessReport(const RegionModel& regions, std::chrono::milliseconds every, QTextStream& out, QObject* parent = nullptr);
    static QString render(const RegionModel& regions);
    void printNow();

private:
    const RegionModel& m_regions;
    QTextStream& m_out;
    QTimer m_timer;
};

} // namespace lv::console
