#include "handlers.h"

#include "convert.h"

#include <algorithm>

namespace lv::liveops {

namespace {

using convert::fromProto;
using convert::toProto;

grpc::Status toStatus(const OperationResult& r)
{
    switch (r.outcome) {
    case Outcome::Ok: return grpc::Status::OK;
    case Outcome::InvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, r.message};
    case Outcome::NotFound: return {grpc::StatusCode::NOT_FOUND, r.message};
    case Outcome::PermissionDenied: return {grpc::StatusCode::PERMISSION_DENIED, r.message};
    case Outcome::Aborted: return {grpc::StatusCode::ABORTED, r.message};
    case Outcome::FailedPrecondition: return {grpc::StatusCode::FAILED_PRECONDITION, r.message};
    case Outcome::Unavailable: return {grpc::StatusCode::UNAVAILABLE, r.message};
    case Outcome::Internal: break;
    }
    return {grpc::StatusCode::INTERNAL, r.message};
}

/// An operation's status, with its audit entry (if it wrote one) in the response.
grpc::Status finish(const OperationResult& result, pb::OperationResponse& response)
{
    if (result.audit)
        toProto(*result.audit, *response.mutable_audit());
    return toStatus(result);
}

grpc::Status checkReason(const std::string& reason)
{
    if (reason.size() > kMaxReasonBytes)
        return {grpc::StatusCode::INVALID_ARGUMENT, "reason is " + std::to_string(reason.size()) + " bytes; at most "
                                                        + std::to_string(kMaxReasonBytes) + " are kept"};
    return grpc::Status::OK;
}

} // namespace

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
    toProto(t.effective, d.type, *out.mutable_effective_value());
    out.set_effective_source(static_cast<pb::ToggleSource>(t.source));
}

void toProto(const TelemetryRecord& r, pb::TelemetrySample& out)
{
    const RegionSample& s = r.sample;
    out.set_sequence(r.sequence);
    out.set_region(s.region);
    convert::setTime(*out.mutable_time(), r.timeMs);
    out.set_rtt_p50_ms(s.rttP50Ms);
    out.set_rtt_p95_ms(s.rttP95Ms);
    out.set_rtt_p99_ms(s.rttP99Ms);
    out.set_loss_percent(s.lossPercent);
    out.set_players(static_cast<std::uint32_t>(s.players));
    out.set_bandwidth_in_kbps(s.kbpsIn);
    out.set_bandwidth_out_kbps(s.kbpsOut);
    out.set_tick_time_p99_ms(s.tickP99Ms);
    out.set_client_reported_corrections(s.clientReportedCorrections);
    out.set_inputs_dropped(s.inputsDropped);
    out.set_shots_clamped(s.shotsClamped);
    out.set_errors(s.errors);
    out.set_status(static_cast<pb::RegionStatus>(r.state));
    convert::toProto(s.rttUs, *out.mutable_rtt_us());
    convert::toProto(s.tickUs, *out.mutable_tick_time_us());
    out.set_server_id(r.serverId);
}

grpc::Status RequestHandlers::whoAmI(const Identity& who, const pb::WhoAmIRequest&, pb::WhoAmIResponse& response)
{
    response.set_name(who.name);
    response.set_role(static_cast<pb::Role>(who.role));
    return grpc::Status::OK;
}

grpc::Status RequestHandlers::listServers(const Identity&, const pb::ListServersRequest&, pb::ListServersResponse& response)
{
    std::string error;
    const auto servers = m_cluster.servers(error);
    if (!servers)
        return {grpc::StatusCode::UNAVAILABLE, "the fleet's servers cannot be listed: " + error};
    if (const FleetDirectory* fleet = m_cluster.fleetDirectory()) {
        response.set_fleet(fleet->fleetName());
        response.set_store_problem(fleet->storeProblem());
    }
    for (const ServerInfo& s : *servers)
        convert::toProto(s, *response.add_servers());
    return grpc::Status::OK;
}

grpc::Status RequestHandlers::listRegions(const Identity&, const pb::ListRegionsRequest&, pb::ListRegionsResponse& response)
{
    for (const RegionInfo& r : m_cluster.regions())
        convert::toProto(r, *response.add_regions());
    return grpc::Status::OK;
}

grpc::Status RequestHandlers::listToggles(const Identity&, const pb::ListTogglesRequest& request, pb::ListTogglesResponse& response)
{
    const auto names = m_cluster.regionNames();
    if (!request.scope().empty() && request.scope() != "*" && request.scope() != m_cluster.serverScope()
        && std::find(names.begin(), names.end(), request.scope()) == names.end())
        return {grpc::StatusCode::NOT_FOUND, "no region named '" + request.scope() + "'"};
    for (const ToggleState& t : m_cluster.toggles(request.scope()))
        toProto(t, *response.add_toggles());
    return grpc::Status::OK;
}

grpc::Status RequestHandlers::setToggle(const Identity& who, const pb::SetToggleRequest& request, pb::SetToggleResponse& response)
{
    auto value = fromProto(request.value());
    if (!value)
        return {grpc::StatusCode::INVALID_ARGUMENT, "value is required"};
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    const OperationResult result = m_cluster.setToggle(who, request.key(), request.scope(), *value, request.expected_version(), request.reason());
    if (result.toggle)
        toProto(*result.toggle, *response.mutable_toggle());
    if (result.audit)
        toProto(*result.audit, *response.mutable_audit());
    return toStatus(result);
}

grpc::Status RequestHandlers::clearToggle(const Identity& who, const pb::ClearToggleRequest& request, pb::SetToggleResponse& response)
{
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    const OperationResult result = m_cluster.clearToggle(who, request.key(), request.scope(), request.expected_version(), request.reason());
    if (result.toggle)
        toProto(*result.toggle, *response.mutable_toggle());
    if (result.audit)
        toProto(*result.audit, *response.mutable_audit());
    return toStatus(result);
}

grpc::Status RequestHandlers::drainRegion(const Identity& who, const pb::DrainRegionRequest& request, pb::OperationResponse& response)
{
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    if (!request.server_id().empty()) {
        if (!request.region().empty())
            return {grpc::StatusCode::INVALID_ARGUMENT, "name a region or a server_id, not both"};
        return finish(m_cluster.drainServer(who, request.server_id(), request.failover_region(), request.reason()), response);
    }
    return finish(m_cluster.drain(who, request.region(), request.failover_region(), request.reason()), response);
}

grpc::Status RequestHandlers::undrainRegion(const Identity& who, const pb::UndrainRegionRequest& request, pb::OperationResponse& response)
{
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    if (!request.server_id().empty()) {
        if (!request.region().empty())
            return {grpc::StatusCode::INVALID_ARGUMENT, "name a region or a server_id, not both"};
        return finish(m_cluster.undrainServer(who, request.server_id(), request.reason()), response);
    }
    return finish(m_cluster.undrain(who, request.region(), request.reason()), response);
}

grpc::Status RequestHandlers::failover(const Identity& who, const pb::FailoverRequest& request, pb::OperationResponse& response)
{
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    if (!request.from_server_id().empty()) {
        if (!request.from_region().empty())
            return {grpc::StatusCode::INVALID_ARGUMENT, "name from_region or from_server_id, not both"};
        return finish(m_cluster.failoverServer(who, request.from_server_id(), request.to_region(), request.reason()), response);
    }
    return finish(m_cluster.failover(who, request.from_region(), request.to_region(), request.reason()), response);
}

grpc::Status RequestHandlers::startDrill(const Identity& who, const pb::StartDrillRequest& request, pb::OperationResponse& response)
{
    if (request.kind() == pb::DRILL_KIND_UNSPECIFIED || !pb::DrillKind_IsValid(request.kind()))
        return {grpc::StatusCode::INVALID_ARGUMENT, "kind must be LATENCY, LOSS or OUTAGE"};
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    return finish(m_cluster.startDrill(who, request.region(), static_cast<DrillKind>(request.kind()), request.latency_ms(),
                                       request.loss_percent(), std::chrono::seconds(request.duration_s()), request.reason()),
                  response);
}

grpc::Status RequestHandlers::cancelDrill(const Identity& who, const pb::CancelDrillRequest& request, pb::OperationResponse& response)
{
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    return finish(m_cluster.cancelDrill(who, request.region(), request.reason()), response);
}

grpc::Status RequestHandlers::listAudit(const Identity&, const pb::ListAuditRequest& request, pb::ListAuditResponse& response)
{
    if (request.limit() > 1000)
        return {grpc::StatusCode::INVALID_ARGUMENT, "limit must be within 1..1000 (0 = 100)"};
    const std::size_t limit = request.limit() == 0 ? 100 : request.limit();
    for (const AuditEntry& e : m_cluster.audit(request.after_id(), limit, request.target()))
        toProto(e, *response.add_entries());
    return grpc::Status::OK;
}

grpc::Status RequestHandlers::findPlayer(const Identity&, const pb::FindPlayerRequest& request, pb::FindPlayerResponse& response)
{
    if (request.client_id() == 0)
        return {grpc::StatusCode::INVALID_ARGUMENT, "client_id is required"};
    response.set_servers_asked(1);
    auto found = m_cluster.findPlayer(request.client_id());
    if (!found)
        return {grpc::StatusCode::NOT_FOUND, "client " + std::to_string(request.client_id()) + " is not connected to " + m_cluster.serverId()};
    pb::PlayerLocation& out = *response.mutable_player();
    out.set_client_id(request.client_id());
    out.set_server_id(m_cluster.serverId());
    out.set_region(found->region);
    out.set_address(found->location.address);
    out.set_rtt_ms(found->location.rttMs);
    out.set_loss_percent(found->location.lossPercent);
    convert::setTime(*out.mutable_connected_since(), found->location.connectedUnixMs);
    return grpc::Status::OK;
}

grpc::Status RequestHandlers::kickPlayer(const Identity& who, const pb::KickPlayerRequest& request, pb::OperationResponse& response)
{
    if (request.client_id() == 0)
        return {grpc::StatusCode::INVALID_ARGUMENT, "client_id is required"};
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    return finish(m_cluster.kickPlayer(who, request.client_id(), request.reason()), response);
}

grpc::Status RequestHandlers::movePlayer(const Identity& who, const pb::MovePlayerRequest& request, pb::OperationResponse& response)
{
    if (request.client_id() == 0)
        return {grpc::StatusCode::INVALID_ARGUMENT, "client_id is required"};
    if (auto status = checkReason(request.reason()); !status.ok())
        return status;
    return finish(m_cluster.movePlayer(who, request.client_id(), request.to_region(), request.to_server(), request.reason()), response);
}

grpc::Status RequestHandlers::checkWatchTelemetry(const pb::WatchTelemetryRequest& request) const
{
    const auto names = m_cluster.regionNames();
    for (const std::string& r : request.regions())
        if (std::find(names.begin(), names.end(), r) == names.end())
            return {grpc::StatusCode::NOT_FOUND, "no region named '" + r + "'"};
    if (request.interval_ms() != 0 && (request.interval_ms() < 100 || request.interval_ms() > 60000))
        return {grpc::StatusCode::INVALID_ARGUMENT, "interval_ms must be 0 or within 100..60000"};
    return grpc::Status::OK;
}

} // namespace lv::liveops
