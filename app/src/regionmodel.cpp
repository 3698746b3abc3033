#include "console/regionmodel.h"

#include <QDateTime>
#include <QColor>
#include <QIcon>

#include <algorithm>
#include <map>
#include <QIcon>

namespace lv::console {

namespace lc = liveops::client;

QString statusText(lc::RegionStatus status)
{
    switch (status) {
    case lc::RegionStatus::Serving: return RegionModel::tr("Serving");
    case lc::RegionStatus::Draining: return RegionModel::tr("Draining");
    case lc::RegionStatus::Maintenance: return RegionModel::tr("Maintenance");
    case lc::RegionStatus::Outage: return RegionModel::tr("Outage");
    case lc::RegionStatus::Unknown: break;
    }
    return RegionModel::tr("Unknown");
}

namespace {
QString statusIcon(lc::RegionStatus status)
{
    switch (status) {
    case lc::RegionStatus::Serving: return QStringLiteral(":/icons/status-serving.svg");
    case lc::RegionStatus::Draining: return QStringLiteral(":/icons/status-draining.svg");
    case lc::RegionStatus::Maintenance: return QStringLiteral(":/icons/status-maintenance.svg");
    case lc::RegionStatus::Outage: return QStringLiteral(":/icons/status-outage.svg");
    case lc::RegionStatus::Unknown: break;
    }
    return QStringLiteral(":/icons/status-unknown.svg");
}

QString alertText(SloTracker::Alert alert)
{
    switch (alert) {
    case SloTracker::Alert::Page: return RegionModel::tr("Burning fast");
    case SloTracker::Alert::Ticket: return RegionModel::tr("Burning slowly");
    case SloTracker::Alert::None: break;
    }
    return RegionModel::tr("OK");
}
} // namespace

RegionModel::RegionModel(SloTracker::Settings slo, QObject* parent) : QAbstractTableModel(parent), m_slo(slo) {}

int RegionModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }

int RegionModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RegionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    switch (section) {
    case Region: return tr("Region");
    case Cluster: return tr("Cluster");
    case Status: return tr("Status");
    case Players: return tr("Players");
    case RttP50: return tr("RTT p50 (ms)");
    case RttP95: return tr("RTT p95 (ms)");
    case RttP99: return tr("RTT p99 (ms)");
    case Loss: return tr("Loss (%)");
    case TickP99: return tr("Tick p99 (ms)");
    case KbpsIn: return role == Qt::ToolTipRole ? tr("Bandwidth from the players, latest sample") : tr("In kbit/s");
    case KbpsOut: return role == Qt::ToolTipRole ? tr("Bandwidth to the players, latest sample") : tr("Out kbit/s");
    case Corrections:
        return role == Qt::ToolTipRole ? tr("Prediction corrections in the last minute, as the game clients report them (not verified)")
                                       : tr("Corr./min");
    case Errors: return role == Qt::ToolTipRole ? tr("Malformed packets and rejected tokens in the last minute") : tr("Err./min");
    case Slo: return role == Qt::ToolTipRole ? tr("Latency SLO: p99 RTT ≤ %1 ms in 99 % of windows").arg(m_slo.thresholdMs) : tr("SLO");
    default: return {};
    }
}

QVariant RegionModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Row& r = m_rows[static_cast<std::size_t>(index.row())];
    const auto number = [&](double v, int decimals) -> QVariant {
        if (role == SortRole)
            return v;
        if (!r.hasTelemetry)
            return QStringLiteral("—");
        return QString::number(v, 'f', decimals);
    };
    if (role == Qt::TextAlignmentRole)
        return index.column() >= Players && index.column() != Slo ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    if (role == Qt::DecorationRole && index.column() == Status) {
        // One QIcon per status for the life of the program: a fresh QIcon per paint is a fresh
        // SVG engine and pixmap cache entry every time, and memory grows with every repaint.
        static std::map<lc::RegionStatus, QIcon> icons;
        auto it = icons.find(r.status);
        if (it == icons.end())
            it = icons.emplace(r.status, QIcon(statusIcon(r.status))).first;
        return it->second;
    }
    if (role == ToneRole && r.stale)
        return ToneStale;
    if (role == ToneRole) {  // what it means; the view picks the colour for its palette
        if (index.column() == Status && r.status != lc::RegionStatus::Serving)
            return r.status == lc::RegionStatus::Outage ? ToneError : ToneWarning;
        if (index.column() == Slo && r.alert != SloTracker::Alert::None)
            return r.alert == SloTracker::Alert::Page ? ToneError : ToneWarning;
        if (index.column() == RttP99 && r.hasTelemetry && r.p99 > m_slo.thresholdMs)
            return ToneError;
        if (index.column() == Errors && r.errors > 0)
            return ToneWarning;
        return {};
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == Status)
            return r.drill.isEmpty() ? tr("%1 — endpoint %2, capacity %3").arg(statusText(r.status), r.endpoint).arg(r.capacity)
                                     : tr("%1 — drill: %2").arg(statusText(r.status), r.drill);
        if (index.column() == Slo)
            return r.slo.covered(3'600'000)
                       ? tr("burn rate 5 min %1, 1 h %2").arg(r.slo.burnRate(300'000), 0, 'f', 1).arg(r.slo.burnRate(3'600'000), 0, 'f', 1)
                       : tr("burn rate 5 min %1; the 1 h window is still filling (%2 of 60 min): no page before it is covered")
                             .arg(r.slo.burnRate(300'000), 0, 'f', 1)
                             .arg(r.slo.coverageMs() / 60'000);
        return {};
    }
    if (role != Qt::DisplayRole && role != SortRole && role != Qt::AccessibleTextRole)
        return {};
    switch (index.column()) {
    case Region: return r.region;
    case Cluster: return r.cluster;
    case Status:
        if (role == SortRole)
            return static_cast<int>(r.status);
        if (r.stale)
            return r.lastSampleMs ? tr("no connection · last sample %1 s ago").arg((QDateTime::currentMSecsSinceEpoch() - r.lastSampleMs) / 1000)
                                  : tr("no connection");
        return r.drill.isEmpty() ? statusText(r.status) : tr("%1 (drill)").arg(statusText(r.status));
    case Players: return role == SortRole ? QVariant(r.players) : QVariant(QStringLiteral("%1 / %2").arg(r.players).arg(r.capacity));
    case RttP50: return number(r.p50, 1);
    case RttP95: return number(r.p95, 1);
    case RttP99: return number(r.p99, 1);
    case Loss: return number(r.loss, 2);
    case TickP99: return number(r.tick, 2);
    case KbpsIn: return number(r.kbpsIn, 1);
    case KbpsOut: return number(r.kbpsOut, 1);
    case Corrections: return number(static_cast<double>(r.corrections), 0);
    case Errors: return number(static_cast<double>(r.errors), 0);
    case Slo: return role == SortRole ? QVariant(static_cast<int>(r.alert)) : QVariant(alertText(r.alert));
    default: return {};
    }
}

namespace {
QString keyOf(const QString& cluster, const QString& region) { return cluster + QChar(0x1f) + region; }
} // namespace

int RegionModel::rowOf(const QString& cluster, const QString& region) const { return m_index.value(keyOf(cluster, region), -1); }

void RegionModel::reindex()
{
    m_index.clear();
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        m_index.insert(keyOf(m_rows[i].cluster, m_rows[i].region), static_cast<int>(i));
}

RegionModel::Row& RegionModel::rowFor(const QString& cluster, const QString& region)
{
    if (const int row = rowOf(cluster, region); row >= 0)
        return m_rows[static_cast<std::size_t>(row)];
    const int row = rowCount();
    beginInsertRows({}, row, row);
    Row r;
    r.cluster = cluster;
    r.region = region;
    r.slo = SloTracker(m_slo);
    m_rows.push_back(std::move(r));
    m_index.insert(keyOf(cluster, region), row);
    endInsertRows();
    return m_rows.back();
}

void RegionModel::changed(int row) { emit dataChanged(index(row, 0), index(row, ColumnCount - 1)); }

void RegionModel::updateRegions(const QString& cluster, const std::vector<lc::Region>& regions)
{
    for (const lc::Region& region : regions) {
        Row& r = rowFor(cluster, QString::fromStdString(region.name));
        r.endpoint = QString::fromStdString(region.endpoint);
        r.status = region.status;
        r.players = region.players;
        r.capacity = region.capacity;
        r.drill = QString::fromStdString(region.activeDrill);
        changed(rowOf(r.cluster, r.region));
    }
}

void RegionModel::applyTelemetry(const QString& cluster, const std::vector<lc::Telemetry>& samples)
{
    std::vector<int> touched;
    for (const lc::Telemetry& t : samples) {
        const QString region = QString::fromStdString(t.region);
        Row& r = rowFor(cluster, region);
        // The row shows the newest sample; history replayed late only feeds the SLO windows.
        if (!r.hasTelemetry || t.timeMs >= r.newestSampleMs) {
            r.newestSampleMs = t.timeMs;
            r.status = t.status;
            r.players = t.players;
            r.p50 = t.rttP50Ms;
            r.p95 = t.rttP95Ms;
            r.p99 = t.rttP99Ms;
            r.loss = t.lossPercent;
            r.tick = t.tickP99Ms;
            r.kbpsIn = t.kbpsIn;
            r.kbpsOut = t.kbpsOut;
            r.lastMinute.push_back({t.timeMs, t.clientReportedCorrections, t.errors});
            r.corrections += t.clientReportedCorrections;
            r.errors += t.errors;
            while (r.lastMinute.front().timeMs <= t.timeMs - 60'000) {
                r.corrections -= r.lastMinute.front().corrections;
                r.errors -= r.lastMinute.front().errors;
                r.lastMinute.pop_front();
            }
        }
        r.hasTelemetry = true;
        r.lastSampleMs = QDateTime::currentMSecsSinceEpoch();
        if (t.players > 0)  // an empty region has no RTT to judge
            r.slo.record(t.timeMs, t.rttP99Ms);
        const auto alert = r.slo.alert();
        const int row = rowOf(cluster, region);
        if (alert != r.alert) {
            r.alert = alert;
            emit sloAlertChanged(r.cluster, r.region, alert);
        }
        touched.push_back(row);
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    // One dataChanged per run of adjacent rows.
    for (std::size_t i = 0; i < touched.size();) {
        std::size_t j = i;
        while (j + 1 < touched.size() && touched[j + 1] == touched[j] + 1)
            ++j;
        emit dataChanged(index(touched[i], 0), index(touched[j], ColumnCount - 1));
        i = j + 1;
    }
}

void RegionModel::backfillSlo(const QString& cluster, const QString& region, const std::vector<std::pair<std::int64_t, double>>& p99Ms,
                              std::uint32_t windowsPerPoint)
{
    Row& r = rowFor(cluster, region);
    for (const auto& [timeMs, p99] : p99Ms)
        r.slo.record(timeMs, p99, windowsPerPoint);
    const auto alert = r.slo.alert();
    if (alert != r.alert) {
        r.alert = alert;
        emit sloAlertChanged(r.cluster, r.region, alert);
    }
    changed(rowOf(cluster, region));
}

void RegionModel::setClusterReachable(const QString& cluster, bool reachable)
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].cluster == cluster && m_rows[i].stale == reachable) {
            m_rows[i].stale = !reachable;
            emit dataChanged(index(int(i), 0), index(int(i), ColumnCount - 1));
        }
}

void RegionModel::setRegionReachable(const QString& cluster, const QString& region, bool reachable)
{
    const int row = rowOf(cluster, region);
    if (row < 0 || m_rows[std::size_t(row)].stale == !reachable)
        return;
    m_rows[std::size_t(row)].stale = !reachable;
    changed(row);
}

void RegionModel::removeRegion(const QString& cluster, const QString& region)
{
    const int row = rowOf(cluster, region);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    reindex();
    endRemoveRows();
}

void RegionModel::touchStale()
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].stale)
            emit dataChanged(index(int(i), Status), index(int(i), Status), {Qt::DisplayRole});
}

void RegionModel::removeCluster(const QString& cluster)
{
    for (int row = rowCount() - 1; row >= 0; --row)
        if (m_rows[static_cast<std::size_t>(row)].cluster == cluster) {
            beginRemoveRows({}, row, row);
            m_rows.erase(m_rows.begin() + row);
            reindex();
            endRemoveRows();
        }
}

} // namespace lv::console
