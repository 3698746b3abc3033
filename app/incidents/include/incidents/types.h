#pragma once

#include <QString>

#include <cstdint>
#include <optional>
#include <vector>

namespace lv::incidents {

enum class Status { Investigating, Identified, Monitoring, Resolved };
QString statusName(Status status);             ///< "investigating", ...
std::optional<Status> statusFromName(const QString& name);

/// A region of a cluster ("sandbox" / "eu-west"); region "*" = the whole cluster.
struct RegionRef {
    QString cluster;
    QString region;
    friend bool operator==(const RegionRef&, const RegionRef&) = default;
    friend bool operator<(const RegionRef& a, const RegionRef& b) { return a.cluster != b.cluster ? a.cluster < b.cluster : a.region < b.region; }
};

/// Times are Unix milliseconds; 0 = not yet.
struct Incident {
    std::int64_t id = 0;
    QString title;
    int severity = 3;  ///< 1..4 (SEV1 worst)
    Status status = Status::Investigating;
    QString commander;
    std::vector<RegionRef> regions;
    std::int64_t startedMs = 0;       ///< when the problem began (e.g. the alert's first bad window)
    std::int64_t detectedMs = 0;      ///< when it was noticed (alert raised, or the incident opened)
    std::int64_t acknowledgedMs = 0;  ///< when someone took it
    std::int64_t mitigatedMs = 0;     ///< when players stopped being hurt
    std::int64_t resolvedMs = 0;
    std::int64_t createdMs = 0;
    QString summary, rootCause, actionItems;  ///< Markdown, for the postmortem
    bool touches(const RegionRef& r) const;   ///< same cluster and region (or either side is "*")
};

struct Note {
    std::int64_t id = 0;
    std::int64_t incidentId = 0;
    QString author;
    std::int64_t createdMs = 0;
    std::int64_t editedMs = 0;   ///< 0 = never edited
    std::int64_t deletedMs = 0;  ///< 0 = not deleted (deletes are soft)
    QString body;                ///< Markdown, the current text
    QString deletedBy;           ///< who deleted it (empty while not deleted)
};

/// An earlier text of a note, kept when it was edited.
struct NoteRevision {
    int revision = 0;
    std::int64_t timeMs = 0;  ///< when this text was replaced
    QString author;           ///< who wrote this text
    QString body;
};

/// A recorded change of an incident's status, severity, or another field.
struct IncidentChange {
    std::int64_t timeMs = 0;
    QString author;
    QString field;
    QString oldValue, newValue;
};

/// Something that happened while the console ran, captured on its own.
struct Event {
    std::int64_t id = 0;
    std::int64_t timeMs = 0;
    RegionRef where;
    QString kind;     ///< slo_alert_raised, slo_alert_cleared, toggle_change, operation, drill, connection_lost, connection_restored
    QString actor;    ///< who did it (audit), or "console"
    QString summary;  ///< one line for the timeline
    QString sourceKey;  ///< unique per origin (e.g. "audit:live:42"): the same event is stored once
};

/// How far capture of one cluster's audit log got: the newest entry stored, by id and time (a log
/// that started again — a new sandbox, a syncd with a fresh store — reuses ids, not times).
struct CaptureCursor {
    QString cluster;
    std::uint64_t auditId = 0;
    std::int64_t auditTimeMs = 0;
};

/// One line of an incident's merged timeline.
struct TimelineItem {
    enum class Kind { Note, Change, Event };
    Kind kind = Kind::Event;
    std::int64_t timeMs = 0;
    QString who;
    QString what;  ///< the note's text, "status: investigating → identified", or the event's summary
    QString tag;   ///< "note", "status", "severity", the event's kind ...
    std::int64_t noteId = 0;
    bool edited = false;
};

} // namespace lv::incidents
