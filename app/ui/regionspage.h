#pragma once

#include "console/fleetserversmodel.h"
#include "console/session.h"
#include "widgets/latencychart.h"

#include <QSortFilterProxyModel>
#include <QTimer>
#include <QWidget>

class QMenu;

class QComboBox;
class QLabel;
class QTableView;

namespace lv::console {

/// The region table's sorting proxy; it also turns the model's tones into colours readable on
/// the palette in use (light or dark).
class RegionTableProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
};

/// The first screen: the region overview table above the latency chart. With no selection the
/// chart overlays every region; select rows to compare just those.
class RegionsPage : public QWidget {
    Q_OBJECT
public:
    explicit RegionsPage(ConsoleSession& session, QWidget* parent = nullptr);
    QTableView* table() const { return m_table; }
    widgets::LatencyChart* chart() const { return m_chart; }
    /// The drill-down: the servers of the one fleet region selected (hidden otherwise).
    QTableView* servers() const { return m_servers; }
    const FleetServersModel& serversModel() const { return m_serversModel; }
    /// Selected rows as (cluster, region), in the model's terms.
    std::vector<std::pair<QString, QString>> selectedRegions() const;
    /// The operations that apply to the region in `row` (of the region model) as it is now:
    /// Drain or Undrain, Fail over, Start or Cancel a drill. The table's context menu.
    void fillOperationsMenu(QMenu& menu, int row);
    /// The operations on the server in `row` of the drill-down: Drain it, or Undrain while it drains.
    void fillServerMenu(QMenu& menu, int row);

signals:
    void drainRequested(const QString& cluster, const QString& region);
    void undrainRequested(const QString& cluster, const QString& region);
    void failoverRequested(const QString& cluster, const QString& region);
    void drillRequested(const QString& cluster, const QString& region);
    void cancelDrillRequested(const QString& cluster, const QString& region);
    void drainServerRequested(const QString& cluster, const QString& region, const QString& server);
    void undrainServerRequested(const QString& cluster, const QString& server);

private:
    void rebuildChart();
    /// The regions the chart should show now: the selected ones, or else the worst by p99.
    std::vector<std::pair<QString, QString>> chartRegions() const;
    void updateMarks();
    void applyWindow();
    void showServers();  // of the selected fleet region, if one is

    static constexpr int kMaxOverlaid = 8;  // more lines than this is noise, and costs a frame
    ConsoleSession& m_session;
    QTimer m_rebuild;   // coalesces chart rebuilds (regions appear in bursts)
    QTimer m_resize;    // coalesces column fitting (never on every update: text shaping is costly)
    QTimer m_worst;     // with nothing selected, the worst regions are chosen again as data moves
    QTimer m_marks;     // coalesces annotation updates (an audit replay comes in a burst)
    std::vector<std::pair<QString, QString>> m_shown;  // what the chart shows, in order
    QLabel* m_hint;
    RegionTableProxy m_proxy;
    QTableView* m_table;
    QComboBox* m_window;
    widgets::LatencyChart* m_chart;
    FleetServersModel m_serversModel;
    RegionTableProxy m_serversProxy;
    QWidget* m_serversPanel;
    QLabel* m_serversTitle;
    QTableView* m_servers;
};

} // namespace lv::console
