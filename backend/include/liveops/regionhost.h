#pragma once

#include "synccore/conditioner.h"
#include "synccore/server.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lv::liveops {

/// Unix time in microseconds: the clock connect tokens for regions expire in.
TimeUs unixNowUs();

struct RegionConfig {
    std::string name;
    Address bind = Address::loopback(0);  ///< UDP address for game clients (port 0 = ephemeral)
    /// Where players are told to connect (Redirect, ListRegions, Agones): set it when the bind
    /// address is not what players reach (0.0.0.0 behind NAT, a load balancer, a node port).
    std::optional<Address> publicEndpoint;
    /// Without publicEndpoint and with an unspecified bind address: this host (name or address)
    /// with the bound port, e.g. the node's address from the Kubernetes downward API.
    std::string publicHost;
    int capacity = 4096;
    RuntimeKnobs knobs;
    Key tokenKey{};
    std::uint64_t seed = 1;
};

/// The endpoint a region advertises: `configured` when set; else the bound address when it is
/// routable; else `publicHost` (an IP address) with the bound port; else the first address of a
/// non-loopback interface of the bound family (or either family for [::]). `note` says which and
/// why, for the log; an empty result (with `note` the reason) when nothing routable exists.
std::optional<Address> advertisedEndpoint(const Address& bound, const std::optional<Address>& configured, const std::string& publicHost,
                                          std::string& note);

/// One region's figures over the window since the previous sample.
struct RegionSample {
    std::string region;
    double windowSeconds = 0.0;
    double rttP50Ms = 0.0, rttP95Ms = 0.0, rttP99Ms = 0.0;
    double lossPercent = 0.0;
    std::size_t players = 0;
    double kbpsIn = 0.0, kbpsOut = 0.0;
    double tickP99Ms = 0.0;
    std::uint64_t clientReportedCorrections = 0;  ///< as the clients say (a client can lie)
    std::uint64_t inputsDropped = 0;              ///< commands beyond input budgets
    std::uint64_t shotsClamped = 0;               ///< shots beyond rewind limits
    std::uint64_t errors = 0;  ///< malformed packets + rejected tokens
    std::uint64_t ticks = 0;
    HistogramBuckets rttUs;    ///< the window's histograms, mergeable across servers
    HistogramBuckets tickUs;
};

/// Sums a window of a server's metrics up into a sample.
RegionSample summarize(const std::string& region, const RegionMetrics& metrics, std::size_t players, double windowSeconds);

/// A connected player as support sees it (FindPlayer).
struct PlayerLocation {
    std::uint64_t clientId = 0;
    std::string address;   ///< the player's ip:port as the region sees it
    double rttMs = 0.0;    ///< smoothed, as the server measures it
    double lossPercent = 0.0;
    std::int64_t connectedUnixMs = 0;
};

/// What the cluster needs of a region, wherever its players are: a RegionHost behind real UDP,
/// or a region of the sandbox's SimulatedWorld. Every call is thread-safe.
class RegionRuntime {
public:
    virtual ~RegionRuntime() = default;
    /// Where game clients connect: the advertised endpoint (a failover target hands this out).
    virtual Address endpoint() const = 0;
    virtual void setKnobs(const RuntimeKnobs& knobs) = 0;
    virtual RuntimeKnobs knobs() const = 0;
    /// A drill: every datagram the region sends is conditioned (extra latency, loss); {} ends it.
    virtual void setFault(const ConditionerSettings& outgoing) = 0;
    /// Figures since the previous call.
    virtual RegionSample sample() = 0;
    virtual std::size_t players() const = 0;
    /// Every player's authoritative state now (the sandbox's sync view).
    virtual std::vector<PlayerState> truth() const = 0;
    /// The connected player with token client id `clientId`, if any.
    virtual std::optional<PlayerLocation> findPlayer(std::uint64_t clientId) const = 0;
    /// Kicks one player (Server::kick); false when it is not connected here.
    virtual bool kick(std::uint64_t clientId, const std::string& reason) = 0;
    /// Redirects one player to `target` with a fresh token; false when it is not connected here.
    virtual bool movePlayer(std::uint64_t clientId, const Address& target, const std::string& reason) = 0;
};

/// A region of sync-core served on its own thread behind a real UDP socket. The thread owns the
/// loop (advance, wait for packets or the next tick) and the engine: no lock is held across a
/// tick. Other threads post knob and drill changes to a mailbox the loop applies at once (what
/// knobs() reports is the newest posted), take samples from metrics the loop hands over once per
/// tick, and read the player count from an atomic: none of them ever waits for a tick.
class RegionHost final : public RegionRuntime {
public:
    /// Binds the socket and starts the thread; null with `error` set when the address is taken.
    static std::unique_ptr<RegionHost> start(RegionConfig config, std::string& error);
    ~RegionHost();  ///< stops and joins the thread
    RegionHost(const RegionHost&) = delete;
    RegionHost& operator=(const RegionHost&) = delete;

    const std::string& name() const { return m_config.name; }
    Address endpoint() const override { return m_endpoint; }
    /// The socket's own address (may be 0.0.0.0 or [::]; endpoint() is what players are told).
    Address boundAddress() const { return m_bound; }
    /// How the advertised endpoint was chosen (for syncd's log).
    const std::string& endpointNote() const { return m_endpointNote; }
    void setKnobs(const RuntimeKnobs& knobs) override;
    RuntimeKnobs knobs() const override;
    void setFault(const ConditionerSettings& outgoing) override;
    RegionSample sample() override;
    std::size_t players() const override;
    std::vector<PlayerState> truth() const override;
    std::optional<PlayerLocation> findPlayer(std::uint64_t clientId) const override;
    bool kick(std::uint64_t clientId, const std::string& reason) override;
    bool movePlayer(std::uint64_t clientId, const Address& target, const std::string& reason) override;

private:
    explicit RegionHost(RegionConfig config) : m_config(std::move(config)) {}
    void run();
    static TimeUs monotonicNow();

    void applyMailbox();
    /// Ends the loop's wait now: something was posted (a task, knobs, a drill) or it must stop.
    void wake() const;
    /// Runs `task` on the region's thread (woken at once) and waits for its
    /// answer; nullopt if the loop did not get to it within a second (it never should).
    template <typename T>
    std::optional<T> onLoop(std::function<T(Server&, TimeUs)> task) const;
    void handOver();

    RegionConfig m_config;
    Address m_endpoint;
    Address m_bound;
    std::string m_endpointNote;
    UdpSocket* m_udp = nullptr;                 // owned by m_socket
    std::unique_ptr<ConditionedSocket> m_socket;
    std::unique_ptr<Server> m_server;           // the region thread's alone (after start)

    mutable std::mutex m_mailboxMutex;          // brief: posted changes, what knobs() reports
    RuntimeKnobs m_knobs;                       // the newest knobs posted (applied at the loop's wake)
    std::optional<RuntimeKnobs> m_pendingKnobs;
    std::optional<ConditionerSettings> m_pendingFault;
    mutable std::vector<std::function<void(Server&, TimeUs)>> m_pendingTasks;
    int m_wake = -1;                            // eventfd: the loop waits on it with the socket

    mutable std::mutex m_metricsMutex;          // brief: metrics handed over once per tick
    RegionMetrics m_handedOver;
    TimeUs m_lastSampleAt = 0;
    std::uint64_t m_ticksSeen = 0;              // region thread only

    std::atomic<std::size_t> m_players{0};
    mutable std::mutex m_truthMutex;            // the players' states, published per tick while asked for
    mutable std::condition_variable m_truthReady;
    mutable std::vector<PlayerState> m_truth;
    mutable std::atomic<TimeUs> m_truthWantedUntil{0};
    mutable std::uint64_t m_truthVersion = 0;
    std::atomic<bool> m_running{true};
    std::thread m_thread;                       // last: starts after everything above exists
};

} // namespace lv::liveops
