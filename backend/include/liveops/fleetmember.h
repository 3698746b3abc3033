#pragma once

#include "liveops/cluster.h"
#include "liveops/etcd.h"
#include "liveops/v1/liveops.pb.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace lv::liveops {

struct FleetMemberConfig {
    std::string fleet;        ///< the fleet's name: keys live under /<fleet>/
    std::string serverId;     ///< this server's id in the fleet (unique)
    std::int64_t ttlSeconds = 10;  ///< a server that stops renewing is gone after this long
};

/// This server's membership of a fleet: its record at /<fleet>/servers/<id> under a lease it
/// keeps alive (renewed every third of the TTL, the record refreshed when it changes), so a
/// killed server disappears when its lease expires and a stopped one at once (the lease is
/// revoked). A lease lost while the store was away is replaced, and the record put again.
/// Also answers for the whole fleet: every server's record (ListServers).
class FleetMember final : public FleetDirectory {
public:
    /// What this server is now (regions, players, state); called on the member's thread.
    using Snapshot = std::function<ServerInfo()>;
    /// Grants the lease and puts the record; null with `error` when the store refuses.
    static std::unique_ptr<FleetMember> join(std::shared_ptr<EtcdClient> client, FleetMemberConfig config, Snapshot snapshot,
                                             std::string& error);
    ~FleetMember() override;  ///< leave()
    FleetMember(const FleetMember&) = delete;
    FleetMember& operator=(const FleetMember&) = delete;

    /// Stops renewing and revokes the lease: the record goes now, not a TTL later.
    void leave();
    /// Puts the record now (a state change worth telling at once, e.g. shutting down).
    void refresh();

    const std::string& fleetName() const override { return m_config.fleet; }
    std::optional<std::vector<ServerInfo>> servers(std::string& error) const override;
    std::string storeProblem() const override;
    std::vector<ServerInfo> known() const override;
    std::uint64_t knownVersion() const override;
    const std::string& serverId() const { return m_config.serverId; }

private:
    FleetMember(std::shared_ptr<EtcdClient> client, FleetMemberConfig config, Snapshot snapshot)
        : m_client(std::move(client)), m_config(std::move(config)), m_snapshot(std::move(snapshot))
    {
    }
    grpc::Status grant();
    /// This server's record as it stands, without its `updated` time.
    ::liveops::v1::Server recordNow() const;
    grpc::Status putRecord();
    void loop();

    std::shared_ptr<EtcdClient> m_client;
    FleetMemberConfig m_config;
    Snapshot m_snapshot;
    std::int64_t m_startedMs = 0;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;          // guarded by m_mutex
    bool m_refreshNow = false;    // guarded by m_mutex
    std::int64_t m_lease = 0;     // the member thread's (and join's, before it starts)
    std::string m_lastRecord;     // the record as last put, without its time
    void refreshKnown();
    mutable std::mutex m_knownMutex;
    std::vector<ServerInfo> m_known;    // guarded by m_knownMutex
    std::string m_knownBytes;           // the records as last read, to tell a change
    std::atomic<std::uint64_t> m_knownVersion{0};
    mutable std::mutex m_problemMutex;
    mutable std::string m_storeProblem;  // guarded by m_problemMutex; empty = the last call worked
    void noteStore(const grpc::Status& status) const;
    std::thread m_thread;
};

} // namespace lv::liveops
