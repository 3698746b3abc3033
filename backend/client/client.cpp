#include "liveops/client.h"

#include "convert.h"
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace lv::liveops::client {

namespace pb = ::liveops::v1;

namespace {

CallStatus statusOf(const grpc::Status& s) { return {static_cast<int>(s.error_code()), s.error_message()}; }

using convert::fromProto;
using convert::roleOf;
using convert::toProto;

Toggle fromProto(const pb::Toggle& t)
{
    Toggle out;
    out.key = t.key();
    out.scope = t.scope();
    out.type = static_cast<ToggleType>(std::clamp<int>(t.type(), 1, 4));
    out.value = fromProto(t.value()).value_or(std::string{});
    out.defaultValue = fromProto(t.default_value()).value_or(std::string{});
    out.min = t.min();
    out.max = t.max();
    out.allowed.assign(t.allowed().begin(), t.allowed().end());
    out.description = t.description();
    out.owner = t.owner();
    out.runbookUrl = t.runbook_url();
    out.version = t.version();
    out.requiredRole = roleOf(t.required_role());
    if (t.has_last_change())
        out.lastChange = fromProto(t.last_change());
    const auto effective = t.has_effective_value() ? fromProto(t.effective_value()) : std::nullopt;
    if (effective && t.effective_source() >= pb::TOGGLE_SOURCE_SCOPE && t.effective_source() <= pb::TOGGLE_SOURCE_SERVER) {
        out.effective = *effective;
        out.source = static_cast<Toggle::Source>(t.effective_source());
    } else {
        out.effective = out.value;
        out.source = out.version > 0 ? Toggle::Source::Here : Toggle::Source::Default;
    }
    return out;
}

Region fromProto(const pb::Region& r)
{
    return {r.name(), r.endpoint(), static_cast<RegionStatus>(r.status()), r.players(), r.capacity(), r.active_drill()};
}

Server serverFromProto(const pb::Server& s)
{
    Server out;
    out.id = s.id();
    out.apiEndpoint = s.api_endpoint();
    for (const pb::Region& r : s.regions())
        out.regions.push_back(fromProto(r));
    out.players = s.players();
    out.capacity = s.capacity();
    out.version = s.version();
    out.state = static_cast<ServerState>(s.state());
    out.startedMs = convert::unixMs(s.started());
    out.updatedMs = convert::unixMs(s.updated());
    return out;
}

Telemetry fromProto(const pb::TelemetrySample& s)
{
    Telemetry t;
    t.sequence = s.sequence();
    t.region = s.region();
    t.timeMs = convert::unixMs(s.time());
    t.rttP50Ms = s.rtt_p50_ms();
    t.rttP95Ms = s.rtt_p95_ms();
    t.rttP99Ms = s.rtt_p99_ms();
    t.lossPercent = s.loss_percent();
    t.players = s.players();
    t.kbpsIn = s.bandwidth_in_kbps();
    t.kbpsOut = s.bandwidth_out_kbps();
    t.tickP99Ms = s.tick_time_p99_ms();
    t.clientReportedCorrections = s.client_reported_corrections();
    t.inputsDropped = s.inputs_dropped();
    t.shotsClamped = s.shots_clamped();
    t.errors = s.errors();
    t.status = static_cast<RegionStatus>(s.status());
    std::string unused;  // problemWith() has checked them
    t.rttUs = convert::fromProto(s.rtt_us(), unused).value_or(HistogramBuckets{});
    t.tickUs = convert::fromProto(s.tick_time_us(), unused).value_or(HistogramBuckets{});
    t.serverId = s.server_id();
    return t;
}

// ---- what a sane syncd sends: anything else is refused, never shown ----
// The console draws charts and tables from these values and an operator acts on them; a value
// that cannot be true (a NaN latency, 250 % loss, a status from a newer protocol) is dropped
// with a reason, and the reason reaches the user (ClientOptions::onNonsense).

bool sensibleName(const std::string& s) { return !s.empty() && s.size() <= 128; }
bool within(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

std::optional<std::string> problemWith(const pb::Region& r)
{
    if (!sensibleName(r.name()))
        return "a region with " + std::string(r.name().empty() ? "no name" : "a name of " + std::to_string(r.name().size()) + " bytes");
    if (!pb::RegionStatus_IsValid(r.status()) || r.status() == pb::REGION_STATUS_UNSPECIFIED)
        return "region " + r.name() + " has status " + std::to_string(r.status());
    if (r.capacity() > 10'000'000 || r.players() > 10'000'000)
        return "region " + r.name() + " claims " + std::to_string(r.players()) + " players of " + std::to_string(r.capacity());
    return std::nullopt;
}

std::optional<std::string> problemWith(const pb::Server& s)
{
    if (!sensibleName(s.id()))
        return "a server with " + std::string(s.id().empty() ? "no id" : "an id of " + std::to_string(s.id().size()) + " bytes");
    if (s.api_endpoint().empty() || s.api_endpoint().size() > 256)
        return "server " + s.id() + " has no usable API endpoint";
    if (!pb::ServerState_IsValid(s.state()) || s.state() == pb::SERVER_STATE_UNSPECIFIED)
        return "server " + s.id() + " has state " + std::to_string(s.state());
    if (s.regions_size() > 1024)
        return "server " + s.id() + " claims " + std::to_string(s.regions_size()) + " regions";
    for (const pb::Region& r : s.regions())
        if (auto problem = problemWith(r))
            return "server " + s.id() + ": " + *problem;
    return std::nullopt;
}

std::optional<std::string> problemWith(const pb::TelemetrySample& s)
{
    const std::string where = "telemetry for " + (sensibleName(s.region()) ? s.region() : std::string("an unnamed region"));
    if (!sensibleName(s.region()))
        return where;
    for (auto [name, v] : {std::pair{"rtt_p50_ms", s.rtt_p50_ms()}, {"rtt_p95_ms", s.rtt_p95_ms()}, {"rtt_p99_ms", s.rtt_p99_ms()},
                           {"tick_time_p99_ms", s.tick_time_p99_ms()}})
        if (!within(v, 0.0, 600'000.0))
            return where + ": " + name + " is " + std::to_string(v);
    if (s.rtt_p50_ms() > s.rtt_p95_ms() + 1e-6 || s.rtt_p95_ms() > s.rtt_p99_ms() + 1e-6)
        return where + ": percentiles out of order (p50 " + std::to_string(s.rtt_p50_ms()) + ", p99 " + std::to_string(s.rtt_p99_ms()) + ")";
    if (!within(s.loss_percent(), 0.0, 100.0))
        return where + ": loss_percent is " + std::to_string(s.loss_percent());
    if (!within(s.bandwidth_in_kbps(), 0.0, 1e9) || !within(s.bandwidth_out_kbps(), 0.0, 1e9))
        return where + ": bandwidth is " + std::to_string(s.bandwidth_in_kbps()) + "/" + std::to_string(s.bandwidth_out_kbps()) + " kbps";
    if (s.players() > 10'000'000)
        return where + ": " + std::to_string(s.players()) + " players";
    if (!pb::RegionStatus_IsValid(s.status()))
        return where + ": status " + std::to_string(s.status());
    for (auto [name, h] : {std::pair{"rtt_us", &s.rtt_us()}, {"tick_time_us", &s.tick_time_us()}}) {
        std::string error;
        auto buckets = convert::fromProto(*h, error);
        if (!buckets || !LatencyHistogram::fromBuckets(*buckets, error))
            return where + ": " + name + " histogram: " + error;
    }
    if (s.server_id().size() > 256)
        return where + ": a server id of " + std::to_string(s.server_id().size()) + " bytes";
    const std::int64_t t = convert::unixMs(s.time());
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (t < now - 7LL * 24 * 3600 * 1000 || t > now + 3600LL * 1000)
        return where + ": sample time is more than an hour ahead or a week behind this machine's clock";
    return std::nullopt;
}

std::optional<std::string> problemWith(const pb::Toggle& t)
{
    if (!sensibleName(t.key()) || !sensibleName(t.scope()))
        return std::string("a toggle without a sensible key or scope");
    if (!pb::ToggleType_IsValid(t.type()) || t.type() == pb::TOGGLE_TYPE_UNSPECIFIED)
        return "toggle " + t.key() + " has type " + std::to_string(t.type());
    if (!fromProto(t.value()))
        return "toggle " + t.key() + " has no value";
    return std::nullopt;
}

std::optional<std::string> problemWith(const pb::AuditEntry& e)
{
    if (e.id() == 0)
        return std::string("an audit entry without an id");
    if (e.actor().empty() || e.target().empty())
        return "audit entry " + std::to_string(e.id()) + " has no actor or target";
    return std::nullopt;
}

void reportNonsense(const ClientOptions& options, const std::string& what)
{
    if (options.onNonsense)
        options.onNonsense(what);
}

/// The file's bytes, or nullopt when it cannot be read or is empty (a TLS file that is not
/// there must never mean "no file": gRPC would then trust the system's roots instead).
std::optional<std::string> readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().empty())
        return std::nullopt;
    return text.str();
}

/// Waits for the server's first headers: syncd sends them as soon as a watch is accepted, marked
/// with "liveops-stream", so "connected" means accepted, not merely "has data" (audit may be quiet
/// for hours).
template <typename Reader>
bool streamOpened(grpc::ClientContext& context, Reader& reader, const LiveOpsClient::StateCallback& onState)
{
    reader.WaitForInitialMetadata();
    const bool open = context.GetServerInitialMetadata().count("liveops-stream") > 0;
    if (open && onState)
        onState(StreamState{true, 0, {}, {}});
    return open;
}

/// One long-lived server stream, re-opened after every drop until stopped.
class Watch {
public:
    /// Opens the stream and reads it until it ends; calls `onState` (connected) once the server
    /// accepted it and sets `accepted`.
    using Body = std::function<grpc::Status(grpc::ClientContext&, const LiveOpsClient::StateCallback& onState, bool& accepted)>;
    /// `refusal` non-empty: the client could not be set up (an unreadable TLS file); the watch
    /// never connects and reports that, retrying on the usual schedule.
    Watch(const ClientOptions& options, std::shared_ptr<grpc::Channel> channel, Body body, LiveOpsClient::StateCallback onState,
          std::string refusal = {})
        : m_options(options), m_channel(std::move(channel)), m_body(std::move(body)), m_onState(std::move(onState)), m_refusal(std::move(refusal))
    {
        m_thread = std::thread([this] { run(); });
        m_watchdog = std::thread([this] { watchdog(); });
    }
    ~Watch()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
            if (m_context)
                m_context->TryCancel();
        }
        m_wake.notify_all();
        m_thread.join();
        m_watchdog.join();
    }

private:
    void run()
    {
        std::mt19937_64 random(std::random_device{}());
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        int attempt = 0;
        // Marks the stream open for the watchdog, then tells the user.
        const LiveOpsClient::StateCallback opened = [this](const StreamState& state) {
            {
                std::lock_guard lock(m_mutex);
                m_opening = false;
            }
            if (m_onState)
                m_onState(state);
        };
        while (true) {
            grpc::ClientContext context;
            context.AddMetadata("authorization", "Bearer " + m_options.token);
            {
                std::lock_guard lock(m_mutex);
                if (m_stopping)
                    return;
                m_context = &context;
                m_opening = true;
                m_openTimedOut = false;
                m_openDeadline = std::chrono::steady_clock::now() + m_options.openTimeout;
            }
            m_wake.notify_all();
            bool accepted = false;
            grpc::Status status = m_refusal.empty() ? m_body(context, opened, accepted)  // returns when the stream ends
                                                    : grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, m_refusal);
            {
                std::lock_guard lock(m_mutex);
                m_context = nullptr;
                m_opening = false;
                if (m_stopping)
                    return;
                if (m_openTimedOut) {
                    char seconds[32];
                    std::snprintf(seconds, sizeof seconds, "%.1f", double(m_options.openTimeout.count()) / 1000.0);
                    status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                          std::string("syncd took the connection but did not answer within ") + seconds + " s");
                }
            }
            if (accepted)
                attempt = 0;  // it was up: start the backoff again from the bottom
            ++attempt;
            const auto wait = LiveOpsClient::backoff(m_options, attempt, unit(random));
            if (m_onState)
                m_onState(StreamState{false, attempt, wait, statusOf(status)});
            {
                std::unique_lock lock(m_mutex);
                if (m_wake.wait_for(lock, wait, [this] { return m_stopping; }))
                    return;
            }
            reconnectChannel();
        }
    }

    /// The watch's backoff is the one schedule in force: the channel has its own (gRPC's, for the
    /// TCP connection), and without this the two compound — a stream retried while the channel is
    /// still waiting out its backoff fails fast, and the watch backs off again (7.5 s seen after a
    /// restart, with both capped at 4.8 s). So each retry clears the channel's backoff and gives a
    /// connection that is being made a moment to finish; a refused one ends the wait at once.
    void reconnectChannel()
    {
        if (!m_channel)
            return;
        grpc::experimental::ChannelResetConnectionBackoff(m_channel.get());
        const auto deadline = std::chrono::system_clock::now() + std::min<std::chrono::milliseconds>(m_options.openTimeout, kConnectGrace);
        auto state = m_channel->GetState(true);
        // In short steps, so that stopping the watch never waits for the grace.
        while ((state == GRPC_CHANNEL_IDLE || state == GRPC_CHANNEL_CONNECTING) && std::chrono::system_clock::now() < deadline) {
            {
                std::lock_guard lock(m_mutex);
                if (m_stopping)
                    return;
            }
            if (m_channel->WaitForStateChange(state, std::min(deadline, std::chrono::system_clock::now() + std::chrono::milliseconds(20))))
                state = m_channel->GetState(true);
        }
    }
    static constexpr std::chrono::milliseconds kConnectGrace{1000};

    /// A server that takes the connection but never answers (hung, overloaded, or not syncd)
    /// would hold the watch forever: past `openTimeout` without the server's headers, cancel.
    void watchdog()
    {
        std::unique_lock lock(m_mutex);
        while (!m_stopping) {
            if (m_opening && m_context && std::chrono::steady_clock::now() >= m_openDeadline) {
                m_openTimedOut = true;
                m_opening = false;
                m_context->TryCancel();
            }
            if (m_opening)
                m_wake.wait_until(lock, m_openDeadline);
            else
                m_wake.wait(lock);
        }
    }

    ClientOptions m_options;
    std::shared_ptr<grpc::Channel> m_channel;
    Body m_body;
    LiveOpsClient::StateCallback m_onState;
    std::string m_refusal;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    grpc::ClientContext* m_context = nullptr;
    bool m_stopping = false;
    bool m_opening = false;
    bool m_openTimedOut = false;
    std::chrono::steady_clock::time_point m_openDeadline;
    std::thread m_thread;  // last: they start after everything above exists
    std::thread m_watchdog;
};

} // namespace

struct LiveOpsClient::Impl {
    ClientOptions options;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<pb::LiveOps::Stub> stub;
    std::mutex watchesMutex;
    std::unique_ptr<Watch> telemetry, toggles, audit;
    // Calls in flight: the destructor cancels them and waits for their callbacks (a cancelled
    // call calls back at once), so no callback outlives the client and nothing waits for a
    // deadline — a hung server must not hold up whoever removes it.
    std::mutex callsMutex;
    std::condition_variable callsDone;
    int calls = 0;
    std::set<std::shared_ptr<grpc::ClientContext>> inFlight;
    std::string refusal;  // why this client cannot connect at all (an unreadable TLS file); calls fail with it

    std::shared_ptr<grpc::ClientContext> context() const
    {
        auto ctx = std::make_shared<grpc::ClientContext>();
        ctx->AddMetadata("authorization", "Bearer " + options.token);
        ctx->set_deadline(std::chrono::system_clock::now() + options.deadline);
        return ctx;
    }

    /// Starts an asynchronous unary call; `finish` turns the response into the reply.
    template <typename Request, typename Response, typename Result>
    void call(void (pb::LiveOps::StubInterface::async_interface::*method)(grpc::ClientContext*, const Request*, Response*,
                                                                         std::function<void(grpc::Status)>),
              Request request, std::function<Result(const Response&)> finish, std::function<void(Reply<Result>)> done)
    {
        struct Call {
            std::shared_ptr<grpc::ClientContext> context;
            Request request;
            Response response;
        };
        if (!refusal.empty()) {
            {
                std::lock_guard lock(callsMutex);
                ++calls;  // the destructor waits for this answer too
            }
            std::thread([this, done = std::move(done)] {  // never on the caller's thread
                Reply<Result> reply;
                reply.status = {static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION), refusal};
                if (done)
                    done(std::move(reply));
                std::lock_guard lock(callsMutex);
                if (--calls == 0)
                    callsDone.notify_all();
            }).detach();
            return;
        }
        auto* state = new Call{context(), std::move(request), {}};
        {
            std::lock_guard lock(callsMutex);
            ++calls;
            inFlight.insert(state->context);
        }
        (stub->async()->*method)(state->context.get(), &state->request, &state->response,
                                 [this, state, finish = std::move(finish), done = std::move(done)](grpc::Status status) {
                                     {
                                         std::lock_guard lock(callsMutex);
                                         inFlight.erase(state->context);
                                     }
                                     Reply<Result> reply;
                                     reply.status = statusOf(status);
                                     if (status.ok())
                                         reply.value = finish(state->response);
                                     delete state;
                                     if (done)
                                         done(std::move(reply));
                                     std::lock_guard lock(callsMutex);
                                     if (--calls == 0)
                                         callsDone.notify_all();
                                 });
    }
};

std::chrono::milliseconds LiveOpsClient::backoff(const ClientOptions& o, int attempt, double unitRandom)
{
    const double base = static_cast<double>(o.backoffInitial.count()) * std::pow(o.backoffMultiplier, std::max(0, attempt - 1));
    const double capped = std::min(base, static_cast<double>(o.backoffMax.count()));
    const double jittered = capped * (1.0 + o.backoffJitter * (2.0 * unitRandom - 1.0));
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(1.0, jittered)));
}

LiveOpsClient::LiveOpsClient(ClientOptions options) : m_impl(std::make_unique<Impl>())
{
    m_impl->options = std::move(options);
    if (m_impl->options.channel) {
        m_impl->channel = m_impl->options.channel;
    } else {
        grpc::ChannelArguments args;
        // gRPC's own reconnect backoff for the channel follows the same schedule as the watches.
        args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(m_impl->options.backoffInitial.count()));
        args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(m_impl->options.backoffMax.count()));
        args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);  // notice a dead peer on an idle watch
        std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
        if (!m_impl->options.tlsRootCertFile.empty()) {
            grpc::SslCredentialsOptions ssl;
            auto need = [this](const std::string& path, const char* what) {
                auto bytes = readFile(path);
                if (!bytes && m_impl->refusal.empty())
                    m_impl->refusal = std::string("cannot read the ") + what + " file " + path + ": not connecting without it";
                return bytes.value_or(std::string{});
            };
            ssl.pem_root_certs = need(m_impl->options.tlsRootCertFile, "CA certificate");
            if (!m_impl->options.tlsClientCertFile.empty()) {
                ssl.pem_cert_chain = need(m_impl->options.tlsClientCertFile, "client certificate");
                ssl.pem_private_key = need(m_impl->options.tlsClientKeyFile, "client key");
            }
            credentials = grpc::SslCredentials(ssl);
        }
        if (m_impl->refusal.empty())  // never a channel that would fall back to other roots
            m_impl->channel = grpc::CreateCustomChannel(m_impl->options.target, credentials, args);
    }
    if (m_impl->channel)
        m_impl->stub = pb::LiveOps::NewStub(m_impl->channel);
}

LiveOpsClient::~LiveOpsClient()
{
    stopWatches();
    std::set<std::shared_ptr<grpc::ClientContext>> cancel;
    {
        std::lock_guard lock(m_impl->callsMutex);
        cancel = m_impl->inFlight;  // kept alive by these copies; cancelled without the lock held
    }
    for (const auto& context : cancel)
        context->TryCancel();
    std::unique_lock lock(m_impl->callsMutex);
    m_impl->callsDone.wait(lock, [this] { return m_impl->calls == 0; });  // each cancelled call calls back at once
}

void LiveOpsClient::whoAmI(std::function<void(Reply<Identity>)> done)
{
    m_impl->call<pb::WhoAmIRequest, pb::WhoAmIResponse, Identity>(
        &pb::LiveOps::StubInterface::async_interface::WhoAmI, {},
        [](const pb::WhoAmIResponse& r) { return Identity{r.name(), roleOf(r.role())}; }, std::move(done));
}

void LiveOpsClient::listRegions(std::function<void(Reply<std::vector<Region>>)> done)
{
    m_impl->call<pb::ListRegionsRequest, pb::ListRegionsResponse, std::vector<Region>>(
        &pb::LiveOps::StubInterface::async_interface::ListRegions, {},
        [options = m_impl->options](const pb::ListRegionsResponse& r) {
            std::vector<Region> out;
            for (const auto& region : r.regions()) {
                if (auto problem = problemWith(region))
                    reportNonsense(options, *problem);
                else
                    out.push_back(fromProto(region));
            }
            return out;
        },
        std::move(done));
}

void LiveOpsClient::listServers(std::function<void(Reply<ServerList>)> done)
{
    m_impl->call<pb::ListServersRequest, pb::ListServersResponse, ServerList>(
        &pb::LiveOps::StubInterface::async_interface::ListServers, {},
        [options = m_impl->options](const pb::ListServersResponse& r) {
            ServerList out;
            out.fleet = r.fleet().substr(0, 128);
            out.storeProblem = r.store_problem().substr(0, 1024);
            for (const auto& server : r.servers()) {
                if (auto problem = problemWith(server))
                    reportNonsense(options, *problem);
                else
                    out.servers.push_back(serverFromProto(server));
            }
            return out;
        },
        std::move(done));
}

void LiveOpsClient::listToggles(const std::string& scope, std::function<void(Reply<std::vector<Toggle>>)> done)
{
    pb::ListTogglesRequest request;
    request.set_scope(scope);
    m_impl->call<pb::ListTogglesRequest, pb::ListTogglesResponse, std::vector<Toggle>>(
        &pb::LiveOps::StubInterface::async_interface::ListToggles, std::move(request),
        [options = m_impl->options](const pb::ListTogglesResponse& r) {
            std::vector<Toggle> out;
            for (const auto& t : r.toggles()) {
                if (auto problem = problemWith(t))
                    reportNonsense(options, *problem);
                else
                    out.push_back(fromProto(t));
            }
            return out;
        },
        std::move(done));
}

void LiveOpsClient::setToggle(const std::string& key, const std::string& scope, const ToggleValue& value, std::uint64_t expectedVersion,
                              const std::string& reason, std::function<void(Reply<Toggle>)> done)
{
    pb::SetToggleRequest request;
    request.set_key(key);
    request.set_scope(scope);
    // A string value goes as a region name for failover_target, else as an enum value.
    toProto(value, key == "failover_target" ? ToggleType::Region : ToggleType::Enum, *request.mutable_value());
    request.set_expected_version(expectedVersion);
    request.set_reason(reason);
    m_impl->call<pb::SetToggleRequest, pb::SetToggleResponse, Toggle>(
        &pb::LiveOps::StubInterface::async_interface::SetToggle, std::move(request),
        [](const pb::SetToggleResponse& r) { return fromProto(r.toggle()); }, std::move(done));
}

void LiveOpsClient::clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion, const std::string& reason,
                                std::function<void(Reply<Toggle>)> done)
{
    pb::ClearToggleRequest request;
    request.set_key(key);
    request.set_scope(scope);
    request.set_expected_version(expectedVersion);
    request.set_reason(reason);
    m_impl->call<pb::ClearToggleRequest, pb::SetToggleResponse, Toggle>(
        &pb::LiveOps::StubInterface::async_interface::ClearToggle, std::move(request),
        [](const pb::SetToggleResponse& r) { return fromProto(r.toggle()); }, std::move(done));
}

namespace {
AuditEntry auditOf(const pb::OperationResponse& r) { return fromProto(r.audit()); }
} // namespace

void LiveOpsClient::drainRegion(const std::string& region, const std::string& failoverTo, const std::string& reason,
                                std::function<void(Reply<AuditEntry>)> done)
{
    pb::DrainRegionRequest request;
    request.set_region(region);
    request.set_failover_region(failoverTo);
    request.set_reason(reason);
    m_impl->call<pb::DrainRegionRequest, pb::OperationResponse, AuditEntry>(&pb::LiveOps::StubInterface::async_interface::DrainRegion,
                                                                           std::move(request), auditOf, std::move(done));
}

void LiveOpsClient::undrainRegion(const std::string& region, const std::string& reason, std::function<void(Reply<AuditEntry>)> done)
{
    pb::UndrainRegionRequest request;
    request.set_region(region);
    request.set_reason(reason);
    m_impl->call<pb::UndrainRegionRequest, pb::OperationResponse, AuditEntry>(&pb::LiveOps::StubInterface::async_interface::UndrainRegion,
                                                                             std::move(request), auditOf, std::move(done));
}

void LiveOpsClient::drainServer(const std::string& serverId, const std::string& failoverTo, const std::string& reason,
                                std::function<void(Reply<AuditEntry>)> done)
{
    pb::DrainRegionRequest request;
    request.set_server_id(serverId);
    request.set_failover_region(failoverTo);
    request.set_reason(reason);
    m_impl->call<pb::DrainRegionRequest, pb::OperationResponse, AuditEntry>(&pb::LiveOps::StubInterface::async_interface::DrainRegion,
                                                                           std::move(request), auditOf, std::move(done));
}

void LiveOpsClient::undrainServer(const std::string& serverId, const std::string& reason, std::function<void(Reply<AuditEntry>)> done)
{
    pb::UndrainRegionRequest request;
    request.set_server_id(serverId);
    request.set_reason(reason);
    m_impl->call<pb::UndrainRegionRequest, pb::OperationResponse, AuditEntry>(&pb::LiveOps::StubInterface::async_interface::UndrainRegion,
                                                                             std::move(request), auditOf, std::move(done));
}

void LiveOpsClient::failover(const std::string& from, const std::string& to, const std::string& reason,
                             std::function<void(Reply<AuditEntry>)> done)
{
    pb::FailoverRequest request;
    request.set_from_region(from);
    request.set_to_region(to);
    request.set_reason(reason);
    m_impl->call<pb::FailoverRequest, pb::OperationResponse, AuditEntry>(&pb::LiveOps::StubInterface::async_interface::Failover,
                                                                        std::move(request), auditOf, std::move(done));
}

void LiveOpsClient::startDrill(const std::string& region, DrillKind kind, double latencyMs, double lossPercent, std::chrono::seconds duration,
                               const std::string& reason, std::function<void(Reply<AuditEntry>)> done)
{
    pb::StartDrillRequest request;
    request.set_region(region);
    request.set_kind(static_cast<pb::DrillKind>(kind));
    request.set_latency_ms(latencyMs);
    request.set_loss_percent(lossPercent);
    request.set_duration_s(static_cast<std::uint32_t>(duration.count()));
    request.set_reason(reason);
    m_impl->call<pb::StartDrillRequest, pb::OperationResponse, AuditEntry>(&pb::LiveOps::StubInterface::async_interface::StartDrill,
                                                                          std::move(request), auditOf, std::move(done));
}

void LiveOpsClient::cancelDrill(const std::string& region, const std::string& reason, std::function<void(Reply<AuditEntry>)> done)
{
    pb::CancelDrillRequest request;
    request.set_region(region);
    request.set_reason(reason);
    m_impl->call<pb::CancelDrillRequest, pb::OperationResponse, AuditEntry>(&pb::LiveOps::StubInterface::async_interface::CancelDrill,
                                                                           std::move(request), auditOf, std::move(done));
}

void LiveOpsClient::listAudit(std::uint64_t afterId, std::uint32_t limit, const std::string& target,
                              std::function<void(Reply<std::vector<AuditEntry>>)> done)
{
    pb::ListAuditRequest request;
    request.set_after_id(afterId);
    request.set_limit(limit);
    request.set_target(target);
    m_impl->call<pb::ListAuditRequest, pb::ListAuditResponse, std::vector<AuditEntry>>(
        &pb::LiveOps::StubInterface::async_interface::ListAudit, std::move(request),
        [](const pb::ListAuditResponse& r) {
            std::vector<AuditEntry> out;
            for (const auto& e : r.entries())
                out.push_back(fromProto(e));
            return out;
        },
        std::move(done));
}

void LiveOpsClient::watchTelemetry(std::vector<std::string> regions, std::uint32_t intervalMs, std::function<void(const Telemetry&)> onSample,
                                   StateCallback onState)
{
    auto lastSequence = std::make_shared<std::uint64_t>(0);  // only the watch thread touches it
    auto body = [stub = m_impl->stub.get(), options = m_impl->options, regions = std::move(regions), intervalMs, lastSequence,
                 onSample = std::move(onSample)](grpc::ClientContext& context, const StateCallback& opened, bool& sawData) {
        pb::WatchTelemetryRequest request;
        for (const auto& r : regions)
            request.add_regions(r);
        request.set_interval_ms(intervalMs);
        // First connection: everything the server still holds (fills a chart); later: resume.
        request.set_resume_after_sequence(*lastSequence);
        auto reader = stub->WatchTelemetry(&context, request);
        sawData = streamOpened(context, *reader, opened);
        pb::TelemetrySample sample;
        while (reader->Read(&sample)) {
            if (sample.sequence() <= *lastSequence)
                continue;  // already delivered before the drop
            *lastSequence = sample.sequence();
            if (auto problem = problemWith(sample)) {
                reportNonsense(options, *problem);
                continue;
            }
            onSample(fromProto(sample));
        }
        return reader->Finish();
    };
    std::lock_guard lock(m_impl->watchesMutex);
    m_impl->telemetry.reset();
    m_impl->telemetry = std::make_unique<Watch>(m_impl->options, m_impl->channel, std::move(body), std::move(onState), m_impl->refusal);
}

void LiveOpsClient::watchToggles(std::function<void(const Toggle&)> onToggle, StateCallback onState)
{
    auto body = [stub = m_impl->stub.get(), options = m_impl->options, onToggle = std::move(onToggle)](
                    grpc::ClientContext& context, const StateCallback& opened, bool& sawData) {
        auto reader = stub->WatchToggles(&context, pb::WatchTogglesRequest{});
        sawData = streamOpened(context, *reader, opened);
        pb::ToggleEvent event;
        while (reader->Read(&event)) {
            if (auto problem = problemWith(event.toggle())) {
                reportNonsense(options, *problem);
                continue;
            }
            Toggle toggle = fromProto(event.toggle());
            toggle.initial = event.initial();
            onToggle(toggle);
        }
        return reader->Finish();
    };
    std::lock_guard lock(m_impl->watchesMutex);
    m_impl->toggles.reset();
    m_impl->toggles = std::make_unique<Watch>(m_impl->options, m_impl->channel, std::move(body), std::move(onState), m_impl->refusal);
}

void LiveOpsClient::watchAudit(std::uint64_t afterId, std::function<void(const AuditEntry&)> onEntry, StateCallback onState)
{
    auto lastId = std::make_shared<std::uint64_t>(afterId);
    auto body = [stub = m_impl->stub.get(), options = m_impl->options, lastId, onEntry = std::move(onEntry)](
                    grpc::ClientContext& context, const StateCallback& opened, bool& sawData) {
        pb::WatchAuditRequest request;
        request.set_after_id(*lastId);
        auto reader = stub->WatchAudit(&context, request);
        sawData = streamOpened(context, *reader, opened);
        pb::AuditEntry entry;
        while (reader->Read(&entry)) {
            if (auto problem = problemWith(entry)) {
                reportNonsense(options, *problem);
                continue;
            }
            if (entry.id() <= *lastId)
                continue;
            *lastId = entry.id();
            onEntry(fromProto(entry));
        }
        return reader->Finish();
    };
    std::lock_guard lock(m_impl->watchesMutex);
    m_impl->audit.reset();
    m_impl->audit = std::make_unique<Watch>(m_impl->options, m_impl->channel, std::move(body), std::move(onState), m_impl->refusal);
}

void LiveOpsClient::stopWatches()
{
    std::lock_guard lock(m_impl->watchesMutex);
    m_impl->telemetry.reset();
    m_impl->toggles.reset();
    m_impl->audit.reset();
}

} // namespace lv::liveops::client
