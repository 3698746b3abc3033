#include "liveops/fleetmember.h"

#include "convert.h"

#include <algorithm>
#include <chrono>

namespace lv::liveops {

namespace {
namespace pb = ::liveops::v1;

std::int64_t nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
} // namespace

std::unique_ptr<FleetMember> FleetMember::join(std::shared_ptr<EtcdClient> client, FleetMemberConfig config, Snapshot snapshot,
                                               std::string& error)
{
    if (config.serverId.empty() || config.serverId.find('/') != std::string::npos) {
        error = "the server id must be non-empty and contain no '/': '" + config.serverId + "'";
        return nullptr;
    }
    config.ttlSeconds = std::clamp<std::int64_t>(config.ttlSeconds, 2, 300);
    std::unique_ptr<FleetMember> member(new FleetMember(std::move(client), std::move(config), std::move(snapshot)));
    member->m_startedMs = nowMs();
    grpc::Status status = member->grant();
    if (status.ok())
        status = member->putRecord();
    if (!status.ok()) {
        error = describeEtcdStatus(status);
        return nullptr;
    }
    member->refreshKnown();
    member->m_thread = std::thread([m = member.get()] { m->loop(); });
    return member;
}

FleetMember::~FleetMember()
{
    leave();
}

grpc::Status FleetMember::grant()
{
    etcdserverpb::LeaseGrantResponse response;
    grpc::Status status = m_client->leaseGrant(m_config.ttlSeconds, response);
    if (status.ok() && !response.error().empty())
        status = grpc::Status(grpc::StatusCode::UNKNOWN, response.error());
    if (status.ok()) {
        m_lease = response.id();
        m_lastRecord.clear();  // a new lease: the record must be put again under it
    }
    return status;
}

pb::Server FleetMember::recordNow() const
{
    ServerInfo self = m_snapshot();
    self.id = m_config.serverId;
    self.startedMs = m_startedMs;
    pb::Server record;
    convert::toProto(self, record);
    record.clear_updated();  // what the server is, without when it said so
    return record;
}

grpc::Status FleetMember::putRecord()
{
    pb::Server record = recordNow();
    const std::string withoutTime = record.SerializeAsString();
    convert::setTime(*record.mutable_updated(), nowMs());
    etcdserverpb::PutRequest request;
    request.set_key("/" + m_config.fleet + "/servers/" + m_config.serverId);
    request.set_value(record.SerializeAsString());
    request.set_lease(m_lease);
    etcdserverpb::PutResponse response;
    grpc::Status status = m_client->put(request, response);
    if (status.ok())
        m_lastRecord = withoutTime;
    return status;
}

void FleetMember::refresh()
{
    {
        std::lock_guard lock(m_mutex);
        m_refreshNow = true;
    }
    m_wake.notify_all();
}

void FleetMember::loop()
{
    const auto period = std::chrono::milliseconds(m_config.ttlSeconds * 1000 / 3);
    auto nextRecord = std::chrono::steady_clock::now();
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        m_wake.wait_for(lock, std::min<std::chrono::milliseconds>(period, std::chrono::milliseconds(1000)),
                        [this] { return m_stop || m_refreshNow; });
        if (m_stop)
            break;
        const bool asked = m_refreshNow;
        m_refreshNow = false;
        lock.unlock();
        std::int64_t ttlLeft = 0;
        grpc::Status status = m_client->leaseKeepAlive(m_lease, ttlLeft);
        if (status.ok() && ttlLeft <= 0)
            status = grant();  // it expired while the store was away: a new lease, the record again
        noteStore(status);
        if (status.ok()) {
            // The record says what the server is: put it when that changed (and every few
            // periods, so `updated` tells a reader how fresh it is).
            const auto now = std::chrono::steady_clock::now();
            if (asked || recordNow().SerializeAsString() != m_lastRecord || now >= nextRecord) {
                if (putRecord().ok())
                    nextRecord = now + 5 * period;
            }
        }
        refreshKnown();
        lock.lock();
    }
}

void FleetMember::leave()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_stop)
            return;
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    if (m_lease != 0)
        m_client->leaseRevoke(m_lease);  // best effort: otherwise the TTL takes it
}

void FleetMember::noteStore(const grpc::Status& status) const
{
    std::lock_guard lock(m_problemMutex);
    m_storeProblem = status.ok() ? std::string() : describeEtcdStatus(status);
}

void FleetMember::refreshKnown()
{
    std::string error;
    auto servers = this->servers(error);
    if (!servers)
        return;  // keep what was known
    std::string bytes;
    for (const ServerInfo& s : *servers) {
        pb::Server record;
        convert::toProto(s, record);
        record.clear_updated();
        bytes += record.SerializeAsString();
    }
    std::lock_guard lock(m_knownMutex);
    if (bytes == m_knownBytes)
        return;
    m_knownBytes = std::move(bytes);
    m_known = std::move(*servers);
    m_knownVersion.fetch_add(1);
}

std::vector<ServerInfo> FleetMember::known() const
{
    std::lock_guard lock(m_knownMutex);
    return m_known;
}

std::uint64_t FleetMember::knownVersion() const { return m_knownVersion.load(); }

std::string FleetMember::storeProblem() const
{
    std::lock_guard lock(m_problemMutex);
    return m_storeProblem;
}

std::optional<std::vector<ServerInfo>> FleetMember::servers(std::string& error) const
{
    const std::string prefix = "/" + m_config.fleet + "/servers/";
    etcdserverpb::RangeRequest request;
    request.set_key(prefix);
    std::string end = prefix;
    end.back() = static_cast<char>(end.back() + 1);
    request.set_range_end(end);
    etcdserverpb::RangeResponse response;
    grpc::Status status = m_client->range(request, response);
    if (!status.ok() && etcdUnavailable(status)) {
        noteStore(status);
        request.set_serializable(true);  // no quorum: what this member last knew is better than nothing
        response.Clear();
        status = m_client->range(request, response);
    }
    if (!status.ok()) {
        error = describeEtcdStatus(status);
        return std::nullopt;
    }
    std::vector<ServerInfo> out;
    for (const mvccpb::KeyValue& kv : response.kvs()) {
        pb::Server record;
        if (record.ParseFromString(kv.value()))
            out.push_back(convert::fromProto(record));
    }
    return out;  // etcd returns keys in order: by id
}

} // namespace lv::liveops
