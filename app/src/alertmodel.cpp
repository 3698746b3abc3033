#include "console/alertmodel.h"

#include <QDateTime>
#include <QUrl>

namespace lv::console {

AlertModel::AlertModel(RegionModel& regions, QObject* parent) : QAbstractListModel(parent), m_regions(regions)
{
    connect(&regions, &RegionModel::sloAlertChanged, this, &AlertModel::onLevel);
    // A cluster removed takes its alerts with it: no one can act on them any more.
    connect(&regions, &QAbstractItemModel::rowsAboutToBeRemoved, this, [this](const QModelIndex&, int first, int last) {
        for (int r = first; r <= last; ++r)
            dropRow(rowOf(m_regions.clusterAt(r), m_regions.regionAt(r)));
    });
}

void AlertModel::dropRow(int row)
{
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_alerts.erase(m_alerts.begin() + row);
    endRemoveRows();
}

int AlertModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_alerts.size()); }

int AlertModel::rowOf(const QString& cluster, const QString& region) const
{
    for (std::size_t i = 0; i < m_alerts.size(); ++i)
        if (m_alerts[i].cluster == cluster && m_alerts[i].region == region)
            return static_cast<int>(i);
    return -1;
}

QString AlertModel::describe(const Alert& a, double thresholdMs)
{
    const QString what = a.level == SloTracker::Alert::Page ? tr("%1/%2 is burning its latency SLO budget fast (page)").arg(a.cluster, a.region)
                                                            : tr("%1/%2 is burning its latency SLO budget (ticket)").arg(a.cluster, a.region);
    QString text = what + tr(" — p99 above %1 ms in too many windows; see the runbook.").arg(thresholdMs);
    if (!a.acknowledgedBy.isEmpty())
        text += tr(" Acknowledged by %1.").arg(a.acknowledgedBy);
    return text;
}

QUrl AlertModel::runbook() const
{
    if (m_runbookBase.isEmpty())
        return {};
    return QUrl(m_runbookBase + QStringLiteral("/runbooks.md#latency-slo-burning"));
}

QVariant AlertModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Alert& a = at(index.row());
    switch (role) {
    case Qt::DisplayRole: return describe(a, m_regions.sloThresholdMs());
    case ClusterRole: return a.cluster;
    case RegionRole: return a.region;
    case LevelRole: return static_cast<int>(a.level);
    case SevereRole: return a.level == SloTracker::Alert::Page;
    case RaisedRole: return QVariant::fromValue<qint64>(a.raisedMs);
    case FirstBadRole: return QVariant::fromValue<qint64>(a.firstBadMs);
    case AcknowledgedRole: return !a.acknowledgedBy.isEmpty();
    case AcknowledgedByRole: return a.acknowledgedBy;
    case RunbookRole: return runbook();
    default: return {};
    }
}

QHash<int, QByteArray> AlertModel::roleNames() const
{
    auto names = QAbstractListModel::roleNames();
    names.insert({{ClusterRole, "cluster"}, {RegionRole, "region"}, {LevelRole, "level"}, {SevereRole, "severe"}, {RaisedRole, "raised"},
                  {FirstBadRole, "firstBad"}, {AcknowledgedRole, "acknowledged"}, {AcknowledgedByRole, "acknowledgedBy"},
                  {RunbookRole, "runbook"}});
    return names;
}

void AlertModel::onLevel(const QString& cluster, const QString& region, SloTracker::Alert level)
{
    const int row = rowOf(cluster, region);
    if (level == SloTracker::Alert::None) {
        dropRow(row);
        return;
    }
    const int regionRow = m_regions.rowOf(cluster, region);
    if (regionRow < 0)
        return;
    const SloTracker& slo = m_regions.sloAt(regionRow);
    Alert a;
    a.cluster = cluster;
    a.region = region;
    a.level = level;
    a.raisedMs = slo.newestMs();
    const std::int64_t firstBad = slo.firstBadMs(slo.firingSpanMs());
    a.firstBadMs = firstBad >= 0 ? firstBad : a.raisedMs;
    if (row < 0) {
        const int at = rowCount();
        beginInsertRows({}, at, at);
        m_alerts.push_back(a);
        endInsertRows();
        emit alertRaised(at);
        return;
    }
    Alert& existing = m_alerts[static_cast<std::size_t>(row)];
    const bool escalated = level == SloTracker::Alert::Page && existing.level != SloTracker::Alert::Page;
    // The problem began when it began: a ticket that becomes a page keeps the earlier start.
    a.firstBadMs = std::min(a.firstBadMs, existing.firstBadMs);
    if (!escalated) {  // de-escalating (page to ticket) keeps who took it and when it was raised
        a.raisedMs = existing.raisedMs;
        a.acknowledgedBy = existing.acknowledgedBy;
        a.acknowledgedMs = existing.acknowledgedMs;
    }
    existing = a;
    emit dataChanged(index(row), index(row));
    if (escalated)
        emit alertRaised(row);
}

void AlertModel::acknowledge(int row, const QString& who, std::int64_t nowMs)
{
    if (row < 0 || row >= rowCount())
        return;
    Alert& a = m_alerts[static_cast<std::size_t>(row)];
    a.acknowledgedBy = who.isEmpty() ? tr("someone") : who;
    a.acknowledgedMs = nowMs;
    emit dataChanged(index(row), index(row));
}

incidents::Incident AlertModel::incidentFor(int row) const
{
    incidents::Incident i;
    if (row < 0 || row >= rowCount())
        return i;
    const Alert& a = at(row);
    const bool page = a.level == SloTracker::Alert::Page;
    i.title = tr("Latency SLO burning in %1/%2").arg(a.cluster, a.region);
    i.severity = page ? 2 : 3;  // a page is urgent; SEV1 is for the commander to call
    i.regions = {{a.cluster, a.region}};
    i.startedMs = a.firstBadMs;
    i.detectedMs = a.raisedMs;
    i.acknowledgedMs = a.acknowledgedMs;
    return i;
}

} // namespace lv::console
