#include "console/fleetmerge.h"

#include "synccore/metrics.h"

#include <algorithm>

namespace lv::console {

namespace lc = liveops::client;

namespace {
/// Merged histograms, or nullopt when no sample carried one with data.
std::optional<LatencyHistogram> mergeHistograms(const std::vector<const lc::Telemetry*>& samples, HistogramBuckets lc::Telemetry::*field)
{
    std::optional<LatencyHistogram> merged;
    for (const lc::Telemetry* t : samples) {
        if ((t->*field).buckets.empty())
            continue;
        std::string error;
        auto h = LatencyHistogram::fromBuckets(t->*field, error);
        if (!h)
            continue;  // the client library validated it already; nothing to add
        if (!merged)
            merged.emplace();
        merged->merge(*h);
    }
    return merged;
}

int severity(lc::RegionStatus s)
{
    switch (s) {
    case lc::RegionStatus::Serving: return 0;
    case lc::RegionStatus::Draining: return 1;
    case lc::RegionStatus::Maintenance: return 2;
    case lc::RegionStatus::Outage: return 3;
    case lc::RegionStatus::Unknown: break;
    }
    return -1;
}
} // namespace

lc::RegionStatus RegionMerge::mergeStatus(const std::vector<lc::RegionStatus>& statuses)
{
    // Serving while any server serves it (players can play there); otherwise the most severe.
    lc::RegionStatus out = lc::RegionStatus::Unknown;
    for (lc::RegionStatus s : statuses) {
        if (s == lc::RegionStatus::Serving)
            return s;
        if (severity(s) > severity(out))
            out = s;
    }
    return out;
}

lc::Telemetry RegionMerge::merge(const std::vector<const lc::Telemetry*>& samples)
{
    lc::Telemetry out;
    if (samples.empty())
        return out;
    out.region = samples.front()->region;
    double lossWeighted = 0, lossMax = 0;
    std::vector<lc::RegionStatus> statuses;
    for (const lc::Telemetry* t : samples) {
        out.sequence = std::max(out.sequence, t->sequence);
        out.timeMs = std::max(out.timeMs, t->timeMs);
        out.players += t->players;
        out.kbpsIn += t->kbpsIn;
        out.kbpsOut += t->kbpsOut;
        out.clientReportedCorrections += t->clientReportedCorrections;
        out.errors += t->errors;
        out.inputsDropped += t->inputsDropped;
        out.shotsClamped += t->shotsClamped;
        lossWeighted += t->lossPercent * t->players;
        lossMax = std::max(lossMax, t->lossPercent);
        statuses.push_back(t->status);
    }
    out.lossPercent = out.players > 0 ? lossWeighted / out.players : lossMax;
    out.status = mergeStatus(statuses);
    if (auto rtt = mergeHistograms(samples, &lc::Telemetry::rttUs); rtt && rtt->count() > 0) {
        out.rttP50Ms = double(rtt->p50()) / 1000.0;
        out.rttP95Ms = double(rtt->p95()) / 1000.0;
        out.rttP99Ms = double(rtt->p99()) / 1000.0;
        out.rttUs = rtt->buckets();
    } else {
        // No server sent a histogram with data (an older syncd): the worst server's figures, an
        // upper bound, rather than an average that is no percentile of anything.
        for (const lc::Telemetry* t : samples) {
            out.rttP50Ms = std::max(out.rttP50Ms, t->rttP50Ms);
            out.rttP95Ms = std::max(out.rttP95Ms, t->rttP95Ms);
            out.rttP99Ms = std::max(out.rttP99Ms, t->rttP99Ms);
        }
    }
    if (auto tick = mergeHistograms(samples, &lc::Telemetry::tickUs); tick && tick->count() > 0) {
        out.tickP99Ms = double(tick->p99()) / 1000.0;
        out.tickUs = tick->buckets();
    } else {
        for (const lc::Telemetry* t : samples)
            out.tickP99Ms = std::max(out.tickP99Ms, t->tickP99Ms);
    }
    return out;
}

lc::Region RegionMerge::merge(const std::vector<const lc::Region*>& regions)
{
    lc::Region out;
    std::vector<lc::RegionStatus> statuses;
    QStringList endpoints;
    for (const lc::Region* r : regions) {
        out.name = r->name;
        out.players += r->players;
        out.capacity += r->capacity;
        if (out.activeDrill.empty())
            out.activeDrill = r->activeDrill;
        statuses.push_back(r->status);
        endpoints << QString::fromStdString(r->endpoint);
    }
    out.status = mergeStatus(statuses);
    out.endpoint = endpoints.join(QStringLiteral(", ")).toStdString();
    return out;
}

std::optional<lc::Telemetry> RegionMerge::mergeNow(RegionParts& parts)
{
    std::vector<const lc::Telemetry*> samples;
    parts.mergedFrom.clear();
    for (auto& [server, part] : parts.servers) {
        part.reportedSinceMerge = false;
        if (part.reachable && part.hasSample) {
            samples.push_back(&part.sample);
            parts.mergedFrom.emplace_back(server, part.sample.sequence);
        }
    }
    if (samples.empty())
        return std::nullopt;
    return merge(samples);
}

std::optional<lc::Telemetry> RegionMerge::add(const QString& server, const lc::Telemetry& sample)
{
    RegionParts& parts = m_regions[QString::fromStdString(sample.region)];
    Part& part = parts.servers[server];
    const bool second = part.reportedSinceMerge;
    part.sample = sample;
    part.hasSample = true;
    part.reachable = true;  // it just spoke
    part.reportedSinceMerge = true;
    const bool all = std::all_of(parts.servers.begin(), parts.servers.end(),
                                 [](const auto& p) { return !p.second.reachable || p.second.reportedSinceMerge; });
    if (!second && !all)
        return std::nullopt;
    return mergeNow(parts);
}

std::vector<lc::Region> RegionMerge::setRegions(const QString& server, const std::vector<lc::Region>& listed)
{
    for (auto& [name, parts] : m_regions)
        if (auto it = parts.servers.find(server); it != parts.servers.end())
            it->second.listed.reset();
    for (const lc::Region& r : listed)
        m_regions[QString::fromStdString(r.name)].servers[server].listed = r;
    return regions();
}

std::vector<lc::Region> RegionMerge::regions() const
{
    std::vector<lc::Region> out;
    for (const auto& [name, parts] : m_regions) {
        std::vector<const lc::Region*> listed;
        for (const auto& [server, part] : parts.servers)
            if (part.listed)
                listed.push_back(&*part.listed);
        if (!listed.empty())
            out.push_back(merge(listed));
    }
    return out;
}

std::vector<lc::Telemetry> RegionMerge::setReachable(const QString& server, bool reachable)
{
    std::vector<lc::Telemetry> out;
    for (auto& [name, parts] : m_regions) {
        auto it = parts.servers.find(server);
        if (it == parts.servers.end() || it->second.reachable == reachable)
            continue;
        it->second.reachable = reachable;
        if (auto merged = mergeNow(parts))
            out.push_back(*merged);
    }
    return out;
}

std::vector<lc::Telemetry> RegionMerge::removeServer(const QString& server, QStringList& gone)
{
    std::vector<lc::Telemetry> out;
    for (auto it = m_regions.begin(); it != m_regions.end();) {
        RegionParts& parts = it->second;
        if (parts.servers.erase(server) == 0) {
            ++it;
            continue;
        }
        if (parts.servers.empty()) {
            gone << it->first;
            it = m_regions.erase(it);
            continue;
        }
        if (auto merged = mergeNow(parts))
            out.push_back(*merged);
        ++it;
    }
    return out;
}

bool RegionMerge::regionReachable(const QString& region) const
{
    auto it = m_regions.find(region);
    return it != m_regions.end()
           && std::any_of(it->second.servers.begin(), it->second.servers.end(), [](const auto& p) { return p.second.reachable; });
}

std::vector<RegionMerge::ServerPart> RegionMerge::servers(const QString& region) const
{
    std::vector<ServerPart> out;
    if (auto it = m_regions.find(region); it != m_regions.end())
        for (const auto& [server, part] : it->second.servers) {
            ServerPart p;
            p.server = server;
            p.reachable = part.reachable;
            p.hasSample = part.hasSample;
            p.sample = part.sample;
            if (!part.hasSample && part.listed) {  // listed, no telemetry yet: what ListRegions said
                p.sample.players = part.listed->players;
                p.sample.status = part.listed->status;
            }
            out.push_back(std::move(p));
        }
    return out;
}

std::vector<std::pair<QString, std::uint64_t>> RegionMerge::mergedFrom(const QString& region) const
{
    auto it = m_regions.find(region);
    return it == m_regions.end() ? std::vector<std::pair<QString, std::uint64_t>>{} : it->second.mergedFrom;
}

} // namespace lv::console
