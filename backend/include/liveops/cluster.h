#pragma once

#include "liveops/auth.h"
#include "liveops/feed.h"
#include "liveops/regionhost.h"
#include "liveops/store.h"
#include "liveops/toggles.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace lv::liveops {

enum class RegionState : std::uint8_t { Serving = 1, Draining = 2, Maintenance = 3, Outage = 4 };
std::string_view regionStateName(RegionState state);

struct RegionInfo {
    std::string name;
    std::string endpoint;  ///< UDP ip:port
    RegionState state = RegionState::Serving;
    std::size_t players = 0;
    std::size_t capacity = 0;
    std::string activeDrill;  ///< e.g. "latency +80 ms, 12 s left"; empty when none
};

/// A toggle as the API shows it: definition, scope, current value and version.
/// Where the value that applies at a scope comes from.
/// Server: a region of a fleet server inheriting that server's own value ("server/<id>").
enum class ToggleSource : std::uint8_t { Here = 1, Cluster = 2, Default = 3, Server = 4 };

struct ToggleState {
    const ToggleDefinition* definition = nullptr;
    std::string scope;  ///< region name, or "*"
    ToggleValue value;  ///< set at this scope (its default when never set here)
    std::uint64_t version = 0;
    std::optional<AuditEntry> lastChange;
    /// What applies at this scope: its own value, else (a region) the cluster-wide one, else the
    /// default — what the engines run with.
    ToggleValue effective;
    ToggleSource source = ToggleSource::Default;
};

struct ToggleEvent {
    ToggleState toggle;
    bool initial = false;  ///< part of the state delivered when a watch starts
};

struct TelemetryRecord {
    std::uint64_t sequence = 0;  ///< one per sample, across regions
    std::int64_t timeMs = 0;     ///< Unix time
    RegionState state = RegionState::Serving;
    RegionSample sample;
    std::string serverId;        ///< the server that took it (Cluster::serverId)
};

enum class DrillKind : std::uint8_t { Latency = 1, Loss = 2, Outage = 3 };

/// How a call ended; the service maps these to gRPC status codes.
/// Unavailable: the store cannot take writes now (the fleet store has no quorum); nothing changed.
enum class Outcome : std::uint8_t { Ok, InvalidArgument, NotFound, PermissionDenied, Aborted, FailedPrecondition, Internal, Unavailable };

struct OperationResult {
    Outcome outcome = Outcome::Ok;
    std::string message;
    std::optional<AuditEntry> audit;
    std::optional<ToggleState> toggle;  ///< SetToggle: the toggle after the call (the newer one on Aborted)
};

enum class ServerState : std::uint8_t { Starting = 1, Serving = 2, ShuttingDown = 3 };

/// One syncd server, as the fleet's membership records it (ListServers).
struct ServerInfo {
    std::string id;
    std::string apiEndpoint;
    std::vector<RegionInfo> regions;  ///< with advertised endpoints
    std::size_t players = 0;
    std::size_t capacity = 0;
    std::string version;
    ServerState state = ServerState::Starting;
    std::int64_t startedMs = 0;
    std::int64_t updatedMs = 0;
};

/// Where a player is on this server (FindPlayer).
struct PlayerFound {
    std::string region;
    PlayerLocation location;
};

/// Who is in the fleet (FleetMember, over etcd). nullopt with `error` when it cannot be read.
class FleetDirectory {
public:
    virtual ~FleetDirectory() = default;
    virtual const std::string& fleetName() const = 0;
    virtual std::optional<std::vector<ServerInfo>> servers(std::string& error) const = 0;
    /// Empty while the store takes writes; else why not, as this server last found (it renews its
    /// lease at least once a second, so this is never older than that).
    virtual std::string storeProblem() const = 0;
    /// The fleet's servers as this server last read them (refreshed every third of the lease TTL,
    /// at most every second; no call to the store), and a number that changes when they change.
    virtual std::vector<ServerInfo> known() const = 0;
    virtual std::uint64_t knownVersion() const = 0;
};

struct ClusterConfig {
    std::vector<RegionConfig> regions;
    std::string storePath;
    /// Opens the store toggles and audit live in; empty = the SQLite file at storePath. A fleet
    /// plugs in its etcd store here (liveops_fleet).
    std::function<std::unique_ptr<Store>(std::string& error)> openStore;
    /// This server's id in its fleet ("" = not in a fleet). It gives toggles a third scope,
    /// "server/<id>": set there, a value applies to every region of that server and overrides
    /// the region's and the fleet's (drain or canary one server).
    std::string serverId;
    std::chrono::milliseconds telemetryInterval{1000};
    std::size_t telemetryHistory = 4096;  ///< samples kept for resumed watches
    /// Starts a region; empty = a RegionHost on real UDP. The sandbox plugs in simulated regions.
    std::function<std::unique_ptr<RegionRuntime>(const RegionConfig&, std::string& error)> startRegion;
};

/// The regions syncd hosts and everything done to them: toggles (persisted, applied to the
/// engines), operations, timed drills, telemetry sampling, and the audit log. No gRPC here:
/// the service translates; tests and the sandbox can drive this directly.
///
/// Thread-safe. One sampler thread takes telemetry every interval and ends drills on time.
class Cluster {
public:
    /// Opens the store, starts every region with its persisted toggles applied, starts sampling.
    static std::unique_ptr<Cluster> start(ClusterConfig config, std::string& error);
    ~Cluster();
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    std::vector<RegionInfo> regions() const;
    std::vector<std::string> regionNames() const;
    /// The authoritative state of every player of `region` (empty for an unknown region).
    std::vector<PlayerState> truth(const std::string& region) const;
    /// The servers of the fleet (this one alone without a fleet directory); nullopt with `error`
    /// when the fleet's membership cannot be read.
    std::optional<std::vector<ServerInfo>> servers(std::string& error) const;
    /// The fleet this server belongs to ("" = none). Set once, before the API serves.
    void setFleetDirectory(const FleetDirectory* directory) { m_fleet.store(directory); }
    const FleetDirectory* fleetDirectory() const { return m_fleet.load(); }
    /// "server/<id>" of this server, or "" outside a fleet.
    const std::string& serverScope() const { return m_serverScope; }
    /// Every toggle in `scope` ("" = all scopes: "*", this server's, and each region).
    std::vector<ToggleState> toggles(const std::string& scope) const;

    OperationResult setToggle(const Identity& who, const std::string& key, const std::string& scope, const ToggleValue& value,
                              std::uint64_t expectedVersion, const std::string& reason);
    /// Closes admissions and, when `failoverTo` names a region (of this syncd by name, of another
    /// by endpoint), redirects every player there.
    OperationResult drain(const Identity& who, const std::string& region, const std::string& failoverTo, const std::string& reason);
    /// Ends a drain: admissions open again and the failover target is cleared, in one audited
    /// operation. A region that is not draining is refused (FailedPrecondition).
    OperationResult undrain(const Identity& who, const std::string& region, const std::string& reason);
    /// Redirects every player of `from` to `to`, a region name or another syncd's region endpoint
    /// (new players to `from` are refused while it lasts).
    OperationResult failover(const Identity& who, const std::string& from, const std::string& to, const std::string& reason);
    /// The same for one server of the fleet (any, this one included), all its regions: its
    /// admissions close and, with `failoverTo`, its players go there (a region of the fleet by
    /// name, "<region>@<server>", or an endpoint). Values at the server's scope; undrain clears them.
    OperationResult drainServer(const Identity& who, const std::string& serverId, const std::string& failoverTo, const std::string& reason);
    OperationResult undrainServer(const Identity& who, const std::string& serverId, const std::string& reason);
    OperationResult failoverServer(const Identity& who, const std::string& serverId, const std::string& to, const std::string& reason);
    OperationResult startDrill(const Identity& who, const std::string& region, DrillKind kind, double latencyMs, double lossPercent,
                               std::chrono::seconds duration, const std::string& reason);
    OperationResult cancelDrill(const Identity& who, const std::string& region, const std::string& reason);
    /// Removes the value set at `scope` so it inherits again (a region: the cluster-wide value or
    /// the default; "*": the default), at `expectedVersion`, audited as clear_toggle.
    /// FailedPrecondition when nothing is set there; Aborted when the version moved on.
    OperationResult clearToggle(const Identity& who, const std::string& key, const std::string& scope, std::uint64_t expectedVersion,
                                const std::string& reason);

    /// The player with token client id `clientId` on this server, in whichever region.
    std::optional<PlayerFound> findPlayer(std::uint64_t clientId) const;
    /// Kicks a player of this server (operator role, a reason), audited as kick_player. NotFound
    /// when it is not connected here.
    OperationResult kickPlayer(const Identity& who, std::uint64_t clientId, const std::string& reason);
    /// Sends a player of this server elsewhere, audited as move_player: to `toServer` (a fleet
    /// server's id: its region named `toRegion`, else the one named like the player's, else its
    /// first), or to region `toRegion` (this server's when it hosts it, else the fleet's serving
    /// server of that region with the most room). The player gets a fresh token for the target.
    OperationResult movePlayer(const Identity& who, std::uint64_t clientId, const std::string& toRegion, const std::string& toServer,
                               const std::string& reason);
    /// This server as its fleet record shows it (id, state, regions, players, capacity; the
    /// caller adds its API endpoint and version).
    ServerInfo describeSelf() const;
    /// This server's id as ListServers shows it.
    std::string serverId() const { return m_config.serverId.empty() ? std::string("syncd") : m_config.serverId; }

    /// Entries with id > afterId, oldest first (the store's read connection: never waits for a write).
    std::vector<AuditEntry> audit(std::uint64_t afterId, std::size_t limit, const std::string& target) const;

    /// Telemetry: replays the kept samples with sequence > `resumeAfter`, then every new one.
    Feed<TelemetryRecord>::Subscription watchTelemetry(std::uint64_t resumeAfter, Feed<TelemetryRecord>::Callback callback);
    /// Toggles: the current state of every toggle (initial = true), then each change.
    Feed<ToggleEvent>::Subscription watchToggles(Feed<ToggleEvent>::Callback callback);
    /// Audit: each new entry, live (no replay: a watcher reads what came before with audit(), in
    /// pages, outside every lock; see the API server's WatchAudit).
    Feed<AuditEntry>::Subscription subscribeAudit(Feed<AuditEntry>::Callback callback);

    /// Shutdown step one (SIGTERM): closes admissions everywhere and tells connected players
    /// maintenance is coming. Not persisted: a restarted syncd serves again.
    void beginShutdown();
    std::chrono::milliseconds telemetryInterval() const { return m_config.telemetryInterval; }
    /// Takes a telemetry sample of every region now (tests; the sampler does it on its own).
    void sampleNow();

private:
    struct Drill {
        DrillKind kind = DrillKind::Latency;
        double latencyMs = 0.0;
        double lossPercent = 0.0;
        std::chrono::steady_clock::time_point ends;
    };
    struct Region {
        RegionConfig config;
        std::unique_ptr<RegionRuntime> host;
        std::optional<Drill> drill;
    };

    explicit Cluster(ClusterConfig config) : m_config(std::move(config)) {}
    Region* findRegion(const std::string& name);
    const Region* findRegion(const std::string& name) const;
    /// Where MovePlayer sends a player now in `fromRegion`: a region endpoint and its
    /// "<region>@<server>" label, or an OperationResult saying why there is none.
    std::variant<std::pair<Address, std::string>, OperationResult> moveTarget(const std::string& fromRegion, const std::string& toRegion,
                                                                               const std::string& toServer) const;
    /// `target` (a region name, "<region>@<server>" or endpoint) is `region` itself (in a fleet a
    /// region's own name means its other servers).
    bool failsOverToItself(const std::string& region, const std::string& target) const;
    /// Where a region's players go for failover target `target`: a region of this server, the
    /// roomiest serving server of the fleet with that region ("<region>@<server>": that one),
    /// or an endpoint. "" when nothing serves it now.
    std::string resolveFailover(const std::string& target, const std::string& fromRegion, const RegionRuntime* host) const;
    /// What a failover target may name: this server's regions, the fleet's, and region@server.
    std::vector<std::string> failoverNames() const;
    /// Served here or by a server of the fleet (as last known).
    bool fleetHasRegion(const std::string& name) const;
    /// A server of the fleet (this one included), as last known.
    bool fleetHasServer(const std::string& id) const;
    OperationResult serverOperation(const Identity& who, const char* action, const std::string& serverId,
                                    std::vector<std::pair<std::string, ToggleChange>> changes, const std::string& after, const std::string& reason);
    ToggleState stateOf(const ToggleDefinition& definition, const std::string& scope) const;
    ToggleValue effectiveValue(const ToggleDefinition& definition, const std::string& region) const;
    /// The value set at exactly this scope, or null (never set, or cleared). m_mutex held.
    const StoredToggle* setAt(const std::string& key, const std::string& scope) const;
    /// Why the toggles as they stand would not make sense together (e.g. snapshot_hz above
    /// tick_hz) in a region `scope` reaches ("*": every region), or "". m_mutex held.
    std::string inconsistencyIn(const std::string& scope) const;
    /// Why `who` may not change `key` at `scope` with `reason` (unknown toggle or scope, role,
    /// no reason), or nullopt with `definition` set.
    std::optional<OperationResult> refuseToggleChange(const Identity& who, const std::string& key, const std::string& scope,
                                                      const std::string& reason, const ToggleDefinition*& definition) const;
    /// What `config`'s region runs with (`host` null before it has started). m_mutex held.
    RuntimeKnobs knobsFor(const RegionConfig& config, const RegionRuntime* host) const;
    /// Changes other servers made, from the store's watch.
    void onStoreChange(StoreChange change);
    /// Publishes an audit entry once, however many ways it arrives. m_mutex held.
    void publishAudit(const AuditEntry& entry);
    RegionState stateOf(const Region& region) const;
    void applyKnobs();
    void publishToggles(const std::vector<StoredToggle>& written);
    /// What this server wrote: published and applied, unless the store's watch already did. m_mutex held.
    void applyWritten(std::vector<StoredToggle> written);
    OperationResult operation(const Identity& who, const std::string& action, const std::string& target,
                              std::vector<std::pair<std::string, ToggleChange>> changes, const std::string& oldValue,
                              const std::string& newValue, const std::string& reason);
    /// Appends `entry` to the audit and publishes it; Unavailable/Internal (saying `nothingDone`)
    /// when the store cannot take it. The caller holds m_writeMutex, not m_mutex.
    OperationResult audited(const AuditEntry& entry, const std::string& nothingDone);
    std::optional<AuditEntry> endDrill(Region& region, const Identity& who, const std::string& action, const std::string& reason);
    void samplerLoop();
    static std::int64_t unixMs();
    AuditEntry stamp(const Identity& who, const std::string& reason) const;

    ClusterConfig m_config;
    std::unique_ptr<Store> m_store;
    std::vector<Region> m_regions;                      // fixed after start
    std::mutex m_writeMutex;                            // writers take turns, across the store's fsync; taken before m_mutex
    mutable std::mutex m_mutex;                         // guards toggles, drills, shutdown flag: held briefly, never across I/O; taken before feed locks
    std::map<std::pair<std::string, std::string>, StoredToggle> m_toggles;  // (key, scope) -> stored
    std::map<std::uint64_t, AuditEntry> m_lastChanges;  // audit id -> entry, for every toggle's last change: lists read no SQLite
    bool m_shuttingDown = false;
    std::set<std::uint64_t> m_publishedAudits;          // the newest ids published (bounded): an entry is told once
    std::atomic<const FleetDirectory*> m_fleet{nullptr};
    std::string m_serverScope;                          // fixed after start
    std::uint64_t m_knownVersion = 0;                   // the sampler's: the fleet's list the knobs were resolved against
    /// Scopes this server shows: "*", its own server scope, each region.
    std::vector<std::string> scopes() const;

    Feed<TelemetryRecord> m_telemetry;
    std::deque<TelemetryRecord> m_history;              // guarded by m_telemetry's lock
    std::uint64_t m_sequence = 0;                       // guarded by m_telemetry's lock
    Feed<ToggleEvent> m_toggleFeed;
    Feed<AuditEntry> m_auditFeed;

    std::mutex m_samplerMutex;
    std::condition_variable m_samplerWake;
    bool m_stopSampler = false;
    std::thread m_sampler;
};

} // namespace lv::liveops
