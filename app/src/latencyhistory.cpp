#include "console/latencyhistory.h"

#include <algorithm>
#include <limits>

namespace lv::console {

LatencySeriesModel::LatencySeriesModel(QObject* parent)
    : QAbstractTableModel(parent), m_tiers{{1'000, 300, {}, {}}, {10'000, 360, {}, {}}, {240'000, 360, {}, {}}}
{
}

int LatencySeriesModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(shown().points.size() + (shown().pending.start >= 0 ? 1 : 0));
}

LatencySeriesModel::Point LatencySeriesModel::partial(const Tier& t, std::int64_t newestMs)
{
    const Bucket& b = t.pending;
    // At the bucket's middle like the complete ones, but never later than its newest sample.
    return {std::min(b.start + t.bucketMs / 2, newestMs), b.sum50 / b.count, b.max95, b.max99};
}

int LatencySeriesModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant LatencySeriesModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || role != Qt::DisplayRole || index.row() >= rowCount())
        return {};
    const Tier& t = shown();
    const auto row = static_cast<std::size_t>(index.row());
    const Point p = row < t.points.size() ? t.points[row] : partial(t, m_newestMs);
    switch (index.column()) {
    case Time: return static_cast<double>(p.timeMs);
    case P50: return p.p50;
    case P95: return p.p95;
    case P99: return p.p99;
    default: return {};
    }
}

QVariant LatencySeriesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char* const names[] = {"time", "p50", "p95", "p99"};
    return section >= 0 && section < ColumnCount ? QString::fromLatin1(names[section]) : QVariant();
}

void LatencySeriesModel::push(int tier, const Point& p)
{
    // The pending row (the last one) becomes this complete point; a new pending row follows in append().
    Tier& t = m_tiers[tier];
    const bool visible = tier == static_cast<int>(m_window);
    while (t.points.size() >= t.cap) {
        if (visible)
            beginRemoveRows({}, 0, 0);
        t.points.pop_front();
        if (visible)
            endRemoveRows();
    }
    t.points.push_back(p);  // the row count is unchanged: this point takes the pending row's place
    t.pending = {};
    if (visible) {
        const QModelIndex row = index(static_cast<int>(t.points.size()) - 1, 0);
        emit dataChanged(row, row.siblingAtColumn(ColumnCount - 1));
    }
}

void LatencySeriesModel::append(std::int64_t timeMs, double p50, double p95, double p99)
{
    m_newestMs = std::max(m_newestMs, timeMs);
    for (int tier = 0; tier < 3; ++tier) {
        Tier& t = m_tiers[tier];
        const bool visible = tier == static_cast<int>(m_window);
        const std::int64_t start = timeMs - timeMs % t.bucketMs;
        const bool fresh = t.pending.start < 0 || start != t.pending.start;
        if (t.pending.start >= 0 && start != t.pending.start) {
            const Bucket b = t.pending;
            push(tier, {b.start + t.bucketMs / 2, b.sum50 / b.count, b.max95, b.max99});
        }
        const int row = static_cast<int>(t.points.size());
        if (fresh && visible)
            beginInsertRows({}, row, row);
        Bucket& b = t.pending;
        b.start = start;
        ++b.count;
        b.sum50 += p50;
        b.max95 = std::max(b.max95, p95);
        b.max99 = std::max(b.max99, p99);
        if (visible) {
            if (fresh)
                endInsertRows();
            else
                emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    }
}

void LatencySeriesModel::backfill(HistoryWindow window, const std::vector<HistoryPoint>& points)
{
    Tier& t = m_tiers[static_cast<int>(window)];
    const std::int64_t oldest = !t.points.empty() ? t.points.front().timeMs - t.bucketMs / 2
                                : t.pending.start >= 0 ? t.pending.start
                                                       : std::numeric_limits<std::int64_t>::max();
    std::vector<Point> older;
    for (const HistoryPoint& p : points)
        if (p.timeMs < oldest)
            older.push_back({p.timeMs, p.p50, p.p95, p.p99});
    const std::size_t room = t.cap > t.points.size() ? t.cap - t.points.size() : 0;
    if (older.size() > room)
        older.erase(older.begin(), older.end() - static_cast<std::ptrdiff_t>(room));  // the newest of the history fit
    if (older.empty())
        return;
    const bool visible = window == m_window;
    if (visible)
        beginInsertRows({}, 0, static_cast<int>(older.size()) - 1);
    t.points.insert(t.points.begin(), older.begin(), older.end());
    if (visible)
        endInsertRows();
    m_newestMs = std::max(m_newestMs, older.back().timeMs);
}

void LatencySeriesModel::setWindow(HistoryWindow window)
{
    if (window == m_window)
        return;
    beginResetModel();  // a different tier altogether: a reset is the honest signal here
    m_window = window;
    endResetModel();
}

std::size_t LatencySeriesModel::pointsKept() const
{
    std::size_t n = 0;
    for (const Tier& t : m_tiers)
        n += t.points.size();
    return n;
}

LatencySeriesModel* LatencyHistory::series(const QString& cluster, const QString& region)
{
    auto& slot = m_series[{cluster, region}];
    if (!slot) {
        slot = new LatencySeriesModel(this);
        slot->setWindow(m_window);
        emit seriesAdded(cluster, region);
    }
    return slot;
}

void LatencyHistory::append(const QString& cluster, const std::vector<liveops::client::Telemetry>& samples)
{
    for (const auto& t : samples)
        if (t.players > 0)  // an empty region has no RTT: a gap, not a zero
            series(cluster, QString::fromStdString(t.region))->append(t.timeMs, t.rttP50Ms, t.rttP95Ms, t.rttP99Ms);
}

void LatencyHistory::setWindow(HistoryWindow window)
{
    m_window = window;
    for (auto& [key, model] : m_series)
        model->setWindow(window);
}

std::size_t LatencyHistory::pointsKept() const
{
    std::size_t n = 0;
    for (const auto& [key, model] : m_series)
        n += model->pointsKept();
    return n;
}

} // namespace lv::console
