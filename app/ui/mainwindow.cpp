#include "mainwindow.h"
#include "widgets/tones.h"

#include "clusterspage.h"
#include "controllers.h"
#include "incidentspage.h"
#include "kpipanel.h"
#include "regionspage.h"
#include "sandboxpanel.h"
#include "widgets/alertlist.h"
#include "widgets/changetarget.h"
#include "widgets/toggleboard.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QLabel>
#include <QMenuBar>
#include <QDir>
#include <QInputDialog>
#include <QUrl>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QDBusConnection>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QTextDocument>
#include <QVBoxLayout>

namespace lv::console {

MainWindow::MainWindow(ConsoleSession& session, QWidget* parent)
    : QMainWindow(parent), m_session(session), m_tabs(new QTabWidget), m_regions(new RegionsPage(session)), m_board(new widgets::ToggleBoard),
      m_sandbox(new SandboxPanel(session)), m_vault(new TokenVault(this)), m_clusters(new ClustersPage(session, *m_vault)),
      m_incidents(new IncidentsPage(session.incidents(), session.time())), m_kpis(new KpiPanel(session.incidents())),
      m_connections(new QLabel), m_alerts(new widgets::AlertList)
{
    setWindowTitle(tr("LifeVerse live-ops console"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/app.svg")));
    m_board->setModel(&session.toggles(), ToggleModel::ModifiedRole, ToggleModel::OverriddenRole);
    m_toggles = new ToggleController(session, *m_board, this);
    m_operations = new OperationsController(session, this);
    m_teamDatabase = new TeamDatabaseController(session.incidents(), *m_vault, this);
    connect(m_incidents, &IncidentsPage::teamDatabaseRequested, m_teamDatabase, &TeamDatabaseController::choose);
    m_tabs->addTab(m_regions, QIcon(QStringLiteral(":/icons/regions.svg")), tr("&Regions"));
    m_tabs->addTab(m_board, QIcon(QStringLiteral(":/icons/toggles.svg")), tr("&Toggles"));
    m_tabs->addTab(m_sandbox, QIcon(QStringLiteral(":/icons/sandbox.svg")), tr("&Sandbox"));
    m_tabs->addTab(m_incidents, QIcon(QStringLiteral(":/icons/incidents.svg")), tr("&Incidents"));
    m_tabs->addTab(m_kpis, QIcon(QStringLiteral(":/icons/reliability.svg")), tr("Re&liability"));
    m_tabs->addTab(m_clusters, QIcon(QStringLiteral(":/icons/regions.svg")), tr("&Clusters"));
    auto* central = new QWidget;
    auto* column = new QVBoxLayout(central);
    column->setContentsMargins(0, 0, 0, 0);
    column->addWidget(m_alerts);
    column->addWidget(m_tabs, 1);
    setCentralWidget(central);
    m_connections->setAccessibleName(tr("Cluster connections"));
    m_connections->setTextFormat(Qt::RichText);
    statusBar()->addPermanentWidget(m_connections);

    connect(m_regions, &RegionsPage::drainRequested, m_operations, &OperationsController::drain);
    connect(m_regions, &RegionsPage::undrainRequested, m_operations, &OperationsController::undrain);
    connect(m_regions, &RegionsPage::drainServerRequested, m_operations, &OperationsController::drainServer);
    connect(m_regions, &RegionsPage::undrainServerRequested, m_operations, &OperationsController::undrainServer);
    connect(m_regions, &RegionsPage::failoverRequested, m_operations, &OperationsController::failover);
    connect(m_regions, &RegionsPage::drillRequested, m_operations, &OperationsController::drill);
    connect(m_regions, &RegionsPage::cancelDrillRequested, m_operations, &OperationsController::cancelDrill);
    auto show = [this](const QString& text) { statusBar()->showMessage(text, 15'000); };
    connect(m_toggles, &ToggleController::message, this, show);
    connect(m_operations, &OperationsController::message, this, show);
    connect(m_teamDatabase, &TeamDatabaseController::message, this, show);
    connect(m_sandbox, &SandboxPanel::message, this, show);
    connect(m_clusters, &ClustersPage::message, this, show);
    connect(m_incidents, &IncidentsPage::message, this, show);
    m_incidents->setKnownRegions([this] {
        QStringList regions;
        for (int r = 0; r < m_session.regions().rowCount(); ++r)
            regions << m_session.regions().clusterAt(r) + QLatin1Char('/') + m_session.regions().regionAt(r);
        regions.sort();
        return regions;
    });
    // The runbook: a base URL from settings (a team's wiki), else the installed docs.
    session.alerts().setRunbookBase(
        QSettings().value(QStringLiteral("runbooks/baseUrl"), docsBase(QCoreApplication::applicationDirPath())).toString());
    m_alerts->setModel(&session.alerts(), {AlertModel::SevereRole, AlertModel::AcknowledgedRole, AlertModel::RunbookRole});
    connect(m_alerts, &widgets::AlertList::incidentRequested, this, [this](int row) {
        m_tabs->setCurrentWidget(m_incidents);
        m_incidents->openIncident(m_session.alerts().incidentFor(row));
    });
    connect(m_alerts, &widgets::AlertList::acknowledgeRequested, this, [this](int row) {
        m_session.alerts().acknowledge(row, m_session.incidents().author(), QDateTime::currentMSecsSinceEpoch());
    });
    connect(&session, &ConsoleSession::clustersChanged, this, &MainWindow::updateConnections);
    connect(&session.alerts(), &AlertModel::alertRaised, this, &MainWindow::onAlertRaised);
    connect(&session.regions(), &RegionModel::sloAlertChanged, this, [this](const QString& cluster, const QString& region, SloTracker::Alert alert) {
        if (alert == SloTracker::Alert::None)
            statusBar()->showMessage(tr("%1/%2: latency SLO alert cleared").arg(cluster, region), 10'000);
    });
    updateConnections();
    m_session.time().load();
    m_kpis->setTimeFormat(&m_session.time());
    createActions();

    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(windowIcon(), this);
        m_tray->setToolTip(windowTitle());
        m_tray->show();
    }
    m_notifier = new DesktopNotifier(m_tray, QDBusConnection::sessionBus(), this);
    m_noNotifications = new QLabel;
    m_noNotifications->setVisible(false);
    m_noNotifications->setAccessibleName(tr("Desktop notifications unavailable"));
    m_noNotifications->setStyleSheet(widgets::toneStyle(widgets::Tone::Warning));
    statusBar()->addPermanentWidget(m_noNotifications);
    connect(m_notifier, &DesktopNotifier::unavailable, this, [this](const QString& why) {
        m_noNotifications->setText(tr("No desktop notifications"));
        m_noNotifications->setToolTip(why);
        m_noNotifications->setVisible(true);
    });
    connect(m_notifier, &DesktopNotifier::delivered, this, [this] { m_noNotifications->setVisible(false); });
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_tabs->setCurrentIndex(settings.value(QStringLiteral("window/tab"), 0).toInt());
    if (!settings.contains(QStringLiteral("window/geometry")))
        resize(1200, 800);
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < m_tabs->count(); ++i)
        view->addAction(m_tabs->tabText(i).remove(QLatin1Char('&')), QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)), this,
                        [this, i] { m_tabs->setCurrentIndex(i); });
    view->addAction(tr("&Refresh regions"), QKeySequence::Refresh, this, [this] {
        for (ClusterConnection* c : m_session.clusters())
            c->refreshRegions();
    });
    view->addSeparator();
    // One setting for every time on screen; each time says its zone.
    m_localTime = view->addAction(tr("Show times in &local time"));
    m_localTime->setCheckable(true);
    m_localTime->setChecked(m_session.time().zone() == TimeFormat::Zone::Local);
    m_localTime->setToolTip(tr("Off: UTC, as incident records, logs and other consoles write it"));
    connect(m_localTime, &QAction::toggled, this, [this](bool local) {
        m_session.time().setZone(local ? TimeFormat::Zone::Local : TimeFormat::Zone::Utc);
        m_session.time().save();
        statusBar()->showMessage(local ? tr("Times are shown in local time (%1).").arg(m_session.time().zoneName(QDateTime::currentMSecsSinceEpoch()))
                                       : tr("Times are shown in UTC."),
                                 5'000);
    });
    QMenu* ops = menuBar()->addMenu(tr("&Operations"));
    // A shortcut acts only on what is on screen and unambiguous; otherwise it asks.
    ops->addAction(tr("&Change selected toggle…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, [this] {
        const int row = m_tabs->currentWidget() == m_board ? m_board->currentSourceRow() : -1;
        if (row < 0) {
            m_tabs->setCurrentWidget(m_board);
            statusBar()->showMessage(tr("Select the toggle to change on the Toggles tab, then press Ctrl+E again."), 15'000);
            return;
        }
        m_toggles->change(row);
    });
    ops->addAction(tr("&Drain selected region…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D), this, [this] {
        if (const auto target = chooseRegion(tr("Drain")))
            m_operations->drain(target->first, target->second);
    });
    ops->addAction(tr("Start a d&rill on the selected region…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R), this, [this] {
        if (const auto target = chooseRegion(tr("Start a drill on")))
            m_operations->drill(target->first, target->second);
    });
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(this, tr("About"), tr("LifeVerse live-ops console %1").arg(QStringLiteral(LV_VERSION)));
    });
}

std::optional<std::pair<QString, QString>> MainWindow::chooseRegion(const QString& action)
{
    const auto regions = m_tabs->currentWidget() == m_regions ? m_regions->selectedRegions() : std::vector<std::pair<QString, QString>>{};
    if (regions.size() == 1)
        return regions.front();
    if (regions.empty()) {
        m_tabs->setCurrentWidget(m_regions);
        statusBar()->showMessage(tr("Select the region on the Regions tab first."), 15'000);
        return std::nullopt;
    }
    // Several selected (to compare them on the chart): which one is meant is a question.
    QStringList names;
    for (const auto& [cluster, region] : regions)
        names << tr("%1 on %2").arg(region, cluster);
    bool ok = false;
    const QString picked = QInputDialog::getItem(this, tr("%1 which region?").arg(action), tr("Several regions are selected. %1:").arg(action), names,
                                                 0, false, &ok);
    if (!ok)
        return std::nullopt;
    return regions[static_cast<std::size_t>(names.indexOf(picked))];
}

QString MainWindow::docsBase(const QString& applicationDir)
{
    // Installed: <prefix>/bin/liveops-console next to <prefix>/share/doc/lifeverse-console.
    const QDir installed(applicationDir + QStringLiteral("/../share/doc/lifeverse-console"));
    if (installed.exists(QStringLiteral("runbooks.md")))
        return QUrl::fromLocalFile(installed.canonicalPath()).toString();
    return QStringLiteral(LV_DOCS_URL);  // a development build: the source tree's docs
}

QString MainWindow::connectionText() const
{
    QTextDocument plain;  // the label is rich text (the badges); callers read words
    plain.setHtml(m_connections->text());
    return plain.toPlainText().simplified();
}

void MainWindow::updateConnections()
{
    QStringList parts, titled;
    for (ClusterConnection* c : m_session.clusters()) {
        connect(c, &ClusterConnection::stateChanged, this, &MainWindow::updateConnections, Qt::UniqueConnection);
        // Each cluster with its environment as a coloured badge: which one a change goes to is
        // never a guess.
        const QString plaintext = c->plaintextOverNetwork()
                                      ? tr("<span style=\"color:black; background:#ffb300; font-weight:bold;\">&nbsp;PLAINTEXT&nbsp;</span> ")
                                      : QString();
        parts << tr("<span style=\"color:white; background:%1; font-weight:bold;\">&nbsp;%2&nbsp;</span> %3%4: %5")
                     .arg(widgets::EnvironmentBadge::colourOf(c->environment()).name(), c->environment().toUpper().toHtmlEscaped(), plaintext,
                          c->name().toHtmlEscaped(), c->stateText().toHtmlEscaped());
        titled << tr("%1 [%2]").arg(c->name(), c->environment().toUpper());
    }
    m_connections->setText(parts.isEmpty() ? tr("not connected") : parts.join(QStringLiteral("&nbsp;&nbsp;&nbsp;")));
    setWindowTitle(titled.isEmpty() ? tr("LifeVerse live-ops console") : tr("%1 — LifeVerse live-ops console").arg(titled.join(QStringLiteral(", "))));
}

void MainWindow::onAlertRaised(int row)
{
    const AlertModel::Alert& alert = m_session.alerts().at(row);
    const QString text = AlertModel::describe(alert, m_session.regions().sloThresholdMs());
    statusBar()->showMessage(text, 30'000);
    m_notifier->notify(tr("Latency SLO"), text, alert.level == SloTracker::Alert::Page);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    // Typed text that is not in the incident database yet: quitting would lose it, so ask.
    const QStringList unsaved = m_incidents->view()->unsavedWork();
    if (!unsaved.isEmpty()) {
        QMessageBox ask(QMessageBox::Warning, tr("Unsaved incident text"),
                        tr("Not saved yet: %1.").arg(unsaved.join(QStringLiteral("; "))), QMessageBox::NoButton, this);
        ask.setInformativeText(tr("Quit and lose it, or go back and save it?"));
        QPushButton* back = ask.addButton(tr("&Go back"), QMessageBox::RejectRole);
        ask.addButton(tr("&Quit and discard"), QMessageBox::DestructiveRole);
        ask.setDefaultButton(back);
        ask.exec();
        if (ask.clickedButton() == back) {
            m_tabs->setCurrentWidget(m_incidents);
            event->ignore();
            return;
        }
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/tab"), m_tabs->currentIndex());
    event->accept();
}

} // namespace lv::console
