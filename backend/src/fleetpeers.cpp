#include "fleetpeers.h"

#include <set>
#include <vector>

namespace lv::liveops {

namespace pb = ::liveops::v1;

/// One lookup across the fleet: a call per peer, the first to find the player wins and the rest
/// are cancelled; it ends once every call has returned (the last callback frees it).
struct FleetPeers::Lookup {
    struct Call {
        std::string serverId;
        std::string endpoint;
        grpc::ClientContext context;
        pb::FindPlayerRequest request;
        pb::FindPlayerResponse response;
        std::unique_ptr<pb::LiveOps::Stub> stub;
    };
    std::mutex mutex;
    std::vector<std::unique_ptr<Call>> calls;
    std::size_t remaining = 0;
    bool answered = false;
    std::vector<std::string> unreachable;
    std::uint64_t clientId = 0;
    pb::FindPlayerResponse* response = nullptr;
    Done done;
    std::shared_ptr<std::atomic<std::size_t>> inFlight;  // shared: a lookup may outlive the service by its deadline
    /// The last callback has returned: the lookup's place in the bound is free.
    ~Lookup() { inFlight->fetch_sub(1); }
};

FleetPeers::FleetPeers(const Cluster& cluster, std::shared_ptr<grpc::ChannelCredentials> credentials, std::size_t maxInFlight,
                       std::chrono::milliseconds timeout)
    : m_cluster(cluster), m_credentials(credentials ? std::move(credentials) : grpc::InsecureChannelCredentials()),
      m_maxInFlight(maxInFlight), m_timeout(timeout)
{
}

std::unique_ptr<pb::LiveOps::Stub> FleetPeers::stubFor(const std::string& endpoint)
{
    std::lock_guard lock(m_mutex);
    auto& channel = m_channels[endpoint];
    if (!channel)
        channel = grpc::CreateChannel(endpoint, m_credentials);
    return pb::LiveOps::NewStub(channel);
}

void FleetPeers::findPlayer(const std::string& authorization, const pb::FindPlayerRequest& request, pb::FindPlayerResponse* response, Done done)
{
    const std::uint64_t clientId = request.client_id();
    std::string error;
    auto servers = m_cluster.servers(error);
    if (!servers) {
        done({grpc::StatusCode::UNAVAILABLE, "the fleet's servers cannot be listed: " + error});
        return;
    }
    if (m_inFlight->fetch_add(1) >= m_maxInFlight) {
        m_inFlight->fetch_sub(1);
        done({grpc::StatusCode::RESOURCE_EXHAUSTED,
              std::to_string(m_maxInFlight) + " player lookups are already asking the fleet; try again in a moment"});
        return;
    }
    {
        // Channels to servers that left are closed: the cache holds the fleet as it is.
        std::lock_guard lock(m_mutex);
        std::set<std::string> live;
        for (const ServerInfo& s : *servers)
            live.insert(s.apiEndpoint);
        std::erase_if(m_channels, [&](const auto& entry) { return !live.count(entry.first); });
    }
    auto lookup = std::make_shared<Lookup>();
    lookup->clientId = clientId;
    lookup->response = response;
    lookup->done = std::move(done);
    lookup->inFlight = m_inFlight;
    const std::string self = m_cluster.serverId();
    for (const ServerInfo& s : *servers) {
        if (s.id == self || s.apiEndpoint.empty())
            continue;
        auto call = std::make_unique<Lookup::Call>();
        call->serverId = s.id;
        call->endpoint = s.apiEndpoint;
        call->context.set_deadline(std::chrono::system_clock::now() + m_timeout);
        call->context.AddMetadata("authorization", authorization);
        call->request.set_client_id(clientId);
        call->request.set_this_server_only(true);
        call->stub = stubFor(s.apiEndpoint);
        lookup->calls.push_back(std::move(call));
    }
    const std::size_t asked = lookup->calls.size() + 1;
    response->set_servers_asked(static_cast<std::uint32_t>(asked));
    auto finishIfLast = [lookup, asked](std::unique_lock<std::mutex>& lock) {
        if (--lookup->remaining != 0 || lookup->answered)
            return;
        lookup->answered = true;
        std::string message = "client " + std::to_string(lookup->clientId) + " is not connected to any of the fleet's "
                              + std::to_string(asked) + " servers";
        if (!lookup->unreachable.empty()) {
            message += "; " + std::to_string(lookup->unreachable.size()) + " did not answer:";
            for (const std::string& id : lookup->unreachable) {
                message += " " + id;
                lookup->response->add_servers_unreachable(id);
            }
        }
        lock.unlock();
        lookup->done({grpc::StatusCode::NOT_FOUND, message});
    };
    // Set before any call starts (a callback may run at once, even inline); + 1 for this
    // function, until every call is started.
    lookup->remaining = lookup->calls.size() + 1;
    for (std::size_t i = 0; i < lookup->calls.size(); ++i) {
        Lookup::Call& call = *lookup->calls[i];
        call.stub->async()->FindPlayer(&call.context, &call.request, &call.response, [lookup, i, finishIfLast](grpc::Status status) {
            std::unique_lock lock(lookup->mutex);
            Lookup::Call& mine = *lookup->calls[i];
            if (status.ok() && !lookup->answered) {
                lookup->answered = true;
                pb::PlayerLocation& player = *lookup->response->mutable_player();
                player = mine.response.player();
                player.set_api_endpoint(mine.endpoint);
                for (auto& other : lookup->calls)
                    if (other.get() != &mine)
                        other->context.TryCancel();
                --lookup->remaining;
                lock.unlock();
                lookup->done(grpc::Status::OK);
            } else {
                if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND && !lookup->answered)
                    lookup->unreachable.push_back(mine.serverId);
                finishIfLast(lock);
            }
        });
    }
    std::unique_lock lock(lookup->mutex);
    finishIfLast(lock);
}

void FleetPeers::forwardToOwner(const std::string& authorization, std::uint64_t clientId,
                                std::function<void(const std::string& endpoint)> forward, Done done)
{
    auto found = std::make_shared<pb::FindPlayerResponse>();
    pb::FindPlayerRequest find;
    find.set_client_id(clientId);
    findPlayer(authorization, find, found.get(), [found, forward = std::move(forward), done](grpc::Status status) {
        if (!status.ok())
            done(status);
        else
            forward(found->player().api_endpoint());
    });
}

template <typename Request>
void FleetPeers::forward(const std::string& endpoint, const std::string& authorization, Request request, pb::OperationResponse* response,
                         Done done)
{
    struct Call {
        grpc::ClientContext context;
        Request request;
        std::unique_ptr<pb::LiveOps::Stub> stub;
    };
    auto call = std::make_shared<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + m_timeout);
    call->context.AddMetadata("authorization", authorization);
    call->request = std::move(request);
    call->request.set_this_server_only(true);
    call->stub = stubFor(endpoint);
    auto finished = [call, done = std::move(done)](grpc::Status status) { done(status); };
    if constexpr (std::is_same_v<Request, pb::KickPlayerRequest>)
        call->stub->async()->KickPlayer(&call->context, &call->request, response, std::move(finished));
    else
        call->stub->async()->MovePlayer(&call->context, &call->request, response, std::move(finished));
}

void FleetPeers::kickPlayer(const std::string& authorization, const pb::KickPlayerRequest& request, pb::OperationResponse* response, Done done)
{
    forwardToOwner(
        authorization, request.client_id(),
        [this, authorization, request, response, done](const std::string& endpoint) { forward(endpoint, authorization, request, response, done); },
        done);
}

void FleetPeers::movePlayer(const std::string& authorization, const pb::MovePlayerRequest& request, pb::OperationResponse* response, Done done)
{
    forwardToOwner(
        authorization, request.client_id(),
        [this, authorization, request, response, done](const std::string& endpoint) { forward(endpoint, authorization, request, response, done); },
        done);
}

} // namespace lv::liveops
