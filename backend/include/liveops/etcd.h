#pragma once

// A small client for the etcd v3 API, over the stubs generated from etcd's own .proto files
// (backend/proto, etcd_proto): the calls the fleet needs, each with a deadline, moving on to the
// next member when one cannot be reached, authenticating when a user is configured.
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace lv::liveops {

struct EtcdOptions {
    /// Client URLs of the members: "http://host:port", "https://host:port" (TLS), or "host:port".
    std::vector<std::string> endpoints;
    std::string caFile;    ///< TLS: the CA that signed the members' certificates (empty: system roots)
    std::string certFile;  ///< TLS client certificate and key, when the members ask for one
    std::string keyFile;
    std::string user;      ///< etcd authentication; the password comes from the environment, never the config
    std::string password;
    std::chrono::milliseconds timeout{3000};  ///< each call's deadline
};

/// Why a call failed, in words an operator can act on.
std::string describeEtcdStatus(const grpc::Status& status);
/// True for failures where nothing was decided (the member is unreachable, has no quorum, or
/// timed out): trying again later, or elsewhere, may work.
bool etcdUnavailable(const grpc::Status& status);

/// Thread-safe. One channel per member; calls go to the member that last answered, and move on
/// to the next one when it is unreachable.
class EtcdClient {
public:
    /// Checks the options (URLs, TLS files) and makes the channels; connects lazily.
    static std::unique_ptr<EtcdClient> create(const EtcdOptions& options, std::string& error);

    grpc::Status range(const etcdserverpb::RangeRequest& request, etcdserverpb::RangeResponse& response);
    grpc::Status txn(const etcdserverpb::TxnRequest& request, etcdserverpb::TxnResponse& response);
    grpc::Status put(const etcdserverpb::PutRequest& request, etcdserverpb::PutResponse& response);
    grpc::Status leaseGrant(std::int64_t ttlSeconds, etcdserverpb::LeaseGrantResponse& response);
    grpc::Status leaseRevoke(std::int64_t lease);
    /// One keep-alive round trip on its own short stream: the TTL left (0 = the lease is gone).
    grpc::Status leaseKeepAlive(std::int64_t lease, std::int64_t& ttlLeft);

    /// For streams (Watch): a context carrying the deadline-free metadata (auth token) and the
    /// stub of the current member. `member` says which, for rotate().
    std::unique_ptr<etcdserverpb::Watch::Stub> watchStub(grpc::ClientContext& context, std::size_t& member);
    /// The caller's stream to `member` broke: the next stream goes to another member.
    void rotate(std::size_t member);
    const EtcdOptions& options() const { return m_options; }

private:
    explicit EtcdClient(EtcdOptions options) : m_options(std::move(options)) {}
    template <class Call>
    grpc::Status call(Call&& call);
    void prepare(grpc::ClientContext& context, bool deadline, std::size_t member);
    grpc::Status authenticate(std::size_t member);

    EtcdOptions m_options;
    std::vector<std::shared_ptr<grpc::Channel>> m_channels;
    mutable std::mutex m_mutex;
    std::size_t m_current = 0;  // guarded by m_mutex
    std::string m_token;        // guarded by m_mutex; empty = not authenticated (or no auth)
};

} // namespace lv::liveops
