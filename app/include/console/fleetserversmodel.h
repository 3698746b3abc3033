#pragma once

#include "console/fleet.h"

#include <QAbstractTableModel>
#include <QPointer>

namespace lv::console {

/// The drill-down under a fleet's region: the servers serving it, each with its own figures
/// (players, RTT p99, tick p99, loss from its latest sample; state and version from the fleet's
/// list). Empty when no fleet region is shown.
class FleetServersModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Server, State, Version, Players, RttP99, TickP99, Loss, Endpoint, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;
    /// int: RegionModel::ToneStale for a server that cannot be reached, ToneWarning for one not serving.
    static constexpr int ToneRole = Qt::UserRole + 2;

    explicit FleetServersModel(QObject* parent = nullptr);
    /// Shows `region` of `fleet` (null: nothing; an empty region: every server of the fleet, with
    /// the players its record lists and no latency figures).
    void show(Fleet* fleet, const QString& region);
    const QString& region() const { return m_region; }
    /// The server in `row` is in the fleet but its part of the region is drained (or in maintenance).
    bool drainingAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void refresh();
    std::vector<RegionMerge::ServerPart> partsNow() const;
    QPointer<Fleet> m_fleet;
    QString m_region;
    std::vector<RegionMerge::ServerPart> m_rows;
};

QString serverStateText(liveops::client::ServerState state);

} // namespace lv::console
