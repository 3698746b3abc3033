#include "console/incidentmodel.h"

#include "incidents/export.h"

#include <QDateTime>

namespace lv::console {

using namespace lv::incidents;

namespace {
QString regionsText(const Incident& i)
{
    QStringList parts;
    for (const RegionRef& r : i.regions)
        parts << r.cluster + QLatin1Char('/') + r.region;
    return parts.join(QStringLiteral(", "));
}
} // namespace

void IncidentListModel::setIncidents(std::vector<Incident> incidents)
{
    beginResetModel();  // the list changes rarely and wholesale: a reset is the honest signal
    m_rows = std::move(incidents);
    endResetModel();
}

const Incident* IncidentListModel::incident(int row) const
{
    return row >= 0 && row < rowCount() ? &m_rows[static_cast<std::size_t>(row)] : nullptr;
}

int IncidentListModel::rowOf(std::int64_t id) const
{
    for (std::size_t r = 0; r < m_rows.size(); ++r)
        if (m_rows[r].id == id)
            return static_cast<int>(r);
    return -1;
}

int IncidentListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }
int IncidentListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant IncidentListModel::data(const QModelIndex& index, int role) const
{
    const Incident* i = incident(index.row());
    if (!i)
        return {};
    if (role == IdRole)
        return qint64(i->id);
    if (role == SeverityRole)
        return i->severity;
    if (role == StatusRole)
        return static_cast<int>(i->status);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != Qt::AccessibleTextRole)
        return {};
    switch (index.column()) {
    case Id: return qint64(i->id);
    case Severity: return QStringLiteral("SEV%1").arg(i->severity);
    case Status: return statusName(i->status);
    case Title: return i->title;
    case Regions: return regionsText(*i);
    case Started: return formatTime(i->startedMs);
    case Duration: {
        const std::int64_t end = i->resolvedMs ? i->resolvedMs : QDateTime::currentMSecsSinceEpoch();
        return i->resolvedMs ? formatDuration(end - i->startedMs) : tr("%1 (open)").arg(formatDuration(end - i->startedMs));
    }
    default: return {};
    }
}

QVariant IncidentListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char* const names[] = {QT_TR_NOOP("#"), QT_TR_NOOP("Severity"), QT_TR_NOOP("Status"), QT_TR_NOOP("Title"),
                                        QT_TR_NOOP("Regions"), QT_TR_NOOP("Started"), QT_TR_NOOP("Duration")};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

void IncidentFilter::setOpenOnly(bool openOnly)
{
    m_openOnly = openOnly;
    invalidateRowsFilter();
}

void IncidentFilter::setStatus(std::optional<Status> status)
{
    m_status = status;
    invalidateRowsFilter();
}

void IncidentFilter::setSeverity(int severity)
{
    m_severity = severity;
    invalidateRowsFilter();
}

void IncidentFilter::setText(const QString& text)
{
    m_text = text.trimmed();
    invalidateRowsFilter();
}

bool IncidentFilter::filterAcceptsRow(int row, const QModelIndex& parent) const
{
    const QModelIndex index = sourceModel()->index(row, IncidentListModel::Title, parent);
    const auto status = static_cast<Status>(index.data(IncidentListModel::StatusRole).toInt());
    if (m_openOnly && status == Status::Resolved)
        return false;
    if (m_status && status != *m_status)
        return false;
    if (m_severity && index.data(IncidentListModel::SeverityRole).toInt() != m_severity)
        return false;
    if (!m_text.isEmpty()) {
        const QString haystack = index.data().toString() + QLatin1Char(' ')
                                 + sourceModel()->index(row, IncidentListModel::Regions, parent).data().toString();
        if (!haystack.contains(m_text, Qt::CaseInsensitive))
            return false;
    }
    return true;
}

} // namespace lv::console
