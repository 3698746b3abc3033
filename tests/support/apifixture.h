#pragma once

// A real liveops.v1 server for tests: two regions, a store in a temporary folder, one token per
// role, gRPC on 127.0.0.1 port 0 reached over TCP.
#include "eventually.h"
#include "liveops/apiserver.h"
#include "liveops/cluster.h"
#include "liveops/swarm.h"
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <functional>
#include <thread>

namespace lv::test {

namespace pb = ::liveops::v1;

inline const char* const kAdminToken = "admin-token-0123456789";
inline const char* const kOperatorToken = "operator-token-0123456789";
inline const char* const kProducerToken = "producer-token-0123456789";
inline const char* const kViewerToken = "viewer-token-0123456789";

struct ApiFixture {
    QTemporaryDir dir;
    Key tokenKey = generateKey();
    std::unique_ptr<liveops::Cluster> cluster;
    std::unique_ptr<liveops::ApiServer> server;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<pb::LiveOps::Stub> stub;

    /// `beforeStart` runs on the store's path before the cluster opens it (to prefill it).
    explicit ApiFixture(std::chrono::milliseconds telemetryInterval = std::chrono::milliseconds(200), liveops::ApiServerOptions options = {},
                        const std::function<void(const std::string& storePath)>& beforeStart = {})
    {
        liveops::ClusterConfig config;
        config.storePath = dir.filePath(QStringLiteral("syncd.db")).toStdString();
        if (beforeStart)
            beforeStart(config.storePath);
        config.telemetryInterval = telemetryInterval;
        for (const char* name : {"eu-west", "us-east"}) {
            liveops::RegionConfig region;
            region.name = name;
            region.tokenKey = tokenKey;
            config.regions.push_back(region);
        }
        std::string error;
        cluster = liveops::Cluster::start(std::move(config), error);
        QVERIFY2(cluster, error.c_str());
        liveops::TokenTable tokens;
        tokens.add(kAdminToken, {"alice", liveops::Role::Admin});
        tokens.add(kOperatorToken, {"oscar", liveops::Role::Operator});
        tokens.add(kProducerToken, {"paula", liveops::Role::Producer});
        tokens.add(kViewerToken, {"victor", liveops::Role::Viewer});
        server = liveops::ApiServer::start(*cluster, std::move(tokens), options, error);
        QVERIFY2(server, error.c_str());
        channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials());
        stub = pb::LiveOps::NewStub(channel);
    }
    ~ApiFixture()
    {
        server.reset();  // streams end before the cluster goes
        cluster.reset();
    }

    /// A context with the token (none if null) and a deadline: no test call can hang.
    static std::unique_ptr<grpc::ClientContext> context(const char* token, std::chrono::milliseconds deadline = std::chrono::seconds(10))
    {
        auto ctx = std::make_unique<grpc::ClientContext>();
        if (token)
            ctx->AddMetadata("authorization", std::string("Bearer ") + token);
        ctx->set_deadline(std::chrono::system_clock::now() + deadline);
        return ctx;
    }

    std::string endpointOf(const std::string& region) const
    {
        for (const auto& r : cluster->regions())
            if (r.name == region)
                return r.endpoint;
        return {};
    }

    /// Bots against a region, as syncbot runs them.
    std::unique_ptr<liveops::BotSwarm> bots(const std::string& region, int count, std::uint64_t firstId = 1)
    {
        liveops::SwarmConfig config;
        config.server = *Address::parse(endpointOf(region));
        config.count = count;
        config.tokenKey = tokenKey;
        config.firstClientId = firstId;
        std::string error;
        auto swarm = liveops::BotSwarm::start(config, error);
        if (!swarm)
            qWarning("%s", error.c_str());
        return swarm;
    }

    pb::Toggle toggle(const std::string& key, const std::string& scope)
    {
        pb::ListTogglesRequest request;
        request.set_scope(scope);
        pb::ListTogglesResponse response;
        const auto status = stub->ListToggles(context(kViewerToken).get(), request, &response);
        if (status.ok())
            for (const auto& t : response.toggles())
                if (t.key() == key)
                    return t;
        return {};
    }

    grpc::Status setInt(const char* token, const std::string& key, const std::string& scope, std::int64_t value, std::uint64_t expected,
                        const std::string& reason = "test", pb::SetToggleResponse* out = nullptr)
    {
        pb::SetToggleRequest request;
        request.set_key(key);
        request.set_scope(scope);
        request.mutable_value()->set_int_value(value);
        request.set_expected_version(expected);
        request.set_reason(reason);
        pb::SetToggleResponse response;
        return stub->SetToggle(context(token).get(), request, out ? out : &response);
    }

    std::vector<pb::AuditEntry> audit()
    {
        pb::ListAuditRequest request;
        request.set_limit(1000);
        pb::ListAuditResponse response;
        stub->ListAudit(context(kViewerToken).get(), request, &response);
        return {response.entries().begin(), response.entries().end()};
    }
};

} // namespace lv::test
