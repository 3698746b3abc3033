#include "console/togglemodel.h"

#include <QDateTime>
#include <QFont>

namespace lv::console {

namespace lc = liveops::client;

QString toggleGroup(const std::string& key)
{
    if (key == "tick_hz" || key == "snapshot_hz")
        return ToggleModel::tr("Rates");
    if (key == "delta_compression" || key == "bandwidth_cap_kbps")
        return ToggleModel::tr("Bandwidth");
    if (key == "interest_radius_m" || key == "max_visible")
        return ToggleModel::tr("Visibility");
    if (key == "prediction" || key == "interpolation_delay_override_ms")
        return ToggleModel::tr("Client feel");
    if (key == "cross_play")
        return ToggleModel::tr("Matchmaking");
    return ToggleModel::tr("Availability");
}

QString formatToggleValue(const liveops::ToggleValue& value)
{
    const QString text = QString::fromStdString(liveops::formatValue(value));
    return text.isEmpty() ? ToggleModel::tr("(none)") : text;
}

ToggleModel::ToggleModel(QObject* parent) : QAbstractTableModel(parent) {}

int ToggleModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }

int ToggleModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ToggleModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Group: return tr("Group");
    case Key: return tr("Toggle");
    case Scope: return tr("Scope");
    case Value: return tr("Value");
    case Default: return tr("Default");
    case Owner: return tr("Owner");
    case LastChange: return tr("Last change");
    case Runbook: return tr("Runbook");
    default: return {};
    }
}

bool ToggleModel::editable(int row) const
{
    const Row& r = m_rows.at(static_cast<std::size_t>(row));
    auto it = m_roles.find(r.cluster);
    return it != m_roles.end() && it->second >= r.toggle.requiredRole && !m_stale.contains(r.cluster);
}

Qt::ItemFlags ToggleModel::flags(const QModelIndex& index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && editable(index.row()))
        f |= Qt::ItemIsEditable;  // "you may change this"; the board opens a dialog, never an inline editor
    return f;
}

QVariant ToggleModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Row& r = m_rows[static_cast<std::size_t>(index.row())];
    const lc::Toggle& t = r.toggle;
    // What the engines run with at this scope, which for a region may be the cluster-wide value.
    const bool modified = !(t.effective == t.defaultValue);
    const bool inherited = t.source == lc::Toggle::Source::Cluster || t.source == lc::Toggle::Source::Server;
    if (role == ModifiedRole)
        return modified;
    if (role == OverriddenRole)
        return t.source == lc::Toggle::Source::Here && t.version > 0;
    if (role == Qt::FontRole && index.column() == Value && modified) {
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    const QString stale = m_stale.value(r.cluster);
    if (role == Qt::ToolTipRole && !stale.isEmpty() && (index.column() == Key || index.column() == Value))
        return tr("Read-only and possibly stale: %1. The servers keep what they last applied; nothing can change until the fleet "
                  "store is back.")
            .arg(stale);
    if (role == Qt::ToolTipRole) {
        if (index.column() == Key)
            return tr("%1\nNeeds the %2 role%3")
                .arg(QString::fromStdString(t.description), QString::fromLatin1(liveops::roleName(t.requiredRole).data()),
                     editable(index.row()) ? QString() : tr(" — read-only for you"));
        if (index.column() == Value)
            return t.source == lc::Toggle::Source::Server
                       ? tr("This server's own value applies to %1 (it overrides the region's and the fleet's).").arg(QString::fromStdString(t.scope))
                   : inherited ? tr("Not set for %1: the cluster-wide value applies. Setting it here overrides it for this region only.")
                                   .arg(QString::fromStdString(t.scope))
                   : t.source == lc::Toggle::Source::Here ? tr("Set at this scope.")
                                                          : tr("Never set: the default applies.");
        if (index.column() == LastChange && t.lastChange)
            return tr("%1 → %2\n%3").arg(QString::fromStdString(t.lastChange->oldValue), QString::fromStdString(t.lastChange->newValue),
                                        QString::fromStdString(t.lastChange->reason));
        return {};
    }
    if (role != Qt::DisplayRole && role != Qt::AccessibleTextRole)
        return {};
    switch (index.column()) {
    case Group: return toggleGroup(t.key);
    case Key: return QString::fromStdString(t.key);
    case Scope: return t.scope == "*" ? tr("%1 (all regions)").arg(r.cluster) : QString::fromStdString(t.scope);
    case Value:
        if (!stale.isEmpty())
            return tr("%1 (last known)").arg(formatToggleValue(t.effective));
        if (t.source == lc::Toggle::Source::Server)
            return tr("%1 (server value)").arg(formatToggleValue(t.effective));
        if (inherited)
            return tr("%1 (cluster-wide value)").arg(formatToggleValue(t.effective));
        return modified ? tr("%1 (modified)").arg(formatToggleValue(t.effective)) : formatToggleValue(t.effective);
    case Default: return formatToggleValue(t.defaultValue);
    case Owner: return QString::fromStdString(t.owner);
    case LastChange:
        if (!t.lastChange)
            return t.source == lc::Toggle::Source::Server ? tr("not set here: this server's value applies")
                   : inherited                                 ? tr("not set here: inherits all regions' value")
                                                               : tr("never changed");
        return tr("%1, %2: %3")
            .arg(QString::fromStdString(t.lastChange->actor),
                 m_time ? m_time->dateTime(t.lastChange->timeMs) : TimeFormat().dateTime(t.lastChange->timeMs),
                 QString::fromStdString(t.lastChange->reason));
    case Runbook: return QString::fromStdString(t.runbookUrl);
    default: return {};
    }
}

int ToggleModel::rowOf(const QString& cluster, const std::string& key, const std::string& scope) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].cluster == cluster && m_rows[i].toggle.key == key && m_rows[i].toggle.scope == scope)
            return static_cast<int>(i);
    return -1;
}

void ToggleModel::apply(const QString& cluster, const lc::Toggle& toggle)
{
    if (const int row = rowOf(cluster, toggle.key, toggle.scope); row >= 0) {
        auto& current = m_rows[static_cast<std::size_t>(row)].toggle;
        if (toggle.version < current.version)
            return;  // an older state (a re-sent dump racing a change): keep the newer
        current = toggle;
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        return;
    }
    const int row = rowCount();
    beginInsertRows({}, row, row);
    m_rows.push_back({cluster, toggle});
    endInsertRows();
}

void ToggleModel::setRole(const QString& cluster, liveops::Role role)
{
    m_roles[cluster] = role;
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1), {Qt::ToolTipRole});
}

void ToggleModel::setStale(const QString& cluster, const QString& why)
{
    if (m_stale.value(cluster) == why)
        return;
    if (why.isEmpty())
        m_stale.remove(cluster);
    else
        m_stale.insert(cluster, why);
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

void ToggleModel::removeCluster(const QString& cluster)
{
    m_stale.remove(cluster);
    for (int row = rowCount() - 1; row >= 0; --row)
        if (m_rows[static_cast<std::size_t>(row)].cluster == cluster) {
            beginRemoveRows({}, row, row);
            m_rows.erase(m_rows.begin() + row);
            endRemoveRows();
        }
    m_roles.erase(cluster);
}

void ToggleModel::setTimeFormat(const TimeFormat* time)
{
    if (m_time)
        disconnect(m_time, nullptr, this, nullptr);
    m_time = time;
    if (m_time)
        connect(m_time, &TimeFormat::changed, this, [this] {
            if (rowCount() > 0)
                emit dataChanged(index(0, LastChange), index(rowCount() - 1, LastChange));
        });
}

} // namespace lv::console
