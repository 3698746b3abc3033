#pragma once

#include "console/incidentdesk.h"
#include "console/incidentmodel.h"

#include <QDialog>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableView;
class QTextBrowser;

namespace lv::console {

/// Opening an incident: title, severity, regions, when it started, commander.
class IncidentDialog : public QDialog {
    Q_OBJECT
public:
    explicit IncidentDialog(const incidents::Incident& suggestion, QWidget* parent = nullptr);
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
};

/// One incident: status and severity controls, the merged timeline (newest or oldest first),
/// the quick-note box (Ctrl+Enter saves), the postmortem text, exports.
class IncidentView : public QWidget {
    Q_OBJECT
public:
    explicit IncidentView(IncidentDesk& desk, QWidget* parent = nullptr);
    void show(const incidents::Incident& incident, const std::vector<incidents::TimelineItem>& timeline, double playerMinutes);
    std::int64_t incidentId() const { return m_incident.id; }
    const incidents::Incident& incident() const { return m_incident; }
    QPlainTextEdit* quickNote() const { return m_note; }
    QString timelineText() const;  ///< what the timeline shows, as plain text
    void setNewestFirst(bool newestFirst);
    /// Saves the quick note (what Ctrl+Enter does); false when empty or no incident is shown.
    bool saveNote();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void render();
    void onLink(const QUrl& link);

    IncidentDesk& m_desk;
    incidents::Incident m_incident;
    std::vector<incidents::TimelineItem> m_timeline;
    QLabel* m_header;
    QLabel* m_facts;
    QComboBox* m_severity;
    QComboBox* m_status;
    QCheckBox* m_newestFirst;
    QTextBrowser* m_view;
    QPlainTextEdit* m_note;
    QPlainTextEdit* m_summary;
    QPlainTextEdit* m_rootCause;
    QPlainTextEdit* m_actions;
    QPushButton* m_export;
    bool m_updating = false;
};

/// The Incidents tab: the list with filters on the left, the selected incident on the right.
class IncidentsPage : public QWidget {
    Q_OBJECT
public:
    explicit IncidentsPage(IncidentDesk& desk, QWidget* parent = nullptr);
    /// Shows the new-incident dialog with these values filled in (from an alert, or blank).
    void openIncident(const incidents::Incident& suggestion);
    /// Opens without asking (what the dialog's OK does).
    void create(const incidents::Incident& incident);
    void select(std::int64_t id);
    IncidentListModel& list() { return m_list; }
    IncidentFilter& filter() { return m_filter; }
    IncidentView* view() const { return m_view; }
    /// Writes the selected incident as `path` in `format` (off the UI thread).
    void exportTo(std::int64_t id, IncidentDesk::ExportFormat format, const QString& path);

signals:
    void message(const QString& text);

private:
    IncidentDesk& m_desk;
    IncidentListModel m_list;
    IncidentFilter m_filter;
    QTableView* m_table;
    IncidentView* m_view;
    QLabel* m_problem;
    std::int64_t m_selectAfterCreate = -1;
};

} // namespace lv::console
