#include "console/headless.h"

#include <QDateTime>

#include <algorithm>

namespace lv::console {

HeadlessReport::HeadlessReport(const RegionModel& regions, const AlertModel& alerts, std::chrono::milliseconds every, QTextStream& out,
                               QObject* parent)
    : QObject(parent), m_regions(regions), m_alerts(alerts), m_out(out)
{
    m_timer.setInterval(static_cast<int>(every.count()));
    connect(&m_timer, &QTimer::timeout, this, &HeadlessReport::printNow);
    m_timer.start();
}

QString HeadlessReport::render(const RegionModel& regions, const AlertModel* alerts)
{
    // Same columns and the same text as the window's table, aligned.
    const int columns = regions.columnCount();
    std::vector<QStringList> rows;
    QStringList header;
    for (int c = 0; c < columns; ++c)
        header << regions.headerData(c, Qt::Horizontal).toString();
    rows.push_back(header);
    for (int r = 0; r < regions.rowCount(); ++r) {
        QStringList row;
        for (int c = 0; c < columns; ++c)
            row << regions.index(r, c).data().toString();
        rows.push_back(row);
    }
    std::vector<int> width(static_cast<std::size_t>(columns), 0);
    for (const QStringList& row : rows)
        for (int c = 0; c < columns; ++c)
            width[static_cast<std::size_t>(c)] = std::max<int>(width[static_cast<std::size_t>(c)], static_cast<int>(row[c].size()));
    QString text;
    for (const QStringList& row : rows) {
        for (int c = 0; c < columns; ++c) {
            const bool number = c >= RegionModel::Players && c != RegionModel::Slo;
            const int w = width[static_cast<std::size_t>(c)];
            text += (number ? row[c].rightJustified(w) : row[c].leftJustified(w)) + QStringLiteral("  ");
        }
        text = text.trimmed() + QLatin1Char('\n');
    }
    if (alerts)
        for (int r = 0; r < alerts->rowCount(); ++r) {
            const AlertModel::Alert& a = alerts->at(r);
            text += QStringLiteral("%1 %2 (first bad window %3)\n")
                        .arg(a.level == SloTracker::Alert::Page ? QStringLiteral("PAGE  ") : QStringLiteral("TICKET"),
                             alerts->index(r).data().toString(),
                             QDateTime::fromMSecsSinceEpoch(a.firstBadMs, Qt::UTC).toString(Qt::ISODate));
        }
    return text;
}

void HeadlessReport::printNow()
{
    m_out << QDateTime::currentDateTime().toString(Qt::ISODate) << '\n' << render(m_regions, &m_alerts) << Qt::endl;
}

} // namespace lv::console
