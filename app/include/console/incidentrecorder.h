#pragma once

#include "console/clusterconnection.h"
#include "console/incidentdesk.h"
#include "console/slo.h"

#include <QObject>

#include <map>

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

private:
    void watch(ClusterConnection* connection);
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
};

} // namespace lv::console
