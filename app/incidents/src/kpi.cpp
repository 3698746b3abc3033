#include "incidents/kpi.h"

#include "incidents/store.h"

#include <QObject>

#include <algorithm>
#include <map>

namespace lv::incidents {

namespace {
bool isChange(const Event& e) { return e.kind == QLatin1String("toggle_change") || e.kind == QLatin1String("operation"); }

std::int64_t hurtUntil(const Incident& i, std::int64_t nowMs)
{
    return i.mitigatedMs ? i.mitigatedMs : i.resolvedMs ? i.resolvedMs : nowMs;
}

std::optional<double> mean(const std::vector<double>& v)
{
    if (v.empty())
        return std::nullopt;
    double sum = 0.0;
    for (double x : v)
        sum += x;
    return sum / double(v.size());
}

KpiFigures figuresFor(const QString& scope, const std::vector<const Incident*>& incidents, const std::vector<const Event*>& changes,
                      const std::vector<const Incident*>& allIncidents, const std::function<bool(const Incident&)>& inScope,
                      const std::function<double(const Incident&)>& impact, std::int64_t fromMs, std::int64_t toMs, std::int64_t nowMs,
                      std::int64_t windowMs)
{
    KpiFigures f;
    f.scope = scope;
    f.incidents = static_cast<int>(incidents.size());
    std::vector<double> detect, ack, restore;
    double downMs = 0.0;
    for (const Incident* i : incidents) {
        if (i->detectedMs)
            detect.push_back(double(i->detectedMs - i->startedMs) / 60'000.0);
        if (i->acknowledgedMs && i->detectedMs)
            ack.push_back(double(i->acknowledgedMs - i->detectedMs) / 60'000.0);
        if (i->resolvedMs)
            restore.push_back(double(i->resolvedMs - i->startedMs) / 60'000.0);
        const std::int64_t end = std::min(i->resolvedMs ? i->resolvedMs : nowMs, toMs);
        downMs += double(std::max<std::int64_t>(0, end - std::max(i->startedMs, fromMs)));
        f.playerMinutes += impact(*i);
    }
    f.mttdMinutes = mean(detect);
    f.mttaMinutes = mean(ack);
    f.mttrMinutes = mean(restore);
    if (!incidents.empty())
        f.mtbfHours = (double(toMs - fromMs) - downMs) / double(incidents.size()) / 3'600'000.0;
    for (const Event* c : changes) {
        ++f.changes;
        // Failed: an incident in the change's region started after it, within the window (any
        // incident, even one that started after the period: the change was in it).
        const bool failed = std::any_of(allIncidents.begin(), allIncidents.end(), [&](const Incident* i) {
            return inScope(*i) && i->startedMs > c->timeMs && i->startedMs <= c->timeMs + windowMs && i->touches(c->where);
        });
        f.failedChanges += failed ? 1 : 0;
    }
    if (f.changes > 0)
        f.changeFailureRate = double(f.failedChanges) / double(f.changes);
    return f;
}
} // namespace

double customerImpact(const Incident& incident, const PlayerMinutesFn& playerMinutes, std::int64_t nowMs)
{
    double total = 0.0;
    for (const RegionRef& r : incident.regions)
        total += playerMinutes(r, incident.startedMs, hurtUntil(incident, nowMs));
    return total;
}

KpiReport computeKpis(const std::vector<Incident>& incidents, const std::vector<Event>& changes, const PlayerMinutesFn& playerMinutes,
                      std::int64_t fromMs, std::int64_t toMs, std::int64_t nowMs, std::int64_t changeWindowMs)
{
    KpiReport report;
    report.fromMs = fromMs;
    report.toMs = toMs;
    report.changeWindowMs = changeWindowMs;
    std::vector<const Incident*> all, inPeriod;
    for (const Incident& i : incidents) {
        all.push_back(&i);
        if (i.startedMs >= fromMs && i.startedMs < toMs)
            inPeriod.push_back(&i);
    }
    std::vector<const Event*> madeInPeriod;
    for (const Event& e : changes)
        if (isChange(e) && e.timeMs >= fromMs && e.timeMs < toMs)
            madeInPeriod.push_back(&e);

    const auto everywhere = [](const Incident&) { return true; };
    report.overall = figuresFor(QObject::tr("all regions"), inPeriod, madeInPeriod, all, everywhere,
                                [&](const Incident& i) { return customerImpact(i, playerMinutes, nowMs); }, fromMs, toMs, nowMs,
                                changeWindowMs);

    std::map<RegionRef, bool> scopes;
    for (const Incident* i : inPeriod)
        for (const RegionRef& r : i->regions)
            scopes[r] = true;
    for (const Event* c : madeInPeriod)
        if (c->where.region != QLatin1String("*"))
            scopes[c->where] = true;
    for (const auto& scope : scopes) {
        const RegionRef& where = scope.first;  // a plain reference: lambdas may capture it (clang 14 cannot capture bindings)
        const auto mine = [&](const Incident& i) {
            return std::any_of(i.regions.begin(), i.regions.end(), [&](const RegionRef& r) { return r == where; });
        };
        std::vector<const Incident*> theirs;
        for (const Incident* i : inPeriod)
            if (mine(*i))
                theirs.push_back(i);
        std::vector<const Event*> theirChanges;
        for (const Event* c : madeInPeriod)
            if (c->where == where || (c->where.cluster == where.cluster && c->where.region == QLatin1String("*")))
                theirChanges.push_back(c);
        // A region's impact counts only that region's players.
        const auto impact = [&](const Incident& i) { return playerMinutes(where, i.startedMs, hurtUntil(i, nowMs)); };
        report.regions.push_back(figuresFor(where.cluster + QLatin1Char('/') + where.region, theirs, theirChanges, all, mine, impact, fromMs,
                                            toMs, nowMs, changeWindowMs));
    }
    return report;
}

KpiReport kpiReport(Store& store, std::int64_t fromMs, std::int64_t toMs, std::int64_t nowMs, std::int64_t changeWindowMs)
{
    // Incidents up to a window after the period: a change late in it may be followed by one.
    const auto incidents = store.incidents(fromMs, toMs + changeWindowMs);
    const auto events = store.events(fromMs, toMs);
    return computeKpis(incidents, events, [&](const RegionRef& r, std::int64_t a, std::int64_t b) { return store.playerMinutes(r, a, b); },
                       fromMs, toMs, nowMs, changeWindowMs);
}

} // namespace lv::incidents
