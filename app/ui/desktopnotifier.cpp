#include "desktopnotifier.h"

#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QSystemTrayIcon>
#include <QVariantMap>

namespace lv::console {

DesktopNotifier::DesktopNotifier(QSystemTrayIcon* tray, QDBusConnection bus, QObject* parent)
    : QObject(parent), m_tray(tray), m_bus(std::move(bus))
{
}

void DesktopNotifier::notify(const QString& title, const QString& body, bool critical)
{
    if (!m_bus.isConnected()) {
        fallBack(title, body, critical, tr("no session bus (%1)").arg(m_bus.lastError().message().isEmpty() ? tr("not connected") : m_bus.lastError().message()));
        return;
    }
    // org.freedesktop.Notifications.Notify(app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout)
    QDBusMessage call = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("/org/freedesktop/Notifications"),
                                                       QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("Notify"));
    QVariantMap hints;
    hints.insert(QStringLiteral("urgency"), QVariant::fromValue<uchar>(critical ? 2 : 1));
    hints.insert(QStringLiteral("desktop-entry"), QStringLiteral("lifeverse-console"));
    call << QStringLiteral("LifeVerse console") << m_lastId << QStringLiteral("dialog-warning") << title << body << QStringList{} << hints
         << (critical ? 0 : -1);  // a page stays until dismissed
    auto* watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(call, 5'000), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [this, watcher, title, body, critical] {
        watcher->deleteLater();
        const QDBusPendingReply<quint32> reply = *watcher;
        if (reply.isError()) {
            fallBack(title, body, critical, reply.error().message());
            return;
        }
        m_lastId = reply.value();
        m_channel = Channel::Freedesktop;
        emit delivered(m_channel);
    });
}

void DesktopNotifier::fallBack(const QString& title, const QString& body, bool critical, const QString& why)
{
    if (m_tray && m_tray->isVisible() && QSystemTrayIcon::supportsMessages()) {
        m_tray->showMessage(title, body, critical ? QSystemTrayIcon::Critical : QSystemTrayIcon::Warning);
        m_channel = Channel::Tray;
        emit delivered(m_channel);
        return;
    }
    m_channel = Channel::None;
    emit unavailable(tr("Desktop notifications are unavailable (%1; no tray either): alerts show in this window only.").arg(why));
}

} // namespace lv::console
