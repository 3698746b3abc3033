#include "liveops/apiserver.h"

// The generated CallbackService hides the sync-API overload of each method by design; GCC
// reports it where the template is instantiated, so the whole file opts out.
#pragma GCC diagnostic ignored "-Woverloaded-virtual"

#include "convert.h"
#include "fleetpeers.h"
#include "handlers.h"
#include "liveops/cluster.h"
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <condition_variable>
#include <thread>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>

namespace lv::liveops {

namespace pb = ::liveops::v1;

namespace {

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

/// What the API has done about its watchers, for /metrics and the tests.
struct StreamCounters {
    std::atomic<std::uint64_t> opened{0};
    std::atomic<std::uint64_t> slowClosed{0};
    std::atomic<std::uint64_t> queuedHighWater{0};
};

/// A server stream fed from another thread: push() queues and keeps one write in flight. A
/// watcher that falls `maxQueue` messages behind (it stopped reading, or its link is too slow) is
/// ended with RESOURCE_EXHAUSTED rather than buffered without bound; it resumes where it was
/// (telemetry after its last sequence, audit after its last id, toggles with a fresh state), so
/// nothing is lost and the server's memory per watcher stays bounded. What a watch replays when it
/// opens (the toggles' state, the audit after the client's last id) is on top of that bound.
template <typename Message>
class StreamWriter : public grpc::ServerWriteReactor<Message> {
public:
    StreamWriter(std::size_t maxQueue, StreamCounters& counters) : m_maxQueue(maxQueue), m_counters(counters) {}

    /// The replay is queued: from now on, at most `maxQueue` more may wait.
    void live()
    {
        std::lock_guard lock(m_mutex);
        m_limit = m_queue.size() + m_maxQueue;
    }

    void push(Message message)
    {
        std::unique_lock lock(m_mutex);
        if (m_finishing)
            return;
        if (m_queue.size() >= m_limit) {
            ++m_counters.slowClosed;
            const std::string why = "watcher fell " + std::to_string(m_queue.size()) + " messages behind; resume from the last one received";
            m_queue.clear();
            lock.unlock();
            finish({grpc::StatusCode::RESOURCE_EXHAUSTED, why});
            return;
        }
        m_queue.push_back(std::move(message));
        std::uint64_t high = m_counters.queuedHighWater.load();
        while (m_queue.size() > high && !m_counters.queuedHighWater.compare_exchange_weak(high, m_queue.size())) {
        }
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
            lock.unlock();
            drained();
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
    /// Everything queued has been written (the client is keeping up).
    virtual void drained() {}
    std::size_t maxQueue() const { return m_maxQueue; }

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
    std::size_t m_limit = SIZE_MAX;  // no bound while the opening replay is queued
    StreamCounters& m_counters;
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
class FeedStream : public StreamWriter<Message> {
public:
    FeedStream(StreamRegistry& registry, std::size_t maxQueue, StreamCounters& counters)
        : StreamWriter<Message>(maxQueue, counters), m_registry(registry)
    {
        ++counters.opened;
        m_registryId = registry.add([this] { this->finish({grpc::StatusCode::UNAVAILABLE, "syncd is shutting down"}); });
    }
    /// Keeps the feed's subscription (made after the stream opened: its replay is queued by now).
    void hold(typename Feed<Event>::Subscription subscription)
    {
        m_subscription = std::move(subscription);
        this->live();
    }

protected:
    void release() override
    {
        m_subscription.reset();  // waits out a delivery in progress; none after this
        m_registry.remove(m_registryId);
    }

private:
    StreamRegistry& m_registry;
    std::uint64_t m_registryId = 0;
    typename Feed<Event>::Subscription m_subscription;
};

/// Reads audit pages for WatchAudit replays on one thread of its own: never on a gRPC thread,
/// never under the Cluster's or a feed's lock, one page per request (requests come as clients
/// read, so a stalled client costs nothing and twenty full replays share the thread fairly).
class AuditReplayer {
public:
    /// A stream's side of a replay: the stream unhooks itself (under `mutex`) when it ends.
    struct Handle {
        std::mutex mutex;
        std::function<void(std::vector<AuditEntry>)> deliver;  // empty once the stream is gone
    };
    static constexpr std::size_t kMaxPage = 128;

    explicit AuditReplayer(const Cluster& cluster) : m_cluster(cluster), m_thread([this] { run(); }) {}
    ~AuditReplayer()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }
    /// Reads up to `limit` entries after `afterId` and hands them to the handle's stream.
    void request(std::shared_ptr<Handle> handle, std::uint64_t afterId, std::size_t limit)
    {
        {
            std::lock_guard lock(m_mutex);
            m_jobs.push_back({std::move(handle), afterId, limit});
        }
        m_wake.notify_one();
    }

private:
    struct Job {
        std::shared_ptr<Handle> handle;
        std::uint64_t afterId;
        std::size_t limit;
    };
    void run()
    {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            if (m_jobs.empty()) {
                m_wake.wait(lock);
                continue;
            }
            Job job = std::move(m_jobs.front());
            m_jobs.pop_front();
            lock.unlock();
            {
                std::lock_guard gone(job.handle->mutex);
                if (job.handle->deliver)
                    job.handle->deliver(m_cluster.audit(job.afterId, job.limit, {}));
            }
            lock.lock();
        }
    }
    const Cluster& m_cluster;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Job> m_jobs;
    bool m_stop = false;
    std::thread m_thread;  // last: starts after everything above exists
};

/// WatchAudit: the entries after the client's id come from the store a page at a time as the
/// client reads them, then live ones. Live entries that arrive during the replay wait (at most
/// the stream's queue limit; past that the watcher is ended like any slow one and resumes after
/// its last id) and follow the replay in order, each exactly once.
class AuditStream final : public FeedStream<pb::AuditEntry, AuditEntry> {
public:
    AuditStream(StreamRegistry& registry, std::size_t maxQueue, StreamCounters& counters, AuditReplayer& replayer, std::uint64_t afterId)
        : FeedStream(registry, maxQueue, counters), m_replayer(replayer), m_handle(std::make_shared<AuditReplayer::Handle>()), m_after(afterId)
    {
        m_handle->deliver = [this](std::vector<AuditEntry> page) { deliverPage(std::move(page)); };
    }
    /// Live entries from the Cluster's feed (its lock held: only queue).
    void onLive(const AuditEntry& entry)
    {
        std::unique_lock lock(m_mutex);
        if (!m_replaying) {
            lock.unlock();
            pushEntry(entry);
            return;
        }
        if (entry.id <= m_after)
            return;  // the replay has it
        if (m_waiting.size() >= maxQueue()) {
            lock.unlock();
            finish({grpc::StatusCode::RESOURCE_EXHAUSTED, "audit grew by " + std::to_string(maxQueue())
                                                              + " entries during the replay; resume after the last one received"});
            return;
        }
        m_waiting.push_back(entry);
    }
    void begin(Feed<AuditEntry>::Subscription subscription)
    {
        hold(std::move(subscription));  // live from now: nothing published after this is missed
        requestPage();
    }

private:
    void pushEntry(const AuditEntry& entry)
    {
        pb::AuditEntry out;
        convert::toProto(entry, out);
        push(std::move(out));
    }
    void requestPage()
    {
        std::uint64_t after = 0;
        {
            std::lock_guard lock(m_mutex);
            if (!m_replaying || m_pageAsked)
                return;
            m_pageAsked = true;
            after = m_after;
        }
        m_replayer.request(m_handle, after, pageSize());
    }
    void deliverPage(std::vector<AuditEntry> page)
    {
        bool done = false;
        {
            std::lock_guard lock(m_mutex);
            m_pageAsked = false;
            if (!page.empty())
                m_after = page.back().id;
            done = page.size() < pageSize();
        }
        // Pushed outside the lock (a push may end the stream); live entries keep waiting until
        // the replay has caught up with them, so the order holds.
        for (const AuditEntry& e : page)
            pushEntry(e);
        if (!done)
            return;  // the next page when the client has read this one (drained)
        for (;;) {
            std::vector<AuditEntry> caughtUp;
            {
                std::lock_guard lock(m_mutex);
                for (AuditEntry& e : m_waiting)
                    if (e.id > m_after) {
                        m_after = e.id;
                        caughtUp.push_back(std::move(e));
                    }
                m_waiting.clear();
                if (caughtUp.empty()) {
                    m_replaying = false;  // live from here: onLive pushes directly
                    return;
                }
            }
            for (const AuditEntry& e : caughtUp)
                pushEntry(e);
        }
    }
    void drained() override { requestPage(); }
    /// Half the queue limit: a page and what arrives live meanwhile fit under the bound.
    std::size_t pageSize() const { return std::clamp<std::size_t>(maxQueue() / 2, 1, AuditReplayer::kMaxPage); }
    void release() override
    {
        {
            std::lock_guard gone(m_handle->mutex);  // waits out a page being delivered
            m_handle->deliver = nullptr;
        }
        FeedStream::release();
    }

    AuditReplayer& m_replayer;
    std::shared_ptr<AuditReplayer::Handle> m_handle;
    std::mutex m_mutex;
    std::uint64_t m_after;
    bool m_replaying = true;
    bool m_pageAsked = false;
    std::vector<AuditEntry> m_waiting;
};

class LiveOpsService final : public pb::LiveOps::CallbackService {
public:
    LiveOpsService(Cluster& cluster, TokenTable tokens, std::size_t streamQueue, std::shared_ptr<grpc::ChannelCredentials> peerCredentials)
        : m_cluster(cluster), m_handlers(cluster), m_tokens(std::move(tokens)), m_streamQueue(streamQueue),
          m_replayer(cluster), m_peers(cluster, std::move(peerCredentials))
    {
    }
    StreamRegistry& streams() { return m_streams; }
    const StreamCounters& counters() const { return m_counters; }

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

    /// Every unary method: authenticate (any role may call; what a role may change is the
    /// Cluster's check), then the handler.
    template <typename Request, typename Response>
    grpc::ServerUnaryReactor* unary(grpc::CallbackServerContext* context, const Request* request, Response* response,
                                    grpc::Status (RequestHandlers::*handler)(const Identity&, const Request&, Response&))
    {
        auto* reactor = context->DefaultReactor();
        Identity who;
        grpc::Status status = authorize(context, Role::Viewer, who);
        if (status.ok())
            status = (m_handlers.*handler)(who, *request, *response);
        reactor->Finish(status);
        return reactor;
    }

    grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* c, const pb::WhoAmIRequest* q, pb::WhoAmIResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::whoAmI);
    }
    grpc::ServerUnaryReactor* ListServers(grpc::CallbackServerContext* c, const pb::ListServersRequest* q, pb::ListServersResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::listServers);
    }
    /// A player method: this server first; when the player is not here and the call did not come
    /// from a peer, the fleet's other servers (FleetPeers), with the caller's own token.
    template <typename Request, typename Response>
    grpc::ServerUnaryReactor* playerCall(grpc::CallbackServerContext* context, const Request* request, Response* response,
                                         grpc::Status (RequestHandlers::*handler)(const Identity&, const Request&, Response&),
                                         void (FleetPeers::*fleetwide)(const std::string&, const Request&, Response*, FleetPeers::Done))
    {
        auto* reactor = context->DefaultReactor();
        Identity who;
        grpc::Status status = authorize(context, Role::Viewer, who);
        if (status.ok())
            status = (m_handlers.*handler)(who, *request, *response);
        if (status.error_code() != grpc::StatusCode::NOT_FOUND || request->this_server_only() || !m_cluster.fleetDirectory()
            || request->client_id() == 0) {
            reactor->Finish(status);
            return reactor;
        }
        const auto& metadata = context->client_metadata();
        const auto token = metadata.find("authorization");
        response->Clear();
        (m_peers.*fleetwide)(std::string(token->second.data(), token->second.size()), *request, response,
                             [reactor](grpc::Status s) { reactor->Finish(s); });
        return reactor;
    }

    grpc::ServerUnaryReactor* FindPlayer(grpc::CallbackServerContext* c, const pb::FindPlayerRequest* q, pb::FindPlayerResponse* r) override
    {
        return playerCall(c, q, r, &RequestHandlers::findPlayer, &FleetPeers::findPlayer);
    }
    grpc::ServerUnaryReactor* KickPlayer(grpc::CallbackServerContext* c, const pb::KickPlayerRequest* q, pb::OperationResponse* r) override
    {
        return playerCall(c, q, r, &RequestHandlers::kickPlayer, &FleetPeers::kickPlayer);
    }
    grpc::ServerUnaryReactor* MovePlayer(grpc::CallbackServerContext* c, const pb::MovePlayerRequest* q, pb::OperationResponse* r) override
    {
        return playerCall(c, q, r, &RequestHandlers::movePlayer, &FleetPeers::movePlayer);
    }
    grpc::ServerUnaryReactor* ListRegions(grpc::CallbackServerContext* c, const pb::ListRegionsRequest* q, pb::ListRegionsResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::listRegions);
    }
    grpc::ServerUnaryReactor* ListToggles(grpc::CallbackServerContext* c, const pb::ListTogglesRequest* q, pb::ListTogglesResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::listToggles);
    }
    grpc::ServerUnaryReactor* SetToggle(grpc::CallbackServerContext* c, const pb::SetToggleRequest* q, pb::SetToggleResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::setToggle);
    }
    grpc::ServerUnaryReactor* ClearToggle(grpc::CallbackServerContext* c, const pb::ClearToggleRequest* q, pb::SetToggleResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::clearToggle);
    }
    grpc::ServerUnaryReactor* DrainRegion(grpc::CallbackServerContext* c, const pb::DrainRegionRequest* q, pb::OperationResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::drainRegion);
    }
    grpc::ServerUnaryReactor* UndrainRegion(grpc::CallbackServerContext* c, const pb::UndrainRegionRequest* q, pb::OperationResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::undrainRegion);
    }
    grpc::ServerUnaryReactor* Failover(grpc::CallbackServerContext* c, const pb::FailoverRequest* q, pb::OperationResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::failover);
    }
    grpc::ServerUnaryReactor* StartDrill(grpc::CallbackServerContext* c, const pb::StartDrillRequest* q, pb::OperationResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::startDrill);
    }
    grpc::ServerUnaryReactor* CancelDrill(grpc::CallbackServerContext* c, const pb::CancelDrillRequest* q, pb::OperationResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::cancelDrill);
    }
    grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* c, const pb::ListAuditRequest* q, pb::ListAuditResponse* r) override
    {
        return unary(c, q, r, &RequestHandlers::listAudit);
    }

    /// Starts a stream, or ends it at once with the auth/argument status.
    template <typename Message, typename Event, typename Stream = FeedStream<Message, Event>, typename... Extra>
    Stream* openStream(grpc::CallbackServerContext* context, Role needed, const grpc::Status& argumentStatus, bool& ok, Extra&&... extra)
    {
        auto* stream = new Stream(m_streams, m_streamQueue, m_counters, std::forward<Extra>(extra)...);
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
        bool ok = false;
        auto* stream = openStream<pb::TelemetrySample, TelemetryRecord>(context, Role::Viewer, m_handlers.checkWatchTelemetry(*request), ok);
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
        auto* stream = openStream<pb::AuditEntry, AuditEntry, AuditStream>(context, Role::Viewer, grpc::Status::OK, ok, m_replayer,
                                                                         request->after_id());
        if (!ok)
            return stream;
        stream->begin(m_cluster.subscribeAudit([stream](const AuditEntry& entry) { stream->onLive(entry); }));
        return stream;
    }

    Cluster& m_cluster;
    RequestHandlers m_handlers;
    TokenTable m_tokens;
    std::size_t m_streamQueue;
    StreamRegistry m_streams;
    StreamCounters m_counters;
    AuditReplayer m_replayer;
    FleetPeers m_peers;
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
    impl->service = std::make_unique<LiveOpsService>(cluster, std::move(tokens), options.streamQueueLimit, options.peerCredentials);

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
    // Requests are a few names and a reason: anything bigger is refused (RESOURCE_EXHAUSTED)
    // before a handler sees it. Keepalive finds peers that vanished without closing.
    builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 15000);
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

ApiServer::Stats ApiServer::stats() const
{
    const StreamCounters& c = m_impl->service->counters();
    return {c.opened.load(), c.slowClosed.load(), c.queuedHighWater.load()};
}

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
