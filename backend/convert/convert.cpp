#include "convert.h"

#include <algorithm>

namespace lv::liveops::convert {

namespace pb = ::liveops::v1;

void setTime(google::protobuf::Timestamp& out, std::int64_t ms)
{
    out.set_seconds(ms / 1000);
    out.set_nanos(static_cast<std::int32_t>(ms % 1000) * 1'000'000);
}

std::int64_t unixMs(const google::protobuf::Timestamp& t) { return t.seconds() * 1000 + t.nanos() / 1'000'000; }

Role roleOf(int value) { return static_cast<Role>(std::clamp(value, 1, 4)); }

void toProto(const AuditEntry& e, pb::AuditEntry& out)
{
    out.set_id(e.id);
    setTime(*out.mutable_time(), e.timeMs);
    out.set_actor(e.actor);
    out.set_role(static_cast<pb::Role>(e.role));
    out.set_action(e.action);
    out.set_target(e.target);
    out.set_old_value(e.oldValue);
    out.set_new_value(e.newValue);
    out.set_reason(e.reason);
}

AuditEntry fromProto(const pb::AuditEntry& e)
{
    AuditEntry out;
    out.id = e.id();
    out.timeMs = unixMs(e.time());
    out.actor = e.actor();
    out.role = roleOf(e.role());
    out.action = e.action();
    out.target = e.target();
    out.oldValue = e.old_value();
    out.newValue = e.new_value();
    out.reason = e.reason();
    return out;
}

void toProto(const ToggleValue& v, ToggleType type, pb::ToggleValue& out)
{
    if (const bool* b = std::get_if<bool>(&v))
        out.set_bool_value(*b);
    else if (const std::int64_t* i = std::get_if<std::int64_t>(&v))
        out.set_int_value(*i);
    else if (type == ToggleType::Region)
        out.set_region_value(std::get<std::string>(v));
    else
        out.set_enum_value(std::get<std::string>(v));
}

std::optional<ToggleValue> fromProto(const pb::ToggleValue& v)
{
    switch (v.kind_case()) {
    case pb::ToggleValue::kBoolValue: return ToggleValue{v.bool_value()};
    case pb::ToggleValue::kIntValue: return ToggleValue{static_cast<std::int64_t>(v.int_value())};
    case pb::ToggleValue::kEnumValue: return ToggleValue{v.enum_value()};
    case pb::ToggleValue::kRegionValue: return ToggleValue{v.region_value()};
    case pb::ToggleValue::KIND_NOT_SET: break;
    }
    return std::nullopt;
}

void toProto(const RegionInfo& r, pb::Region& out)
{
    out.set_name(r.name);
    out.set_endpoint(r.endpoint);
    out.set_status(static_cast<pb::RegionStatus>(r.state));
    out.set_players(static_cast<std::uint32_t>(r.players));
    out.set_capacity(static_cast<std::uint32_t>(r.capacity));
    out.set_active_drill(r.activeDrill);
}

void toProto(const ServerInfo& s, pb::Server& out)
{
    out.set_id(s.id);
    out.set_api_endpoint(s.apiEndpoint);
    for (const RegionInfo& r : s.regions)
        toProto(r, *out.add_regions());
    out.set_players(static_cast<std::uint32_t>(s.players));
    out.set_capacity(static_cast<std::uint32_t>(s.capacity));
    out.set_version(s.version);
    out.set_state(static_cast<pb::ServerState>(s.state));
    setTime(*out.mutable_started(), s.startedMs);
    setTime(*out.mutable_updated(), s.updatedMs);
}

ServerInfo fromProto(const pb::Server& s)
{
    ServerInfo out;
    out.id = s.id();
    out.apiEndpoint = s.api_endpoint();
    for (const pb::Region& r : s.regions()) {
        const int status = r.status() >= 1 && r.status() <= 4 ? r.status() : 1;
        out.regions.push_back(RegionInfo{r.name(), r.endpoint(), static_cast<RegionState>(status), r.players(), r.capacity(), r.active_drill()});
    }
    out.players = s.players();
    out.capacity = s.capacity();
    out.version = s.version();
    out.state = s.state() >= 1 && s.state() <= 3 ? static_cast<ServerState>(s.state()) : ServerState::Starting;
    out.startedMs = unixMs(s.started());
    out.updatedMs = unixMs(s.updated());
    return out;
}

void toProto(const HistogramBuckets& h, ::liveops::v1::Histogram& out)
{
    out.mutable_bucket()->Reserve(static_cast<int>(h.buckets.size()));
    out.mutable_count()->Reserve(static_cast<int>(h.buckets.size()));
    for (const auto& [index, count] : h.buckets) {
        out.add_bucket(index);
        out.add_count(count);
    }
    out.set_sum(h.sum);
    out.set_min(h.min);
    out.set_max(h.max);
}

std::optional<HistogramBuckets> fromProto(const ::liveops::v1::Histogram& h, std::string& error)
{
    if (h.bucket_size() != h.count_size()) {
        error = std::to_string(h.bucket_size()) + " bucket indices but " + std::to_string(h.count_size()) + " counts";
        return std::nullopt;
    }
    HistogramBuckets out;
    out.buckets.reserve(static_cast<std::size_t>(h.bucket_size()));
    for (int i = 0; i < h.bucket_size(); ++i)
        out.buckets.emplace_back(h.bucket(i), h.count(i));
    out.sum = h.sum();
    out.min = h.min();
    out.max = h.max();
    return out;
}

} // namespace lv::liveops::convert
