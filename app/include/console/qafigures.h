#pragma once

#include "console/sandbox.h"

#include <QAbstractTableModel>

namespace lv::console {

/// The sandbox's QA figures per region and group of players, as a table (and as Markdown for a
/// bug report).
class QaFiguresModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Region, Group, Connected, RttP50, Corrections, LargestCorrection, Visible, OtherPlatform, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void update(std::vector<Sandbox::GroupFigures> figures);
    const std::vector<Sandbox::GroupFigures>& figures() const { return m_rows; }
    QString toMarkdown() const;

private:
    std::vector<Sandbox::GroupFigures> m_rows;
};

} // namespace lv::console
