#include "console/incidentrecorder.h"

#include "console/session.h"

#include <QDateTime>

namespace lv::console {

using namespace lv::incidents;

IncidentRecorder::IncidentRecorder(ConsoleSession& session, IncidentDesk& desk, QObject* parent) : QObject(parent), m_desk(desk)
{
    connect(&session, &ConsoleSession::clusterAdded, this, &IncidentRecorder::watch);
    connect(&session.regions(), &RegionModel::sloAlertChanged, this, &IncidentRecorder::onAlert);
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
    connect(c, &ClusterConnection::auditAppended, this, [this, cluster](const liveops::AuditEntry& e) { m_desk.addEvent(eventFor(cluster, e)); });
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
