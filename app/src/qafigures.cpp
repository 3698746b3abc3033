#include "console/qafigures.h"

namespace lv::console {

int QaFiguresModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }
int QaFiguresModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant QaFiguresModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Region: return tr("Region");
    case Group: return tr("Players");
    case Connected: return tr("Connected");
    case RttP50: return tr("RTT p50 (ms)");
    case Corrections: return tr("Corrections");
    case LargestCorrection: return tr("Largest correction (m)");
    case Visible: return tr("Players seen (mean)");
    case OtherPlatform: return tr("…of another platform");
    default: return {};
    }
}

QVariant QaFiguresModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    if (role == Qt::TextAlignmentRole)
        return index.column() >= Connected ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    if (role != Qt::DisplayRole && role != Qt::AccessibleTextRole)
        return {};
    const auto& row = m_rows[static_cast<std::size_t>(index.row())];
    const liveops::GroupReport& f = row.figures;
    switch (index.column()) {
    case Region: return QString::fromStdString(row.region);
    case Group: return QString::fromStdString(f.label);
    case Connected: return QStringLiteral("%1 / %2").arg(f.connected).arg(f.clients);
    case RttP50: return QString::number(f.rttP50Ms, 'f', 1);
    case Corrections: return QString::number(f.corrections);
    case LargestCorrection: return QString::number(f.largestCorrectionMetres, 'f', 2);
    case Visible: return QString::number(f.visiblePerClient, 'f', 1);
    case OtherPlatform: return QString::number(f.otherPlatformVisiblePerClient, 'f', 1);
    default: return {};
    }
}

void QaFiguresModel::update(std::vector<Sandbox::GroupFigures> figures)
{
    if (figures.size() != m_rows.size()) {
        beginResetModel();  // the sandbox was started or stopped: a different table
        m_rows = std::move(figures);
        endResetModel();
        return;
    }
    m_rows = std::move(figures);
    if (!m_rows.empty())
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

QString QaFiguresModel::toMarkdown() const
{
    QString text = QStringLiteral("|");
    for (int c = 0; c < ColumnCount; ++c)
        text += QLatin1Char(' ') + headerData(c, Qt::Horizontal).toString() + QStringLiteral(" |");
    text += QStringLiteral("\n|");
    for (int c = 0; c < ColumnCount; ++c)
        text += QStringLiteral("---|");
    text += QLatin1Char('\n');
    for (int r = 0; r < rowCount(); ++r) {
        text += QLatin1Char('|');
        for (int c = 0; c < ColumnCount; ++c)
            text += QLatin1Char(' ') + index(r, c).data().toString() + QStringLiteral(" |");
        text += QLatin1Char('\n');
    }
    return text;
}

} // namespace lv::console
