#pragma once

#include "console/regionmodel.h"
#include "incidents/types.h"

#include <QAbstractListModel>

#include <vector>

namespace lv::console {

/// The alerts that are up, one row each: several regions can burn their SLO at once, and each
/// alert has its own runbook, acknowledgement and incident. Rows come and go with the region
/// model's SLO levels (raised, escalated from ticket to page, cleared). The window shows them as a
/// list of bars; the headless report prints them.
class AlertModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        ClusterRole = Qt::UserRole + 1,
        RegionRole,
        LevelRole,         ///< int: SloTracker::Alert
        SevereRole,        ///< bool: a page (not a ticket)
        RaisedRole,        ///< qint64 ms: when the alert was raised (the newest window then)
        FirstBadRole,      ///< qint64 ms: the first bad window of the long span that raised it
        AcknowledgedRole,  ///< bool
        AcknowledgedByRole,
        RunbookRole,       ///< QUrl
    };

    struct Alert {
        QString cluster, region;
        SloTracker::Alert level = SloTracker::Alert::None;
        std::int64_t raisedMs = 0;
        std::int64_t firstBadMs = 0;
        QString acknowledgedBy;  ///< empty: not acknowledged
        std::int64_t acknowledgedMs = 0;
    };

    explicit AlertModel(RegionModel& regions, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    const Alert& at(int row) const { return m_alerts.at(static_cast<std::size_t>(row)); }
    int rowOf(const QString& cluster, const QString& region) const;
    /// Someone took it: the bar says who, and stops asking for attention. Escalation to a page
    /// asks again.
    void acknowledge(int row, const QString& who, std::int64_t nowMs);
    /// What "Open incident…" on an alert fills in: its region, a severity from its level, and
    /// its first bad window as the start (so MTTD = raised - first bad is what users suffered).
    incidents::Incident incidentFor(int row) const;
    /// Where runbook links point (a team's wiki, or the installed docs).
    void setRunbookBase(const QString& base) { m_runbookBase = base; }
    QUrl runbook() const;
    /// One line per alert, as the window's bars say it.
    static QString describe(const Alert& alert, double thresholdMs);

signals:
    /// A new alert, or one that escalated (the window notifies the desktop for these).
    void alertRaised(int row);

private:
    void onLevel(const QString& cluster, const QString& region, SloTracker::Alert level);
    void dropRow(int row);  // -1: nothing

    RegionModel& m_regions;
    std::vector<Alert> m_alerts;
    QString m_runbookBase;
};

} // namespace lv::console
