// liveops-console: the composition root. Parses options, builds the session, then either the
// window or (no display, or --headless) the text report of the same region figures.
#include "console/headless.h"
#include "console/session.h"
#include "clusterspage.h"
#include "console/clusterdirectory.h"
#include "mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
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
    if (parser.isSet(QStringLiteral("sandbox")) || (parser.values(QStringLiteral("connect")).isEmpty() && !haveSaved)) {
        QString error;
        if (!session.startSandbox(SandboxConfig::standard(), error)) {
            std::fprintf(stderr, "liveops-console: the sandbox did not start: %s\n", qPrintable(error));
            return false;
        }
    }
    return true;
}
} // namespace

int main(int argc, char** argv)
{
    // Headless needs no display: decide before any GUI object exists.
    bool headless = !haveDisplay();
    for (int i = 1; i < argc; ++i)
        if (QByteArrayView(argv[i]) == "--headless")
            headless = true;
    std::unique_ptr<QCoreApplication> app(headless ? new QCoreApplication(argc, argv) : new QApplication(argc, argv));
    QCoreApplication::setOrganizationName(QStringLiteral("LifeVerse"));
    QCoreApplication::setApplicationName(QStringLiteral("liveops-console"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LV_VERSION));
    QCommandLineParser parser;
    addOptions(parser);
    parser.process(*app);

    ConsoleSession session;
    // The window reconnects the clusters the user added before (tokens from the keychain).
    const bool haveSaved = !headless && !ClusterDirectory().load().empty();
    if (!connectClusters(parser, session, haveSaved))
        return 2;
    if (headless) {
        static QTextStream out(stdout);
        out << QCoreApplication::translate("main", "liveops-console (headless): region figures every %1 s; Ctrl-C to stop")
                   .arg(parser.value(QStringLiteral("every")))
            << Qt::endl;
        HeadlessReport report(session.regions(), std::chrono::seconds(std::max(1, parser.value(QStringLiteral("every")).toInt())), out);
        if (const int seconds = parser.value(QStringLiteral("seconds")).toInt(); seconds > 0)
            QTimer::singleShot(seconds * 1000, app.get(), [&] {
                report.printNow();
                QCoreApplication::quit();
            });
        return app->exec();
    }
    MainWindow window(session);
    window.clustersPage()->reconnectSaved();
    window.show();
    return app->exec();
}
