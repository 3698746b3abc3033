#include "console/changemarks.h"

#include <algorithm>

namespace lv::console {

QString ChangeMarks::describe(const liveops::AuditEntry& e)
{
    const QString target = QString::fromStdString(e.target);
    const QString change = QStringLiteral("%1 \u2192 %2").arg(QString::fromStdString(e.oldValue), QString::fromStdString(e.newValue));
    if (e.action == "set_toggle") {
        const QString key = target.section(QLatin1Char('@'), 0, 0), scope = target.section(QLatin1Char('@'), 1);
        return scope.isEmpty() || scope == QLatin1String("*") ? tr("%1 %2 cluster-wide").arg(key, change) : tr("%1 %2 in %3").arg(key, change, scope);
    }
    const QString action = QString::fromStdString(e.action).replace(QLatin1Char('_'), QLatin1Char(' '));
    if (e.oldValue.empty())  // "failover us-east → eu-west"
        return tr("%1 %2 \u2192 %3").arg(action, target, QString::fromStdString(e.newValue));
    return tr("%1 %2: %3").arg(action, target, change);
}

void ChangeMarks::add(const QString& cluster, const liveops::AuditEntry& e)
{
    Kept& kept = m_clusters[cluster];
    if (e.id <= kept.lastId && e.timeMs <= kept.lastTimeMs)
        return;  // seen before
    kept.lastId = e.id;
    kept.lastTimeMs = std::max(kept.lastTimeMs, e.timeMs);
    const QString target = QString::fromStdString(e.target);
    ChangeMark mark;
    mark.timeMs = e.timeMs;
    mark.region = target.contains(QLatin1Char('@')) ? target.section(QLatin1Char('@'), 1) : target;
    if (mark.region.isEmpty())
        mark.region = QStringLiteral("*");
    mark.who = QString::fromStdString(e.actor);
    mark.what = describe(e);
    mark.why = QString::fromStdString(e.reason);
    kept.marks.push_back(std::move(mark));
    while (kept.marks.size() > kKeep || (!kept.marks.empty() && kept.marks.front().timeMs < kept.lastTimeMs - kKeepMs))
        kept.marks.pop_front();
    emit changed(cluster);
}

void ChangeMarks::removeCluster(const QString& cluster)
{
    if (m_clusters.erase(cluster))
        emit changed(cluster);
}

std::vector<ChangeMark> ChangeMarks::marksFor(const QString& cluster, const QString& region) const
{
    std::vector<ChangeMark> out;
    const auto it = m_clusters.find(cluster);
    if (it == m_clusters.end())
        return out;
    for (const ChangeMark& m : it->second.marks)
        if (m.region == region || m.region == QLatin1String("*"))
            out.push_back(m);
    std::stable_sort(out.begin(), out.end(), [](const ChangeMark& a, const ChangeMark& b) { return a.timeMs < b.timeMs; });
    return out;
}

} // namespace lv::console
