#include "incidents/export.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPageSize>
#include <QBuffer>
#include <QPdfWriter>
#include <QSaveFile>
#include <QTextDocument>
#include <QTextFrame>
#include <QTextTable>

namespace lv::incidents {

QString formatTime(std::int64_t ms)
{
    if (ms == 0)
        return QStringLiteral("—");
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) + QStringLiteral(" UTC");
}

QString formatDuration(std::int64_t ms)
{
    const std::int64_t s = std::max<std::int64_t>(0, ms / 1000);
    if (s < 60)
        return QStringLiteral("%1 s").arg(s);
    if (s < 3600)
        return QStringLiteral("%1 min").arg(s / 60);
    return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

namespace {
QString regionsText(const Incident& i)
{
    QStringList parts;
    for (const RegionRef& r : i.regions)
        parts << r.cluster + QLatin1Char('/') + r.region;
    return parts.isEmpty() ? QStringLiteral("—") : parts.join(QStringLiteral(", "));
}

QString orNone(const QString& text, const QString& none) { return text.trimmed().isEmpty() ? none : text.trimmed(); }

/// A text that a spreadsheet would run as a formula (=, +, -, @, or a tab or CR in front) gets an
/// apostrophe in front, so the cell shows the text: a note that says "=HYPERLINK(...)" must not
/// become a live link, or worse, on the incident commander's machine. Numbers (-3.5) stay numbers.
QString neutralised(const QString& field)
{
    static const QString risky = QStringLiteral("=+-@\t\r");
    if (field.isEmpty() || !risky.contains(field.front()))
        return field;
    bool number = false;
    field.toDouble(&number);
    return number ? field : QLatin1Char('\'') + field;
}

QString csvField(const QString& raw)
{
    const QString field = neutralised(raw);
    if (!field.contains(QLatin1Char(',')) && !field.contains(QLatin1Char('"')) && !field.contains(QLatin1Char('\n'))
        && !field.contains(QLatin1Char('\r')))
        return field;
    QString quoted = field;
    quoted.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QByteArray csvLine(const QStringList& fields)
{
    QStringList out;
    for (const QString& f : fields)
        out << csvField(f);
    return out.join(QLatin1Char(',')).toUtf8() + "\r\n";
}

QString kindName(TimelineItem::Kind k)
{
    switch (k) {
    case TimelineItem::Kind::Note: return QStringLiteral("note");
    case TimelineItem::Kind::Change: return QStringLiteral("change");
    case TimelineItem::Kind::Event: break;
    }
    return QStringLiteral("event");
}

QString number(const std::optional<double>& v, int decimals = 1)
{
    return v ? QString::number(*v, 'f', decimals) : QString();
}
} // namespace

QString postmortemMarkdown(const IncidentRecord& r)
{
    const Incident& i = r.incident;
    QString md;
    md += QStringLiteral("# Postmortem: %1\n\n").arg(i.title);
    md += QStringLiteral("Incident %1 · SEV%2 · %3 · commander: %4 · exported %5\n\n")
              .arg(i.id)
              .arg(i.severity)
              .arg(statusName(i.status), orNone(i.commander, QStringLiteral("—")), formatTime(r.exportedMs));
    md += QStringLiteral("## Summary\n\n%1\n\n").arg(orNone(i.summary, QStringLiteral("_No summary written._")));
    md += QStringLiteral("## Impact\n\n");
    md += QStringLiteral("- Regions: %1\n").arg(regionsText(i));
    md += QStringLiteral("- Players affected: %1 player-minutes\n").arg(QString::number(r.playerMinutes, 'f', 0));
    const std::int64_t hurtEnd = i.mitigatedMs ? i.mitigatedMs : i.resolvedMs;
    md += QStringLiteral("- Duration: %1 (started %2, mitigated %3)\n")
              .arg(hurtEnd ? formatDuration(hurtEnd - i.startedMs) : QStringLiteral("ongoing"), formatTime(i.startedMs), formatTime(i.mitigatedMs));
    md += QStringLiteral("- Detected after %1, acknowledged after %2, resolved after %3\n\n")
              .arg(i.detectedMs ? formatDuration(i.detectedMs - i.startedMs) : QStringLiteral("—"),
                   i.acknowledgedMs && i.detectedMs ? formatDuration(i.acknowledgedMs - i.detectedMs) : QStringLiteral("—"),
                   i.resolvedMs ? formatDuration(i.resolvedMs - i.startedMs) : QStringLiteral("—"));
    md += QStringLiteral("## Timeline\n\n| Time (UTC) | Who | What |\n|---|---|---|\n");
    for (const TimelineItem& t : r.timeline) {
        QString what = t.what;
        what.replace(QLatin1Char('|'), QStringLiteral("\\|")).replace(QLatin1Char('\n'), QStringLiteral(" / "));  // a row is one line
        if (t.kind == TimelineItem::Kind::Note && t.edited)
            what += QStringLiteral(" _(edited)_");
        md += QStringLiteral("| %1 | %2 | %3 |\n").arg(formatTime(t.timeMs).chopped(4), orNone(t.who, QStringLiteral("—")), what);
    }
    md += QStringLiteral("\n## Root cause\n\n%1\n\n").arg(orNone(i.rootCause, QStringLiteral("_Not yet written._")));
    md += QStringLiteral("## Action items\n\n%1\n").arg(orNone(i.actionItems, QStringLiteral("_None yet._")));
    return md;
}

QByteArray timelineCsv(const IncidentRecord& r)
{
    QByteArray out = csvLine({QStringLiteral("time_utc"), QStringLiteral("time_ms"), QStringLiteral("kind"), QStringLiteral("tag"),
                              QStringLiteral("who"), QStringLiteral("what")});
    for (const TimelineItem& t : r.timeline)
        out += csvLine({formatTime(t.timeMs), QString::number(t.timeMs), kindName(t.kind), t.tag, t.who, t.what});
    return out;
}

QByteArray incidentJson(const IncidentRecord& r)
{
    const Incident& i = r.incident;
    QJsonArray regions, timeline;
    for (const RegionRef& ref : i.regions)
        regions.append(QJsonObject{{QStringLiteral("cluster"), ref.cluster}, {QStringLiteral("region"), ref.region}});
    for (const TimelineItem& t : r.timeline) {
        QJsonObject item{{QStringLiteral("time_ms"), double(t.timeMs)}, {QStringLiteral("time_utc"), formatTime(t.timeMs)},
                         {QStringLiteral("kind"), kindName(t.kind)},  {QStringLiteral("tag"), t.tag},
                         {QStringLiteral("who"), t.who},              {QStringLiteral("what"), t.what}};
        if (t.kind == TimelineItem::Kind::Note) {
            item.insert(QStringLiteral("note_id"), double(t.noteId));
            item.insert(QStringLiteral("edited"), t.edited);
        }
        timeline.append(item);
    }
    const auto ms = [](std::int64_t v) { return v ? QJsonValue(double(v)) : QJsonValue(QJsonValue::Null); };
    const QJsonObject root{
        {QStringLiteral("format"), QStringLiteral("lifeverse-incident")},
        {QStringLiteral("version"), 1},
        {QStringLiteral("exported_ms"), double(r.exportedMs)},
        {QStringLiteral("incident"),
         QJsonObject{{QStringLiteral("id"), double(i.id)},
                     {QStringLiteral("title"), i.title},
                     {QStringLiteral("severity"), QStringLiteral("SEV%1").arg(i.severity)},
                     {QStringLiteral("status"), statusName(i.status)},
                     {QStringLiteral("commander"), i.commander},
                     {QStringLiteral("regions"), regions},
                     {QStringLiteral("started_ms"), ms(i.startedMs)},
                     {QStringLiteral("detected_ms"), ms(i.detectedMs)},
                     {QStringLiteral("acknowledged_ms"), ms(i.acknowledgedMs)},
                     {QStringLiteral("mitigated_ms"), ms(i.mitigatedMs)},
                     {QStringLiteral("resolved_ms"), ms(i.resolvedMs)},
                     {QStringLiteral("summary"), i.summary},
                     {QStringLiteral("root_cause"), i.rootCause},
                     {QStringLiteral("action_items"), i.actionItems},
                     {QStringLiteral("player_minutes"), r.playerMinutes}}},
        {QStringLiteral("timeline"), timeline}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

bool writePdf(const QString& path, const QString& markdown, QString& error, QPageLayout::Orientation orientation)
{
    // Rendered in memory, checked, then written through QSaveFile: the file at `path` is either the
    // old one or the whole new PDF, never a half-written one (a crash, a full disk).
    QBuffer rendered;
    rendered.open(QIODevice::WriteOnly);
    {
    QPdfWriter pdf(&rendered);
    pdf.setPageSize(QPageSize(QPageSize::A4));
    pdf.setPageOrientation(orientation);
    pdf.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter);
    pdf.setResolution(300);
    pdf.setTitle(markdown.section(QLatin1Char('\n'), 0, 0).remove(QStringLiteral("# ")));
    pdf.setCreator(QStringLiteral("liveops-console"));
    QTextDocument doc;
    QFont font = doc.defaultFont();
    font.setPointSizeF(9.5);
    doc.setDefaultFont(font);
    doc.setMarkdown(markdown);
    // Markdown tables come out as narrow as their text: spread them over the page, with rules.
    for (QTextFrame* frame : doc.rootFrame()->childFrames())
        if (auto* table = qobject_cast<QTextTable*>(frame)) {
            QTextTableFormat format = table->format();
            format.setWidth(QTextLength(QTextLength::PercentageLength, 100));
            format.setBorder(0.5);
            format.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
            format.setBorderCollapse(true);
            format.setCellPadding(4);
            table->setFormat(format);
        }
    doc.print(&pdf);
    }  // the writer finishes the document when it goes
    // QPdfWriter reports no error of its own: check what it made is a PDF.
    if (!rendered.data().startsWith("%PDF")) {
        error = QObject::tr("could not render the PDF for %1").arg(path);
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(rendered.data()) != rendered.data().size() || !file.commit()) {
        error = QObject::tr("could not write the PDF to %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QByteArray kpiCsv(const KpiReport& report)
{
    QByteArray out = csvLine({QStringLiteral("scope"), QStringLiteral("from_utc"), QStringLiteral("to_utc"), QStringLiteral("incidents"),
                              QStringLiteral("mttd_min"), QStringLiteral("mtta_min"), QStringLiteral("mttr_min"), QStringLiteral("mtbf_h"),
                              QStringLiteral("changes"), QStringLiteral("failed_changes"), QStringLiteral("change_failure_rate"),
                              QStringLiteral("player_minutes")});
    std::vector<const KpiFigures*> rows{&report.overall};
    for (const KpiFigures& f : report.regions)
        rows.push_back(&f);
    for (const KpiFigures* f : rows)
        out += csvLine({f->scope, formatTime(report.fromMs), formatTime(report.toMs), QString::number(f->incidents), number(f->mttdMinutes),
                        number(f->mttaMinutes), number(f->mttrMinutes), number(f->mtbfHours), QString::number(f->changes),
                        QString::number(f->failedChanges), number(f->changeFailureRate, 3), QString::number(f->playerMinutes, 'f', 0)});
    return out;
}

QString kpiMarkdown(const KpiReport& report)
{
    QString md = QStringLiteral("# Reliability report\n\n%1 to %2 · change window %3\n\n")
                     .arg(formatTime(report.fromMs), formatTime(report.toMs), formatDuration(report.changeWindowMs));
    md += QStringLiteral("| Scope | Incidents | MTTD (min) | MTTA (min) | MTTR (min) | MTBF (h) | Changes | Change failure rate | Player-minutes |\n"
                         "|---|---|---|---|---|---|---|---|---|\n");
    std::vector<const KpiFigures*> rows{&report.overall};
    for (const KpiFigures& f : report.regions)
        rows.push_back(&f);
    const auto cell = [](const std::optional<double>& v, int d = 1) { return v ? QString::number(*v, 'f', d) : QStringLiteral("—"); };
    for (const KpiFigures* f : rows)
        md += QStringLiteral("| %1 | %2 | %3 | %4 | %5 | %6 | %7 | %8 | %9 |\n")
                  .arg(f->scope)
                  .arg(f->incidents)
                  .arg(cell(f->mttdMinutes), cell(f->mttaMinutes), cell(f->mttrMinutes), cell(f->mtbfHours))
                  .arg(f->changes)
                  .arg(f->changeFailureRate ? QStringLiteral("%1 % (%2 of %3)").arg(*f->changeFailureRate * 100, 0, 'f', 0).arg(f->failedChanges).arg(f->changes)
                                            : QStringLiteral("—"))
                  .arg(QString::number(f->playerMinutes, 'f', 0));
    md += QStringLiteral("\nDefinitions: docs/incidents.md.\n");
    return md;
}

} // namespace lv::incidents
