#pragma once

#include "console/slo.h"
#include "liveops/client.h"

#include <QAbstractTableModel>
#include <QHash>

#include <deque>
#include <vector>

namespace lv::console {

/// Every region of every connected cluster, one row each, kept current by telemetry.
class RegionModel : public QAbstractTableModel {
    Q_OBJECT
public:
    /// KbpsIn/KbpsOut: the latest sample's bandwidth; Corrections and Errors: the sums over the last
    /// minute of samples (corrections as the game clients report them; errors are malformed
    /// packets and rejected tokens).
    enum Column { Region, Cluster, Status, Players, RttP50, RttP95, RttP99, Loss, TickP99, Slo, KbpsIn, KbpsOut, Corrections, Errors, ColumnCount };
    /// Raw values for sorting and for tests (numbers as doubles, status as its enum value).
    static constexpr int SortRole = Qt::UserRole + 1;
    /// int: ToneWarning or ToneError for a cell that needs attention (a status other than
    /// serving, an SLO alert, a p99 past the threshold); the view maps it to a colour.
    static constexpr int ToneRole = Qt::UserRole + 2;
    static constexpr int ToneWarning = 1, ToneError = 2, ToneStale = 3;

    explicit RegionModel(SloTracker::Settings slo = {}, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void updateRegions(const QString& cluster, const std::vector<liveops::client::Region>& regions);
    void applyTelemetry(const QString& cluster, const std::vector<liveops::client::Telemetry>& samples);
    /// Rows of a cluster that went away.
    void removeCluster(const QString& cluster);
    /// A fleet's region that no server serves any more.
    void removeRegion(const QString& cluster, const QString& region);
    /// One region's figures are old (a fleet's region whose servers are all unreachable).
    void setRegionReachable(const QString& cluster, const QString& region, bool reachable);
    /// While a cluster's connection is down its figures are old: its rows are marked stale
    /// (greyed, "last sample N s ago"), not shown as if current.
    void setClusterReachable(const QString& cluster, bool reachable);
    /// A region's p99 history from before the console connected (Prometheus minutes, oldest
    /// first), into its SLO windows: each point stands for `windowsPerPoint` telemetry windows.
    void backfillSlo(const QString& cluster, const QString& region, const std::vector<std::pair<std::int64_t, double>>& p99Ms,
                     std::uint32_t windowsPerPoint);
    /// Re-announces the stale rows (their "N s ago" moves on); a view calls it once a second.
    void touchStale();

    int rowOf(const QString& cluster, const QString& region) const;
    QString regionAt(int row) const { return m_rows.at(static_cast<std::size_t>(row)).region; }
    QString clusterAt(int row) const { return m_rows.at(static_cast<std::size_t>(row)).cluster; }
    liveops::client::RegionStatus statusAt(int row) const { return m_rows.at(static_cast<std::size_t>(row)).status; }
    /// The drill running in the region ("" when none), as syncd last listed it.
    QString drillAt(int row) const { return m_rows.at(static_cast<std::size_t>(row)).drill; }
    SloTracker::Alert alertAt(int row) const { return m_rows.at(static_cast<std::size_t>(row)).alert; }
    const SloTracker& sloAt(int row) const { return m_rows.at(static_cast<std::size_t>(row)).slo; }
    double sloThresholdMs() const { return m_slo.thresholdMs; }

signals:
    /// The SLO alert level of a region changed (raised or cleared).
    void sloAlertChanged(const QString& cluster, const QString& region, lv::console::SloTracker::Alert alert);

private:
    struct Row {
        QString cluster;
        QString region;
        QString endpoint;
        liveops::client::RegionStatus status = liveops::client::RegionStatus::Unknown;
        std::uint32_t players = 0;
        std::uint32_t capacity = 0;
        QString drill;
        double p50 = 0, p95 = 0, p99 = 0, loss = 0, tick = 0, kbpsIn = 0, kbpsOut = 0;
        struct Counts {
            std::int64_t timeMs;
            std::uint64_t corrections, errors;
        };
        std::deque<Counts> lastMinute;  // per-interval counts of the samples of the last 60 s
        std::uint64_t corrections = 0, errors = 0;  // their sums
        bool hasTelemetry = false;
        std::int64_t newestSampleMs = 0;  // sample time of the figures shown
        std::int64_t lastSampleMs = 0;  // local time the newest sample arrived (0 = none)
        bool stale = false;
        SloTracker slo;
        SloTracker::Alert alert = SloTracker::Alert::None;
    };
    Row& rowFor(const QString& cluster, const QString& region);
    void changed(int row);

    void reindex();

    SloTracker::Settings m_slo;
    std::vector<Row> m_rows;
    QHash<QString, int> m_index;  // "cluster\x1fregion" -> row: telemetry from 64 regions at 10 Hz looks rows up a lot
};

QString statusText(liveops::client::RegionStatus status);

} // namespace lv::console
