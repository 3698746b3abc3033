#include "console/incidentrecorder.h"

#include "console/session.h"

#include <QDateTime>

namespace lv::console {

using namespace lv::incidents;

IncidentRecorder::IncidentRecorder(ConsoleSession& session, IncidentDesk& desk, QObject* parent) : QObject(parent), m_desk(desk)
{
    connect(&session, &ConsoleSession::clusterAdded, this, &IncidentRecorder::watch);
    connect(&session.regions(), &RegionModel::sloAlertChanged, this, &IncidentRecorder::onAlert);
    connect(&desk, &IncidentDesk::captureCursorsLoaded, this, &IncidentRecorder::onCursorsLoaded);
    for (ClusterConnection* c : session.clusters())
        watch(c);
}

Event IncidentRecorder::eventFor(const QString& cluster, const liveops::AuditEntry& e)
{
    const QString target = QString::fromStdString(e.target);
    const QString action = QString::fromStdString(e.action);
    Event event;
    event.timeMs = e.timeMs;
    event.actor = QString::fromStdString(e.actor);
    event.sourceKey = QStringLiteral("audit:%1:%2:%3").arg(cluster).arg(e.id).arg(e.timeMs);  // a sandbox's ids restart with it
    // "key@scope" for toggles; the region itself for operations.
    const QString region = target.contains(QLatin1Char('@')) ? target.section(QLatin1Char('@'), 1) : target;
    event.where = {cluster, region.isEmpty() ? QStringLiteral("*") : region};
    const QString why = e.reason.empty() ? QString() : QStringLiteral(" (\u201c%1\u201d)").arg(QString::fromStdString(e.reason));
    const QString change = QStringLiteral("%1 \u2192 %2").arg(QString::fromStdString(e.oldValue), QString::fromStdString(e.newValue));
    if (action == QLatin1String("set_toggle")) {
        event.kind = QStringLiteral("toggle_change");
        event.summary = QStringLiteral("%1: %2").arg(target.section(QLatin1Char('@'), 0, 0), change) + why;
    } else if (action.startsWith(QLatin1String("drill"))) {
        event.kind = QStringLiteral("drill");
        event.summary = QStringLiteral("%1: %2").arg(action, change) + why;
    } else {
        event.kind = QStringLiteral("operation");
        event.summary = QStringLiteral("%1: %2").arg(action, change) + why;
    }
    return event;
}

void IncidentRecorder::watch(ClusterConnection* c)
{
    const QString cluster = c->name();
    // A (re)added cluster's watch starts from its log's beginning: compare it with what is stored.
    AuditCapture& audit = m_audit[cluster];
    audit.settled = false;
    audit.held.clear();
    connect(c, &ClusterConnection::auditAppended, this, [this, cluster](const liveops::AuditEntry& e) { onAudit(cluster, e); });
    connect(c, &ClusterConnection::telemetryBatch, this, [this, cluster](const std::vector<liveops::client::Telemetry>& s) { onTelemetry(cluster, s); });
    connect(c, &ClusterConnection::stateChanged, this, [this, c, cluster] {
        const bool lost = c->state() == ClusterConnection::State::Reconnecting;
        bool& wasLost = m_lost[cluster];
        if (lost == wasLost || (!lost && c->state() != ClusterConnection::State::Connected))
            return;
        wasLost = lost;
        const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
        Event e;
        e.timeMs = now;
        e.where = {cluster, QStringLiteral("*")};
        e.kind = lost ? QStringLiteral("connection_lost") : QStringLiteral("connection_restored");
        e.actor = QStringLiteral("console");
        e.summary = lost ? tr("connection lost: %1").arg(c->stateText()) : tr("connection restored");
        e.sourceKey = QStringLiteral("conn:%1:%2:%3").arg(cluster, e.kind).arg(now);
        m_desk.addEvent(e);
    });
}

std::size_t IncidentRecorder::recognisedOnReplay(const QString& cluster) const
{
    const auto it = m_audit.find(cluster);
    return it == m_audit.end() ? 0 : it->second.recognised;
}

void IncidentRecorder::onAudit(const QString& cluster, const liveops::AuditEntry& entry)
{
    if (!m_cursorsLoaded) {
        m_audit[cluster].held.push_back(entry);
        return;
    }
    consider(cluster, entry);
}

void IncidentRecorder::onCursorsLoaded(const std::vector<CaptureCursor>& cursors)
{
    m_cursorsLoaded = true;
    for (const CaptureCursor& c : cursors) {
        AuditCapture& audit = m_audit[c.cluster];
        if (!audit.cursor || audit.cursor->auditId < c.auditId)
            audit.cursor = c;
    }
    for (auto& [cluster, audit] : m_audit) {
        std::vector<liveops::AuditEntry> waiting;
        waiting.swap(audit.held);
        for (const auto& e : waiting)
            consider(cluster, e);
    }
}

void IncidentRecorder::consider(const QString& cluster, const liveops::AuditEntry& e)
{
    AuditCapture& audit = m_audit[cluster];
    if (audit.settled || !audit.cursor) {
        audit.settled = true;
        capture(cluster, e);
        return;
    }
    // In the log captured before, an entry older than the cursor's is also no later in time; one
    // that is later belongs to another log, whatever its id.
    if (e.id < audit.cursor->auditId && e.timeMs <= audit.cursor->auditTimeMs) {
        audit.held.push_back(e);
        return;
    }
    audit.settled = true;
    std::vector<liveops::AuditEntry> held;
    held.swap(audit.held);
    if (e.id == audit.cursor->auditId && e.timeMs == audit.cursor->auditTimeMs) {  // the same log: all stored already
        audit.recognised += held.size() + 1;
        return;
    }
    for (const auto& h : held)  // another log under the same name: capture all of it
        capture(cluster, h);
    capture(cluster, e);
}

void IncidentRecorder::capture(const QString& cluster, const liveops::AuditEntry& e)
{
    CaptureCursor cursor{cluster, e.id, e.timeMs};
    m_audit[cluster].cursor = cursor;
    m_desk.addEvent(eventFor(cluster, e), cursor);
}

void IncidentRecorder::onAlert(const QString& cluster, const QString& region, SloTracker::Alert alert)
{
    const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
    Event e;
    e.timeMs = now;
    e.where = {cluster, region};
    e.actor = QStringLiteral("console");
    e.kind = alert == SloTracker::Alert::None ? QStringLiteral("slo_alert_cleared") : QStringLiteral("slo_alert_raised");
    e.summary = alert == SloTracker::Alert::Page     ? tr("latency SLO burning fast (page)")
                : alert == SloTracker::Alert::Ticket ? tr("latency SLO burning slowly (ticket)")
                                                     : tr("latency SLO alert cleared");
    e.sourceKey = QStringLiteral("slo:%1/%2:%3:%4").arg(cluster, region).arg(now).arg(static_cast<int>(alert));
    m_desk.addEvent(e);
}

void IncidentRecorder::onTelemetry(const QString& cluster, const std::vector<liveops::client::Telemetry>& samples)
{
    for (const auto& t : samples) {
        const RegionRef where{cluster, QString::fromStdString(t.region)};
        Minute& m = m_minutes[where];
        const std::int64_t minute = t.timeMs / 60'000;
        if (minute != m.minute)
            m = {minute, 0, 0};
        m.players = std::max(m.players, t.players);
        // At most a write per region when the minute's count grows: impact is current, writes are few.
        if (m.players > m.written) {
            m_desk.recordPlayers(where, t.timeMs, m.players);
            m.written = m.players;
        }
    }
}

} // namespace lv::console
