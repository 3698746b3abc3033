#pragma once
// Servers of a fleet in this process, each with its own etcd client (as separate syncd processes
// have), optionally with its liveops.v1 API on TCP and its record in the fleet's membership.

#include "liveops/apiserver.h"
#include "liveops/auth.h"
#include "liveops/cluster.h"
#include "liveops/etcdstore.h"
#include "liveops/fleetmember.h"
#include "liveops/regionhost.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {
using namespace lv;
using namespace lv::liveops;

struct FleetServer {
    std::shared_ptr<EtcdClient> etcd;
    EtcdStore* store = nullptr;  // owned by the cluster
    std::unique_ptr<Cluster> cluster;
};

/// A server of fleet `fleet` on the etcd members `urls`, hosting `region`. `firstKnobs` receives
/// the knobs each region's engine is created with: what its first tick runs on.
FleetServer startServerWith(const EtcdOptions& options, const std::string& fleet, const std::string& region, std::string& error,
                            std::vector<RuntimeKnobs>* firstKnobs = nullptr, const std::string& serverId = {});

FleetServer startServer(const std::vector<std::string>& urls, const std::string& fleet, const std::string& region, std::string& error,
                        std::vector<RuntimeKnobs>* firstKnobs = nullptr, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000),
                        const std::string& serverId = {})
{
    EtcdOptions options;
    options.endpoints = urls;
    options.timeout = timeout;
    return startServerWith(options, fleet, region, error, firstKnobs, serverId);
}

/// The same with every etcd option (TLS, a user).
FleetServer startServerWith(const EtcdOptions& options, const std::string& fleet, const std::string& region, std::string& error,
                            std::vector<RuntimeKnobs>* firstKnobs, const std::string& serverId)
{
    FleetServer s;
    s.etcd = EtcdClient::create(options, error);
    if (!s.etcd)
        return s;
    ClusterConfig config;
    RegionConfig rc;
    rc.name = region;
    config.regions.push_back(rc);
    config.telemetryInterval = std::chrono::milliseconds(200);
    config.serverId = serverId;
    config.openStore = [&s, fleet](std::string& why) -> std::unique_ptr<Store> {
        auto store = EtcdStore::open(s.etcd, fleet, why);
        s.store = store.get();
        return store;
    };
    config.startRegion = [firstKnobs](const RegionConfig& c, std::string& why) -> std::unique_ptr<RegionRuntime> {
        if (firstKnobs)
            firstKnobs->push_back(c.knobs);
        return RegionHost::start(c, why);
    };
    s.cluster = Cluster::start(std::move(config), error);
    return s;
}


/// A server as syncd runs one in a fleet: its API on 127.0.0.1 (port 0), tokens "tok-support"
/// (viewer), "tok-ops" (operator) and kFleetAdmin (admin: the admin token of syncdprocess.h's
/// token file too, so one console token reaches both kinds of server), its record under a lease of
/// `ttlSeconds`, advertising that API.
inline const char* const kFleetAdmin = "admin-token-0123456789";

struct FleetMemberWithApi {
    FleetServer server;
    std::unique_ptr<lv::liveops::ApiServer> api;
    std::unique_ptr<lv::liveops::FleetMember> member;

    std::string apiEndpoint() const { return "127.0.0.1:" + std::to_string(api->port()); }

    static std::unique_ptr<FleetMemberWithApi> start(const std::vector<std::string>& urls, const std::string& fleet, const std::string& region,
                                                     const std::string& id, std::string& error, int ttlSeconds = 5,
                                                     std::chrono::milliseconds timeout = std::chrono::milliseconds(3000))
    {
        using namespace lv::liveops;
        auto m = std::make_unique<FleetMemberWithApi>();
        m->server = startServer(urls, fleet, region, error, nullptr, timeout, id);
        if (!m->server.cluster)
            return nullptr;
        TokenTable tokens;
        tokens.add("tok-support", {"sam-support", Role::Viewer});
        tokens.add("tok-ops", {"olga-ops", Role::Operator});
        tokens.add(kFleetAdmin, {"alice", Role::Admin});
        m->api = ApiServer::start(*m->server.cluster, tokens, {}, error);
        if (!m->api)
            return nullptr;
        const std::string endpoint = m->apiEndpoint();
        Cluster* cluster = m->server.cluster.get();
        m->member = FleetMember::join(m->server.etcd, {fleet, id, ttlSeconds}, [cluster, endpoint] {
            ServerInfo self = cluster->describeSelf();
            self.apiEndpoint = endpoint;
            return self;
        }, error);
        if (!m->member)
            return nullptr;
        cluster->setFleetDirectory(m->member.get());
        return m;
    }
    ~FleetMemberWithApi()
    {
        if (server.cluster)
            server.cluster->setFleetDirectory(nullptr);
        member.reset();  // leaves: its record goes at once
        api.reset();
    }
};

} // namespace
