#pragma once

#include <QDBusConnection>
#include <QObject>

class QSystemTrayIcon;

namespace lv::console {

/// Desktop notifications for alerts: through the freedesktop Notifications service on the
/// session bus (GNOME, KDE, XFCE… — GNOME has no tray), else a tray icon's balloon, else none —
/// and then it says so (unavailable()), so the window can show that alerts reach this window only.
/// Calls are asynchronous: the UI thread never waits on the bus.
class DesktopNotifier : public QObject {
    Q_OBJECT
public:
    enum class Channel { Freedesktop, Tray, None };
    /// `bus`: the session bus by default; `tray`: a tray icon to fall back to (may be null).
    explicit DesktopNotifier(QSystemTrayIcon* tray, QDBusConnection bus = QDBusConnection::sessionBus(), QObject* parent = nullptr);

    /// `critical`: a page (urgency critical), else a ticket (normal).
    void notify(const QString& title, const QString& body, bool critical);
    /// Where the last notification went (None until one was tried, if no bus is connected).
    Channel channel() const { return m_channel; }

signals:
    /// Neither the Notifications service nor a tray can show it; `reason` says why.
    void unavailable(const QString& reason);
    void delivered(lv::console::DesktopNotifier::Channel channel);

private:
    void fallBack(const QString& title, const QString& body, bool critical, const QString& why);

    QSystemTrayIcon* m_tray;
    QDBusConnection m_bus;
    Channel m_channel = Channel::None;
    quint32 m_lastId = 0;  // one notification replaced by the next, not a pile
};

} // namespace lv::console
