#pragma once

#include <QSortFilterProxyModel>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace lv::widgets {

/// Every toggle in one filterable table, grouped by sorting on its first column. Works on any
/// table model: rows whose flags carry Qt::ItemIsEditable may be changed ("Change…" or a double
/// click), others are shown read-only with a note saying so; `modifiedRole` (bool) marks values
/// that differ from their default for the "modified only" filter.
class ToggleBoard : public QWidget {
    Q_OBJECT
public:
    explicit ToggleBoard(QWidget* parent = nullptr);
    /// `overriddenRole` (bool, optional): a value is set at the row's scope, so Clear override applies.
    void setModel(QAbstractItemModel* model, int modifiedRole, int overriddenRole = -1);
    QTableView* view() const { return m_view; }
    void setFilterText(const QString& text);
    /// The source row selected, or -1.
    int currentSourceRow() const;
    void selectSourceRow(int row);

signals:
    void changeRequested(int sourceRow);
    void historyRequested(int sourceRow);
    void rollbackRequested(int sourceRow);
    void clearRequested(int sourceRow);

private:
    void selectionChanged();

    class Filter : public QSortFilterProxyModel {
    public:
        int modifiedRole = -1;
        bool modifiedOnly = false;
        void refilter() { invalidateRowsFilter(); }

    protected:
        bool filterAcceptsRow(int row, const QModelIndex& parent) const override;
    };

    Filter m_proxy;
    QLineEdit* m_filter;
    QCheckBox* m_modifiedOnly;
    QTableView* m_view;
    QPushButton* m_change;
    QPushButton* m_history;
    QPushButton* m_rollback;
    QPushButton* m_clear;
    int m_overriddenRole = -1;
    QLabel* m_note;
};

} // namespace lv::widgets
