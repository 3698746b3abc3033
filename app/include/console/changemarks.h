#pragma once

#include "liveops/store.h"

#include <QObject>
#include <QString>

#include <deque>
#include <map>
#include <vector>

namespace lv::console {

/// A change made on a cluster, for drawing where latency is shown: who made it, what it was, why.
struct ChangeMark {
    qint64 timeMs = 0;
    QString region;  ///< the region it applies to, or "*" for the whole cluster
    QString who, what, why;
};

/// The recent changes of every connected cluster — toggle changes, drains, failovers, drills —
/// from their audit streams (made from this console or any other), for the latency chart's
/// annotations. Keeps the last day, at most kKeep per cluster.
class ChangeMarks : public QObject {
    Q_OBJECT
public:
    static constexpr std::size_t kKeep = 2'000;
    static constexpr qint64 kKeepMs = 24 * 3'600'000LL;

    explicit ChangeMarks(QObject* parent = nullptr) : QObject(parent) {}
    /// One audit entry of `cluster` (an entry seen before, as on a watch's replay, is ignored).
    void add(const QString& cluster, const liveops::AuditEntry& entry);
    void removeCluster(const QString& cluster);
    /// The changes that apply to `region` of `cluster` (its own and the cluster-wide ones), oldest first.
    std::vector<ChangeMark> marksFor(const QString& cluster, const QString& region) const;
    /// "max_visible 64 → 32 in eu-west", "drain eu-west: serving → draining".
    static QString describe(const liveops::AuditEntry& entry);

signals:
    void changed(const QString& cluster);

private:
    struct Kept {
        std::deque<ChangeMark> marks;  // in arrival order
        // The newest entry taken: a watch's replay after a reconnect repeats older ids and times;
        // a restarted sandbox starts its ids again, at later times.
        std::uint64_t lastId = 0;
        std::int64_t lastTimeMs = 0;
    };
    std::map<QString, Kept> m_clusters;
};

} // namespace lv::console
