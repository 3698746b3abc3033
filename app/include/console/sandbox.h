#pragma once

#include "liveops/client.h"
#include "synccore/conditioner.h"

#include <QString>
#include <QTemporaryDir>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "liveops/swarm.h"

namespace lv::liveops {
class Cluster;
class ApiServer;
} // namespace lv::liveops

namespace lv::console {

struct SandboxRegion {
    std::string name;
    int bots = 20;
    ConditionerSettings network;  ///< what that region's bots see, both ways; changeable live
};

/// What the sandbox's bots are like.
enum class SandboxScenario {
    Standard,       ///< PC players, one input pattern
    CrossPlay,      ///< PC (60 Hz input), console (30 Hz), mobile (20 Hz, partial stick): one pool or three
    Accessibility,  ///< typical, slow, bursty and assisted input patterns side by side
};

struct SandboxConfig {
    std::vector<SandboxRegion> regions;
    SandboxScenario scenario = SandboxScenario::Standard;
    std::chrono::milliseconds telemetryInterval{500};
    /// eu-west / us-east / ap-south with 20 bots each on increasingly distant networks.
    static SandboxConfig standard();
    /// `regions` regions (1..8) of `bots` bots each, each farther away than the one before.
    static SandboxConfig sized(int regions, int bots);
};

/// syncd's service started in-process for QA: a Cluster with real regions (real UDP on
/// loopback), bots in-process, the API served on an in-process gRPC channel only. The console
/// reaches it through the same client code as a live cluster.
class Sandbox {
public:
    static std::unique_ptr<Sandbox> start(const SandboxConfig& config, QString& error);
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    /// Options for a client of this sandbox (in-process channel, the sandbox's admin token).
    liveops::client::ClientOptions clientOptions() const;
    /// Live conditioner controls: the network a region's bots see from now on.
    bool setNetwork(const std::string& region, const ConditionerSettings& network);
    const SandboxConfig& config() const { return m_config; }

    /// One moment of a region for the sync view: the server's truth and what its first bot's
    /// client shows (own player predicted, others interpolated).
    struct SyncFrame {
        std::vector<PlayerState> truth;
        liveops::ClientView observer;
    };
    SyncFrame syncFrame(const std::string& region) const;

    /// QA figures per region and group of players (the scenario's groups).
    struct GroupFigures {
        std::string region;
        liveops::GroupReport figures;
    };
    std::vector<GroupFigures> figures() const;
    liveops::Cluster& cluster() { return *m_cluster; }

private:
    Sandbox() = default;
    SandboxConfig m_config;
    QTemporaryDir m_dir;  // the store lives and dies with the sandbox
    std::string m_token;
    std::unique_ptr<liveops::Cluster> m_cluster;
    std::unique_ptr<liveops::ApiServer> m_api;
    std::vector<std::unique_ptr<liveops::BotSwarm>> m_bots;  // one per region, same order
};

} // namespace lv::console
