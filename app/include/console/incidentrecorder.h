#pragma once

#include "console/clusterconnection.h"
#include "console/incidentdesk.h"
#include "console/slo.h"

#include <QObject>

#include <map>
#include <optional>
#include <vector>

namespace lv::console {

class ConsoleSession;

/// Writes down what happens while the console runs, for incident timelines and KPIs: SLO alerts
/// raised and cleared, every connected cluster's audit stream (toggle changes, drains, failovers,
/// drills — also those made by other people), connections lost and restored, and players per
/// region-minute (customer impact).
class IncidentRecorder : public QObject {
    Q_OBJECT
public:
    IncidentRecorder(ConsoleSession& session, IncidentDesk& desk, QObject* parent = nullptr);

    /// The audit entry as an event (kind, region from the target, one-line summary); public for tests.
    static incidents::Event eventFor(const QString& cluster, const liveops::AuditEntry& entry);
    /// Audit entries a cluster's watch replayed that an earlier run had captured already (so
    /// nothing was written for them).
    std::size_t recognisedOnReplay(const QString& cluster) const;

private:
    void watch(ClusterConnection* connection);
    void onAudit(const QString& cluster, const liveops::AuditEntry& entry);
    void onCursorsLoaded(const std::vector<incidents::CaptureCursor>& cursors);
    /// Decides for one entry: capture it, hold it (it may be one captured before), or drop it.
    void consider(const QString& cluster, const liveops::AuditEntry& entry);
    void capture(const QString& cluster, const liveops::AuditEntry& entry);
    void onAlert(const QString& cluster, const QString& region, SloTracker::Alert alert);
    void onTelemetry(const QString& cluster, const std::vector<liveops::client::Telemetry>& samples);

    IncidentDesk& m_desk;
    struct Minute {
        std::int64_t minute = -1;
        std::uint32_t players = 0;
        std::uint32_t written = 0;  // largest count already in the store for this minute
    };
    std::map<incidents::RegionRef, Minute> m_minutes;  // the current minute's largest count, written when it grows
    std::map<QString, bool> m_lost;                    // cluster -> connection currently lost
    /// A watch replays a cluster's whole audit log. Entries up to the stored cursor were captured
    /// by an earlier run *if* this is the same log: that is settled when the cursor's own entry
    /// comes by with the same time, or when an entry comes by that cannot be in that log (a
    /// higher id, or a lower one with a later time). Until then they are held in memory, then
    /// dropped (same log) or captured (a log that started again: a new sandbox, a syncd with a
    /// fresh store; entries stored already are not stored twice, their keys are unique).
    struct AuditCapture {
        std::optional<incidents::CaptureCursor> cursor;  // the newest entry known to be stored
        bool settled = false;
        std::vector<liveops::AuditEntry> held;
        std::size_t recognised = 0;
    };
    std::map<QString, AuditCapture> m_audit;
    bool m_cursorsLoaded = false;  // until the store says how far capture got, entries are held
};

} // namespace lv::console
