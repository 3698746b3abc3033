#pragma once

// The API's calls to the other servers of its fleet: support's player lookup asks every server
// at once, and a kick or move is carried to the server the player is on. Asynchronous (gRPC's
// callback API): no API thread waits on a peer. The caller's bearer token travels with the call
// (every server of a fleet reads the same token file), so a peer checks the caller's role itself.
#include "liveops/cluster.h"
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace lv::liveops {

class FleetPeers {
public:
    using Done = std::function<void(grpc::Status)>;

    /// `credentials` reach the peers' APIs (null: plaintext). At most `maxInFlight` lookups run at
    /// once (each asks every server): more are refused with RESOURCE_EXHAUSTED, so a caller
    /// cannot make the fleet do unbounded work.
    FleetPeers(const Cluster& cluster, std::shared_ptr<grpc::ChannelCredentials> credentials, std::size_t maxInFlight = 8,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

    /// Asks every other server of the fleet for `clientId`; fills `response` and calls `done`
    /// (OK, NOT_FOUND naming how many were asked and which did not answer, UNAVAILABLE,
    /// RESOURCE_EXHAUSTED). `done` runs on a gRPC thread.
    void findPlayer(const std::string& authorization, const ::liveops::v1::FindPlayerRequest& request, ::liveops::v1::FindPlayerResponse* response,
                    Done done);
    /// Finds the player, then asks its server to kick it (this_server_only).
    void kickPlayer(const std::string& authorization, const ::liveops::v1::KickPlayerRequest& request,
                    ::liveops::v1::OperationResponse* response, Done done);
    /// Finds the player, then asks its server to move it (this_server_only).
    void movePlayer(const std::string& authorization, const ::liveops::v1::MovePlayerRequest& request,
                    ::liveops::v1::OperationResponse* response, Done done);

private:
    struct Lookup;
    std::unique_ptr<::liveops::v1::LiveOps::Stub> stubFor(const std::string& endpoint);
    /// Finds the player, then runs `forward` with its server's API endpoint (or ends with `done`).
    void forwardToOwner(const std::string& authorization, std::uint64_t clientId,
                        std::function<void(const std::string& endpoint)> forward, Done done);
    template <typename Request>
    void forward(const std::string& endpoint, const std::string& authorization, Request request, ::liveops::v1::OperationResponse* response,
                 Done done);

    const Cluster& m_cluster;
    std::shared_ptr<grpc::ChannelCredentials> m_credentials;
    const std::size_t m_maxInFlight;
    const std::chrono::milliseconds m_timeout;
    std::shared_ptr<std::atomic<std::size_t>> m_inFlight = std::make_shared<std::atomic<std::size_t>>(0);
    std::mutex m_mutex;
    std::map<std::string, std::shared_ptr<grpc::Channel>> m_channels;  // by API endpoint; pruned to the fleet's servers
};

} // namespace lv::liveops
