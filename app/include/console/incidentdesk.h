#pragma once

#include "incidents/kpi.h"
#include "incidents/types.h"

#include "incidents/outbox.h"
#include "incidents/store.h"

#include <QObject>
#include <QThread>
#include <QTimer>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace lv::incidents {
class Store;
}

namespace lv::console {

/// The console's incident database, off the UI thread. Every call returns at once; the store
/// lives on a worker thread and answers with signals, all emitted on the desk's own thread. A
/// note is on disk when noteSaved() arrives. Nothing here waits on SQLite.
class IncidentDesk : public QObject {
    Q_OBJECT
public:
    enum class ExportFormat { Markdown, Csv, Json, Pdf };

    explicit IncidentDesk(QObject* parent = nullptr);
    ~IncidentDesk() override;

    void open(const QString& path);
    /// The team's shared record on PostgreSQL instead of a file: every other console's change
    /// arrives as incidentsListed() and, for the incident last loaded, incidentLoaded() (LISTEN/
    /// NOTIFY, plus a catch-up every kCatchUpMs for a notification lost with a connection).
    /// While the server cannot be reached, notes go to the local outbox at `outboxPath` (SQLite)
    /// and are sent in order, once, when it is back (also after a restart of the console).
    void openServer(const incidents::Store::Server& server, const QString& outboxPath);
    static constexpr int kOutboxRetryMs = 1000;
    /// "postgresql://user@host[:port]/database" (no password in it: it comes from the keychain);
    /// nullopt with `error` naming what is wrong.
    static std::optional<incidents::Store::Server> parseServer(const QString& url, QString& error);
    static constexpr int kCatchUpMs = 5000;
    bool isOpen() const { return m_open; }
    QString problem() const { return m_problem; }
    /// Who writes notes and changes (settings "incidents/author", else the login name).
    QString author() const { return m_author; }
    void setAuthor(const QString& author) { m_author = author; }

    void refresh();                 ///< incidentsListed()
    void load(std::int64_t id);     ///< incidentLoaded()
    void create(const incidents::Incident& incident);
    void setStatus(std::int64_t id, incidents::Status status);
    void setSeverity(std::int64_t id, int severity);
    /// Stamps the incident acknowledged (by the author, now) if it is not yet.
    void acknowledge(std::int64_t id);
    void setText(std::int64_t id, const QString& field, const QString& value);
    /// Saves text someone edited starting from `base`: textSaved(), or textConflict() when the
    /// field no longer holds `base` (another console saved first; nothing is overwritten).
    void saveText(std::int64_t id, const QString& field, const QString& base, const QString& value);
    /// Queues a note; the number identifies it in noteSaved() or noteFailed() (also when the
    /// database is not open: a note is never dropped without saying so).
    quint64 addNote(std::int64_t id, const QString& body);
    void editNote(std::int64_t incidentId, std::int64_t noteId, const QString& body);
    void deleteNote(std::int64_t incidentId, std::int64_t noteId);
    void loadNoteHistory(std::int64_t noteId);  ///< noteHistoryLoaded()
    /// Captures an event (audit entry, alert, connection change). Capture is written in batches,
    /// one transaction each, and each batch queues behind whatever was asked for meanwhile: a note
    /// never waits for more than one batch of capture. `cursor` (audit entries) is stored with it.
    void addEvent(const incidents::Event& event, std::optional<incidents::CaptureCursor> cursor = {});
    void recordPlayers(const incidents::RegionRef& where, std::int64_t timeMs, std::uint32_t players);
    void computeKpis(std::int64_t fromMs, std::int64_t toMs, std::int64_t changeWindowMs);
    void exportIncident(std::int64_t id, ExportFormat format, const QString& path);
    void exportKpis(std::int64_t fromMs, std::int64_t toMs, std::int64_t changeWindowMs, ExportFormat format, const QString& path);

signals:
    void opened(bool ok, const QString& problem);
    void incidentsListed(const std::vector<lv::incidents::Incident>& incidents);
    void incidentLoaded(const lv::incidents::Incident& incident, const std::vector<lv::incidents::TimelineItem>& timeline, double playerMinutes);
    void incidentCreated(std::int64_t id);
    /// `request` is addNote()'s number (0 for an edit).
    void noteSaved(std::int64_t incidentId, std::int64_t noteId, quint64 request);
    void noteFailed(std::int64_t incidentId, quint64 request, const QString& error);
    /// The team's database is away: the note is safe in the outbox and will be shared when it is back.
    void noteQueued(std::int64_t incidentId, quint64 request);
    /// How many notes wait in the outbox ("3 notes not yet shared"); 0 once all are sent.
    void outboxChanged(int pending);
    void textSaved(std::int64_t incidentId, const QString& field, const QString& value);
    /// `theirs` is what the field holds now; `yours` was not saved.
    void textConflict(std::int64_t incidentId, const QString& field, const QString& theirs, const QString& yours);
    /// The earlier texts of a note, oldest first.
    void noteHistoryLoaded(std::int64_t noteId, const std::vector<lv::incidents::NoteRevision>& revisions);
    /// Captured events were stored (open views reload if they touch their regions).
    void eventsAdded(const std::vector<lv::incidents::Event>& events);
    /// After a successful open: how far each cluster's audit log was captured already.
    void captureCursorsLoaded(const std::vector<lv::incidents::CaptureCursor>& cursors);
    void kpisReady(const lv::incidents::KpiReport& report);
    void exported(const QString& path, bool ok, const QString& error);
    /// A write failed: nothing was lost on disk, but this change did not happen.
    void failed(const QString& error);

private:
    /// Emits `signal` with `args` on the desk's own thread. Every signal of the desk is emitted
    /// there, however its receivers are connected: emitted on the worker, a direct connection
    /// (QSignalSpy's among them) would run on the worker and race the UI thread.
    template <typename... Params, typename... Args>
    void deliver(void (IncidentDesk::*signal)(Params...), Args&&... args)
    {
        QMetaObject::invokeMethod(
            this, [this, signal, ... values = std::decay_t<Args>(std::forward<Args>(args))] { (this->*signal)(values...); }, Qt::QueuedConnection);
    }
    /// Runs `work` with the store on the worker thread (dropped while the store is not open).
    void post(std::function<void(incidents::Store&)> work);
    /// After a change to incident `id`: list and incident read back and sent.
    void changed(incidents::Store& store, std::int64_t id);
    /// Worker thread: writes the next batch of capture, and queues itself again if more is waiting.
    void drainCapture();
    /// Worker thread: adopts an opened store and tells the UI thread.
    void adopt(incidents::Store::OpenResult result);
    /// Worker thread: what another console changed (an incident's id, or "events").
    void othersChanged(const QString& payload);
    /// Worker thread: sends what waits in the outbox, reconnecting first if the server went away.
    void drainOutbox();
    void listen();  // worker: subscribe to the shared store and start the catch-up
    /// Worker thread: sends an incident to the UI, with this console's notes still in the outbox.
    void show_(const incidents::Incident& incident, std::vector<incidents::TimelineItem> timeline, double impact);
    static constexpr std::size_t kCaptureBatch = 250;

    QThread m_thread;
    QObject* m_worker = nullptr;              // lives on m_thread; owns the store
    QThread m_exportThread;                   // formats and writes exports
    QObject* m_exporter = nullptr;            // lives on m_exportThread
    std::unique_ptr<incidents::Store> m_store;  // touched only on m_thread
    struct Captured {
        incidents::Event event;
        std::optional<incidents::CaptureCursor> cursor;
    };
    std::deque<Captured> m_capture;  // touched only on m_thread: waiting to be written
    bool m_drainQueued = false;      // touched only on m_thread
    std::int64_t m_current = 0;      // touched only on m_thread: the incident last loaded
    struct Shown {
        incidents::Incident incident;
        std::vector<incidents::TimelineItem> timeline;  // as the store had it
        double impact = 0;
    };
    std::optional<Shown> m_shown;    // touched only on m_thread: the incident last sent
    QString m_fingerprint;           // touched only on m_thread: the shared record as last seen
    QTimer* m_catchUp = nullptr;     // lives on m_thread (a child of m_worker)
    QTimer* m_outboxRetry = nullptr; // lives on m_thread
    std::optional<incidents::Store::Server> m_server;  // touched only on m_thread: to reconnect to
    std::unique_ptr<incidents::Outbox> m_outbox;       // touched only on m_thread
    bool m_open = false;
    quint64 m_nextRequest = 0;
    QString m_problem;
    QString m_author;
};

} // namespace lv::console
