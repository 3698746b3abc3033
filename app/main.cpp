// liveops-console: the composition root. Parses options, builds the session, then either the
// window or (no display, or --headless) the text report of the same region figures.
#include "console/headless.h"
#include "console/session.h"
#include "clusterspage.h"
#include "controllers.h"
#include "console/clusterdirectory.h"
#include "console/exportcommand.h"
#include "console/recordingfile.h"
#include "mainwindow.h"
#include "version.h"
#include "widgets/tones.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QSettings>
#include <QTimer>

#include <cstdio>

using namespace lv::console;

namespace {
bool haveDisplay()
{
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY") || qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
}

void addOptions(QCommandLineParser& parser)
{
    parser.setApplicationDescription(QCoreApplication::translate("main", "The LifeVerse live-ops console."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("sandbox"), QCoreApplication::translate("main", "Start a local sandbox (syncd's service in-process, with bots).")},
        {QStringLiteral("connect"), QCoreApplication::translate("main", "Connect to a syncd cluster (NAME=HOST:PORT; token from $LIVEOPS_TOKEN)."),
         QStringLiteral("cluster")},
        {QStringLiteral("headless"), QCoreApplication::translate("main", "No window: print the region figures every few seconds.")},
        {QStringLiteral("seconds"), QCoreApplication::translate("main", "Headless: stop after this many seconds (0 = run until stopped)."),
         QStringLiteral("n"), QStringLiteral("0")},
        {QStringLiteral("every"), QCoreApplication::translate("main", "Headless: print every this many seconds."), QStringLiteral("n"),
         QStringLiteral("5")},
        {QStringLiteral("incidents-db"), QCoreApplication::translate("main", "Incident database file (default: in the app's data folder)."),
         QStringLiteral("file")},
        {QStringLiteral("incidents-server"),
         QCoreApplication::translate("main", "The team's incident database: postgresql://user@host:port/database (password from the keychain, "
                                             "else $LIVEOPS_INCIDENTS_PASSWORD; remembered as the incidents/server setting)."),
         QStringLiteral("url")},
        {QStringLiteral("replay"), QCoreApplication::translate("main", "Start the sandbox replaying a recording file (instead of a new sandbox)."),
         QStringLiteral("file")},
        {QStringLiteral("record"),
         QCoreApplication::translate("main", "When the console quits, save the sandbox session's recording to this file."), QStringLiteral("file")},
        {QStringLiteral("scheme"),
         QCoreApplication::translate("main", "Colour scheme: system (the desktop's), light or dark (default: the appearance/scheme setting, else system)."),
         QStringLiteral("name")},
        {QStringLiteral("verify-recording"),
         QCoreApplication::translate("main", "Re-run a recording as fast as possible, print whether the traffic is identical, exit 0 if so, 1 if not."),
         QStringLiteral("file")},
    });
}

/// Connects what the options ask for; the sandbox when asked, or when there is nothing else.
bool connectClusters(const QCommandLineParser& parser, ConsoleSession& session, bool haveSaved)
{
    for (const QString& spec : parser.values(QStringLiteral("connect"))) {
        const QString name = spec.section(QLatin1Char('='), 0, 0);
        const QString target = spec.section(QLatin1Char('='), 1);
        if (name.isEmpty() || target.isEmpty()) {
            std::fprintf(stderr, "liveops-console: --connect takes NAME=HOST:PORT, not '%s'\n", qPrintable(spec));
            return false;
        }
        lv::liveops::client::ClientOptions options;
        options.target = target.toStdString();
        options.token = qEnvironmentVariable("LIVEOPS_TOKEN").toStdString();
        session.addCluster(name, options);
    }
    if (parser.isSet(QStringLiteral("replay"))) {
        QString error;
        const auto recording = loadRecording(parser.value(QStringLiteral("replay")), error);
        if (!recording || !session.replaySandbox(*recording, error)) {
            std::fprintf(stderr, "liveops-console: cannot replay: %s\n", qPrintable(error));
            return false;
        }
    } else if (parser.isSet(QStringLiteral("sandbox")) || (parser.values(QStringLiteral("connect")).isEmpty() && !haveSaved)) {
        QString error;
        if (!session.startSandbox(SandboxConfig::standard(), error)) {
            std::fprintf(stderr, "liveops-console: the sandbox did not start: %s\n", qPrintable(error));
            return false;
        }
    }
    return true;
}
/// --record FILE: the sandbox session as it was when the console quit.
int saveRecordingOnExit(const QCommandLineParser& parser, ConsoleSession& session, int code)
{
    if (!parser.isSet(QStringLiteral("record")))
        return code;
    QString error;
    if (!session.sandbox()) {
        std::fprintf(stderr, "liveops-console: --record: no sandbox was running\n");
        return code ? code : 1;
    }
    const auto recording = session.sandbox()->recording();
    if (!saveRecording(parser.value(QStringLiteral("record")), recording, error)) {
        std::fprintf(stderr, "liveops-console: %s\n", qPrintable(error));
        return code ? code : 1;
    }
    std::printf("sandbox recording saved to %s: %.1f s, %zu change(s), digest %016llx\n", qPrintable(parser.value(QStringLiteral("record"))),
                double(recording.world.duration) / 1e6, recording.world.changes.size(), static_cast<unsigned long long>(recording.world.digest));
    return code;
}

/// --verify-recording: the QA bug report's check that this build still behaves as recorded.
int verifyRecording(const QString& path)
{
    QString error;
    const auto recording = loadRecording(path, error);
    if (!recording) {
        std::fprintf(stderr, "liveops-console: %s\n", qPrintable(error));
        return 2;
    }
    QElapsedTimer timer;
    timer.start();
    const auto again = lv::liveops::rerun(recording->world);
    const bool identical = again.digest == recording->world.digest && again.datagrams == recording->world.datagrams;
    std::printf("%s: %zu region(s), scenario %s, %zu change(s), %.1f s simulated in %.1f s\n", qPrintable(path),
                recording->world.config.regions.size(), qPrintable(scenarioName(recording->scenario)), recording->world.changes.size(),
                double(recording->world.duration) / 1e6, double(timer.elapsed()) / 1000.0);
    std::printf("recorded: %016llx over %llu datagrams\nreplayed: %016llx over %llu datagrams\n%s\n",
                static_cast<unsigned long long>(recording->world.digest), static_cast<unsigned long long>(recording->world.datagrams),
                static_cast<unsigned long long>(again.digest), static_cast<unsigned long long>(again.datagrams),
                identical ? "identical: this build replays the recording byte for byte"
                          : "DIVERGED: this build's traffic differs from the recording");
    return identical ? 0 : 1;
}
} // namespace

int main(int argc, char** argv)
{
    // `export ...` runs without a window; a PDF needs fonts, so a GUI application on the offscreen platform.
    if (argc > 1 && QByteArrayView(argv[1]) == "export") {
        if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        QGuiApplication app(argc, argv);
        QCoreApplication::setOrganizationName(QStringLiteral("LifeVerse"));
        QCoreApplication::setApplicationName(QStringLiteral("liveops-console"));
        QStringList arguments = app.arguments().mid(2);
        return runExport(arguments);
    }
    // Headless needs no display: decide before any GUI object exists.
    bool headless = !haveDisplay();
    for (int i = 1; i < argc; ++i)
        if (QByteArrayView(argv[i]) == "--headless")
            headless = true;
    std::unique_ptr<QCoreApplication> app(headless ? new QCoreApplication(argc, argv) : new QApplication(argc, argv));
    QCoreApplication::setOrganizationName(QStringLiteral("LifeVerse"));
    QCoreApplication::setApplicationName(QStringLiteral("liveops-console"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LV_VERSION " (%1)").arg(QLatin1String(lv::gitRevision())));
    QCommandLineParser parser;
    addOptions(parser);
    parser.process(*app);
    if (parser.isSet(QStringLiteral("verify-recording")))
        return verifyRecording(parser.value(QStringLiteral("verify-recording")));

    ConsoleSession session;
    // The team's shared record when one is configured, else this person's file.
    const QString teamDatabase = parser.isSet(QStringLiteral("incidents-server")) ? parser.value(QStringLiteral("incidents-server"))
                                                                                   : QSettings().value(QStringLiteral("incidents/server")).toString();
    TokenVault incidentVault;
    if (!teamDatabase.isEmpty() && !parser.isSet(QStringLiteral("incidents-db"))) {
        QString problem;
        const auto server = IncidentDesk::parseServer(teamDatabase, problem);
        if (!server) {
            std::fprintf(stderr, "liveops-console: --incidents-server: %s\n", qPrintable(problem));
            return 2;
        }
        if (parser.isSet(QStringLiteral("incidents-server")))
            QSettings().setValue(QStringLiteral("incidents/server"), teamDatabase);
        const QString outbox = TeamDatabaseController::outboxPath();
        incidentVault.read(QStringLiteral("incidents@") + teamDatabase, [&session, server = *server, outbox](const TokenVault::Outcome& got) mutable {
            server.password = got.ok ? got.token : qEnvironmentVariable("LIVEOPS_INCIDENTS_PASSWORD");
            session.incidents().openServer(server, outbox);
        });
    } else {
        session.incidents().open(parser.isSet(QStringLiteral("incidents-db")) ? parser.value(QStringLiteral("incidents-db")) : defaultIncidentDatabase());
    }
    // The window reconnects the clusters the user added before (tokens from the keychain).
    const bool haveSaved = !headless && !ClusterDirectory().load().empty();
    if (!connectClusters(parser, session, haveSaved))
        return 2;
    if (headless) {
        static QTextStream out(stdout);
        out << QCoreApplication::translate("main", "liveops-console (headless): region figures every %1 s; Ctrl-C to stop")
                   .arg(parser.value(QStringLiteral("every")))
            << Qt::endl;
        HeadlessReport report(session.regions(), session.alerts(), std::chrono::seconds(std::max(1, parser.value(QStringLiteral("every")).toInt())), out);
        if (const int seconds = parser.value(QStringLiteral("seconds")).toInt(); seconds > 0)
            QTimer::singleShot(seconds * 1000, app.get(), [&] {
                report.printNow();
                QCoreApplication::quit();
            });
        return saveRecordingOnExit(parser, session, app->exec());
    }
    const QString scheme = parser.isSet(QStringLiteral("scheme")) ? parser.value(QStringLiteral("scheme"))
                                                                  : QSettings().value(QStringLiteral("appearance/scheme")).toString();
    if (!lv::widgets::applyScheme(scheme))
        std::fprintf(stderr, "liveops-console: unknown colour scheme '%s' (system, light or dark); using the system's\n", qPrintable(scheme));
    MainWindow window(session);
    window.clustersPage()->reconnectSaved();
    window.show();
    return saveRecordingOnExit(parser, session, app->exec());
}
