#pragma once

#include "liveops/store.h"     // AuditEntry
#include "liveops/toggles.h"   // Role, ToggleType, ToggleValue
#include "synccore/metrics.h"  // HistogramBuckets

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grpc {
class Channel;
}

namespace lv::liveops::client {

/// How a call ended: the gRPC status code (0 = OK) and its message.
struct CallStatus {
    int code = 0;
    std::string message;
    bool ok() const { return code == 0; }
};

template <typename T>
struct Reply {
    CallStatus status;
    T value{};
};

enum class RegionStatus : std::uint8_t { Unknown = 0, Serving = 1, Draining = 2, Maintenance = 3, Outage = 4 };

struct Region {
    std::string name;
    std::string endpoint;
    RegionStatus status = RegionStatus::Unknown;
    std::uint32_t players = 0;
    std::uint32_t capacity = 0;
    std::string activeDrill;
};

struct Telemetry {
    std::uint64_t sequence = 0;
    std::string region;
    std::int64_t timeMs = 0;
    double rttP50Ms = 0, rttP95Ms = 0, rttP99Ms = 0;
    double lossPercent = 0;
    std::uint32_t players = 0;
    double kbpsIn = 0, kbpsOut = 0;
    double tickP99Ms = 0;
    std::uint64_t clientReportedCorrections = 0;  ///< as the game clients say: not verified
    std::uint64_t errors = 0;
    std::uint64_t inputsDropped = 0;
    std::uint64_t shotsClamped = 0;
    RegionStatus status = RegionStatus::Unknown;
    /// The interval's histograms (microseconds), validated: merge them, never average p99s.
    HistogramBuckets rttUs;
    HistogramBuckets tickUs;
    std::string serverId;   ///< the server that took the sample
};

struct Toggle {
    std::string key;
    std::string scope;
    ToggleType type = ToggleType::Bool;
    ToggleValue value;
    ToggleValue defaultValue;
    std::int64_t min = 0, max = 0;
    std::vector<std::string> allowed;
    std::string description, owner, runbookUrl;
    std::uint64_t version = 0;
    Role requiredRole = Role::Operator;
    std::optional<AuditEntry> lastChange;
    bool initial = false;  ///< from a watch: part of the state sent when the watch (re)started
    /// What applies at this scope and where it comes from (an older syncd that does not say:
    /// `value`, from here if versioned else the default).
    ToggleValue effective;
    /// Server: a fleet server's own value applies (it overrides the region's and the fleet's).
    enum class Source : std::uint8_t { Here = 1, Cluster = 2, Default = 3, Server = 4 } source = Source::Default;
};

enum class ServerState : std::uint8_t { Starting = 1, Serving = 2, ShuttingDown = 3 };

/// One syncd server of a fleet, as ListServers tells it.
struct Server {
    std::string id;
    std::string apiEndpoint;
    std::vector<Region> regions;
    std::uint32_t players = 0;
    std::uint32_t capacity = 0;
    std::string version;
    ServerState state = ServerState::Starting;
    std::int64_t startedMs = 0;
    std::int64_t updatedMs = 0;  ///< when the server last refreshed its record
};

/// A fleet's servers. `fleet` is empty for a syncd that is not in one (and `servers` then empty).
struct ServerList {
    std::string fleet;
    std::vector<Server> servers;
    /// Empty while the fleet store takes writes; else why it does not (no quorum): toggles are
    /// read-only and what the servers apply is what they last knew.
    std::string storeProblem;
};

struct Identity {
    std::string name;
    Role role = Role::Viewer;
};

enum class DrillKind : std::uint8_t { Latency = 1, Loss = 2, Outage = 3 };

/// A watch's connection as the user should see it.
struct StreamState {
    bool connected = false;
    int attempt = 0;                          ///< reconnect attempts since the last success
    std::chrono::milliseconds retryIn{0};     ///< when not connected: wait before the next attempt
    CallStatus lastError;
};

struct ClientOptions {
    std::string target;                       ///< host:port (ignored when `channel` is given)
    std::string token;                        ///< bearer token
    std::shared_ptr<grpc::Channel> channel;   ///< e.g. the sandbox's in-process channel
    std::string tlsRootCertFile;              ///< TLS to `target` when set (PEM of the CA)
    std::string tlsClientCertFile;            ///< client certificate and key (PEM), when syncd asks for one
    std::string tlsClientKeyFile;
    std::chrono::milliseconds deadline{5000}; ///< every unary call
    /// A watch whose server has not accepted it (sent its headers) by then is cancelled and retried:
    /// a hung or impostor server cannot hold it.
    std::chrono::milliseconds openTimeout{5000};
    /// Called (on a gRPC or watch thread) with a description of each message dropped because no
    /// sane syncd would send it: a NaN latency, an unknown status, a toggle without a type.
    std::function<void(const std::string& what)> onNonsense;
    std::chrono::milliseconds backoffInitial{250};
    /// Capped so that, jitter included (4.8 s), a console is back within 5 s of syncd's return
    /// however long syncd was away (docs/decisions.md).
    std::chrono::milliseconds backoffMax{4000};
    double backoffMultiplier = 2.0;
    double backoffJitter = 0.2;               ///< +-20 %: clients that dropped together do not return together
};

/// The console's way to syncd. Every call is asynchronous with a deadline; callbacks run on gRPC
/// or watch threads (never the caller's), so a UI posts them to its own thread. Watches run on
/// their own threads, reconnect with exponential backoff and jitter after a drop, and resume:
/// telemetry after the last sequence seen, audit after the last id seen, toggles with a fresh
/// state dump (marked `initial`).
class LiveOpsClient {
public:
    explicit LiveOpsClient(ClientOptions options);
    ~LiveOpsClient();  ///< cancels watches and waits for their threads; calls in flight complete first
    LiveOpsClient(const LiveOpsClient&) = delete;
    LiveOpsClient& operator=(const LiveOpsClient&) = delete;

    void whoAmI(std::function<void(Reply<Identity>)> done);
    void listRegions(std::function<void(Reply<std::vector<Region>>)> done);
    void listServers(std::function<void(Reply<ServerList>)> done);
    void listToggles(const std::string& scope, std::function<void(Reply<std::vector<Toggle>>)> done);
    void setToggle(const std::string& key, const std::string& scope, const ToggleValue& value, std::uint64_t expectedVersion,
                   const std::string& reason, std::function<void(Reply<Toggle>)> done);
    /// Removes the value set at `scope` so it inherits again; the reply is the toggle after.
    void clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion, const std::string& reason,
                     std::function<void(Reply<Toggle>)> done);
    void undrainRegion(const std::string& region, const std::string& reason, std::function<void(Reply<AuditEntry>)> done);
    void drainRegion(const std::string& region, const std::string& failoverTo, const std::string& reason,
                     std::function<void(Reply<AuditEntry>)> done);
    void failover(const std::string& from, const std::string& to, const std::string& reason, std::function<void(Reply<AuditEntry>)> done);
    /// One server of a fleet (all its regions): closes its admissions, players to `failoverTo`
    /// (a region of the fleet, "<region>@<server>", an endpoint; "" = nowhere). Undrain clears it.
    void drainServer(const std::string& serverId, const std::string& failoverTo, const std::string& reason,
                     std::function<void(Reply<AuditEntry>)> done);
    void undrainServer(const std::string& serverId, const std::string& reason, std::function<void(Reply<AuditEntry>)> done);
    void startDrill(const std::string& region, DrillKind kind, double latencyMs, double lossPercent, std::chrono::seconds duration,
                    const std::string& reason, std::function<void(Reply<AuditEntry>)> done);
    void cancelDrill(const std::string& region, const std::string& reason, std::function<void(Reply<AuditEntry>)> done);
    void listAudit(std::uint64_t afterId, std::uint32_t limit, const std::string& target,
                   std::function<void(Reply<std::vector<AuditEntry>>)> done);

    using StateCallback = std::function<void(const StreamState&)>;
    /// One watch of each kind at a time; starting one again replaces it.
    void watchTelemetry(std::vector<std::string> regions, std::uint32_t intervalMs, std::function<void(const Telemetry&)> onSample,
                        StateCallback onState = {});
    void watchToggles(std::function<void(const Toggle&)> onToggle, StateCallback onState = {});
    void watchAudit(std::uint64_t afterId, std::function<void(const AuditEntry&)> onEntry, StateCallback onState = {});
    void stopWatches();

    /// Backoff before reconnect attempt `attempt` (1-based), jitter included.
    static std::chrono::milliseconds backoff(const ClientOptions& options, int attempt, double unitRandom);

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

} // namespace lv::liveops::client
