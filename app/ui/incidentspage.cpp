#include "incidentspage.h"

#include "incidents/export.h"
#include "widgets/tones.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QSignalBlocker>
#include <QRegularExpression>
#include <QTextDocument>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QKeyEvent>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QTabWidget>
#include <QTextBrowser>
#include <QTimeZone>
#include <QVBoxLayout>

#include <algorithm>
#include <utility>

namespace lv::console {

using namespace lv::incidents;

namespace {
const Status kStatuses[] = {Status::Investigating, Status::Identified, Status::Monitoring, Status::Resolved};
const QStringList kFieldNames{QStringLiteral("summary"), QStringLiteral("root_cause"), QStringLiteral("action_items")};

QString regionsText(const std::vector<RegionRef>& regions)
{
    QStringList parts;
    for (const RegionRef& r : regions)
        parts << r.cluster + QLatin1Char('/') + r.region;
    return parts.join(QStringLiteral(", "));
}
} // namespace

// ---------------------------------------------------------------------------------------------
IncidentDialog::IncidentDialog(const Incident& suggestion, const QStringList& known, QWidget* parent, const TimeFormat* time)
    : QDialog(parent), m_base(suggestion), m_title(new QLineEdit(suggestion.title)), m_severity(new QComboBox),
      m_regions(new QLineEdit(regionsText(suggestion.regions))), m_started(new QDateTimeEdit), m_commander(new QLineEdit(suggestion.commander)),
      m_known(known), m_regionsNote(new QLabel)
{
    setWindowTitle(tr("Open incident"));
    for (int s = 1; s <= 4; ++s)
        m_severity->addItem(QStringLiteral("SEV%1").arg(s), s);
    m_severity->setCurrentIndex(std::clamp(suggestion.severity, 1, 4) - 1);
    // Shown and typed in the console's time zone, named in the field.
    const std::int64_t started = suggestion.startedMs ? suggestion.startedMs : QDateTime::currentMSecsSinceEpoch();
    const QString zone = time ? time->zoneName(started) : QStringLiteral("UTC");
    m_started->setTimeSpec(time && time->zone() == TimeFormat::Zone::Local ? Qt::LocalTime : Qt::UTC);
    m_started->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss '%1'").arg(zone));
    m_started->setDateTime(QDateTime::fromMSecsSinceEpoch(started, m_started->timeSpec()));
    m_title->setAccessibleName(tr("Incident title"));
    m_severity->setAccessibleName(tr("Severity"));
    m_regions->setAccessibleName(tr("Affected regions"));
    m_regions->setPlaceholderText(tr("cluster/region, cluster/region …"));
    m_started->setAccessibleName(tr("When the problem started"));
    m_commander->setAccessibleName(tr("Incident commander"));
    auto* form = new QFormLayout;
    form->addRow(tr("&Title"), m_title);
    form->addRow(tr("&Severity"), m_severity);
    // Regions are picked from the connected clusters (typing still works, for one not connected).
    auto* pick = new QPushButton(tr("&Pick…"));
    pick->setAccessibleName(tr("Pick affected regions from the connected clusters"));
    pick->setEnabled(!m_known.isEmpty());
    auto* picker = new QMenu(pick);
    for (const QString& region : m_known) {
        QAction* a = picker->addAction(region);
        a->setCheckable(true);
        connect(a, &QAction::toggled, this, [this, region](bool on) {
            auto regions = parseRegions(m_regions->text());
            const RegionRef ref{region.section(QLatin1Char('/'), 0, 0), region.section(QLatin1Char('/'), 1)};
            std::erase(regions, ref);
            if (on)
                regions.push_back(ref);
            m_regions->setText(regionsText(regions));
        });
    }
    connect(picker, &QMenu::aboutToShow, this, [this, picker] {
        const auto chosen = parseRegions(m_regions->text());
        for (QAction* a : picker->actions()) {
            const QSignalBlocker quiet(a);
            a->setChecked(std::find(chosen.begin(), chosen.end(),
                                    RegionRef{a->text().section(QLatin1Char('/'), 0, 0), a->text().section(QLatin1Char('/'), 1)})
                          != chosen.end());
        }
    });
    pick->setMenu(picker);
    m_regionsNote->setWordWrap(true);
    m_regionsNote->setStyleSheet(widgets::toneStyle(widgets::Tone::Warning));
    m_regionsNote->setAccessibleName(tr("Regions note"));
    auto checkRegions = [this] {
        QStringList unknown;
        for (const RegionRef& r : parseRegions(m_regions->text()))
            if (r.region != QLatin1String("*") && !m_known.contains(r.cluster + QLatin1Char('/') + r.region))
                unknown << r.cluster + QLatin1Char('/') + r.region;
        m_regionsNote->setText(unknown.isEmpty() || m_known.isEmpty()
                                   ? QString()
                                   : tr("Not a connected region: %1 (kept as typed)").arg(unknown.join(QStringLiteral(", "))));
        m_regionsNote->setVisible(!m_regionsNote->text().isEmpty());
    };
    connect(m_regions, &QLineEdit::textChanged, this, checkRegions);
    checkRegions();
    auto* regionsRow = new QHBoxLayout;
    regionsRow->addWidget(m_regions, 1);
    regionsRow->addWidget(pick);
    form->addRow(tr("&Regions"), regionsRow);
    form->addRow(QString(), m_regionsNote);
    form->addRow(tr("Started (&UTC)"), m_started);
    form->addRow(tr("&Commander"), m_commander);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Open incident"));
    auto enable = [this, buttons] { buttons->button(QDialogButtonBox::Ok)->setEnabled(!m_title->text().trimmed().isEmpty()); };
    connect(m_title, &QLineEdit::textChanged, this, enable);
    enable();
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);
    resize(520, sizeHint().height());
}

std::vector<RegionRef> IncidentDialog::parseRegions(const QString& text)
{
    std::vector<RegionRef> out;
    for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString p = part.trimmed();
        if (p.isEmpty())
            continue;
        const RegionRef ref = p.contains(QLatin1Char('/')) ? RegionRef{p.section(QLatin1Char('/'), 0, 0), p.section(QLatin1Char('/'), 1)}
                                                          : RegionRef{p, QStringLiteral("*")};
        if (std::find(out.begin(), out.end(), ref) == out.end())
            out.push_back(ref);
    }
    return out;
}

Incident IncidentDialog::incident() const
{
    Incident i = m_base;
    i.title = m_title->text().trimmed();
    i.severity = m_severity->currentData().toInt();
    i.regions = parseRegions(m_regions->text());
    i.startedMs = m_started->dateTime().toMSecsSinceEpoch();
    if (i.detectedMs == 0 || i.detectedMs < i.startedMs)
        i.detectedMs = std::max(i.startedMs, i.detectedMs);
    i.commander = m_commander->text().trimmed();
    return i;
}

// ---------------------------------------------------------------------------------------------
IncidentView::IncidentView(IncidentDesk& desk, const TimeFormat& time, QWidget* parent)
    : QWidget(parent), m_desk(desk), m_time(time), m_header(new QLabel), m_facts(new QLabel), m_severity(new QComboBox), m_status(new QComboBox),
      m_newestFirst(new QCheckBox(tr("Ne&west first"))), m_filter(new QComboBox), m_view(new QTextBrowser), m_note(new QPlainTextEdit), m_summary(new QPlainTextEdit),
      m_rootCause(new QPlainTextEdit), m_actions(new QPlainTextEdit), m_export(new QPushButton(tr("E&xport…"))), m_noteStatus(new QLabel),
      m_postmortemStatus(new QLabel), m_savePostmortem(new QPushButton(tr("Save &postmortem text"))), m_takeTheirs(new QPushButton(tr("&Use theirs"))),
      m_tabs(new QTabWidget), m_postmortemTab(new QWidget), m_acknowledge(new QPushButton(tr("Ac&knowledge")))
{
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    m_facts->setWordWrap(true);
    m_facts->setTextInteractionFlags(Qt::TextSelectableByMouse);
    for (int s = 1; s <= 4; ++s)
        m_severity->addItem(QStringLiteral("SEV%1").arg(s), s);
    for (Status s : kStatuses)
        m_status->addItem(statusName(s), static_cast<int>(s));
    m_severity->setAccessibleName(tr("Incident severity"));
    m_status->setAccessibleName(tr("Incident status"));
    m_newestFirst->setAccessibleName(tr("Show the newest timeline entries first"));
    m_view->setAccessibleName(tr("Incident timeline"));
    m_view->setOpenLinks(false);
    m_note->setAccessibleName(tr("Quick note"));
    m_note->setPlaceholderText(tr("Write what you see and do; Ctrl+Enter saves (Markdown)"));
    m_note->setMaximumHeight(90);
    m_export->setAccessibleName(tr("Export this incident"));
    connect(m_severity, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_updating && m_incident.id)
            m_desk.setSeverity(m_incident.id, m_severity->currentData().toInt());
    });
    connect(m_status, &QComboBox::currentIndexChanged, this, [this] {
        if (m_updating || !m_incident.id)
            return;
        const auto status = static_cast<Status>(m_status->currentData().toInt());
        // Resolving stamps the end of the incident (its MTTR): asked, not done by a slip.
        if (status == Status::Resolved && m_incident.status != Status::Resolved
            && QMessageBox::question(this, tr("Resolve incident #%1").arg(m_incident.id),
                                     tr("Resolve #%1 “%2” now? This stamps it resolved at this moment.").arg(m_incident.id).arg(m_incident.title))
                   != QMessageBox::Yes) {
            m_updating = true;
            m_status->setCurrentIndex(m_status->findData(static_cast<int>(m_incident.status)));
            m_updating = false;
            return;
        }
        m_desk.setStatus(m_incident.id, status);
    });
    // A wheel passing over a list must not change an incident's severity or status.
    for (QComboBox* box : {m_severity, m_status}) {
        box->setFocusPolicy(Qt::StrongFocus);
        box->installEventFilter(this);
    }
    m_acknowledge->setAccessibleName(tr("Acknowledge the incident"));
    connect(m_acknowledge, &QPushButton::clicked, this, [this] {
        if (m_incident.id)
            m_desk.acknowledge(m_incident.id);
    });
    connect(m_newestFirst, &QCheckBox::toggled, this, &IncidentView::render);
    m_filter->setAccessibleName(tr("Timeline entries to show"));
    m_filter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_filter->addItem(tr("All"), QString());  // the kinds are added as the timeline has them
    connect(m_filter, &QComboBox::activated, this, &IncidentView::render);
    connect(&time, &TimeFormat::changed, this, &IncidentView::render);
    connect(&desk, &IncidentDesk::noteHistoryLoaded, this, [this](std::int64_t, const std::vector<NoteRevision>& revisions) {
        QString text;
        for (const NoteRevision& r : revisions)
            text += tr("Until %1, by %2:\n%3\n\n").arg(m_time.dateTime(r.timeMs), r.author, r.body);
        auto* box = new QMessageBox(QMessageBox::Information, tr("Earlier texts of the note"), text.trimmed(), QMessageBox::Close, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    });
    connect(m_view, &QTextBrowser::anchorClicked, this, &IncidentView::onLink);
    auto* save = new QPushButton(tr("S&ave note"));
    save->setAccessibleName(tr("Save the quick note"));
    save->setToolTip(tr("Ctrl+Enter"));
    connect(save, &QPushButton::clicked, this, &IncidentView::saveNote);
    m_note->installEventFilter(this);  // Ctrl+Enter: the text edit would take it as a line break before any shortcut
    auto* exportMenu = new QMenu(m_export);
    const std::pair<QString, IncidentDesk::ExportFormat> formats[] = {{tr("Postmortem (Markdown)…"), IncidentDesk::ExportFormat::Markdown},
                                                                       {tr("Postmortem (PDF)…"), IncidentDesk::ExportFormat::Pdf},
                                                                       {tr("Timeline (CSV)…"), IncidentDesk::ExportFormat::Csv},
                                                                       {tr("Incident (JSON)…"), IncidentDesk::ExportFormat::Json}};
    for (const auto& [label, kind] : formats)
        exportMenu->addAction(label, this, [this, format = kind] {
            static const char* const suffix[] = {"md", "csv", "json", "pdf"};
            const QString suggested = QStringLiteral("incident-%1.%2").arg(m_incident.id).arg(QLatin1String(suffix[static_cast<int>(format)]));
            const QString path = QFileDialog::getSaveFileName(this, tr("Export incident"), suggested);
            if (!path.isEmpty())
                m_desk.exportIncident(m_incident.id, format, path);
        });
    m_export->setMenu(exportMenu);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Severity")));
    controls->addWidget(m_severity);
    controls->addWidget(new QLabel(tr("Status")));
    controls->addWidget(m_status);
    controls->addWidget(m_acknowledge);
    controls->addStretch(1);
    auto* filterLabel = new QLabel(tr("&Entries"));
    filterLabel->setBuddy(m_filter);
    controls->addWidget(filterLabel);
    controls->addWidget(m_filter);
    controls->addWidget(m_newestFirst);
    controls->addWidget(m_export);
    auto* noteRow = new QHBoxLayout;
    noteRow->addWidget(m_note, 1);
    noteRow->addWidget(save, 0, Qt::AlignBottom);

    m_noteStatus->setWordWrap(true);
    m_noteStatus->setTextFormat(Qt::PlainText);
    m_noteStatus->setVisible(false);
    m_noteStatus->setAccessibleName(tr("Quick note status"));
    connect(&desk, &IncidentDesk::noteSaved, this, [this](std::int64_t, std::int64_t, quint64 request) {
        if (m_pendingNotes.erase(request))
            m_noteProblem.clear();
        updateNoteStatus();
    });
    connect(&desk, &IncidentDesk::noteFailed, this, &IncidentView::onNoteFailed);
    connect(&desk, &IncidentDesk::textSaved, this, &IncidentView::onTextSaved);
    connect(&desk, &IncidentDesk::textConflict, this, [this](std::int64_t id, const QString& field, const QString& theirs, const QString&) {
        onTextConflict(id, field, theirs);
    });

    auto* postmortem = m_postmortemTab;
    auto* form = new QFormLayout(postmortem);
    m_summary->setAccessibleName(tr("Postmortem summary"));
    m_rootCause->setAccessibleName(tr("Root cause"));
    m_actions->setAccessibleName(tr("Action items"));
    form->addRow(tr("Summary"), m_summary);
    form->addRow(tr("Root cause"), m_rootCause);
    form->addRow(tr("Action items"), m_actions);
    m_savePostmortem->setAccessibleName(tr("Save the postmortem text"));
    m_takeTheirs->setAccessibleName(tr("Replace your postmortem edits with the text saved by someone else"));
    m_takeTheirs->setVisible(false);
    m_postmortemStatus->setWordWrap(true);
    m_postmortemStatus->setTextFormat(Qt::PlainText);
    m_postmortemStatus->setAccessibleName(tr("Postmortem status"));
    connect(m_savePostmortem, &QPushButton::clicked, this, &IncidentView::savePostmortem);
    connect(m_takeTheirs, &QPushButton::clicked, this, [this] {
        for (const QString& field : std::exchange(m_conflicts, {}))
            if (auto* edit = postmortemField(field))
                edit->setPlainText(m_postmortemBase[kFieldNames.indexOf(field)]);
        updatePostmortemState();
    });
    for (QPlainTextEdit* edit : {m_summary, m_rootCause, m_actions})
        connect(edit, &QPlainTextEdit::textChanged, this, &IncidentView::updatePostmortemState);
    auto* postmortemButtons = new QHBoxLayout;
    postmortemButtons->addWidget(m_savePostmortem);
    postmortemButtons->addWidget(m_takeTheirs);
    postmortemButtons->addStretch(1);
    form->addRow(QString(), m_postmortemStatus);
    form->addRow(QString(), postmortemButtons);
    auto* timelineTab = new QWidget;
    auto* timelineLayout = new QVBoxLayout(timelineTab);
    timelineLayout->setContentsMargins(0, 0, 0, 0);
    timelineLayout->addWidget(m_view, 1);
    timelineLayout->addLayout(noteRow);
    timelineLayout->addWidget(m_noteStatus);
    auto* tabs = m_tabs;
    tabs->addTab(timelineTab, tr("Timeline"));
    tabs->addTab(postmortem, tr("Postmortem"));

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    layout->addWidget(m_facts);
    layout->addLayout(controls);
    layout->addWidget(tabs, 1);
    setEnabled(false);
}

void IncidentView::show(const Incident& incident, const std::vector<TimelineItem>& timeline, double playerMinutes)
{
    const bool other = incident.id != m_incident.id;
    if (other)
        stashDrafts();
    m_incident = incident;
    m_timeline = timeline;
    m_updating = true;
    m_severity->setCurrentIndex(incident.severity - 1);
    m_status->setCurrentIndex(m_status->findData(static_cast<int>(incident.status)));
    m_updating = false;
    m_acknowledge->setEnabled(incident.acknowledgedMs == 0);
    m_acknowledge->setToolTip(incident.acknowledgedMs ? tr("Acknowledged %1").arg(m_time.dateTime(incident.acknowledgedMs))
                                                     : tr("Say that someone is on it (stamps the time: MTTA)"));
    m_header->setText(QStringLiteral("<h2>#%1 %2</h2>").arg(incident.id).arg(incident.title.toHtmlEscaped()));
    const auto when = [this](std::int64_t ms) { return m_time.dateTime(ms); };
    m_facts->setText(tr("Regions: %1 · commander: %2\nStarted %3 · detected %4 · acknowledged %5 · mitigated %6 · resolved %7\n"
                        "Customer impact so far: %8 player-minutes")
                         .arg(regionsText(incident.regions), incident.commander.isEmpty() ? tr("—") : incident.commander, when(incident.startedMs),
                              when(incident.detectedMs), when(incident.acknowledgedMs), when(incident.mitigatedMs), when(incident.resolvedMs))
                         .arg(playerMinutes, 0, 'f', 0));
    if (other)
        restoreDrafts();
    else
        refreshPostmortem();
    setEnabled(true);
    render();
}

namespace {
const char* const kFieldLabels[] = {QT_TRANSLATE_NOOP("IncidentView", "Summary"), QT_TRANSLATE_NOOP("IncidentView", "Root cause"),
                                    QT_TRANSLATE_NOOP("IncidentView", "Action items")};
QString storedText(const Incident& incident, int field)
{
    return field == 0 ? incident.summary : field == 1 ? incident.rootCause : incident.actionItems;
}
QString excerpt(const QString& text)
{
    const QString line = text.simplified();
    return line.size() > 60 ? line.left(57) + QStringLiteral("…") : line;
}
} // namespace

bool IncidentView::PostmortemDraft::dirty() const
{
    for (int f = 0; f < kPostmortemFields; ++f)
        if (text[f] != base[f])
            return true;
    return false;
}

QPlainTextEdit* IncidentView::postmortemField(const QString& field) const
{
    const int f = kFieldNames.indexOf(field);
    return f == 0 ? m_summary : f == 1 ? m_rootCause : f == 2 ? m_actions : nullptr;
}

IncidentView::PostmortemDraft IncidentView::currentPostmortem() const
{
    PostmortemDraft d;
    const QPlainTextEdit* edits[] = {m_summary, m_rootCause, m_actions};
    for (int f = 0; f < kPostmortemFields; ++f) {
        d.base[f] = m_postmortemBase[f];
        d.text[f] = edits[f]->toPlainText();
    }
    return d;
}

bool IncidentView::postmortemDirty() const { return m_incident.id && currentPostmortem().dirty(); }

void IncidentView::stashDrafts()
{
    if (!m_incident.id)
        return;
    const QString note = m_note->toPlainText();
    if (note.trimmed().isEmpty())
        m_noteDrafts.erase(m_incident.id);
    else
        m_noteDrafts[m_incident.id] = note;
    const PostmortemDraft draft = currentPostmortem();
    if (draft.dirty())
        m_postmortemDrafts[m_incident.id] = draft;
    else
        m_postmortemDrafts.erase(m_incident.id);
}

void IncidentView::restoreDrafts()
{
    const auto note = m_noteDrafts.find(m_incident.id);
    m_note->setPlainText(note == m_noteDrafts.end() ? QString() : note->second);
    if (note != m_noteDrafts.end())
        m_noteDrafts.erase(note);
    m_conflicts.clear();
    QPlainTextEdit* edits[] = {m_summary, m_rootCause, m_actions};
    const auto draft = m_postmortemDrafts.find(m_incident.id);
    for (int f = 0; f < kPostmortemFields; ++f) {
        m_postmortemBase[f] = draft == m_postmortemDrafts.end() ? storedText(m_incident, f) : draft->second.base[f];
        edits[f]->setPlainText(draft == m_postmortemDrafts.end() ? storedText(m_incident, f) : draft->second.text[f]);
    }
    if (draft != m_postmortemDrafts.end())
        m_postmortemDrafts.erase(draft);
    updateNoteStatus();
    updatePostmortemState();
}

void IncidentView::refreshPostmortem()
{
    QPlainTextEdit* edits[] = {m_summary, m_rootCause, m_actions};
    for (int f = 0; f < kPostmortemFields; ++f) {
        if (edits[f]->toPlainText() != m_postmortemBase[f])
            continue;  // edited here: kept, and its starting point too (a save checks against it)
        m_postmortemBase[f] = storedText(m_incident, f);
        if (edits[f]->toPlainText() != m_postmortemBase[f])
            edits[f]->setPlainText(m_postmortemBase[f]);
    }
    updatePostmortemState();
}

void IncidentView::updatePostmortemState()
{
    const bool dirty = postmortemDirty();
    m_tabs->setTabText(m_tabs->indexOf(m_postmortemTab), dirty ? tr("Postmortem •") : tr("Postmortem"));
    m_savePostmortem->setEnabled(dirty);
    m_takeTheirs->setVisible(!m_conflicts.isEmpty());
    if (!m_conflicts.isEmpty()) {
        QStringList which;
        for (const QString& field : m_conflicts) {
            const int f = kFieldNames.indexOf(field);
            which << tr("%1 (theirs: “%2”)").arg(tr(kFieldLabels[f]), excerpt(m_postmortemBase[f]));
        }
        m_postmortemStatus->setText(tr("Someone else saved %1 while you were editing. Your text is still in the field and was not saved: "
                                       "Save again to replace theirs, or Use theirs.")
                                        .arg(which.join(QStringLiteral(", "))));
        m_postmortemStatus->setStyleSheet(widgets::toneStyle(widgets::Tone::Error));
    } else {
        m_postmortemStatus->setText(dirty ? tr("Unsaved changes (kept if you switch incidents).") : QString());
        m_postmortemStatus->setStyleSheet(QString());
    }
}

void IncidentView::savePostmortem()
{
    if (!m_incident.id)
        return;
    const PostmortemDraft d = currentPostmortem();
    for (int f = 0; f < kPostmortemFields; ++f)
        if (d.text[f] != d.base[f])
            m_desk.saveText(m_incident.id, kFieldNames[f], d.base[f], d.text[f]);
    m_conflicts.clear();
    updatePostmortemState();
}

void IncidentView::onTextSaved(std::int64_t incidentId, const QString& field, const QString& value)
{
    const int f = kFieldNames.indexOf(field);
    if (f < 0)
        return;
    if (incidentId == m_incident.id) {
        m_postmortemBase[f] = value;  // what the field now holds in the store
        updatePostmortemState();
    } else if (auto it = m_postmortemDrafts.find(incidentId); it != m_postmortemDrafts.end()) {
        it->second.base[f] = value;
        if (!it->second.dirty())
            m_postmortemDrafts.erase(it);
    }
}

void IncidentView::onTextConflict(std::int64_t incidentId, const QString& field, const QString& theirs)
{
    const int f = kFieldNames.indexOf(field);
    if (f < 0)
        return;
    if (incidentId == m_incident.id) {
        m_postmortemBase[f] = theirs;  // a second save replaces theirs knowingly
        if (!m_conflicts.contains(field))
            m_conflicts << field;
        updatePostmortemState();
    } else if (auto it = m_postmortemDrafts.find(incidentId); it != m_postmortemDrafts.end()) {
        it->second.base[f] = theirs;
    }
}

void IncidentView::updateNoteStatus()
{
    QStringList saving;
    for (const auto& [request, pending] : m_pendingNotes)
        if (pending.incidentId == m_incident.id)
            saving << tr("Saving “%1”…").arg(excerpt(pending.body));
    const QString text = !m_noteProblem.isEmpty() ? m_noteProblem : saving.join(QLatin1Char(' '));
    m_noteStatus->setText(text);
    m_noteStatus->setStyleSheet(!m_noteProblem.isEmpty() ? widgets::toneStyle(widgets::Tone::Error) : QString());
    m_noteStatus->setVisible(!text.isEmpty());
}

void IncidentView::onNoteFailed(std::int64_t incidentId, quint64 request, const QString& error)
{
    const auto it = m_pendingNotes.find(request);
    if (it == m_pendingNotes.end())
        return;
    const QString body = it->second.body;
    m_pendingNotes.erase(it);
    // Back where it was typed, ahead of whatever has been typed since.
    auto prepend = [&](const QString& now) { return now.trimmed().isEmpty() ? body : body + QStringLiteral("\n\n") + now; };
    if (incidentId == m_incident.id) {
        m_note->setPlainText(prepend(m_note->toPlainText()));
        m_noteProblem = tr("The note was not saved (%1). Its text is back in the box; save it again when the problem is fixed.").arg(error);
    } else {
        m_noteDrafts[incidentId] = prepend(m_noteDrafts[incidentId]);
        m_noteProblem = tr("A note for incident #%1 was not saved (%2). Its text is kept with that incident.").arg(incidentId).arg(error);
    }
    updateNoteStatus();
}

QStringList IncidentView::unsavedWork() const
{
    QStringList out;
    if (m_incident.id && !m_note->toPlainText().trimmed().isEmpty())
        out << tr("a quick note for incident #%1").arg(m_incident.id);
    for (const auto& [id, text] : m_noteDrafts)
        out << tr("a quick note for incident #%1").arg(id);
    if (postmortemDirty())
        out << tr("postmortem edits for incident #%1").arg(m_incident.id);
    for (const auto& [id, draft] : m_postmortemDrafts)
        out << tr("postmortem edits for incident #%1").arg(id);
    if (!m_pendingNotes.empty())
        out << tr("%n note(s) still being saved", "", int(m_pendingNotes.size()));
    return out;
}

void IncidentView::setNewestFirst(bool newestFirst) { m_newestFirst->setChecked(newestFirst); }

void IncidentView::setFilter(const QString& kind)
{
    render();  // the list of kinds is current
    const int at = m_filter->findData(kind);
    m_filter->setCurrentIndex(std::max(0, at));
    render();
}

QString IncidentView::noteHtml(const QString& markdown)
{
    QTextDocument doc;
    doc.setMarkdown(markdown, QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub | QTextDocument::MarkdownNoHTML));
    QString html = doc.toHtml();
    const int open = html.indexOf(QLatin1Char('>'), html.indexOf(QStringLiteral("<body"))) + 1;
    html = html.mid(open, html.lastIndexOf(QStringLiteral("</body>")) - open).trimmed();
    // One plain paragraph stays on the entry's line.
    static const QRegularExpression single(QStringLiteral("^<p[^>]*>(.*)</p>$"), QRegularExpression::DotMatchesEverythingOption);
    const auto match = single.match(html);
    if (match.hasMatch() && !match.captured(1).contains(QStringLiteral("<p")))
        return match.captured(1);
    return html;
}

void IncidentView::render()
{
    QString html;
    // The filter offers the kinds this timeline has; the choice survives new entries.
    const QString chosen = m_filter->currentData().toString();
    QStringList kinds;
    for (const TimelineItem& t : m_timeline)
        if (t.kind == TimelineItem::Kind::Event && !kinds.contains(t.tag))
            kinds << t.tag;
    kinds.sort();
    QStringList offered{QString(), QStringLiteral("note"), QStringLiteral("change")};
    offered += kinds;
    QStringList had;
    for (int i = 0; i < m_filter->count(); ++i)
        had << m_filter->itemData(i).toString();
    if (had != offered) {
        const QSignalBlocker quiet(m_filter);
        m_filter->clear();
        m_filter->addItem(tr("All"), QString());
        m_filter->addItem(tr("Notes"), QStringLiteral("note"));
        m_filter->addItem(tr("Status and severity"), QStringLiteral("change"));
        for (const QString& k : kinds)
            m_filter->addItem(QString(k).replace(QLatin1Char('_'), QLatin1Char(' ')), k);
        m_filter->setCurrentIndex(std::max(0, m_filter->findData(chosen)));
    }
    const QString only = m_filter->currentData().toString();
    std::vector<TimelineItem> items;
    for (const TimelineItem& t : m_timeline)
        if (only.isEmpty() || (only == QLatin1String("note") && t.kind == TimelineItem::Kind::Note)
            || (only == QLatin1String("change") && t.kind == TimelineItem::Kind::Change) || (t.kind == TimelineItem::Kind::Event && t.tag == only))
            items.push_back(t);
    if (m_newestFirst->isChecked())
        std::reverse(items.begin(), items.end());
    for (const TimelineItem& t : items) {
        const QString time = m_time.shortDateTime(t.timeMs);
        // Notes are Markdown (what the box says); events and changes are plain text.
        QString body = t.kind == TimelineItem::Kind::Note ? noteHtml(t.what) : t.what.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>"));
        QString extra;
        if (t.kind == TimelineItem::Kind::Note && t.noteId > 0)  // (0: still in this machine's outbox)
            extra = QStringLiteral(" <a href=\"note:edit:%1\">%2</a> <a href=\"note:delete:%1\">%3</a>%4")
                        .arg(t.noteId)
                        .arg(tr("edit"), tr("delete"),
                             t.edited ? QStringLiteral(" <a href=\"note:history:%1\">%2</a>").arg(t.noteId).arg(tr("(edited: earlier texts)")) : QString());
        const QString colour = widgets::toneColour(t.kind == TimelineItem::Kind::Note && t.noteId == 0 ? widgets::Tone::Warning
                                                   : t.kind == TimelineItem::Kind::Note     ? widgets::Tone::Note
                                                   : t.kind == TimelineItem::Kind::Change ? widgets::Tone::Change
                                                                                          : widgets::Tone::Muted,
                                                   m_view->palette())
                                   .name();
        html += QStringLiteral("<p><tt>%1</tt> <b style=\"color:%2\">[%3]</b> <b>%4</b>: %5%6</p>")
                    .arg(time, colour, t.tag.toHtmlEscaped(), t.who.toHtmlEscaped(), body, extra);
    }
    if (items.empty() && !m_timeline.empty())
        html = tr("<p><i>No entries of this kind: choose All under Entries.</i></p>");
    else if (items.empty())
        html = tr("<p><i>Nothing yet: notes, status changes and what happens in the incident's regions appear here.</i></p>");
    // Every event reloads the timeline: where the reader was stays where it was.
    QScrollBar* bar = m_view->verticalScrollBar();
    const int position = bar->value();
    m_view->setHtml(html);
    bar->setValue(position);
}

bool IncidentView::eventFilter(QObject* watched, QEvent* event)
{
    if ((watched == m_severity || watched == m_status) && event->type() == QEvent::Wheel)
        return true;  // swallowed: changed by clicking or the keyboard only
    if (watched == m_note && event->type() == QEvent::KeyPress) {
        const auto* key = static_cast<QKeyEvent*>(event);
        if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) && (key->modifiers() & Qt::ControlModifier)) {
            saveNote();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

QString IncidentView::timelineText() const { return m_view->toPlainText(); }

bool IncidentView::saveNote()
{
    const QString body = m_note->toPlainText();
    if (!m_incident.id || body.trimmed().isEmpty())
        return false;
    // Held until the store confirms (noteSaved); on noteFailed it comes back into the box.
    m_pendingNotes[m_desk.addNote(m_incident.id, body)] = {m_incident.id, body};
    m_note->clear();
    m_noteProblem.clear();
    updateNoteStatus();
    return true;
}

void IncidentView::onLink(const QUrl& link)
{
    const QStringList parts = link.toString().split(QLatin1Char(':'));
    if (parts.size() != 3 || parts[0] != QLatin1String("note"))
        return;
    const std::int64_t noteId = parts[2].toLongLong();
    // The timeline is replaced whenever an event arrives, including during the dialogs' nested
    // event loops below: the note is looked up by identity, never held by iterator or reference.
    const auto findNote = [&]() -> const TimelineItem* {
        const auto it = std::find_if(m_timeline.begin(), m_timeline.end(), [&](const TimelineItem& t) { return t.noteId == noteId; });
        return it == m_timeline.end() ? nullptr : &*it;
    };
    const TimelineItem* note = findNote();
    if (!note)
        return;
    const std::int64_t incidentId = m_incident.id;
    if (parts[1] == QLatin1String("edit")) {
        const QString before = note->what;
        bool ok = false;
        const QString text = QInputDialog::getMultiLineText(this, tr("Edit note"), tr("The earlier text is kept in the note's history."), before, &ok);
        if (!ok || text == before || text.trimmed().isEmpty())
            return;
        if (incidentId == m_incident.id && findNote()) {
            m_desk.editNote(incidentId, noteId, text);
        } else {
            // The note went away (deleted, or another incident is shown) while the dialog was open:
            // the typed text is kept (in the quick note when it is still this incident) and shown.
            const bool sameIncident = incidentId == m_incident.id;
            if (sameIncident)
                m_note->setPlainText(text);
            QMessageBox::information(this, tr("Edit note"),
                                     (sameIncident ? tr("The note was deleted while you were editing it; your text is in the quick note:\n\n%1")
                                                   : tr("Another incident was opened while you were editing the note; it was not changed. Your text:\n\n%1"))
                                         .arg(text));
        }
    } else if (parts[1] == QLatin1String("history")) {
        m_desk.loadNoteHistory(noteId);
    } else if (parts[1] == QLatin1String("delete")
               && QMessageBox::question(this, tr("Delete note"), tr("Delete this note? It stays in the database, marked deleted.")) == QMessageBox::Yes) {
        m_desk.deleteNote(incidentId, noteId);
    }
}

// ---------------------------------------------------------------------------------------------
IncidentsPage::IncidentsPage(IncidentDesk& desk, const TimeFormat& time, QWidget* parent)
    : QWidget(parent), m_desk(desk), m_time(time), m_table(new QTableView), m_view(new IncidentView(desk, time)), m_problem(new QLabel), m_outbox(new QLabel)
{
    m_filter.setSourceModel(&m_list);
    m_table->setModel(&m_filter);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(IncidentListModel::Title, QHeaderView::Stretch);
    m_table->setAccessibleName(tr("Incidents"));
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(widgets::toneStyle(widgets::Tone::Error));
    m_problem->setVisible(false);
    m_outbox->setWordWrap(true);
    m_outbox->setStyleSheet(widgets::toneStyle(widgets::Tone::Warning));
    m_outbox->setVisible(false);
    m_outbox->setAccessibleName(tr("Notes not yet shared"));
    connect(&desk, &IncidentDesk::outboxChanged, this, [this](int pending) {
        m_outbox->setText(pending == 1 ? tr("1 note not yet shared: the team's incident database cannot be reached. It is kept on this "
                                            "machine and sent when the database is back.")
                                       : tr("%1 notes not yet shared: the team's incident database cannot be reached. They are kept on this "
                                            "machine and sent, in order, when the database is back.")
                                             .arg(pending));
        m_outbox->setVisible(pending > 0);
    });

    auto* status = new QComboBox;
    status->setAccessibleName(tr("Show incidents by status"));
    status->addItem(tr("Open incidents"), -2);
    status->addItem(tr("All incidents"), -1);
    for (Status s : kStatuses)
        status->addItem(statusName(s), static_cast<int>(s));
    auto* severity = new QComboBox;
    severity->setAccessibleName(tr("Show incidents by severity"));
    severity->addItem(tr("Any severity"), 0);
    for (int s = 1; s <= 4; ++s)
        severity->addItem(QStringLiteral("SEV%1").arg(s), s);
    auto* search = new QLineEdit;
    search->setPlaceholderText(tr("Filter by title or region"));
    search->setAccessibleName(tr("Filter incidents by text"));
    search->setClearButtonEnabled(true);
    m_filter.setOpenOnly(true);
    connect(status, &QComboBox::currentIndexChanged, this, [this, status] {
        const int v = status->currentData().toInt();
        m_filter.setOpenOnly(v == -2);
        m_filter.setStatus(v >= 0 ? std::optional<Status>(static_cast<Status>(v)) : std::nullopt);
    });
    connect(severity, &QComboBox::currentIndexChanged, this, [this, severity] { m_filter.setSeverity(severity->currentData().toInt()); });
    connect(search, &QLineEdit::textChanged, &m_filter, &IncidentFilter::setText);
    auto* open = new QPushButton(tr("&New incident…"));
    open->setAccessibleName(tr("Open a new incident"));
    open->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
    connect(open, &QPushButton::clicked, this, [this] { openIncident({}); });
    auto* team = new QPushButton(tr("Team &database…"));
    team->setAccessibleName(tr("Share incidents on the team's database"));
    connect(team, &QPushButton::clicked, this, &IncidentsPage::teamDatabaseRequested);

    auto* filters = new QHBoxLayout;
    filters->addWidget(status);
    filters->addWidget(severity);
    filters->addWidget(search, 1);
    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addLayout(filters);
    leftLayout->addWidget(m_table, 1);
    auto* actions = new QHBoxLayout;
    actions->addWidget(open);
    actions->addWidget(team);
    actions->addStretch(1);
    leftLayout->addLayout(actions);
    auto* split = new QSplitter;
    split->addWidget(left);
    split->addWidget(m_view);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_problem);
    layout->addWidget(m_outbox);
    layout->addWidget(split, 1);

    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
        if (current.isValid())
            m_desk.load(current.data(IncidentListModel::IdRole).toLongLong());
    });
    auto onOpened = [this](bool ok, const QString& problem) {
        // A damaged file that was kept and replaced leaves the page working, with the warning shown.
        m_problem->setText(ok ? problem : tr("Incidents unavailable: %1").arg(problem));
        m_problem->setVisible(!problem.isEmpty());
        if (ok)
            m_desk.refresh();
    };
    connect(&desk, &IncidentDesk::opened, this, onOpened);
    if (desk.isOpen() || !desk.problem().isEmpty())  // opened before this page was made
        onOpened(desk.isOpen(), desk.problem());
    connect(&desk, &IncidentDesk::incidentsListed, this, [this](const std::vector<Incident>& incidents) {
        const std::int64_t current = m_view->incidentId();
        m_list.setIncidents(incidents);
        select(m_selectAfterCreate > 0 ? m_selectAfterCreate : current);
        m_selectAfterCreate = -1;
    });
    connect(&desk, &IncidentDesk::incidentLoaded, this, [this](const Incident& incident, const std::vector<TimelineItem>& timeline, double impact) {
        if (incident.id == m_view->incidentId() || m_view->incidentId() == 0 || incident.id == m_table->currentIndex().data(IncidentListModel::IdRole).toLongLong())
            m_view->show(incident, timeline, impact);
    });
    connect(&desk, &IncidentDesk::incidentCreated, this, [this](std::int64_t id) {
        m_selectAfterCreate = id;
        emit message(tr("Incident #%1 opened").arg(id));
    });
    connect(&desk, &IncidentDesk::eventsAdded, this, [this](const std::vector<Event>& events) {
        if (m_view->incidentId()
            && std::any_of(events.begin(), events.end(), [this](const Event& e) { return m_view->incident().touches(e.where); }))
            m_desk.load(m_view->incidentId());
    });
    connect(&desk, &IncidentDesk::failed, this, &IncidentsPage::message);
    connect(&desk, &IncidentDesk::exported, this, [this](const QString& path, bool ok, const QString& error) {
        emit message(ok ? tr("Exported to %1").arg(path) : tr("Export failed: %1").arg(error));
    });
}

void IncidentsPage::openIncident(const Incident& suggestion)
{
    IncidentDialog dialog(suggestion, m_knownRegions ? m_knownRegions() : QStringList{}, this, &m_time);
    if (dialog.exec() == QDialog::Accepted)
        create(dialog.incident());
}

void IncidentsPage::create(const Incident& incident) { m_desk.create(incident); }

void IncidentsPage::select(std::int64_t id)
{
    const int row = m_list.rowOf(id);
    if (row < 0)
        return;
    const QModelIndex index = m_filter.mapFromSource(m_list.index(row, 0));
    if (index.isValid())
        m_table->setCurrentIndex(index);
    else
        m_desk.load(id);  // filtered out of the list: still show it
}

void IncidentsPage::exportTo(std::int64_t id, IncidentDesk::ExportFormat format, const QString& path) { m_desk.exportIncident(id, format, path); }

} // namespace lv::console
