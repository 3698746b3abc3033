#pragma once

#include "liveops/auth.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace grpc {
class Channel;
class ChannelCredentials;
}

namespace lv::liveops {

class Cluster;

struct ApiServerOptions {
    std::string address = "127.0.0.1:0";  ///< host:port; port 0 = ephemeral (see ApiServer::port()); empty = in-process only
    /// TLS when both are set (PEM files). With `tlsClientCa` set, clients must present a
    /// certificate signed by it.
    std::string tlsCertFile;
    std::string tlsKeyFile;
    std::string tlsClientCaFile;
    /// Messages a watch may fall behind before syncd ends it (RESOURCE_EXHAUSTED; the client
    /// resumes where it was). Bounds the memory a slow or stalled watcher can hold.
    std::size_t streamQueueLimit = 256;
    /// How this server reaches its fleet's other servers' APIs (FindPlayer asks them all; a kick
    /// or move is carried to the player's server); null = plaintext.
    std::shared_ptr<grpc::ChannelCredentials> peerCredentials;
};

/// The liveops.v1 gRPC service over a Cluster, with grpc.health.v1 (overall and one entry per
/// region, "region/<name>") and server reflection. Serves on a TCP address and, for the
/// console's sandbox, on an in-process channel: one code path for both.
class ApiServer {
public:
    static std::unique_ptr<ApiServer> start(Cluster& cluster, TokenTable tokens, const ApiServerOptions& options, std::string& error);
    ~ApiServer();  ///< shuts down (grace 0) if shutdown() was not called
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    int port() const;

    /// What the watches did since start: streams opened, watchers ended for falling
    /// `streamQueueLimit` behind, and the deepest any watcher's queue got.
    struct Stats {
        std::uint64_t streamsOpened = 0;
        std::uint64_t slowWatchersClosed = 0;
        std::uint64_t queueHighWater = 0;
    };
    Stats stats() const;
    std::shared_ptr<grpc::Channel> inProcessChannel();
    /// Health reports NOT_SERVING from now on (load balancers stop sending); calls still work.
    void setNotServing();
    /// Ends watch streams (clients see UNAVAILABLE and reconnect elsewhere), lets unary calls in
    /// flight finish within `grace`, then stops.
    void shutdown(std::chrono::milliseconds grace);

    struct Impl;

private:
    explicit ApiServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace lv::liveops
