#pragma once

#include "desktopnotifier.h"
#include "console/session.h"

#include <QMainWindow>

#include <optional>
#include <utility>

class QLabel;
class QAction;
class QSystemTrayIcon;
class QTabWidget;

namespace lv::widgets {
class AlertList;
class ToggleBoard;
}

namespace lv::console {

class ClustersPage;
class IncidentsPage;
class KpiPanel;
class OperationsController;
class TeamDatabaseController;
class TokenVault;
class RegionsPage;
class SandboxPanel;
class ToggleController;

/// Wires the pages, actions and status bar together; the work lives in the session, the
/// controllers and the widgets.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(ConsoleSession& session, QWidget* parent = nullptr);
    ~MainWindow() override;

    RegionsPage* regionsPage() const { return m_regions; }
    widgets::ToggleBoard* toggleBoard() const { return m_board; }
    SandboxPanel* sandboxPanel() const { return m_sandbox; }
    ClustersPage* clustersPage() const { return m_clusters; }
    IncidentsPage* incidentsPage() const { return m_incidents; }
    KpiPanel* kpiPanel() const { return m_kpis; }
    ToggleController* toggleController() const { return m_toggles; }
    OperationsController* operations() const { return m_operations; }
    TeamDatabaseController* teamDatabase() const { return m_teamDatabase; }
    QTabWidget* tabs() const { return m_tabs; }
    widgets::AlertList* alertList() const { return m_alerts; }
    /// The connection line of the status bar ("sandbox: connected").
    QString connectionText() const;

protected:
    void closeEvent(QCloseEvent* event) override;
    /// The one region selected on the Regions tab; with several selected, asks which; with none
    /// (or another tab shown), says so and shows the Regions tab.
    std::optional<std::pair<QString, QString>> chooseRegion(const QString& action);

public:
    /// Where runbook links point unless the runbooks/baseUrl setting names a team's wiki: the docs
    /// installed with the console (../share/doc/lifeverse-console from the program's folder), else
    /// the source tree's docs (a development build).
    static QString docsBase(const QString& applicationDir);

private:
    void createActions();
    void updateConnections();
    void onAlertRaised(int row);

    ConsoleSession& m_session;
    QTabWidget* m_tabs;
    RegionsPage* m_regions;
    widgets::ToggleBoard* m_board;
    SandboxPanel* m_sandbox;
    TokenVault* m_vault;
    ClustersPage* m_clusters;
    IncidentsPage* m_incidents;
    KpiPanel* m_kpis;
    ToggleController* m_toggles;
    OperationsController* m_operations;
    TeamDatabaseController* m_teamDatabase;
    QLabel* m_connections;
    widgets::AlertList* m_alerts;
    QSystemTrayIcon* m_tray = nullptr;
    DesktopNotifier* m_notifier = nullptr;
public:
    DesktopNotifier* notifier() const { return m_notifier; }
    QLabel* noNotificationsLabel() const { return m_noNotifications; }
private:
    QLabel* m_noNotifications = nullptr;  // shown when an alert could not reach the desktop
    QAction* m_localTime = nullptr;
};

} // namespace lv::console
