#include "synccore/session.h"

namespace lv {

SimClusterConfig LocalSession::clusterConfig(SessionConfig config)
{
    SimClusterConfig c;
    c.regions.push_back(SimRegionConfig{std::move(config.groups), config.knobs, config.uplink, config.downlink});
    c.seed = config.seed;
    c.step = config.step;
    c.world = config.world;
    return c;
}

LocalSession::LocalSession(SessionConfig config) : m_cluster(clusterConfig(std::move(config))) {}

LocalSession::~LocalSession() = default;

} // namespace lv
