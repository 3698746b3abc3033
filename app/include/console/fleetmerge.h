#pragma once

#include "liveops/client.h"

#include <QString>
#include <QStringList>

#include <map>
#include <optional>
#include <vector>

namespace lv::console {

/// A fleet's regions made of its servers: each server's latest sample of a region, merged into
/// the one sample a RegionModel row and a latency chart take exactly as they take one server's.
/// Percentiles come from the servers' histograms merged bucket by bucket (exact to the
/// histogram's resolution); an average of per-server p99s would be wrong and is never taken.
/// Sums: players, capacity, bandwidth, corrections, errors. Loss: weighted by players.
/// Pure: no Qt objects, no clock.
class RegionMerge {
public:
    /// One server's part of a region (the drill-down).
    struct ServerPart {
        QString server;
        bool reachable = true;
        bool hasSample = false;
        liveops::client::Telemetry sample;  ///< its latest
    };

    /// A server's sample. Returns the region's merged sample when one is due: once every reachable
    /// server of the region has reported since the last, or as soon as one reports a second time
    /// (a slow or silent server never holds the row back more than one interval).
    std::optional<liveops::client::Telemetry> add(const QString& server, const liveops::client::Telemetry& sample);
    /// A server's regions as its ListRegions says; returns every region of the fleet, merged.
    std::vector<liveops::client::Region> setRegions(const QString& server, const std::vector<liveops::client::Region>& regions);
    /// A server's connection went down or came back. Its figures leave the merge while it is away:
    /// returns the merged samples of its regions without (or with) it, where any server is left.
    std::vector<liveops::client::Telemetry> setReachable(const QString& server, bool reachable);
    /// The server left the fleet. Returns its regions' merged samples without it; `gone` gets
    /// the regions no server serves any more.
    std::vector<liveops::client::Telemetry> removeServer(const QString& server, QStringList& gone);
    /// Regions with no reachable server (their figures are old).
    bool regionReachable(const QString& region) const;

    std::vector<ServerPart> servers(const QString& region) const;
    std::vector<liveops::client::Region> regions() const;
    /// The samples the region's last merged sample was made of: (server, sequence).
    std::vector<std::pair<QString, std::uint64_t>> mergedFrom(const QString& region) const;

    /// The merge itself (the samples of one region, one per server).
    static liveops::client::Telemetry merge(const std::vector<const liveops::client::Telemetry*>& samples);
    static liveops::client::Region merge(const std::vector<const liveops::client::Region*>& regions);
    static liveops::client::RegionStatus mergeStatus(const std::vector<liveops::client::RegionStatus>& statuses);

private:
    struct Part {
        bool reachable = true;
        bool hasSample = false;
        bool reportedSinceMerge = false;
        liveops::client::Telemetry sample;
        std::optional<liveops::client::Region> listed;
    };
    struct RegionParts {
        std::map<QString, Part> servers;
        std::vector<std::pair<QString, std::uint64_t>> mergedFrom;
    };
    std::optional<liveops::client::Telemetry> mergeNow(RegionParts& parts);

    std::map<QString, RegionParts> m_regions;
};

} // namespace lv::console
