#include "console/timeformat.h"

#include <QDateTime>
#include <QSettings>

namespace lv::console {

TimeFormat::TimeFormat(QObject* parent) : QObject(parent) {}

void TimeFormat::setZone(Zone zone)
{
    if (zone == m_zone)
        return;
    m_zone = zone;
    emit changed();
}

void TimeFormat::load()
{
    setZone(QSettings().value(QStringLiteral("display/time")).toString() == QLatin1String("local") ? Zone::Local : Zone::Utc);
}

void TimeFormat::save() const
{
    QSettings().setValue(QStringLiteral("display/time"), m_zone == Zone::Local ? QStringLiteral("local") : QStringLiteral("utc"));
}

QTimeZone TimeFormat::timeZone() const { return m_zone == Zone::Utc ? QTimeZone::utc() : QTimeZone::systemTimeZone(); }

QDateTime TimeFormat::toDateTime(qint64 ms) const { return QDateTime::fromMSecsSinceEpoch(ms, timeZone()); }

QString TimeFormat::zoneName(qint64 atMs) const
{
    if (m_zone == Zone::Utc)
        return QStringLiteral("UTC");
    const QString abbreviation = toDateTime(atMs).timeZoneAbbreviation();
    return abbreviation.isEmpty() ? tr("local") : abbreviation;
}

QString TimeFormat::time(qint64 ms) const { return toDateTime(ms).toString(QStringLiteral("HH:mm:ss ")) + zoneName(ms); }

QString TimeFormat::dateTime(qint64 ms) const
{
    return ms == 0 ? QStringLiteral("\u2014") : toDateTime(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss ")) + zoneName(ms);
}

QString TimeFormat::shortDateTime(qint64 ms) const { return toDateTime(ms).toString(QStringLiteral("MM-dd HH:mm:ss ")) + zoneName(ms); }

} // namespace lv::console
