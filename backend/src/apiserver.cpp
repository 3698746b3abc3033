#include "liveops/apiserver.h"

// The generated CallbackService hides the sync-API overload of each method by design; GCC
// reports it where the template is instantiated, so the whole file opts out.
#pragma GCC diagnostic ignored "-Woverloaded-virtual"

#include "convert.h"
#include "liveops/cluster.h"
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <deque>
#include <fstream>
#include <set>
#include <sstream>

namespace lv::liveops {

namespace pb = ::liveops::v1;

namespace {

// ---- conversions: plain structs to proto (the enums share their numbers) ----

using convert::fromProto;
using convert::setTime;
using convert::toProto;

void toProto(const ToggleState& t, pb::Toggle& out)
{
    const ToggleDefinition& d = *t.definition;
    out.set_key(d.key);
    out.set_scope(t.scope);
    out.set_type(static_cast<pb::ToggleType>(d.type));
    toProto(t.value, d.type, *out.mutable_value());
    toProto(d.defaultValue, d.type, *out.mutable_default_value());
    out.set_min(d.min);
    out.set_max(d.max);
    for (const std::string& a : d.allowed)
        out.add_allowed(a);
    out.set_description(d.description);
    out.set_owner(d.owner);
    out.set_runbook_url(d.runbook);
    out.set_version(t.version);
    out.set_required_role(static_cast<pb::Role>(d.requiredRole));
    if (t.lastChange)
        toProto(*t.lastChange, *out.mutable_last_change());
}

void toProto(const TelemetryRecord& r, pb::TelemetrySample& out)
{
    const RegionSample& s = r.sample;
    out.set_sequence(r.sequence);
    out.set_region(s.region);
    setTime(*out.mutable_time(), r.timeMs);
    out.set_rtt_p50_ms(s.rttP50Ms);
    out.set_rtt_p95_ms(s.rttP95Ms);
    out.set_rtt_p99_ms(s.rttP99Ms);
    out.set_loss_percent(s.lossPercent);
    out.set_players(static_cast<std::uint32_t>(s.players));
    out.set_bandwidth_in_kbps(s.kbpsIn);
    out.set_bandwidth_out_kbps(s.kbpsOut);
    out.set_tick_time_p99_ms(s.tickP99Ms);
    out.set_corrections(s.corrections);
    out.set_errors(s.errors);
    out.set_status(static_cast<pb::RegionStatus>(r.state));
}

grpc::Status toStatus(const OperationResult& r)
{
    switch (r.outcome) {
    case Outcome::Ok: return grpc::Status::OK;
    case Outcome::InvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, r.message};
    case Outcome::NotFound: return {grpc::StatusCode::NOT_FOUND, r.message};
    case Outcome::PermissionDenied: return {grpc::StatusCode::PERMISSION_DENIED, r.message};
    case Outcome::Aborted: return {grpc::StatusCode::ABORTED, r.message};
    case Outcome::FailedPrecondition: return {grpc::StatusCode::FAILED_PRECONDITION, r.message};
    case Outcome::Internal: break;
    }
    return {grpc::StatusCode::INTERNAL, r.message};
}

std::string readFile(const std::string& path, std::string& error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read " + path;
        return {};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// A server stream fed from another thread: push() queues (dropping the oldest past a bound, so a
/// slow watcher never holds the server's memory hostage) and keeps one write in flight.
template <typename Message>
class StreamWriter : public grpc::ServerWriteReactor<Message> {
public:
    explicit StreamWriter(std::size_t maxQueue) : m_maxQueue(maxQueue) {}

    void push(Message message)
    {
        std::unique_lock lock(m_mutex);
        if (m_finishing)
            return;
        if (m_queue.size() >= m_maxQueue)
            m_queue.pop_front();
        m_queue.push_back(std::move(message));
        if (m_writing)
            return;
        m_writing = true;
        m_current = std::move(m_queue.front());
        m_queue.pop_front();
        lock.unlock();
        this->StartWrite(&m_current);
    }

    /// Ends the stream once the write in flight (if any) is done.
    void finish(grpc::Status status)
    {
        std::unique_lock lock(m_mutex);
        if (m_finishing)
            return;
        m_finishing = true;
        m_status = std::move(status);
        if (m_writing)
            return;  // OnWriteDone finishes
        lock.unlock();
        this->Finish(m_status);
    }

    void OnWriteDone(bool ok) override
    {
        std::unique_lock lock(m_mutex);
        if (!ok && !m_finishing) {  // the client went away
            m_finishing = true;
            m_status = grpc::Status(grpc::StatusCode::CANCELLED, "stream broken");
        }
        if (m_finishing) {
            m_writing = false;
            lock.unlock();
            this->Finish(m_status);
            return;
        }
        if (m_queue.empty()) {
            m_writing = false;
            return;
        }
        m_current = std::move(m_queue.front());
        m_queue.pop_front();
        lock.unlock();
        this->StartWrite(&m_current);
    }

    void OnCancel() override { finish(grpc::Status::CANCELLED); }

protected:
    virtual void release() {}

private:
    void OnDone() override
    {
        release();
        delete this;
    }

    std::mutex m_mutex;
    std::deque<Message> m_queue;
    Message m_current;
    std::size_t m_maxQueue;
    bool m_writing = false;
    bool m_finishing = false;
    grpc::Status m_status;
};

/// Streams that syncd ends itself on shutdown. Recursive lock: a stream that ends at once may
/// unregister from inside closeAll().
class StreamRegistry {
public:
    using Finisher = std::function<void()>;
    std::uint64_t add(Finisher f)
    {
        std::lock_guard lock(m_mutex);
        if (m_closed) {
            f();
            return 0;
        }
        m_streams.emplace(++m_next, std::move(f));
        return m_next;
    }
    void remove(std::uint64_t id)
    {
        std::lock_guard lock(m_mutex);
        m_streams.erase(id);
    }
    void closeAll()
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        while (!m_streams.empty()) {
            auto it = m_streams.begin();
            const std::uint64_t id = it->first;
            Finisher finish = it->second;
            finish();
            m_streams.erase(id);
        }
    }

private:
    std::recursive_mutex m_mutex;
    std::map<std::uint64_t, Finisher> m_streams;
    std::uint64_t m_next = 0;
    bool m_closed = false;
};

template <typename Message, typename Event>
class FeedStream final : public StreamWriter<Message> {
public:
    FeedStream(StreamRegistry& registry, std::size_t maxQueue) : StreamWriter<Message>(maxQueue), m_registry(registry)
    {
        m_registryId = registry.add([this] { this->finish({grpc::StatusCode::UNAVAILABLE, "syncd is shutting down"}); });
    }
    void hold(typename Feed<Event>::Subscription subscription) { m_subscription = std::move(subscription); }

private:
    void release() override
    {
        m_subscription.reset();  // waits out a delivery in progress; none after this
        m_registry.remove(m_registryId);
    }
    StreamRegistry& m_registry;
    std::uint64_t m_registryId = 0;
    typename Feed<Event>::Subscription m_subscription;
};

class LiveOpsService final : public pb::LiveOps::CallbackService {
public:
    LiveOpsService(Cluster& cluster, TokenTable tokens) : m_cluster(cluster), m_tokens(std::move(tokens)) {}
    StreamRegistry& streams() { return m_streams; }

private:
    /// Who is calling, if their token is known and their role suffices.
    grpc::Status authorize(grpc::CallbackServerContext* context, Role needed, Identity& who) const
    {
        const auto& metadata = context->client_metadata();
        auto it = metadata.find("authorization");
        if (it == metadata.end())
            return {grpc::StatusCode::UNAUTHENTICATED, "no bearer token: send 'authorization: Bearer <token>'"};
        auto identity = m_tokens.authenticate(std::string_view(it->second.data(), it->second.size()));
        if (!identity)
            return {grpc::StatusCode::UNAUTHENTICATED, "unknown token"};
        if (identity->role < needed)
            return {grpc::StatusCode::PERMISSION_DENIED,
                    "needs the " + std::string(roleName(needed)) + " role; " + identity->name + " is " + std::string(roleName(identity->role))};
        who = *identity;
        return grpc::Status::OK;
    }

    template <typename Body>
    grpc::ServerUnaryReactor* unary(grpc::CallbackServerContext* context, Role needed, Body&& body)
    {
        auto* reactor = context->DefaultReactor();
        Identity who;
        grpc::Status status = authorize(context, needed, who);
        if (status.ok())
            status = body(who);
        reactor->Finish(status);
        return reactor;
    }

    template <typename Response>
    grpc::ServerUnaryReactor* operation(grpc::CallbackServerContext* context, Response* response,
                                        const std::function<OperationResult(const Identity&)>& run)
    {
        return unary(context, Role::Viewer, [&](const Identity& who) {
            const OperationResult result = run(who);
            if (result.audit)
                toProto(*result.audit, *response->mutable_audit());
            return toStatus(result);
        });
    }

    grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* context, const pb::WhoAmIRequest*, pb::WhoAmIResponse* response) override
    {
        return unary(context, Role::Viewer, [&](const Identity& who) {
            response->set_name(who.name);
            response->set_role(static_cast<pb::Role>(who.role));
            return grpc::Status::OK;
        });
    }

    grpc::ServerUnaryReactor* ListRegions(grpc::CallbackServerContext* context, const pb::ListRegionsRequest*,
                                          pb::ListRegionsResponse* response) override
    {
        return unary(context, Role::Viewer, [&](const Identity&) {
            for (const RegionInfo& r : m_cluster.regions()) {
                pb::Region* out = response->add_regions();
                out->set_name(r.name);
                out->set_endpoint(r.endpoint);
                out->set_status(static_cast<pb::RegionStatus>(r.state));
                out->set_players(static_cast<std::uint32_t>(r.players));
                out->set_capacity(static_cast<std::uint32_t>(r.capacity));
                out->set_active_drill(r.activeDrill);
            }
            return grpc::Status::OK;
        });
    }

    grpc::ServerUnaryReactor* ListToggles(grpc::CallbackServerContext* context, const pb::ListTogglesRequest* request,
                                          pb::ListTogglesResponse* response) override
    {
        return unary(context, Role::Viewer, [&](const Identity&) {
            const auto names = m_cluster.regionNames();
            if (!request->scope().empty() && request->scope() != "*"
                && std::find(names.begin(), names.end(), request->scope()) == names.end())
                return grpc::Status(grpc::StatusCode::NOT_FOUND, "no region named '" + request->scope() + "'");
            for (const ToggleState& t : m_cluster.toggles(request->scope()))
                toProto(t, *response->add_toggles());
            return grpc::Status::OK;
        });
    }

    grpc::ServerUnaryReactor* SetToggle(grpc::CallbackServerContext* context, const pb::SetToggleRequest* request,
                                        pb::SetToggleResponse* response) override
    {
        return unary(context, Role::Viewer, [&](const Identity& who) {
            auto value = fromProto(request->value());
            if (!value)
                return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "value is required");
            const OperationResult result
                = m_cluster.setToggle(who, request->key(), request->scope(), *value, request->expected_version(), request->reason());
            if (result.toggle)
                toProto(*result.toggle, *response->mutable_toggle());
            if (result.audit)
                toProto(*result.audit, *response->mutable_audit());
            return toStatus(result);
        });
    }

    grpc::ServerUnaryReactor* DrainRegion(grpc::CallbackServerContext* context, const pb::DrainRegionRequest* request,
                                          pb::OperationResponse* response) override
    {
        return operation(context, response, [&](const Identity& who) {
            return m_cluster.drain(who, request->region(), request->failover_region(), request->reason());
        });
    }

    grpc::ServerUnaryReactor* Failover(grpc::CallbackServerContext* context, const pb::FailoverRequest* request,
                                       pb::OperationResponse* response) override
    {
        return operation(context, response, [&](const Identity& who) {
            return m_cluster.failover(who, request->from_region(), request->to_region(), request->reason());
        });
    }

    grpc::ServerUnaryReactor* StartDrill(grpc::CallbackServerContext* context, const pb::StartDrillRequest* request,
                                         pb::OperationResponse* response) override
    {
        return operation(context, response, [&](const Identity& who) {
            if (request->kind() == pb::DRILL_KIND_UNSPECIFIED || !pb::DrillKind_IsValid(request->kind()))
                return OperationResult{Outcome::InvalidArgument, "kind must be LATENCY, LOSS or OUTAGE", {}, {}};
            return m_cluster.startDrill(who, request->region(), static_cast<DrillKind>(request->kind()), request->latency_ms(),
                                        request->loss_percent(), std::chrono::seconds(request->duration_s()), request->reason());
        });
    }

    grpc::ServerUnaryReactor* CancelDrill(grpc::CallbackServerContext* context, const pb::CancelDrillRequest* request,
                                          pb::OperationResponse* response) override
    {
        return operation(context, response,
                         [&](const Identity& who) { return m_cluster.cancelDrill(who, request->region(), request->reason()); });
    }

    grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* context, const pb::ListAuditRequest* request,
                                        pb::ListAuditResponse* response) override
    {
        return unary(context, Role::Viewer, [&](const Identity&) {
            if (request->limit() > 1000)
                return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "limit must be within 1..1000 (0 = 100)");
            const std::size_t limit = request->limit() == 0 ? 100 : request->limit();
            for (const AuditEntry& e : m_cluster.audit(request->after_id(), limit, request->target()))
                toProto(e, *response->add_entries());
            return grpc::Status::OK;
        });
    }

    /// Starts a stream, or ends it at once with the auth/argument status.
    template <typename Message, typename Event>
    FeedStream<Message, Event>* openStream(grpc::CallbackServerContext* context, Role needed, const grpc::Status& argumentStatus, bool& ok)
    {
        auto* stream = new FeedStream<Message, Event>(m_streams, 256);
        Identity who;
        grpc::Status status = authorize(context, needed, who);
        if (status.ok())
            status = argumentStatus;
        ok = status.ok();
        if (!ok) {
            stream->finish(status);
            return stream;
        }
        // Headers at once: the client knows it is accepted before the first event (audit may be
        // quiet for hours).
        context->AddInitialMetadata("liveops-stream", "open");
        stream->StartSendInitialMetadata();
        return stream;
    }

    grpc::ServerWriteReactor<pb::TelemetrySample>* WatchTelemetry(grpc::CallbackServerContext* context,
                                                                  const pb::WatchTelemetryRequest* request) override
    {
        grpc::Status argument = grpc::Status::OK;
        const auto names = m_cluster.regionNames();
        for (const std::string& r : request->regions())
            if (std::find(names.begin(), names.end(), r) == names.end())
                argument = {grpc::StatusCode::NOT_FOUND, "no region named '" + r + "'"};
        if (request->interval_ms() != 0 && (request->interval_ms() < 100 || request->interval_ms() > 60000))
            argument = {grpc::StatusCode::INVALID_ARGUMENT, "interval_ms must be 0 or within 100..60000"};
        bool ok = false;
        auto* stream = openStream<pb::TelemetrySample, TelemetryRecord>(context, Role::Viewer, argument, ok);
        if (!ok)
            return stream;
        // A longer interval than the server's thins the stream: at most one sample per region per
        // interval (each sample still covers one server window).
        const auto interval = std::chrono::milliseconds(request->interval_ms());
        const std::set<std::string> wanted(request->regions().begin(), request->regions().end());
        auto lastSent = std::make_shared<std::map<std::string, std::int64_t>>();
        const std::int64_t slack = m_cluster.telemetryInterval().count() / 2;
        stream->hold(m_cluster.watchTelemetry(request->resume_after_sequence(), [=](const TelemetryRecord& record) {
            if (!wanted.empty() && !wanted.count(record.sample.region))
                return;
            if (interval.count() > 0) {
                auto [it, fresh] = lastSent->try_emplace(record.sample.region, record.timeMs);
                if (!fresh) {
                    if (record.timeMs - it->second + slack < interval.count())
                        return;
                    it->second = record.timeMs;
                }
            }
            pb::TelemetrySample sample;
            toProto(record, sample);
            stream->push(std::move(sample));
        }));
        return stream;
    }

    grpc::ServerWriteReactor<pb::ToggleEvent>* WatchToggles(grpc::CallbackServerContext* context, const pb::WatchTogglesRequest*) override
    {
        bool ok = false;
        auto* stream = openStream<pb::ToggleEvent, ToggleEvent>(context, Role::Viewer, grpc::Status::OK, ok);
        if (!ok)
            return stream;
        stream->hold(m_cluster.watchToggles([stream](const ToggleEvent& event) {
            pb::ToggleEvent out;
            toProto(event.toggle, *out.mutable_toggle());
            out.set_initial(event.initial);
            stream->push(std::move(out));
        }));
        return stream;
    }

    grpc::ServerWriteReactor<pb::AuditEntry>* WatchAudit(grpc::CallbackServerContext* context, const pb::WatchAuditRequest* request) override
    {
        bool ok = false;
        auto* stream = openStream<pb::AuditEntry, AuditEntry>(context, Role::Viewer, grpc::Status::OK, ok);
        if (!ok)
            return stream;
        stream->hold(m_cluster.watchAudit(request->after_id(), [stream](const AuditEntry& entry) {
            pb::AuditEntry out;
            toProto(entry, out);
            stream->push(std::move(out));
        }));
        return stream;
    }

    Cluster& m_cluster;
    TokenTable m_tokens;
    StreamRegistry m_streams;
};

} // namespace

struct ApiServer::Impl {
    std::unique_ptr<LiveOpsService> service;
    std::unique_ptr<grpc::Server> server;
    int port = 0;
    Feed<TelemetryRecord>::Subscription healthFeed;
    bool stopped = false;
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

ApiServer::~ApiServer()
{
    if (!m_impl->stopped)
        shutdown(std::chrono::milliseconds(0));
}

std::unique_ptr<ApiServer> ApiServer::start(Cluster& cluster, TokenTable tokens, const ApiServerOptions& options, std::string& error)
{
    auto impl = std::make_unique<Impl>();
    impl->service = std::make_unique<LiveOpsService>(cluster, std::move(tokens));

    std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
    if (!options.tlsCertFile.empty() || !options.tlsKeyFile.empty()) {
        grpc::SslServerCredentialsOptions ssl;
        grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
        pair.cert_chain = readFile(options.tlsCertFile, error);
        if (error.empty())
            pair.private_key = readFile(options.tlsKeyFile, error);
        if (error.empty() && !options.tlsClientCaFile.empty()) {
            ssl.pem_root_certs = readFile(options.tlsClientCaFile, error);
            ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
        }
        if (!error.empty())
            return nullptr;
        ssl.pem_key_cert_pairs.push_back(std::move(pair));
        credentials = grpc::SslServerCredentials(ssl);
    }

    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    if (!options.address.empty())
        builder.AddListeningPort(options.address, credentials, &impl->port);
    builder.RegisterService(impl->service.get());
    impl->server = builder.BuildAndStart();
    if (!impl->server || (!options.address.empty() && impl->port == 0)) {
        error = "cannot serve gRPC on " + options.address + " (address in use, or not host:port?)";
        return nullptr;
    }
    auto* health = impl->server->GetHealthCheckService();
    health->SetServingStatus(true);
    for (const RegionInfo& r : cluster.regions())
        health->SetServingStatus("region/" + r.name, r.state == RegionState::Serving);
    // A region is healthy while it takes new players: draining, maintenance and outage are not.
    impl->healthFeed = cluster.watchTelemetry(UINT64_MAX, [health](const TelemetryRecord& record) {
        health->SetServingStatus("region/" + record.sample.region, record.state == RegionState::Serving);
    });
    return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

int ApiServer::port() const { return m_impl->port; }

std::shared_ptr<grpc::Channel> ApiServer::inProcessChannel() { return m_impl->server->InProcessChannel(grpc::ChannelArguments()); }

void ApiServer::setNotServing() { m_impl->server->GetHealthCheckService()->SetServingStatus(false); }

void ApiServer::shutdown(std::chrono::milliseconds grace)
{
    if (m_impl->stopped)
        return;
    m_impl->stopped = true;
    m_impl->healthFeed.reset();
    m_impl->service->streams().closeAll();
    m_impl->server->Shutdown(std::chrono::system_clock::now() + grace);
    m_impl->server->Wait();
}

} // namespace lv::liveops
