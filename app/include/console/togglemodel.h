#pragma once

#include "liveops/client.h"

#include "console/timeformat.h"

#include <QAbstractTableModel>
#include <QMap>

#include <vector>

namespace lv::console {

/// Every toggle of every connected cluster, kept current by the toggle watch. Rows the caller's
/// role may change carry Qt::ItemIsEditable (the board shows the others read-only).
class ToggleModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Group, Key, Scope, Value, Default, Owner, LastChange, Runbook, ColumnCount };
    static constexpr int ModifiedRole = Qt::UserRole + 1;  ///< bool: value differs from default
    static constexpr int OverriddenRole = Qt::UserRole + 2;  ///< bool: a value is set at this scope (it can be cleared)

    explicit ToggleModel(QObject* parent = nullptr);
    /// How "last change" times are written (UTC when not set); the column follows its changes.
    void setTimeFormat(const TimeFormat* time);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

    void apply(const QString& cluster, const liveops::client::Toggle& toggle);
    void setRole(const QString& cluster, liveops::Role role);
    /// A fleet whose store takes no writes: its toggles are shown as last known and read-only,
    /// with `why` in their tooltips; empty `why` makes them current again.
    void setStale(const QString& cluster, const QString& why);
    QString staleReason(const QString& cluster) const { return m_stale.value(cluster); }
    void removeCluster(const QString& cluster);

    int rowOf(const QString& cluster, const std::string& key, const std::string& scope) const;
    const liveops::client::Toggle& toggleAt(int row) const { return m_rows.at(static_cast<std::size_t>(row)).toggle; }
    const QString& clusterAt(int row) const { return m_rows.at(static_cast<std::size_t>(row)).cluster; }
    bool editable(int row) const;

private:
    struct Row {
        QString cluster;
        liveops::client::Toggle toggle;
    };
    std::vector<Row> m_rows;
    std::map<QString, liveops::Role> m_roles;
    QMap<QString, QString> m_stale;  // cluster -> why its toggles cannot change now  // per cluster; viewer until WhoAmI answers
    const TimeFormat* m_time = nullptr;
};

QString toggleGroup(const std::string& key);
QString formatToggleValue(const liveops::ToggleValue& value);

} // namespace lv::console
