#include "console/incidentdesk.h"

#include "incidents/export.h"
#include "incidents/store.h"

#include <QDateTime>
#include <QSaveFile>
#include <QSettings>
#include <QUrl>

#include <map>

namespace lv::console {

using namespace lv::incidents;

namespace {
std::int64_t nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

QString loginName()
{
    const QString user = qEnvironmentVariable("USER", qEnvironmentVariable("USERNAME"));
    return user.isEmpty() ? QStringLiteral("operator") : user;
}

double impactOf(Store& store, const Incident& incident, std::int64_t now)
{
    return customerImpact(incident, [&](const RegionRef& r, std::int64_t a, std::int64_t b) { return store.playerMinutes(r, a, b); }, now);
}

bool saveBytes(const QString& path, const QByteArray& bytes, QString& error)
{
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.commit())
        return true;
    error = QObject::tr("cannot write %1: %2").arg(path, file.errorString());
    return false;
}
} // namespace

IncidentDesk::IncidentDesk(QObject* parent)
    : QObject(parent), m_worker(new QObject), m_exporter(new QObject),
      m_author(QSettings().value(QStringLiteral("incidents/author")).toString().trimmed())
{
    if (m_author.isEmpty())
        m_author = loginName();
    m_thread.setObjectName(QStringLiteral("incidents"));
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
    m_exportThread.setObjectName(QStringLiteral("incident exports"));
    m_exporter->moveToThread(&m_exportThread);
    connect(&m_exportThread, &QThread::finished, m_exporter, &QObject::deleteLater);
    m_exportThread.start();
}

IncidentDesk::~IncidentDesk()
{
    // Close the store on its own thread, after every queued write has run (what was asked to be
    // saved is saved before the console exits): local disk, or on a team's PostgreSQL at most the
    // connection's 5 s timeouts per queued write before it goes to the outbox instead.
    QMetaObject::invokeMethod(m_worker, [this] {
        delete m_catchUp;
        m_catchUp = nullptr;
        delete m_outboxRetry;
        m_outboxRetry = nullptr;
        m_store.reset();
        m_outbox.reset();  // what is in it stays on disk, for the next start
    }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
    m_exportThread.quit();  // an export being written finishes (its file is written atomically)
    m_exportThread.wait();
}

void IncidentDesk::post(std::function<void(Store&)> work)
{
    QMetaObject::invokeMethod(m_worker, [this, work = std::move(work)] {
        if (m_store)
            work(*m_store);
    }, Qt::QueuedConnection);
}

void IncidentDesk::open(const QString& path)
{
    QMetaObject::invokeMethod(m_worker, [this, path] {
        m_store.reset();
        adopt(Store::open(path));
    }, Qt::QueuedConnection);
}

void IncidentDesk::openServer(const Store::Server& server, const QString& outboxPath)
{
    QMetaObject::invokeMethod(m_worker, [this, server, outboxPath] {
        m_store.reset();
        m_server = server;
        QString why;
        m_outbox = Outbox::open(outboxPath, why);
        auto result = Store::openServer(server);
        if (!m_outbox && result.store)
            result.error = why;  // shared works; notes written while it is away would not be kept
        adopt(std::move(result));
        if (m_outbox && m_outbox->count() > 0)
            drainOutbox();  // what a previous run of this console left to send
    }, Qt::QueuedConnection);
}

std::optional<Store::Server> IncidentDesk::parseServer(const QString& text, QString& error)
{
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("postgresql") && url.scheme() != QLatin1String("postgres"))) {
        error = tr("'%1' is not a postgresql://user@host:port/database address").arg(text);
        return std::nullopt;
    }
    if (!url.password().isEmpty()) {
        error = tr("leave the password out of the address: it is kept in the system keychain");
        return std::nullopt;
    }
    Store::Server server;
    server.host = url.host();
    server.port = url.port(5432);
    server.user = url.userName();
    server.database = url.path().mid(1);
    if (server.host.isEmpty() || server.user.isEmpty() || server.database.isEmpty() || server.database.contains(QLatin1Char('/'))) {
        error = tr("'%1' needs a user, a host and a database: postgresql://user@host:5432/incidents").arg(text);
        return std::nullopt;
    }
    return server;
}

void IncidentDesk::drainOutbox()
{
    if (!m_outbox)
        return;
    if (!m_outboxRetry) {
        m_outboxRetry = new QTimer(m_worker);
        m_outboxRetry->setInterval(kOutboxRetryMs);
        connect(m_outboxRetry, &QTimer::timeout, m_worker, [this] { drainOutbox(); });
    }
    if (!m_store || !m_store->reachable()) {
        // Away: a fresh connection (the old one is dead once the server restarted).
        auto again = m_server ? Store::openServer(*m_server) : Store::OpenResult{};
        if (!again.store) {
            m_outboxRetry->start();
            return;
        }
        m_store = std::move(again.store);
        listen();
    }
    int sent = 0;
    for (const Outbox::Note& n : m_outbox->pending()) {
        const std::int64_t id = m_store->addNote(n.incidentId, n.author, n.body, n.createdMs, n.token);
        if (id == 0) {
            if (m_store->reachable()) {  // refused for good (the incident is gone): said, not retried forever
                deliver(&IncidentDesk::noteFailed, n.incidentId, quint64{0}, m_store->lastError());
                m_outbox->remove(n.seq);
                continue;
            }
            m_outboxRetry->start();
            break;
        }
        m_outbox->remove(n.seq);  // stored (once, by its token) before it leaves the outbox
        ++sent;
        deliver(&IncidentDesk::noteSaved, n.incidentId, id, quint64{0});
    }
    const int left = m_outbox->count();
    deliver(&IncidentDesk::outboxChanged, left);
    if (left == 0)
        m_outboxRetry->stop();
    if (sent > 0) {
        deliver(&IncidentDesk::incidentsListed, m_store->incidents());
        if (m_current > 0)
            changed(*m_store, m_current);
    }
}

void IncidentDesk::listen()
{
    delete m_catchUp;
    m_catchUp = nullptr;
    if (!m_store || !m_store->shared())
        return;
    if (!m_store->subscribe([this](const QString& payload) { othersChanged(payload); }))
        deliver(&IncidentDesk::failed, tr("Others' changes show every %1 s only: %2").arg(kCatchUpMs / 1000).arg(m_store->lastError()));
    m_fingerprint = m_store->fingerprint();
    m_catchUp = new QTimer(m_worker);
    m_catchUp->setInterval(kCatchUpMs);
    connect(m_catchUp, &QTimer::timeout, m_worker, [this] {
        if (!m_store)
            return;
        const QString now = m_store->fingerprint();
        if (!now.isEmpty() && now != m_fingerprint)
            othersChanged(QStringLiteral("catch-up"));
    });
    m_catchUp->start();
}

void IncidentDesk::adopt(Store::OpenResult result)
{
    m_store = std::move(result.store);
    const bool ok = m_store != nullptr;
    listen();
    auto cursors = ok ? m_store->captureCursors() : std::vector<CaptureCursor>{};
    QMetaObject::invokeMethod(this, [this, ok, problem = result.error, cursors = std::move(cursors)] {
        m_open = ok;
        m_problem = problem;
        emit opened(ok, problem);
        if (ok)
            emit captureCursorsLoaded(cursors);
    }, Qt::QueuedConnection);
}

void IncidentDesk::show_(const Incident& incident, std::vector<TimelineItem> timeline, double impact)
{
    m_shown = {incident, timeline, impact};
    // Notes waiting in the outbox are part of what this console's user wrote: shown, marked.
    if (m_outbox) {
        for (const Outbox::Note& n : m_outbox->pending())
            if (n.incidentId == incident.id) {
                TimelineItem item;
                item.kind = TimelineItem::Kind::Note;
                item.timeMs = n.createdMs;
                item.who = n.author;
                item.what = n.body;
                item.tag = tr("not yet shared");
                timeline.push_back(std::move(item));  // noteId 0: not in the database yet, so not editable
            }
        std::stable_sort(timeline.begin(), timeline.end(), [](const TimelineItem& a, const TimelineItem& b) { return a.timeMs < b.timeMs; });
    }
    deliver(&IncidentDesk::incidentLoaded, incident, timeline, impact);
}

void IncidentDesk::othersChanged(const QString& payload)
{
    if (!m_store)
        return;
    m_fingerprint = m_store->fingerprint();
    bool isId = false;
    const std::int64_t id = payload.toLongLong(&isId);
    // The list always (titles, statuses); the incident on screen if it is the one that changed,
    // or for captured events and catch-ups, which may touch it.
    deliver(&IncidentDesk::incidentsListed, m_store->incidents());
    const std::int64_t show = isId ? (id == m_current ? id : 0) : m_current;
    if (show > 0)
        if (const auto incident = m_store->incident(show)) {
            const std::int64_t now = nowMs();
            show_(*incident, m_store->timeline(show, now), impactOf(*m_store, *incident, now));
        }
}

void IncidentDesk::changed(Store& store, std::int64_t id)
{
    deliver(&IncidentDesk::incidentsListed, store.incidents());
    if (const auto incident = store.incident(id)) {
        const std::int64_t now = nowMs();
        show_(*incident, store.timeline(id, now), impactOf(store, *incident, now));
    }
}

void IncidentDesk::refresh()
{
    post([this](Store& s) { deliver(&IncidentDesk::incidentsListed, s.incidents()); });
}

void IncidentDesk::load(std::int64_t id)
{
    post([this, id](Store& s) {
        m_current = id;
        if (const auto incident = s.incident(id)) {
            const std::int64_t now = nowMs();
            show_(*incident, s.timeline(id, now), impactOf(s, *incident, now));
        }
    });
}

void IncidentDesk::create(const Incident& incident)
{
    post([this, incident, who = m_author](Store& s) {
        const std::int64_t id = s.createIncident(incident, who, nowMs());
        if (id == 0) {
            deliver(&IncidentDesk::failed, tr("The incident was not opened: %1").arg(s.lastError()));
            return;
        }
        deliver(&IncidentDesk::incidentCreated, id);
        changed(s, id);
    });
}

void IncidentDesk::setStatus(std::int64_t id, Status status)
{
    post([this, id, status, who = m_author](Store& s) {
        if (!s.setStatus(id, status, who, nowMs()))
            deliver(&IncidentDesk::failed, tr("The status was not changed: %1").arg(s.lastError()));
        changed(s, id);
    });
}

void IncidentDesk::setSeverity(std::int64_t id, int severity)
{
    post([this, id, severity, who = m_author](Store& s) {
        if (!s.setSeverity(id, severity, who, nowMs()))
            deliver(&IncidentDesk::failed, tr("The severity was not changed: %1").arg(s.lastError()));
        changed(s, id);
    });
}

void IncidentDesk::acknowledge(std::int64_t id)
{
    post([this, id, who = m_author](Store& s) {
        if (!s.acknowledge(id, who, nowMs()))
            deliver(&IncidentDesk::failed, tr("The incident was not acknowledged: %1").arg(s.lastError()));
        changed(s, id);
    });
}

void IncidentDesk::setText(std::int64_t id, const QString& field, const QString& value)
{
    post([this, id, field, value, who = m_author](Store& s) {
        if (!s.setText(id, field, value, who, nowMs()))
            deliver(&IncidentDesk::failed, tr("%1 was not saved: %2").arg(field, s.lastError()));
        changed(s, id);
    });
}

void IncidentDesk::saveText(std::int64_t id, const QString& field, const QString& base, const QString& value)
{
    post([this, id, field, base, value, who = m_author](Store& s) {
        QString current;
        switch (s.setTextIf(id, field, base, value, who, nowMs(), current)) {
        case Store::TextWrite::Written:
            deliver(&IncidentDesk::textSaved, id, field, value);
            break;
        case Store::TextWrite::Conflict:
            deliver(&IncidentDesk::textConflict, id, field, current, value);
            break;
        case Store::TextWrite::Failed:
            deliver(&IncidentDesk::failed, tr("%1 was not saved: %2").arg(field, s.lastError()));
            break;
        }
        changed(s, id);
    });
}

quint64 IncidentDesk::addNote(std::int64_t id, const QString& body)
{
    const quint64 request = ++m_nextRequest;
    QMetaObject::invokeMethod(m_worker, [this, id, body, request, who = m_author] {
        if (!m_store) {
            deliver(&IncidentDesk::noteFailed, id, request, tr("the incident database is not open"));
            return;
        }
        const std::int64_t note = m_store->addNote(id, who, body, nowMs());
        if (note == 0 && m_outbox && m_store->shared() && !m_store->reachable()) {
            // The team's database is away: kept on this machine, shared when it is back.
            Outbox::Note queued;
            queued.incidentId = id;
            queued.author = who;
            queued.createdMs = nowMs();
            queued.body = body;
            if (m_outbox->put(queued)) {
                deliver(&IncidentDesk::noteQueued, id, request);
                deliver(&IncidentDesk::outboxChanged, m_outbox->count());
                if (m_shown && m_shown->incident.id == id)  // the server cannot say it: what was shown, with the note
                    show_(m_shown->incident, m_shown->timeline, m_shown->impact);
                drainOutbox();  // (starts the retries)
                return;
            }
        }
        if (note == 0) {
            deliver(&IncidentDesk::noteFailed, id, request, m_store->lastError());
            return;
        }
        deliver(&IncidentDesk::noteSaved, id, note, request);
        changed(*m_store, id);
    }, Qt::QueuedConnection);
    return request;
}

void IncidentDesk::editNote(std::int64_t incidentId, std::int64_t noteId, const QString& body)
{
    post([this, incidentId, noteId, body, who = m_author](Store& s) {
        if (!s.editNote(noteId, who, body, nowMs()))
            deliver(&IncidentDesk::failed, tr("The note was not changed: %1").arg(s.lastError()));
        else
            deliver(&IncidentDesk::noteSaved, incidentId, noteId, 0);
        changed(s, incidentId);
    });
}

void IncidentDesk::deleteNote(std::int64_t incidentId, std::int64_t noteId)
{
    post([this, incidentId, noteId, who = m_author](Store& s) {
        if (!s.deleteNote(noteId, who, nowMs()))
            deliver(&IncidentDesk::failed, tr("The note was not deleted: %1").arg(s.lastError()));
        changed(s, incidentId);
    });
}

void IncidentDesk::loadNoteHistory(std::int64_t noteId)
{
    post([this, noteId](Store& s) { deliver(&IncidentDesk::noteHistoryLoaded, noteId, s.noteHistory(noteId)); });
}

void IncidentDesk::addEvent(const Event& event, std::optional<CaptureCursor> cursor)
{
    QMetaObject::invokeMethod(m_worker, [this, event, cursor = std::move(cursor)] {
        if (!m_store)
            return;
        m_capture.push_back({event, cursor});
        if (!m_drainQueued) {
            m_drainQueued = true;
            QMetaObject::invokeMethod(m_worker, [this] { drainCapture(); }, Qt::QueuedConnection);
        }
    }, Qt::QueuedConnection);
}

void IncidentDesk::drainCapture()
{
    m_drainQueued = false;
    if (!m_store) {
        m_capture.clear();
        return;
    }
    std::vector<Event> batch;
    std::map<QString, CaptureCursor> cursors;  // the newest per cluster in this batch
    while (!m_capture.empty() && batch.size() < kCaptureBatch) {
        Captured c = std::move(m_capture.front());
        m_capture.pop_front();
        if (c.cursor)
            cursors[c.cursor->cluster] = *c.cursor;
        batch.push_back(std::move(c.event));
    }
    std::vector<CaptureCursor> moved;
    for (auto& [cluster, cursor] : cursors)
        moved.push_back(cursor);
    if (const auto added = m_store->addEvents(batch, moved)) {
        if (!added->empty())
            deliver(&IncidentDesk::eventsAdded, *added);
    } else {
        deliver(&IncidentDesk::failed, tr("%n captured event(s) could not be stored: %1", "", int(batch.size())).arg(m_store->lastError()));
    }
    if (!m_capture.empty()) {  // the rest goes behind whatever was asked for meanwhile
        m_drainQueued = true;
        QMetaObject::invokeMethod(m_worker, [this] { drainCapture(); }, Qt::QueuedConnection);
    }
}

void IncidentDesk::recordPlayers(const RegionRef& where, std::int64_t timeMs, std::uint32_t players)
{
    post([where, timeMs, players](Store& s) { s.recordPlayers(where, timeMs, players); });
}

void IncidentDesk::computeKpis(std::int64_t fromMs, std::int64_t toMs, std::int64_t changeWindowMs)
{
    post([this, fromMs, toMs, changeWindowMs](Store& s) { deliver(&IncidentDesk::kpisReady, kpiReport(s, fromMs, toMs, nowMs(), changeWindowMs)); });
}

void IncidentDesk::exportIncident(std::int64_t id, ExportFormat format, const QString& path)
{
    // The store thread only reads (a few queries); formatting and writing, a PDF above all, run
    // on the export thread: an export never delays a note.
    post([this, id, format, path](Store& s) {
        const auto incident = s.incident(id);
        if (!incident) {
            deliver(&IncidentDesk::exported, path, false, tr("no incident %1").arg(id));
            return;
        }
        const std::int64_t now = nowMs();
        IncidentRecord record{*incident, s.timeline(id, now), impactOf(s, *incident, now), now};
        QMetaObject::invokeMethod(m_exporter, [this, format, path, record = std::move(record)] {
            QString error;
            bool ok = false;
            switch (format) {
            case ExportFormat::Markdown: ok = saveBytes(path, postmortemMarkdown(record).toUtf8(), error); break;
            case ExportFormat::Csv: ok = saveBytes(path, timelineCsv(record), error); break;
            case ExportFormat::Json: ok = saveBytes(path, incidentJson(record), error); break;
            case ExportFormat::Pdf: ok = writePdf(path, postmortemMarkdown(record), error); break;
            }
            deliver(&IncidentDesk::exported, path, ok, error);
        }, Qt::QueuedConnection);
    });
}

void IncidentDesk::exportKpis(std::int64_t fromMs, std::int64_t toMs, std::int64_t changeWindowMs, ExportFormat format, const QString& path)
{
    post([this, fromMs, toMs, changeWindowMs, format, path](Store& s) {
        KpiReport report = kpiReport(s, fromMs, toMs, nowMs(), changeWindowMs);
        QMetaObject::invokeMethod(m_exporter, [this, format, path, report = std::move(report)] {
            QString error;
            const bool ok = format == ExportFormat::Pdf ? writePdf(path, kpiMarkdown(report), error, QPageLayout::Landscape)
                            : format == ExportFormat::Csv ? saveBytes(path, kpiCsv(report), error)
                                                          : saveBytes(path, kpiMarkdown(report).toUtf8(), error);
            deliver(&IncidentDesk::exported, path, ok, error);
        }, Qt::QueuedConnection);
    });
}

} // namespace lv::console
