#include "console/exportcommand.h"

#include "incidents/export.h"
#include "incidents/kpi.h"
#include "incidents/store.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTextStream>

namespace lv::console {

using namespace lv::incidents;

QString defaultIncidentDatabase()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(dir);
    return dir + QStringLiteral("/incidents.db");
}

namespace {
QTextStream& err()
{
    static QTextStream s(stderr);
    return s;
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    if (path == QLatin1String("-")) {
        QTextStream(stdout) << QString::fromUtf8(bytes);
        return true;
    }
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.commit())
        return true;
    err() << QCoreApplication::translate("export", "cannot write %1: %2").arg(path, file.errorString()) << Qt::endl;
    return false;
}

std::optional<std::int64_t> parseDay(const QString& text)
{
    const QDate day = QDate::fromString(text, Qt::ISODate);
    if (!day.isValid())
        return std::nullopt;
    return QDateTime(day, QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
}
} // namespace

int runExport(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "export", "Exports from the incident database, no window:\n"
                  "  export list                         incidents, newest first\n"
                  "  export incident ID --format md|csv|json|pdf\n"
                  "  export kpi --from DAY --to DAY --format csv|md|pdf   (days as YYYY-MM-DD, UTC; --to is exclusive)"));
    parser.addPositionalArgument(QStringLiteral("what"), QCoreApplication::translate("export", "list, incident or kpi"));
    parser.addOptions({
        {QStringLiteral("db"), QCoreApplication::translate("export", "Incident database (default: the console's own)."), QStringLiteral("file"),
         defaultIncidentDatabase()},
        {QStringLiteral("format"), QCoreApplication::translate("export", "md, csv, json or pdf."), QStringLiteral("format"), QStringLiteral("md")},
        {{QStringLiteral("o"), QStringLiteral("output")}, QCoreApplication::translate("export", "File to write ('-' = stdout, not for pdf)."),
         QStringLiteral("file"), QStringLiteral("-")},
        {QStringLiteral("from"), QCoreApplication::translate("export", "KPI period start (YYYY-MM-DD)."), QStringLiteral("day")},
        {QStringLiteral("to"), QCoreApplication::translate("export", "KPI period end, exclusive (YYYY-MM-DD)."), QStringLiteral("day")},
        {QStringLiteral("window"), QCoreApplication::translate("export", "Change failure window in minutes."), QStringLiteral("minutes"),
         QStringLiteral("60")},
    });
    parser.addHelpOption();
    if (!parser.parse(QStringList{QStringLiteral("liveops-console export")} + arguments)) {
        err() << parser.errorText() << Qt::endl;
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    const QStringList what = parser.positionalArguments();
    const QString format = parser.value(QStringLiteral("format"));
    const QString output = parser.value(QStringLiteral("output"));
    if (what.isEmpty()) {
        err() << parser.helpText();
        return 2;
    }
    if (format == QLatin1String("pdf") && output == QLatin1String("-")) {
        err() << QCoreApplication::translate("export", "a PDF needs --output FILE") << Qt::endl;
        return 2;
    }
    auto opened = Store::open(parser.value(QStringLiteral("db")), Store::OnDamage::LeaveAlone);
    if (!opened.store) {
        err() << opened.error << Qt::endl;
        return 1;
    }
    Store& store = *opened.store;
    const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
    const auto players = [&](const RegionRef& r, std::int64_t a, std::int64_t b) { return store.playerMinutes(r, a, b); };

    if (what[0] == QLatin1String("list")) {
        QTextStream out(stdout);
        for (const Incident& i : store.incidents())
            out << QStringLiteral("%1\tSEV%2\t%3\t%4\t%5\n").arg(i.id).arg(i.severity).arg(statusName(i.status), formatTime(i.startedMs), i.title);
        return 0;
    }
    if (what[0] == QLatin1String("incident")) {
        bool ok = false;
        const std::int64_t id = what.value(1).toLongLong(&ok);
        const auto incident = ok ? store.incident(id) : std::nullopt;
        if (!incident) {
            err() << QCoreApplication::translate("export", "no incident '%1' (see: export list)").arg(what.value(1)) << Qt::endl;
            return 1;
        }
        IncidentRecord record{*incident, store.timeline(id, now), customerImpact(*incident, players, now), now};
        if (format == QLatin1String("md"))
            return writeFile(output, postmortemMarkdown(record).toUtf8()) ? 0 : 1;
        if (format == QLatin1String("csv"))
            return writeFile(output, timelineCsv(record)) ? 0 : 1;
        if (format == QLatin1String("json"))
            return writeFile(output, incidentJson(record)) ? 0 : 1;
        if (format == QLatin1String("pdf")) {
            QString error;
            if (writePdf(output, postmortemMarkdown(record), error))
                return 0;
            err() << error << Qt::endl;
            return 1;
        }
        err() << QCoreApplication::translate("export", "unknown format '%1' (md, csv, json, pdf)").arg(format) << Qt::endl;
        return 2;
    }
    if (what[0] == QLatin1String("kpi")) {
        const auto from = parseDay(parser.value(QStringLiteral("from")));
        const auto to = parseDay(parser.value(QStringLiteral("to")));
        if (!from || !to || *to <= *from) {
            err() << QCoreApplication::translate("export", "kpi needs --from and --to as YYYY-MM-DD, --to after --from") << Qt::endl;
            return 2;
        }
        const KpiReport report = kpiReport(store, *from, *to, now, parser.value(QStringLiteral("window")).toLongLong() * 60'000);
        if (format == QLatin1String("csv"))
            return writeFile(output, kpiCsv(report)) ? 0 : 1;
        if (format == QLatin1String("md"))
            return writeFile(output, kpiMarkdown(report).toUtf8()) ? 0 : 1;
        if (format == QLatin1String("pdf")) {
            QString error;
            if (writePdf(output, kpiMarkdown(report), error, QPageLayout::Landscape))
                return 0;
            err() << error << Qt::endl;
            return 1;
        }
        err() << QCoreApplication::translate("export", "unknown format '%1' for kpi (csv, md, pdf)").arg(format) << Qt::endl;
        return 2;
    }
    err() << QCoreApplication::translate("export", "unknown export '%1' (list, incident, kpi)").arg(what[0]) << Qt::endl;
    return 2;
}

} // namespace lv::console
