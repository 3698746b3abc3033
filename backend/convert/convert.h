#pragma once

// Plain structs <-> liveops.v1 messages, shared by the server (apiserver.cpp) and the client
// library. Internal to backend/: nothing outside it sees proto types.
#include "liveops/cluster.h"
#include "liveops/store.h"
#include "liveops/toggles.h"
#include "liveops/v1/liveops.pb.h"

#include <optional>

namespace lv::liveops::convert {

void setTime(google::protobuf::Timestamp& out, std::int64_t unixMs);
std::int64_t unixMs(const google::protobuf::Timestamp& t);

void toProto(const AuditEntry& e, ::liveops::v1::AuditEntry& out);
AuditEntry fromProto(const ::liveops::v1::AuditEntry& e);

/// Strings go as region_value for region toggles, enum_value otherwise.
void toProto(const ToggleValue& v, ToggleType type, ::liveops::v1::ToggleValue& out);
/// Empty when the message carries no value.
std::optional<ToggleValue> fromProto(const ::liveops::v1::ToggleValue& v);

void toProto(const RegionInfo& r, ::liveops::v1::Region& out);
void toProto(const ServerInfo& s, ::liveops::v1::Server& out);
ServerInfo fromProto(const ::liveops::v1::Server& s);

void toProto(const HistogramBuckets& h, ::liveops::v1::Histogram& out);
/// Nullopt with `error` when the lists differ in length (the buckets themselves are checked by
/// LatencyHistogram::fromBuckets).
std::optional<HistogramBuckets> fromProto(const ::liveops::v1::Histogram& h, std::string& error);

/// Out-of-range enum numbers from a newer peer become the nearest known meaning.
Role roleOf(int value);

} // namespace lv::liveops::convert
