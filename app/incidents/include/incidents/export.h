#pragma once

#include "incidents/kpi.h"
#include "incidents/types.h"

#include <QByteArray>
#include <QPageLayout>
#include <QString>

#include <vector>

namespace lv::incidents {

/// Everything an export of one incident shows.
struct IncidentRecord {
    Incident incident;
    std::vector<TimelineItem> timeline;  ///< oldest first
    double playerMinutes = 0.0;          ///< customer impact
    std::int64_t exportedMs = 0;
};

/// Times in exports: UTC, "2026-11-25 03:12:09 UTC".
QString formatTime(std::int64_t ms);
QString formatDuration(std::int64_t ms);  ///< "1 h 05 min", "12 min", "45 s"

/// The postmortem: summary, impact, timeline, root cause, action items (docs/incidents.md).
QString postmortemMarkdown(const IncidentRecord& record);
/// The timeline as CSV (RFC 4180: quoted where needed, quotes doubled, CRLF line ends).
QByteArray timelineCsv(const IncidentRecord& record);
/// The incident and its timeline as JSON (schema in docs/incidents.md).
QByteArray incidentJson(const IncidentRecord& record);
/// Markdown (a postmortem, a KPI report) as an A4 PDF; needs a QGuiApplication for fonts.
bool writePdf(const QString& path, const QString& markdown, QString& error,
              QPageLayout::Orientation orientation = QPageLayout::Portrait);

QByteArray kpiCsv(const KpiReport& report);
QString kpiMarkdown(const KpiReport& report);

} // namespace lv::incidents
