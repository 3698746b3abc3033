#pragma once

#include "liveops/apiserver.h"
#include "liveops/cluster.h"

#include <optional>
#include <string>
#include <vector>

namespace lv::liveops {

/// In-process bots for a region (demos): how many, and the network they see.
struct RegionBots {
    int count = 0;
    ConditionerSettings network;
};

/// `[fleet]`: this syncd is one server of a fleet whose toggles, audit and membership live in
/// etcd (docs/fleet.md). Absent: a single server with its own SQLite store.
struct FleetSettings {
    std::vector<std::string> etcd;  ///< member client URLs, e.g. "http://10.0.0.5:2379"
    std::string name;               ///< the fleet's name: its keys live under /<name>/
    std::string serverId;           ///< empty = host name and API port
    std::string caFile, certFile, keyFile;  ///< TLS to etcd
    std::string user;               ///< etcd auth; the password is read from $SYNCD_ETCD_PASSWORD
    int leaseTtlS = 10;             ///< a killed server leaves the fleet this long after
};

/// Everything syncd starts from. Paths are resolved against the config file's folder.
struct SyncdConfig {
    std::string grpcAddress = "127.0.0.1:50051";
    std::string metricsAddress;        ///< host:port for Prometheus /metrics; empty = off
    std::string tokenFile;             ///< bearer tokens for the API
    std::string tokenKeyFile;          ///< 64 hex digits: the key connect tokens are sealed with
    std::string storePath = "syncd.db";
    std::string publicHost;            ///< for regions bound to 0.0.0.0/[::] without public_endpoint (env SYNCD_PUBLIC_HOST overrides)
    int telemetryIntervalMs = 1000;
    int drainTimeoutS = 10;            ///< SIGTERM: longest wait for players to leave
    ApiServerOptions tls;              ///< only the tls* fields are read from here
    std::vector<RegionConfig> regions; ///< name, bind, capacity
    std::vector<RegionBots> bots;      ///< one per region
    std::optional<FleetSettings> fleet;
};

/// Parses a TOML config; on error returns nullopt and `error` reads "<file>:<line>: <problem>".
std::optional<SyncdConfig> loadConfig(const std::string& path, std::string& error);
/// The same from text (`name` is used in messages; relative paths resolve against `baseDir`).
std::optional<SyncdConfig> parseConfig(const std::string& text, const std::string& name, const std::string& baseDir, std::string& error);

/// A 32-byte key as 64 hex digits (a key file's content, whitespace ignored).
std::optional<Key> parseKey(const std::string& text);
std::string formatKey(const Key& key);

} // namespace lv::liveops
