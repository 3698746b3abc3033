#pragma once

#include "console/incidentdesk.h"
#include "console/incidentmodel.h"
#include "console/timeformat.h"

#include <QDialog>
#include <QWidget>

#include <functional>
#include <map>

class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableView;
class QTextBrowser;

namespace lv::console {

/// Opening an incident: title, severity, regions, when it started, commander.
class IncidentDialog : public QDialog {
    Q_OBJECT
public:
    /// `known`: the regions of the connected clusters ("cluster/region"), offered by a picker and
    /// completion; one typed that is not among them is allowed but marked.
    /// `time`: the zone the start time is shown and typed in (UTC when null).
    explicit IncidentDialog(const incidents::Incident& suggestion, const QStringList& known = {}, QWidget* parent = nullptr,
                            const TimeFormat* time = nullptr);
    QLabel* regionsNote() const { return m_regionsNote; }
    incidents::Incident incident() const;
    /// "live/eu-west, sandbox/*" -> regions; empty entries skipped, a bare name means cluster "*".
    static std::vector<incidents::RegionRef> parseRegions(const QString& text);

private:
    incidents::Incident m_base;
    QLineEdit* m_title;
    QComboBox* m_severity;
    QLineEdit* m_regions;
    QDateTimeEdit* m_started;
    QLineEdit* m_commander;
    QStringList m_known;
    QLabel* m_regionsNote;
};

/// One incident: status and severity controls, the merged timeline (newest or oldest first),
/// the quick-note box (Ctrl+Enter saves), the postmortem text, exports.
class IncidentView : public QWidget {
    Q_OBJECT
public:
    IncidentView(IncidentDesk& desk, const TimeFormat& time, QWidget* parent = nullptr);
    void show(const incidents::Incident& incident, const std::vector<incidents::TimelineItem>& timeline, double playerMinutes);
    std::int64_t incidentId() const { return m_incident.id; }
    const incidents::Incident& incident() const { return m_incident; }
    QPlainTextEdit* quickNote() const { return m_note; }
    QString timelineText() const;  ///< what the timeline shows, as plain text
    void setNewestFirst(bool newestFirst);
    /// The timeline's filter: "" (everything), "note", "change" or an event kind ("toggle_change", …).
    void setFilter(const QString& kind);
    QComboBox* filter() const { return m_filter; }
    /// A note's Markdown as HTML for the timeline (raw HTML in it is shown as text, never run).
    static QString noteHtml(const QString& markdown);
    /// Saves the quick note (what Ctrl+Enter does); false when empty or no incident is shown.
    /// The box is free for the next note at once; until the store confirms, the text is held,
    /// and if the save fails it comes back into the box (of its own incident) with the reason.
    bool saveNote();
    QLabel* noteStatus() const { return m_noteStatus; }
    /// The postmortem text fields: "summary", "root_cause", "action_items".
    QPlainTextEdit* postmortemField(const QString& field) const;
    /// Saves the changed postmortem fields, each against the text its editing started from.
    void savePostmortem();
    bool postmortemDirty() const;
    QLabel* postmortemStatus() const { return m_postmortemStatus; }
    /// What typed text is not in the database yet, one line per item (empty: nothing).
    QStringList unsavedWork() const;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    static constexpr int kPostmortemFields = 3;
    struct PostmortemDraft {
        QString base[kPostmortemFields];  // what the editing started from (the stored text then)
        QString text[kPostmortemFields];
        bool dirty() const;
    };
    void render();
    void onLink(const QUrl& link);
    /// Before another incident is shown: the quick note and postmortem edits stay with theirs.
    void stashDrafts();
    void restoreDrafts();
    /// The same incident read back: clean fields follow the store, edited ones are kept.
    void refreshPostmortem();
    void updatePostmortemState();
    void updateNoteStatus();
    void onNoteFailed(std::int64_t incidentId, quint64 request, const QString& error);
    void onTextSaved(std::int64_t incidentId, const QString& field, const QString& value);
    void onTextConflict(std::int64_t incidentId, const QString& field, const QString& theirs);
    PostmortemDraft currentPostmortem() const;

    IncidentDesk& m_desk;
    const TimeFormat& m_time;
    incidents::Incident m_incident;
    std::vector<incidents::TimelineItem> m_timeline;
    QLabel* m_header;
    QLabel* m_facts;
    QComboBox* m_severity;
    QComboBox* m_status;
    QCheckBox* m_newestFirst;
    QComboBox* m_filter;  // which entries the timeline shows: all, notes, incident changes, or one event kind
    QTextBrowser* m_view;
    QPlainTextEdit* m_note;
    QPlainTextEdit* m_summary;
    QPlainTextEdit* m_rootCause;
    QPlainTextEdit* m_actions;
    QPushButton* m_export;
    QLabel* m_noteStatus;
    QLabel* m_postmortemStatus;
    QPushButton* m_savePostmortem;
    QPushButton* m_takeTheirs;
    QTabWidget* m_tabs;
    QWidget* m_postmortemTab;
    QPushButton* m_acknowledge;
    bool m_updating = false;
    struct PendingNote {
        std::int64_t incidentId = 0;
        QString body;
    };
    std::map<quint64, PendingNote> m_pendingNotes;          // queued, not yet confirmed
    std::map<std::int64_t, QString> m_noteDrafts;           // other incidents' quick notes
    std::map<std::int64_t, PostmortemDraft> m_postmortemDrafts;  // other incidents' unsaved postmortems
    QString m_postmortemBase[kPostmortemFields];            // the shown fields' starting points
    QString m_noteProblem;                                  // why the last note was not saved
    QStringList m_conflicts;                                // fields someone else saved meanwhile
};

/// The Incidents tab: the list with filters on the left, the selected incident on the right.
class IncidentsPage : public QWidget {
    Q_OBJECT
public:
    IncidentsPage(IncidentDesk& desk, const TimeFormat& time, QWidget* parent = nullptr);
    /// Shows the new-incident dialog with these values filled in (from an alert, or blank).
    void openIncident(const incidents::Incident& suggestion);
    /// Opens without asking (what the dialog's OK does).
    void create(const incidents::Incident& incident);
    void select(std::int64_t id);
    /// Where the new-incident dialog gets the connected clusters' regions from.
    void setKnownRegions(std::function<QStringList()> known) { m_knownRegions = std::move(known); }
    IncidentListModel& list() { return m_list; }
    IncidentFilter& filter() { return m_filter; }
    IncidentView* view() const { return m_view; }
    /// Writes the selected incident as `path` in `format` (off the UI thread).
    void exportTo(std::int64_t id, IncidentDesk::ExportFormat format, const QString& path);

signals:
    void message(const QString& text);
    /// "Team database…": where the incidents are shared.
    void teamDatabaseRequested();

private:
    IncidentDesk& m_desk;
    const TimeFormat& m_time;
    IncidentListModel m_list;
    IncidentFilter m_filter;
    QTableView* m_table;
    IncidentView* m_view;
    QLabel* m_problem;
    QLabel* m_outbox;  // "3 notes not yet shared" while the team's database is away
    std::int64_t m_selectAfterCreate = -1;
    std::function<QStringList()> m_knownRegions;
};

} // namespace lv::console
