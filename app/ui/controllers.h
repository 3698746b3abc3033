#pragma once

#include "console/clusterdirectory.h"
#include "console/session.h"
#include "widgets/toggleboard.h"
#include "widgets/toggledialog.h"

#include <QPointer>

namespace lv::widgets {
class DrainDialog;
}

namespace lv::console {

/// Changing a toggle from the board: the dialog, the compare-and-set at the version the row was
/// read at, and the conflict path (the newer change is shown and becomes the base of a retry).
/// Never blocks: the dialog is window-modal and the call's answer arrives as a queued callback.
class ToggleController : public QObject {
    Q_OBJECT
public:
    ToggleController(ConsoleSession& session, widgets::ToggleBoard& board, QWidget* dialogParent);
    void change(int row);
    void history(int row);
    /// Sets the toggle back to the value before its last change, with a reason (itself audited).
    /// `reason` empty: asks for one.
    void rollback(int row, const QString& reason = {});
    /// Removes the value set at the row's scope so it inherits again, with a reason (asked for
    /// when empty; on production an engine-critical toggle's name must be typed too).
    void clearOverride(int row, const QString& reason = {});
    widgets::ToggleDialog* dialog() const { return m_dialog; }

signals:
    void message(const QString& text);

private:
    void submit();

    ConsoleSession& m_session;
    QWidget* m_parent;
    QPointer<widgets::ToggleDialog> m_dialog;
    QString m_cluster;
    liveops::client::Toggle m_base;  // the toggle as read when the dialog opened (or after a conflict)
};

/// Drain and drills on a region, each confirmed by a dialog that requires a reason.
class OperationsController : public QObject {
    Q_OBJECT
public:
    OperationsController(ConsoleSession& session, QWidget* dialogParent);
    void drain(const QString& cluster, const QString& region);
    void undrain(const QString& cluster, const QString& region);
    void failover(const QString& cluster, const QString& region);
    void drill(const QString& cluster, const QString& region);
    void cancelDrill(const QString& cluster, const QString& region);
    /// One server of a fleet (from a region's drill-down): its players to the region's other
    /// servers (or where the dialog says); undrain clears it.
    void drainServer(const QString& cluster, const QString& region, const QString& server);
    void undrainServer(const QString& cluster, const QString& server);
    QDialog* dialog() const { return m_dialog; }

signals:
    void message(const QString& text);

private:
    widgets::DrainDialog* moveDialog(const QString& cluster, const QString& region, bool failoverOnly);

    ConsoleSession& m_session;
    QWidget* m_parent;
    QPointer<QDialog> m_dialog;
};

/// Where the team's incidents are: asks for a postgresql:// address and its password, keeps the
/// address in settings and the password in the keychain (TokenVault), and opens the desk on it
/// with this machine's outbox. What the command-line option --incidents-server does, in the window.
class TeamDatabaseController : public QObject {
    Q_OBJECT
public:
    TeamDatabaseController(IncidentDesk& desk, TokenVault& vault, QWidget* dialogParent);
    /// Shows the dialog (non-modal; dialog() while it is open).
    void choose();
    /// What OK does: checks the address, stores the password, opens the desk. False with `error`
    /// when the address is not usable (the dialog stays open and says why).
    bool connectTo(const QString& address, const QString& password, QString& error);
    QDialog* dialog() const { return m_dialog; }
    static QString outboxPath();

signals:
    void message(const QString& text);

private:
    IncidentDesk& m_desk;
    TokenVault& m_vault;
    QWidget* m_parent;
    QPointer<QDialog> m_dialog;
};

} // namespace lv::console
