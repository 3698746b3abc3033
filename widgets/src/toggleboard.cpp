#include "widgets/toggleboard.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace lv::widgets {

bool ToggleBoard::Filter::filterAcceptsRow(int row, const QModelIndex& parent) const
{
    if (modifiedOnly && modifiedRole >= 0 && !sourceModel()->index(row, 0, parent).data(modifiedRole).toBool())
        return false;
    return QSortFilterProxyModel::filterAcceptsRow(row, parent);
}

ToggleBoard::ToggleBoard(QWidget* parent)
    : QWidget(parent), m_filter(new QLineEdit), m_modifiedOnly(new QCheckBox(tr("Mo&dified only"))), m_view(new QTableView),
      m_change(new QPushButton(tr("Chan&ge…"))), m_history(new QPushButton(tr("Histor&y…"))),
      m_rollback(new QPushButton(tr("Roll bac&k…"))), m_clear(new QPushButton(tr("Cle&ar override…"))), m_note(new QLabel)
{
    m_proxy.setFilterKeyColumn(-1);  // any column
    m_proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_filter->setPlaceholderText(tr("Filter toggles (name, scope, owner, value…)"));
    m_filter->setAccessibleName(tr("Toggle filter"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, &ToggleBoard::setFilterText);
    connect(m_modifiedOnly, &QCheckBox::toggled, this, [this](bool on) {
        m_proxy.modifiedOnly = on;
        m_proxy.refilter();
    });
    m_view->setModel(&m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(0, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);  // changes go through the dialog
    m_view->setAlternatingRowColors(true);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->setAccessibleName(tr("Toggles"));
    connect(m_view, &QTableView::doubleClicked, this, [this] {
        if (m_change->isEnabled())
            emit changeRequested(currentSourceRow());
    });
    m_change->setAccessibleName(tr("Change the selected toggle"));
    m_history->setAccessibleName(tr("Show the history of the selected toggle"));
    connect(m_change, &QPushButton::clicked, this, [this] { emit changeRequested(currentSourceRow()); });
    connect(m_history, &QPushButton::clicked, this, [this] { emit historyRequested(currentSourceRow()); });
    m_rollback->setAccessibleName(tr("Roll the selected toggle back to its previous value"));
    connect(m_rollback, &QPushButton::clicked, this, [this] { emit rollbackRequested(currentSourceRow()); });
    m_clear->setAccessibleName(tr("Clear the value set at this scope so it inherits again"));
    connect(m_clear, &QPushButton::clicked, this, [this] { emit clearRequested(currentSourceRow()); });
    m_note->setAccessibleName(tr("Selected toggle note"));

    auto* top = new QHBoxLayout;
    top->addWidget(m_filter, 1);
    top->addWidget(m_modifiedOnly);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_note, 1);
    bottom->addWidget(m_history);
    bottom->addWidget(m_rollback);
    bottom->addWidget(m_clear);
    bottom->addWidget(m_change);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_view, 1);
    layout->addLayout(bottom);
    selectionChanged();
}

void ToggleBoard::setModel(QAbstractItemModel* model, int modifiedRole, int overriddenRole)
{
    m_proxy.modifiedRole = modifiedRole;
    m_overriddenRole = overriddenRole;
    m_proxy.setSourceModel(model);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &ToggleBoard::selectionChanged);
    connect(model, &QAbstractItemModel::dataChanged, this, &ToggleBoard::selectionChanged);
}

void ToggleBoard::setFilterText(const QString& text)
{
    if (m_filter->text() != text)
        m_filter->setText(text);
    m_proxy.setFilterFixedString(text);
}

int ToggleBoard::currentSourceRow() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? m_proxy.mapToSource(current).row() : -1;
}

void ToggleBoard::selectSourceRow(int row)
{
    const QModelIndex index = m_proxy.mapFromSource(m_proxy.sourceModel()->index(row, 0));
    m_view->setCurrentIndex(index);
    m_view->scrollTo(index);
}

void ToggleBoard::selectionChanged()
{
    const int row = currentSourceRow();
    const bool selected = row >= 0;
    const bool editable = selected && (m_proxy.sourceModel()->index(row, 0).flags() & Qt::ItemIsEditable);
    m_change->setEnabled(editable);
    m_rollback->setEnabled(editable);
    m_clear->setEnabled(editable && m_overriddenRole >= 0 && m_proxy.sourceModel()->index(row, 0).data(m_overriddenRole).toBool());
    m_history->setEnabled(selected);
    if (!selected)
        m_note->setText(tr("Select a toggle to change it or see its history."));
    else if (!editable)
        m_note->setText(tr("Read-only: your role cannot change this toggle."));
    else
        m_note->setText(QString());
}

} // namespace lv::widgets
