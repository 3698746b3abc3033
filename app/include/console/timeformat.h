#pragma once

#include <QObject>
#include <QString>
#include <QTimeZone>

namespace lv::console {

/// How the console writes a moment: in UTC or in local time, chosen by the operator (setting
/// "display/time", "utc" by default: incident records, logs and other people's consoles are in
/// UTC), and always labelled with its zone, so "14:03" is never ambiguous on a shared screen.
/// Every page, dialog, toast and chart takes its times from here.
class TimeFormat : public QObject {
    Q_OBJECT
public:
    enum class Zone { Utc, Local };
    explicit TimeFormat(QObject* parent = nullptr);

    Zone zone() const { return m_zone; }
    void setZone(Zone zone);
    /// Reads and writes the setting (QSettings "display/time": "utc" or "local").
    void load();
    void save() const;
    QTimeZone timeZone() const;
    /// "UTC", or the local zone's abbreviation at `atMs` ("CET").
    QString zoneName(qint64 atMs) const;
    /// "14:03:05 UTC"
    QString time(qint64 ms) const;
    /// "2026-12-03 14:03:05 UTC" ("—" for 0: not yet)
    QString dateTime(qint64 ms) const;
    /// "12-03 14:03:05 UTC", for lists within a few days
    QString shortDateTime(qint64 ms) const;
    /// The QDateTime of `ms` in the chosen zone (for date-time editors).
    QDateTime toDateTime(qint64 ms) const;

signals:
    void changed();

private:
    Zone m_zone = Zone::Utc;
};

} // namespace lv::console
