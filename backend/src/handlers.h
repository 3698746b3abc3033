#pragma once

// What each liveops.v1 method does once the caller is known: validate the request, act on the
// Cluster, fill the response, and say how it ended as a gRPC status. No transport here: the
// ApiServer authenticates and carries the call; the fuzz harness calls these directly.
#include "liveops/cluster.h"
#include "liveops/v1/liveops.pb.h"

#include <grpcpp/support/status.h>

#include <cstddef>

namespace lv::liveops {

namespace pb = ::liveops::v1;

/// Longest free text (a change's reason) a request may carry: it lands in the audit forever.
inline constexpr std::size_t kMaxReasonBytes = 1024;
/// Largest request syncd accepts, in bytes (every request is a few names and a reason).
inline constexpr int kMaxRequestBytes = 64 * 1024;

void toProto(const TelemetryRecord& r, pb::TelemetrySample& out);
void toProto(const ToggleState& t, pb::Toggle& out);

class RequestHandlers {
public:
    explicit RequestHandlers(Cluster& cluster) : m_cluster(cluster) {}

    grpc::Status whoAmI(const Identity& who, const pb::WhoAmIRequest& request, pb::WhoAmIResponse& response);
    grpc::Status listServers(const Identity& who, const pb::ListServersRequest& request, pb::ListServersResponse& response);
    grpc::Status listRegions(const Identity& who, const pb::ListRegionsRequest& request, pb::ListRegionsResponse& response);
    grpc::Status listToggles(const Identity& who, const pb::ListTogglesRequest& request, pb::ListTogglesResponse& response);
    grpc::Status setToggle(const Identity& who, const pb::SetToggleRequest& request, pb::SetToggleResponse& response);
    grpc::Status clearToggle(const Identity& who, const pb::ClearToggleRequest& request, pb::SetToggleResponse& response);
    grpc::Status drainRegion(const Identity& who, const pb::DrainRegionRequest& request, pb::OperationResponse& response);
    grpc::Status undrainRegion(const Identity& who, const pb::UndrainRegionRequest& request, pb::OperationResponse& response);
    grpc::Status failover(const Identity& who, const pb::FailoverRequest& request, pb::OperationResponse& response);
    grpc::Status startDrill(const Identity& who, const pb::StartDrillRequest& request, pb::OperationResponse& response);
    grpc::Status cancelDrill(const Identity& who, const pb::CancelDrillRequest& request, pb::OperationResponse& response);
    grpc::Status listAudit(const Identity& who, const pb::ListAuditRequest& request, pb::ListAuditResponse& response);
    /// This server's part of the player methods: NOT_FOUND when the player is not connected
    /// here (the service then asks the fleet's other servers, unless this_server_only).
    grpc::Status findPlayer(const Identity& who, const pb::FindPlayerRequest& request, pb::FindPlayerResponse& response);
    grpc::Status kickPlayer(const Identity& who, const pb::KickPlayerRequest& request, pb::OperationResponse& response);
    grpc::Status movePlayer(const Identity& who, const pb::MovePlayerRequest& request, pb::OperationResponse& response);

    /// A watch's arguments, checked before the stream opens.
    grpc::Status checkWatchTelemetry(const pb::WatchTelemetryRequest& request) const;

private:
    Cluster& m_cluster;
};

} // namespace lv::liveops
