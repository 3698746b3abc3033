#include "console/fleetserversmodel.h"

#include "console/regionmodel.h"

namespace lv::console {

namespace lc = liveops::client;

QString serverStateText(lc::ServerState state)
{
    switch (state) {
    case lc::ServerState::Starting: return FleetServersModel::tr("Starting");
    case lc::ServerState::Serving: return FleetServersModel::tr("Serving");
    case lc::ServerState::ShuttingDown: return FleetServersModel::tr("Shutting down");
    }
    return FleetServersModel::tr("Unknown");
}

FleetServersModel::FleetServersModel(QObject* parent) : QAbstractTableModel(parent) {}

std::vector<RegionMerge::ServerPart> FleetServersModel::partsNow() const
{
    if (!m_fleet)
        return {};
    if (!m_region.isEmpty())
        return m_fleet->merge().servers(m_region);
    std::vector<RegionMerge::ServerPart> out;  // the whole fleet, as listed
    for (const lc::Server& s : m_fleet->servers()) {
        RegionMerge::ServerPart p;
        p.server = QString::fromStdString(s.id);
        const ClusterConnection* c = m_fleet->connectionTo(p.server);
        p.reachable = c && c->state() != ClusterConnection::State::Reconnecting;
        p.sample.players = s.players;
        out.push_back(std::move(p));
    }
    return out;
}

void FleetServersModel::show(Fleet* fleet, const QString& region)
{
    if (m_fleet)
        disconnect(m_fleet, nullptr, this, nullptr);
    m_fleet = fleet;
    m_region = fleet ? region : QString();
    if (fleet) {
        connect(fleet, &Fleet::telemetryMerged, this, &FleetServersModel::refresh);
        connect(fleet, &Fleet::serversChanged, this, &FleetServersModel::refresh);
        connect(fleet, &Fleet::regionReachable, this, &FleetServersModel::refresh);
    }
    beginResetModel();
    m_rows = partsNow();
    endResetModel();
}

void FleetServersModel::refresh()
{
    auto rows = partsNow();
    const bool sameServers = rows.size() == m_rows.size()
                             && std::equal(rows.begin(), rows.end(), m_rows.begin(), [](const auto& a, const auto& b) { return a.server == b.server; });
    if (!sameServers) {  // a server joined or left the region: rare
        beginResetModel();
        m_rows = std::move(rows);
        endResetModel();
        return;
    }
    m_rows = std::move(rows);
    if (!m_rows.empty())
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

bool FleetServersModel::drainingAt(int row) const
{
    if (row < 0 || row >= rowCount())
        return false;
    const lc::RegionStatus s = m_rows[static_cast<std::size_t>(row)].sample.status;
    return s == lc::RegionStatus::Draining || s == lc::RegionStatus::Maintenance;
}

int FleetServersModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }
int FleetServersModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant FleetServersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Server: return tr("Server");
    case State: return tr("State");
    case Version: return tr("Version");
    case Players: return tr("Players");
    case RttP99: return tr("RTT p99 (ms)");
    case TickP99: return tr("Tick p99 (ms)");
    case Loss: return tr("Loss (%)");
    case Endpoint: return tr("API endpoint");
    default: return {};
    }
}

QVariant FleetServersModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || !m_fleet)
        return {};
    const RegionMerge::ServerPart& p = m_rows[static_cast<std::size_t>(index.row())];
    const lc::Server* info = m_fleet->server(p.server);
    if (role == ToneRole) {
        if (!p.reachable)
            return RegionModel::ToneStale;
        if (index.column() == State && info && (info->state != lc::ServerState::Serving || p.sample.status != lc::RegionStatus::Serving))
            return RegionModel::ToneWarning;
        return {};
    }
    if (role == Qt::TextAlignmentRole)
        return index.column() >= Players && index.column() <= Loss ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    if (role != Qt::DisplayRole && role != SortRole && role != Qt::AccessibleTextRole)
        return {};
    const auto number = [&](double v, int decimals) -> QVariant {
        if (role == SortRole)
            return v;
        return p.hasSample ? QString::number(v, 'f', decimals) : QStringLiteral("—");
    };
    switch (index.column()) {
    case Server: return p.server;
    case State:
        if (!p.reachable)
            return tr("unreachable");
        if (!info)
            return tr("not listed");
        // A serving server whose part of the region does not serve (drained, maintenance) says so.
        if (info->state == lc::ServerState::Serving && p.sample.status != lc::RegionStatus::Serving && p.sample.status != lc::RegionStatus::Unknown)
            return statusText(p.sample.status);
        return serverStateText(info->state);
    case Version: return info && !info->version.empty() ? QString::fromStdString(info->version) : QStringLiteral("—");
    case Players: return role == SortRole ? QVariant(p.sample.players) : QVariant(QString::number(p.sample.players));
    case RttP99: return number(p.sample.rttP99Ms, 1);
    case TickP99: return number(p.sample.tickP99Ms, 2);
    case Loss: return number(p.sample.lossPercent, 2);
    case Endpoint: return info ? QString::fromStdString(info->apiEndpoint) : QString();
    default: return {};
    }
}

} // namespace lv::console
