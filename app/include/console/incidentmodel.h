#pragma once

#include "incidents/types.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <optional>
#include <vector>

namespace lv::console {

/// The incident list: one row per incident, newest first, as the desk lists them.
class IncidentListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Severity, Status, Title, Regions, Started, Duration, ColumnCount };
    static constexpr int IdRole = Qt::UserRole + 1;
    static constexpr int SeverityRole = Qt::UserRole + 2;
    static constexpr int StatusRole = Qt::UserRole + 3;

    using QAbstractTableModel::QAbstractTableModel;
    void setIncidents(std::vector<incidents::Incident> incidents);
    const incidents::Incident* incident(int row) const;
    int rowOf(std::int64_t id) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<incidents::Incident> m_rows;
};

/// Filters the incident list: open only / one status, a severity, text in the title or regions.
class IncidentFilter : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setOpenOnly(bool openOnly);
    void setStatus(std::optional<incidents::Status> status);
    void setSeverity(int severity);  ///< 0 = any
    void setText(const QString& text);

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

private:
    bool m_openOnly = false;
    std::optional<incidents::Status> m_status;
    int m_severity = 0;
    QString m_text;
};

} // namespace lv::console
