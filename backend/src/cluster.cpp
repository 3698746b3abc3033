#include "liveops/cluster.h"

#include <algorithm>
#include <cstdio>

namespace lv::liveops {

namespace {
const Identity kSystem{"syncd", Role::Admin};

std::string describeDrill(DrillKind kind, double latencyMs, double lossPercent)
{
    char text[64];
    switch (kind) {
    case DrillKind::Latency: std::snprintf(text, sizeof text, "latency +%.0f ms", latencyMs); break;
    case DrillKind::Loss: std::snprintf(text, sizeof text, "loss %.1f%%", lossPercent); break;
    case DrillKind::Outage: std::snprintf(text, sizeof text, "outage"); break;
    }
    return text;
}
} // namespace

std::string_view regionStateName(RegionState state)
{
    switch (state) {
    case RegionState::Serving: return "serving";
    case RegionState::Draining: return "draining";
    case RegionState::Maintenance: return "maintenance";
    case RegionState::Outage: return "outage";
    }
    return "unknown";
}

std::int64_t Cluster::unixMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::unique_ptr<Cluster> Cluster::start(ClusterConfig config, std::string& error)
{
    if (config.regions.empty()) {
        error = "no regions configured";
        return nullptr;
    }
    for (std::size_t i = 0; i < config.regions.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (config.regions[i].name == config.regions[j].name || config.regions[i].name == "*" || config.regions[i].name.empty()) {
                error = "region names must be unique, non-empty and not '*': '" + config.regions[i].name + "'";
                return nullptr;
            }
    if (config.serverId.find('/') != std::string::npos) {
        error = "a server id must not contain '/': '" + config.serverId + "'";
        return nullptr;
    }
    std::unique_ptr<Cluster> cluster(new Cluster(std::move(config)));
    if (!cluster->m_config.serverId.empty())
        cluster->m_serverScope = "server/" + cluster->m_config.serverId;
    cluster->m_store = cluster->m_config.openStore ? cluster->m_config.openStore(error) : Store::open(cluster->m_config.storePath, error);
    if (!cluster->m_store)
        return nullptr;
    const auto storedToggles = cluster->m_store->toggles(error);
    if (!storedToggles) {
        error = (cluster->m_config.openStore ? std::string("fleet store") : cluster->m_config.storePath) + ": " + error;
        return nullptr;
    }
    for (const StoredToggle& stored : *storedToggles) {
        if (stored.lastAuditId != 0)
            if (auto entry = cluster->m_store->auditEntry(stored.lastAuditId))
                cluster->m_lastChanges[stored.lastAuditId] = *entry;
        cluster->m_toggles[{stored.key, stored.scope}] = stored;
    }
    for (RegionConfig rc : cluster->m_config.regions) {
        // The stored toggles are in force from the first tick (a kill switch set fleet-wide holds
        // on a server that has just started); failovers to regions not yet started follow below.
        {
            std::lock_guard lock(cluster->m_mutex);
            rc.knobs = cluster->knobsFor(rc, nullptr);
        }
        Region region{rc, nullptr, std::nullopt};
        if (cluster->m_config.startRegion)
            region.host = cluster->m_config.startRegion(rc, error);
        else
            region.host = RegionHost::start(rc, error);
        if (!region.host)
            return nullptr;
        cluster->m_regions.push_back(std::move(region));
    }
    {
        // Endpoints are known only now (ports may be ephemeral): apply persisted toggles.
        std::lock_guard lock(cluster->m_mutex);
        cluster->applyKnobs();
    }
    // From the revision the toggles were loaded at: nothing another server writes is missed.
    cluster->m_store->setChangeListener([c = cluster.get()](StoreChange change) { c->onStoreChange(std::move(change)); });
    cluster->m_sampler = std::thread([c = cluster.get()] { c->samplerLoop(); });
    return cluster;
}

Cluster::~Cluster()
{
    if (m_store)
        m_store->stopChanges();
    {
        std::lock_guard lock(m_samplerMutex);
        m_stopSampler = true;
    }
    m_samplerWake.notify_all();
    if (m_sampler.joinable())
        m_sampler.join();
    m_regions.clear();  // each host tells its players it is going, then joins its thread
}

Cluster::Region* Cluster::findRegion(const std::string& name)
{
    auto it = std::find_if(m_regions.begin(), m_regions.end(), [&](const Region& r) { return r.config.name == name; });
    return it == m_regions.end() ? nullptr : &*it;
}

const Cluster::Region* Cluster::findRegion(const std::string& name) const
{
    return const_cast<Cluster*>(this)->findRegion(name);
}

bool Cluster::failsOverToItself(const std::string& region, const std::string& target) const
{
    if (target.empty())
        return false;
    if (target == region || target == region + "@" + m_config.serverId) {
        // In a fleet, the region's own name sends its players to its other servers.
        if (target != region || !m_fleet.load())
            return true;
        const auto known = m_fleet.load()->known();
        return !std::any_of(known.begin(), known.end(), [&](const ServerInfo& s) {
            return s.id != m_config.serverId && std::any_of(s.regions.begin(), s.regions.end(), [&](const RegionInfo& r) { return r.name == region; });
        });
    }
    const Region* r = findRegion(region);
    auto endpoint = Address::parse(target);
    return r && endpoint && *endpoint == r->host->endpoint();
}

std::string Cluster::resolveFailover(const std::string& target, const std::string& fromRegion, const RegionRuntime* host) const
{
    if (target.empty())
        return {};
    const auto at = target.rfind('@');
    const std::string region = at == std::string::npos ? target : target.substr(0, at);
    const std::string server = at == std::string::npos ? std::string() : target.substr(at + 1);
    if (server.empty() || server == m_config.serverId)
        if (const Region* local = findRegion(region); local && local->config.name != fromRegion)
            return local->host->endpoint().toString();
    if (at == std::string::npos)
        if (auto endpoint = Address::parse(target); endpoint && (!host || *endpoint != host->endpoint()))
            return endpoint->toString();  // a region of another syncd
    const FleetDirectory* fleet = m_fleet.load();
    if (!fleet)
        return {};
    // The fleet's: the serving region of that name with the most room, on a serving server.
    const RegionInfo* best = nullptr;
    const std::vector<ServerInfo> known = fleet->known();  // `best` points into it
    for (const ServerInfo& s : known) {
        if (s.id == m_config.serverId || (!server.empty() && s.id != server) || s.state != ServerState::Serving)
            continue;
        for (const RegionInfo& r : s.regions)
            if (r.name == region && r.state == RegionState::Serving
                && (!best || r.capacity - std::min(r.capacity, r.players) > best->capacity - std::min(best->capacity, best->players)))
                best = &r;
    }
    return best ? best->endpoint : std::string();
}

std::vector<std::string> Cluster::failoverNames() const
{
    std::vector<std::string> names = regionNames();
    for (const std::string& r : regionNames())
        names.push_back(r + "@" + m_config.serverId);
    if (const FleetDirectory* fleet = m_fleet.load())
        for (const ServerInfo& s : fleet->known())
            for (const RegionInfo& r : s.regions) {
                names.push_back(r.name);
                names.push_back(r.name + "@" + s.id);
            }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

bool Cluster::fleetHasRegion(const std::string& name) const
{
    if (findRegion(name))
        return true;
    const FleetDirectory* fleet = m_fleet.load();
    if (!fleet)
        return false;
    const auto known = fleet->known();
    return std::any_of(known.begin(), known.end(), [&](const ServerInfo& s) {
        return std::any_of(s.regions.begin(), s.regions.end(), [&](const RegionInfo& r) { return r.name == name; });
    });
}

bool Cluster::fleetHasServer(const std::string& id) const
{
    if (!m_serverScope.empty() && id == m_config.serverId)
        return true;
    const FleetDirectory* fleet = m_fleet.load();
    if (!fleet)
        return false;
    const auto known = fleet->known();
    return std::any_of(known.begin(), known.end(), [&](const ServerInfo& s) { return s.id == id; });
}

std::vector<std::string> Cluster::regionNames() const
{
    std::vector<std::string> names;
    for (const Region& r : m_regions)
        names.push_back(r.config.name);
    return names;
}

std::vector<PlayerState> Cluster::truth(const std::string& region) const
{
    const Region* r = findRegion(region);
    return r ? r->host->truth() : std::vector<PlayerState>{};
}

const StoredToggle* Cluster::setAt(const std::string& key, const std::string& scope) const
{
    const auto it = m_toggles.find({key, scope});
    return it == m_toggles.end() || it->second.cleared ? nullptr : &it->second;
}

std::vector<std::string> Cluster::scopes() const
{
    std::vector<std::string> out{"*"};
    if (!m_serverScope.empty())
        out.push_back(m_serverScope);
    for (const Region& r : m_regions)
        out.push_back(r.config.name);
    return out;
}

ToggleValue Cluster::effectiveValue(const ToggleDefinition& definition, const std::string& region) const
{
    // This server's own value first, then the region's, then the fleet's (or cluster's), then the default.
    if (const StoredToggle* server = m_serverScope.empty() ? nullptr : setAt(definition.key, m_serverScope))
        return server->value;
    if (const StoredToggle* here = setAt(definition.key, region))
        return here->value;
    if (const StoredToggle* all = setAt(definition.key, "*"))
        return all->value;
    return definition.defaultValue;
}

std::optional<OperationResult> Cluster::refuseToggleChange(const Identity& who, const std::string& key, const std::string& scope,
                                                           const std::string& reason, const ToggleDefinition*& definition) const
{
    definition = findToggle(key);
    if (!definition)
        return OperationResult{Outcome::NotFound, "no toggle named '" + key + "'", {}, {}};
    if (scope.starts_with("server/")) {
        // This server's scope, or another server's of the fleet (it applies the value when its
        // watch brings it).
        bool known = !m_serverScope.empty() && scope == m_serverScope;
        std::string error;
        if (const FleetDirectory* fleet = m_fleet.load(); !known && fleet)
            if (auto servers = fleet->servers(error))
                known = std::any_of(servers->begin(), servers->end(), [&](const ServerInfo& s) { return "server/" + s.id == scope; });
        if (!known)
            return OperationResult{Outcome::NotFound, "no server '" + scope.substr(7) + "' in this fleet", {}, {}};
    } else if (scope != "*" && !fleetHasRegion(scope)) {
        return OperationResult{Outcome::NotFound, "no region named '" + scope + "' (use '*' for cluster-wide)", {}, {}};
    }
    if (who.role < definition->requiredRole)
        return OperationResult{Outcome::PermissionDenied,
                               key + " needs the " + std::string(roleName(definition->requiredRole)) + " role; " + who.name + " is "
                                   + std::string(roleName(who.role)),
                               {}, {}};
    if (reason.empty())
        return OperationResult{Outcome::InvalidArgument, "a reason is required", {}, {}};
    return std::nullopt;
}

std::string Cluster::inconsistencyIn(const std::string& scope) const
{
    for (const Region& r : m_regions)
        if (scope == "*" || scope == r.config.name || scope == m_serverScope) {
            RuntimeKnobs knobs;
            for (const ToggleDefinition& each : engineToggles()) {
                auto applied = applyToggle(knobs, each.key, effectiveValue(each, r.config.name), {});
                if (!applied.error.empty())
                    return applied.error + " (in " + r.config.name + ")";
                knobs = applied.knobs;
            }
        }
    return {};
}

RuntimeKnobs Cluster::knobsFor(const RegionConfig& config, const RegionRuntime* host) const
{
    RuntimeKnobs knobs;
    for (const ToggleDefinition& d : engineToggles()) {
        const ToggleValue value = effectiveValue(d, config.name);
        const std::string failoverAddress = d.type == ToggleType::Region ? resolveFailover(std::get<std::string>(value), config.name, host) : std::string();
        knobs = applyToggle(knobs, d.key, value, failoverAddress).knobs;
    }
    if (m_shuttingDown) {
        knobs.admissionsOpen = false;
        knobs.maintenanceMode = true;
    }
    return knobs;
}

void Cluster::applyKnobs()
{
    for (Region& r : m_regions) {
        const RuntimeKnobs knobs = knobsFor(r.config, r.host.get());
        if (!(r.host->knobs() == knobs))
            r.host->setKnobs(knobs);
    }
}

RegionState Cluster::stateOf(const Region& region) const
{
    if (region.drill && region.drill->kind == DrillKind::Outage)
        return RegionState::Outage;
    const RuntimeKnobs knobs = region.host->knobs();
    if (knobs.maintenanceMode)
        return RegionState::Maintenance;
    if (!knobs.admissionsOpen || !knobs.failoverTarget.empty())
        return RegionState::Draining;
    return RegionState::Serving;
}

std::vector<RegionInfo> Cluster::regions() const
{
    std::lock_guard lock(m_mutex);
    std::vector<RegionInfo> out;
    const auto now = std::chrono::steady_clock::now();
    for (const Region& r : m_regions) {
        RegionInfo info{r.config.name, r.host->endpoint().toString(), stateOf(r), r.host->players(),
                        static_cast<std::size_t>(r.config.capacity), {}};
        if (r.drill) {
            const auto left = std::chrono::duration_cast<std::chrono::seconds>(r.drill->ends - now).count();
            info.activeDrill = describeDrill(r.drill->kind, r.drill->latencyMs, r.drill->lossPercent) + ", "
                               + std::to_string(std::max<long long>(left, 0)) + " s left";
        }
        out.push_back(std::move(info));
    }
    return out;
}

ToggleState Cluster::stateOf(const ToggleDefinition& definition, const std::string& scope) const
{
    ToggleState state{&definition, scope, definition.defaultValue, 0, std::nullopt, definition.defaultValue, ToggleSource::Default};
    if (auto it = m_toggles.find({definition.key, scope}); it != m_toggles.end()) {  // set, or cleared: its version and last change
        state.version = it->second.version;
        if (auto change = m_lastChanges.find(it->second.lastAuditId); change != m_lastChanges.end())
            state.lastChange = change->second;
    }
    // The same rule as effectiveValue(): for a region, this server's value overrides the
    // region's own, which overrides the fleet's.
    const bool region = scope != "*" && !scope.starts_with("server/");
    const StoredToggle* here = setAt(definition.key, scope);
    if (here)
        state.value = here->value;
    if (const StoredToggle* server = region && !m_serverScope.empty() ? setAt(definition.key, m_serverScope) : nullptr) {
        state.effective = server->value;
        state.source = ToggleSource::Server;
    } else if (here) {
        state.effective = here->value;
        state.source = ToggleSource::Here;
    } else if (const StoredToggle* all = scope != "*" ? setAt(definition.key, "*") : nullptr) {
        state.effective = all->value;
        state.source = ToggleSource::Cluster;
    }
    return state;
}

std::vector<ToggleState> Cluster::toggles(const std::string& scope) const
{
    std::lock_guard lock(m_mutex);
    const std::vector<std::string> shown = scope.empty() ? scopes() : std::vector<std::string>{scope};
    std::vector<ToggleState> out;
    for (const std::string& s : shown)
        for (const ToggleDefinition& d : engineToggles())
            out.push_back(stateOf(d, s));
    return out;
}

AuditEntry Cluster::stamp(const Identity& who, const std::string& reason) const
{
    AuditEntry e;
    e.timeMs = unixMs();
    e.actor = who.name;
    e.role = who.role;
    e.reason = reason;
    return e;
}

void Cluster::applyWritten(std::vector<StoredToggle> written)
{
    // In a fleet the store's watch may have brought this very write back, and applied it,
    // before the writer got here: apply and tell it once.
    std::erase_if(written, [this](const StoredToggle& t) {
        const auto it = m_toggles.find({t.key, t.scope});
        return it != m_toggles.end() && it->second.version >= t.version;
    });
    if (written.empty())
        return;
    publishToggles(written);
    applyKnobs();
}

void Cluster::publishToggles(const std::vector<StoredToggle>& written)
{
    for (const StoredToggle& t : written)
        m_toggles[{t.key, t.scope}] = t;
    // Keep only the entries some toggle still points at.
    std::erase_if(m_lastChanges, [this](const auto& entry) {
        return std::none_of(m_toggles.begin(), m_toggles.end(), [&](const auto& t) { return t.second.lastAuditId == entry.first; });
    });
    for (const StoredToggle& t : written)
        if (const ToggleDefinition* d = findToggle(t.key); d && (t.scope == "*" || t.scope == m_serverScope || findRegion(t.scope))) {
            m_toggleFeed.publish(ToggleEvent{stateOf(*d, t.scope), false});
            // A cluster-wide change is what every scope inheriting it now runs with, and a
            // server's what each of its regions runs with: watchers hear it for each of them.
            if (t.scope == "*" && !m_serverScope.empty() && !setAt(t.key, m_serverScope))
                m_toggleFeed.publish(ToggleEvent{stateOf(*d, m_serverScope), false});
            if (t.scope == "*" || t.scope == m_serverScope)
                for (const Region& r : m_regions)
                    if (t.scope == m_serverScope || (!setAt(t.key, r.config.name) && (m_serverScope.empty() || !setAt(t.key, m_serverScope))))
                        m_toggleFeed.publish(ToggleEvent{stateOf(*d, r.config.name), false});
        }
}

OperationResult Cluster::setToggle(const Identity& who, const std::string& key, const std::string& scope, const ToggleValue& value,
                                   std::uint64_t expectedVersion, const std::string& reason)
{
    const ToggleDefinition* d = nullptr;
    if (auto refused = refuseToggleChange(who, key, scope, reason, d))
        return *refused;
    if (std::string problem = validateValue(*d, value, failoverNames()); !problem.empty())
        return {Outcome::InvalidArgument, problem, {}, {}};
    if (d->type == ToggleType::Region && failsOverToItself(scope, std::get<std::string>(value)))
        return {Outcome::InvalidArgument, "a region cannot fail over to itself", {}, {}};

    // Writers take turns on m_writeMutex, held across the store's fsync; m_mutex (the in-memory
    // state readers use) is only held for the brief checks and updates around it.
    std::lock_guard write(m_writeMutex);
    {
        // The new value must make sense together with the rest (e.g. snapshot_hz <= tick_hz)
        // in every region it reaches.
        std::lock_guard lock(m_mutex);
        const auto saved = m_toggles;
        m_toggles[{key, scope}] = StoredToggle{key, scope, value, 0, 0};
        const std::string problem = inconsistencyIn(scope);
        m_toggles = saved;
        if (!problem.empty())
            return {Outcome::InvalidArgument, problem, {}, {}};
    }
    auto result = m_store->setToggle(key, scope, value, expectedVersion, stamp(who, reason));
    std::lock_guard lock(m_mutex);
    if (result.outcome == Store::Outcome::Conflict)
        return {Outcome::Aborted,
                key + "@" + scope + " is at version " + std::to_string(result.current.version) + ", not "
                    + std::to_string(expectedVersion) + ": someone changed it first; reload and retry",
                {}, stateOf(*d, scope)};
    if (result.outcome == Store::Outcome::Unavailable)
        return {Outcome::Unavailable, result.error + "; nothing was changed", {}, {}};
    if (result.outcome == Store::Outcome::Failed)
        return {Outcome::Internal, "store: " + result.error, {}, {}};
    m_lastChanges[result.audit.id] = result.audit;
    applyWritten({result.current});
    publishAudit(result.audit);
    return {Outcome::Ok, {}, result.audit, stateOf(*d, scope)};
}

OperationResult Cluster::clearToggle(const Identity& who, const std::string& key, const std::string& scope, std::uint64_t expectedVersion,
                                     const std::string& reason)
{
    const ToggleDefinition* d = nullptr;
    if (auto refused = refuseToggleChange(who, key, scope, reason, d))
        return *refused;
    std::lock_guard write(m_writeMutex);
    AuditEntry entry = stamp(who, reason);
    {
        // What applies once it is gone must make sense with the rest, in every region it reaches.
        std::lock_guard lock(m_mutex);
        if (!setAt(key, scope))
            return {Outcome::FailedPrecondition, key + "@" + scope + " has no value of its own to clear", {}, stateOf(*d, scope)};
        const auto saved = m_toggles;
        m_toggles[{key, scope}].cleared = true;
        const std::string problem = inconsistencyIn(scope);
        const ToggleState after = stateOf(*d, scope);
        m_toggles = saved;
        if (!problem.empty())
            return {Outcome::InvalidArgument, problem, {}, {}};
        entry.newValue = formatValue(after.effective) + (after.source == ToggleSource::Cluster  ? " (cluster-wide value)"
                                                              : after.source == ToggleSource::Server ? " (server value)"
                                                                                                     : " (default)");
    }
    auto result = m_store->clearToggle(key, scope, expectedVersion, entry);
    std::lock_guard lock(m_mutex);
    if (result.outcome == Store::Outcome::Conflict)
        return {Outcome::Aborted,
                key + "@" + scope + " is at version " + std::to_string(result.current.version) + ", not " + std::to_string(expectedVersion)
                    + ": someone changed it first; reload and retry",
                {}, stateOf(*d, scope)};
    if (result.outcome == Store::Outcome::Unavailable)
        return {Outcome::Unavailable, result.error + "; nothing was changed", {}, {}};
    if (result.outcome == Store::Outcome::Failed)
        return {Outcome::Internal, "store: " + result.error, {}, {}};
    m_lastChanges[result.audit.id] = result.audit;
    applyWritten({result.current});  // the scope, and for "*" every region that inherits it
    publishAudit(result.audit);
    return {Outcome::Ok, {}, result.audit, stateOf(*d, scope)};
}

OperationResult Cluster::operation(const Identity& who, const std::string& action, const std::string& target,
                                   std::vector<std::pair<std::string, ToggleChange>> changes, const std::string& oldValue,
                                   const std::string& newValue, const std::string& reason)
{
    AuditEntry entry = stamp(who, reason);
    entry.action = action;
    entry.target = target;
    entry.oldValue = oldValue;
    entry.newValue = newValue;
    StoreFailure failure;
    auto written = m_store->applyOperation(changes, entry, failure);  // the caller holds m_writeMutex only
    if (!written)
        return {failure.unavailable ? Outcome::Unavailable : Outcome::Internal,
                failure.unavailable ? failure.message + "; nothing was changed" : "store: " + failure.message, {}, {}};
    std::lock_guard lock(m_mutex);
    m_lastChanges[written->audit.id] = written->audit;
    applyWritten(written->toggles);
    publishAudit(written->audit);
    return {Outcome::Ok, {}, written->audit, {}};
}

OperationResult Cluster::drain(const Identity& who, const std::string& region, const std::string& failoverTo, const std::string& reason)
{
    if (who.role < Role::Operator)
        return {Outcome::PermissionDenied, "draining needs the operator role", {}, {}};
    if (reason.empty())
        return {Outcome::InvalidArgument, "a reason is required", {}, {}};
    if (!fleetHasRegion(region))
        return {Outcome::NotFound, "no region named '" + region + "'", {}, {}};
    if (!failoverTo.empty())
        if (std::string problem = validateValue(*findToggle("failover_target"), failoverTo, failoverNames()); !problem.empty())
            return {Outcome::NotFound, problem, {}, {}};
    if (failsOverToItself(region, failoverTo))
        return {Outcome::InvalidArgument, "a region cannot fail over to itself", {}, {}};
    std::lock_guard write(m_writeMutex);
    std::vector<std::pair<std::string, ToggleChange>> changes{{region, {"admissions_open", false}}};
    if (!failoverTo.empty())
        changes.push_back({region, {"failover_target", failoverTo}});
    std::string before;
    {
        std::lock_guard lock(m_mutex);
        before = findRegion(region) ? regionStateName(stateOf(*findRegion(region))) : "as its servers run it";
    }
    return operation(who, "drain", region, std::move(changes), before, failoverTo.empty() ? "draining" : "draining to " + failoverTo, reason);
}

OperationResult Cluster::undrain(const Identity& who, const std::string& region, const std::string& reason)
{
    if (who.role < Role::Operator)
        return {Outcome::PermissionDenied, "undraining needs the operator role", {}, {}};
    if (reason.empty())
        return {Outcome::InvalidArgument, "a reason is required", {}, {}};
    if (!fleetHasRegion(region))
        return {Outcome::NotFound, "no region named '" + region + "'", {}, {}};
    std::lock_guard write(m_writeMutex);
    std::string before;
    bool redirecting = false;
    {
        std::lock_guard lock(m_mutex);
        // The region's own values (a server's own drain is that server's, undone by undrainServer).
        const auto regionValue = [&](const char* key) {
            const StoredToggle* t = setAt(key, region);
            t = t ? t : setAt(key, "*");
            return t ? t->value : findToggle(key)->defaultValue;
        };
        if (std::get<bool>(regionValue("admissions_open")))
            return {Outcome::FailedPrecondition, region + " is not draining", {}, {}};
        before = findRegion(region) ? regionStateName(stateOf(*findRegion(region))) : "draining";
        redirecting = !std::get<std::string>(regionValue("failover_target")).empty();
    }
    std::vector<std::pair<std::string, ToggleChange>> changes{{region, {"admissions_open", true}}};
    if (redirecting)
        changes.push_back({region, {"failover_target", std::string()}});
    return operation(who, "undrain", region, std::move(changes), before, "serving", reason);
}

OperationResult Cluster::failover(const Identity& who, const std::string& from, const std::string& to, const std::string& reason)
{
    if (who.role < Role::Operator)
        return {Outcome::PermissionDenied, "failover needs the operator role", {}, {}};
    if (reason.empty())
        return {Outcome::InvalidArgument, "a reason is required", {}, {}};
    if (!fleetHasRegion(from))
        return {Outcome::NotFound, "no region named '" + from + "'", {}, {}};
    if (std::string problem = validateValue(*findToggle("failover_target"), to, failoverNames()); !problem.empty() || to.empty())
        return {Outcome::NotFound, to.empty() ? std::string("a failover needs a target region or endpoint") : problem, {}, {}};
    if (failsOverToItself(from, to))
        return {Outcome::InvalidArgument, "a region cannot fail over to itself", {}, {}};
    std::lock_guard write(m_writeMutex);
    std::string before;
    {
        std::lock_guard lock(m_mutex);
        before = formatValue(effectiveValue(*findToggle("failover_target"), from));
    }
    return operation(who, "failover", from, {{from, {"failover_target", to}}}, before, to, reason);
}

OperationResult Cluster::serverOperation(const Identity& who, const char* action, const std::string& serverId,
                                         std::vector<std::pair<std::string, ToggleChange>> changes, const std::string& after,
                                         const std::string& reason)
{
    if (who.role < Role::Operator)
        return {Outcome::PermissionDenied, std::string(action) + " a server needs the operator role", {}, {}};
    if (reason.empty())
        return {Outcome::InvalidArgument, "a reason is required", {}, {}};
    if (!m_fleet.load())
        return {Outcome::FailedPrecondition, "this syncd is not in a fleet: drain its regions instead", {}, {}};
    if (!fleetHasServer(serverId))
        return {Outcome::NotFound, "no server '" + serverId + "' in this fleet", {}, {}};
    const std::string scope = "server/" + serverId;
    for (auto& change : changes)
        change.first = scope;
    std::lock_guard write(m_writeMutex);
    std::string before;
    {
        std::lock_guard lock(m_mutex);
        const StoredToggle* open = setAt("admissions_open", scope);
        const StoredToggle* target = setAt("failover_target", scope);
        before = open && !std::get<bool>(open->value) ? "draining" : "serving";
        if (target && !std::get<std::string>(target->value).empty())
            before += " to " + std::get<std::string>(target->value);
    }
    return operation(who, action, scope, std::move(changes), before, after, reason);
}

OperationResult Cluster::drainServer(const Identity& who, const std::string& serverId, const std::string& failoverTo, const std::string& reason)
{
    if (!failoverTo.empty()) {
        if (std::string problem = validateValue(*findToggle("failover_target"), failoverTo, failoverNames()); !problem.empty())
            return {Outcome::NotFound, problem, {}, {}};
        if (failoverTo.ends_with("@" + serverId))
            return {Outcome::InvalidArgument, "a server cannot fail over to itself", {}, {}};
    }
    std::vector<std::pair<std::string, ToggleChange>> changes{{{}, {"admissions_open", false}}};
    if (!failoverTo.empty())
        changes.push_back({{}, {"failover_target", failoverTo}});
    return serverOperation(who, "drain", serverId, std::move(changes), failoverTo.empty() ? "draining" : "draining to " + failoverTo, reason);
}

OperationResult Cluster::undrainServer(const Identity& who, const std::string& serverId, const std::string& reason)
{
    ToggleChange open{"admissions_open", true};
    open.clear = true;
    ToggleChange target{"failover_target", std::string()};
    target.clear = true;
    return serverOperation(who, "undrain", serverId, {{{}, open}, {{}, target}}, "as its regions say", reason);
}

OperationResult Cluster::failoverServer(const Identity& who, const std::string& serverId, const std::string& to, const std::string& reason)
{
    if (std::string problem = validateValue(*findToggle("failover_target"), to, failoverNames()); !problem.empty() || to.empty())
        return {Outcome::NotFound, to.empty() ? std::string("a failover needs a target region or endpoint") : problem, {}, {}};
    if (to.ends_with("@" + serverId))
        return {Outcome::InvalidArgument, "a server cannot fail over to itself", {}, {}};
    return serverOperation(who, "failover", serverId, {{{}, {"failover_target", to}}}, to, reason);
}

std::optional<PlayerFound> Cluster::findPlayer(std::uint64_t clientId) const
{
    for (const Region& r : m_regions)
        if (auto location = r.host->findPlayer(clientId))
            return PlayerFound{r.config.name, *location};
    return std::nullopt;
}

OperationResult Cluster::kickPlayer(const Identity& who, std::uint64_t clientId, const std::string& reason)
{
    if (who.role < Role::Operator)
        return {Outcome::PermissionDenied, "kicking a player needs the operator role", {}, {}};
    if (reason.empty())
        return {Outcome::InvalidArgument, "a reason is required (the player is shown it)", {}, {}};
    auto found = findPlayer(clientId);
    if (!found)
        return {Outcome::NotFound, "client " + std::to_string(clientId) + " is not connected to " + serverId(), {}, {}};
    std::lock_guard write(m_writeMutex);
    // Audited first: a kick the store cannot record does not happen.
    AuditEntry entry = stamp(who, reason);
    entry.action = "kick_player";
    entry.target = "client " + std::to_string(clientId);
    entry.oldValue = found->region + "@" + serverId();
    entry.newValue = "kicked";
    OperationResult result = audited(entry, "the player was not kicked");
    if (result.outcome == Outcome::Ok && !findRegion(found->region)->host->kick(clientId, "kicked: " + reason))
        result.message = "the player left before the kick reached it";
    return result;
}

std::variant<std::pair<Address, std::string>, OperationResult> Cluster::moveTarget(const std::string& fromRegion, const std::string& toRegion,
                                                                                    const std::string& toServer) const
{
    auto refuse = [](Outcome outcome, std::string message) { return OperationResult{outcome, std::move(message), {}, {}}; };
    if (toServer.empty() && toRegion.empty())
        return refuse(Outcome::InvalidArgument, "a move needs to_region or to_server");
    std::vector<ServerInfo> fleet;
    if (toServer.empty() && findRegion(toRegion)) {
        ServerInfo self;  // a region of this server: no need to ask the fleet
        self.id = serverId();
        self.state = ServerState::Serving;
        self.regions = regions();
        fleet.push_back(std::move(self));
    } else {
        std::string error;
        auto listed = servers(error);
        if (!listed)
            return refuse(Outcome::Unavailable, "the fleet's servers cannot be listed: " + error);
        fleet = std::move(*listed);
    }
    const ServerInfo* bestServer = nullptr;
    const RegionInfo* best = nullptr;
    for (const ServerInfo& server : fleet) {
        if (!toServer.empty() && server.id != toServer)
            continue;
        if (server.state != ServerState::Serving)
            continue;
        const RegionInfo* pick = nullptr;
        for (const RegionInfo& r : server.regions) {
            const bool named = toRegion.empty() ? r.name == fromRegion : r.name == toRegion;
            if (r.state == RegionState::Serving && (named || (toRegion.empty() && !pick)))
                if (!pick || named)
                    pick = &r;
        }
        if (pick && (!best || pick->capacity - std::min(pick->capacity, pick->players) > best->capacity - std::min(best->capacity, best->players))) {
            best = pick;
            bestServer = &server;
        }
    }
    if (!best) {
        if (!toServer.empty())
            return refuse(Outcome::NotFound, "no serving server '" + toServer + "' with a serving region" + (toRegion.empty() ? "" : " '" + toRegion + "'"));
        return refuse(Outcome::NotFound, "no serving server of the fleet serves region '" + toRegion + "'");
    }
    auto endpoint = Address::parse(best->endpoint);
    if (!endpoint)
        return refuse(Outcome::Internal, bestServer->id + " advertises no usable endpoint for " + best->name);
    if (const Region* from = findRegion(fromRegion); from && *endpoint == from->host->endpoint())
        return refuse(Outcome::InvalidArgument, "the player is already in " + fromRegion + " on " + serverId());
    return std::pair{*endpoint, best->name + "@" + bestServer->id};
}

OperationResult Cluster::movePlayer(const Identity& who, std::uint64_t clientId, const std::string& toRegion, const std::string& toServer,
                                    const std::string& reason)
{
    if (who.role < Role::Operator)
        return {Outcome::PermissionDenied, "moving a player needs the operator role", {}, {}};
    if (reason.empty())
        return {Outcome::InvalidArgument, "a reason is required (the player is shown it)", {}, {}};
    auto found = findPlayer(clientId);
    if (!found)
        return {Outcome::NotFound, "client " + std::to_string(clientId) + " is not connected to " + serverId(), {}, {}};
    auto target = moveTarget(found->region, toRegion, toServer);
    if (auto* refused = std::get_if<OperationResult>(&target))
        return *refused;
    const auto& [endpoint, label] = std::get<std::pair<Address, std::string>>(target);
    std::lock_guard write(m_writeMutex);
    AuditEntry entry = stamp(who, reason);
    entry.action = "move_player";
    entry.target = "client " + std::to_string(clientId);
    entry.oldValue = found->region + "@" + serverId();
    entry.newValue = label + " (" + endpoint.toString() + ")";
    OperationResult result = audited(entry, "the player was not moved");
    if (result.outcome == Outcome::Ok && !findRegion(found->region)->host->movePlayer(clientId, endpoint, reason))
        result.message = "the player left before the move reached it";
    return result;
}

OperationResult Cluster::startDrill(const Identity& who, const std::string& region, DrillKind kind, double latencyMs, double lossPercent,
                                    std::chrono::seconds duration, const std::string& reason)
{
    if (who.role < Role::Operator)
        return {Outcome::PermissionDenied, "drills need the operator role", {}, {}};
    if (reason.empty())
        return {Outcome::InvalidArgument, "a reason is required", {}, {}};
    if (duration.count() < 1 || duration.count() > 3600)
        return {Outcome::InvalidArgument, "duration_s must be within 1..3600", {}, {}};
    if (kind == DrillKind::Latency && !(latencyMs >= 1.0 && latencyMs <= 2000.0))
        return {Outcome::InvalidArgument, "latency_ms must be within 1..2000", {}, {}};
    if (kind == DrillKind::Loss && !(lossPercent > 0.0 && lossPercent <= 100.0))
        return {Outcome::InvalidArgument, "loss_percent must be within (0, 100]", {}, {}};
    std::lock_guard write(m_writeMutex);
    Region* r = findRegion(region);
    if (!r)
        return {Outcome::NotFound, "no region named '" + region + "'", {}, {}};
    {
        std::lock_guard lock(m_mutex);
        if (r->drill)
            return {Outcome::FailedPrecondition,
                    region + " already has a drill running (" + describeDrill(r->drill->kind, r->drill->latencyMs, r->drill->lossPercent)
                        + "); cancel it first",
                    {}, {}};
    }
    AuditEntry entry = stamp(who, reason);
    entry.action = "drill_start";
    entry.target = region;
    entry.oldValue = "none";
    entry.newValue = describeDrill(kind, latencyMs, lossPercent) + " for " + std::to_string(duration.count()) + " s";
    OperationResult result = audited(entry, "no drill was started");
    if (result.outcome != Outcome::Ok)
        return result;
    std::lock_guard lock(m_mutex);
    r->drill = Drill{kind, latencyMs, lossPercent, std::chrono::steady_clock::now() + duration};
    ConditionerSettings fault;
    if (kind == DrillKind::Latency)
        fault.latencyMs = latencyMs;
    else
        fault.lossPercent = kind == DrillKind::Outage ? 100.0 : lossPercent;
    r->host->setFault(fault);
    return result;
}

OperationResult Cluster::audited(const AuditEntry& entry, const std::string& nothingDone)
{
    StoreFailure failure;
    auto written = m_store->appendAudit(entry, &failure);
    if (!written)
        return {failure.unavailable ? Outcome::Unavailable : Outcome::Internal,
                failure.unavailable ? failure.message + "; " + nothingDone : "store: cannot append the audit entry: " + failure.message, {}, {}};
    std::lock_guard lock(m_mutex);
    publishAudit(*written);
    return {Outcome::Ok, {}, written, {}};
}

std::optional<AuditEntry> Cluster::endDrill(Region& region, const Identity& who, const std::string& action, const std::string& reason)
{
    // The caller holds m_writeMutex (not m_mutex: the audit append below fsyncs).
    AuditEntry entry = stamp(who, reason);
    entry.action = action;
    entry.target = region.config.name;
    {
        std::lock_guard lock(m_mutex);
        if (!region.drill)
            return std::nullopt;
        entry.oldValue = describeDrill(region.drill->kind, region.drill->latencyMs, region.drill->lossPercent);
        entry.newValue = "none";
        region.host->setFault({});
        region.drill.reset();
    }
    auto written = m_store->appendAudit(entry);
    if (written) {
        std::lock_guard lock(m_mutex);
        publishAudit(*written);
    }
    return written;
}

OperationResult Cluster::cancelDrill(const Identity& who, const std::string& region, const std::string& reason)
{
    if (who.role < Role::Operator)
        return {Outcome::PermissionDenied, "drills need the operator role", {}, {}};
    if (reason.empty())
        return {Outcome::InvalidArgument, "a reason is required", {}, {}};
    std::lock_guard write(m_writeMutex);
    Region* r = findRegion(region);
    if (!r)
        return {Outcome::NotFound, "no region named '" + region + "'", {}, {}};
    {
        std::lock_guard lock(m_mutex);
        if (!r->drill)
            return {Outcome::FailedPrecondition, region + " has no drill running", {}, {}};
    }
    auto written = endDrill(*r, who, "drill_cancel", reason);
    if (!written)
        return {Outcome::Internal, "store: cannot append the audit entry (the drill has ended)", {}, {}};
    return {Outcome::Ok, {}, written, {}};
}

std::vector<AuditEntry> Cluster::audit(std::uint64_t afterId, std::size_t limit, const std::string& target) const
{
    return m_store->audit(afterId, limit, target);
}

void Cluster::publishAudit(const AuditEntry& entry)
{
    if (!m_publishedAudits.empty() && entry.id + 4096 < *m_publishedAudits.rbegin())
        return;  // far older than anything still remembered: long since told
    if (!m_publishedAudits.insert(entry.id).second)
        return;
    while (m_publishedAudits.size() > 4096)
        m_publishedAudits.erase(m_publishedAudits.begin());
    m_auditFeed.publish(entry);
}

void Cluster::onStoreChange(StoreChange change)
{
    std::lock_guard lock(m_mutex);
    std::vector<StoredToggle> fresh;
    if (change.reload) {
        // The store could not say what changed: whatever is no longer there inherits again.
        std::set<std::pair<std::string, std::string>> present;
        for (const StoredToggle& t : change.toggles)
            present.insert({t.key, t.scope});
        for (auto& [id, stored] : m_toggles)
            if (!present.contains(id) && !stored.cleared) {
                StoredToggle gone = stored;
                gone.cleared = true;
                fresh.push_back(gone);
            }
    }
    for (const AuditEntry& e : change.audits)  // the last changes of toggles (drills' entries are only told)
        if (std::any_of(change.toggles.begin(), change.toggles.end(), [&](const StoredToggle& t) { return t.lastAuditId == e.id; }))
            m_lastChanges[e.id] = e;
    for (const StoredToggle& t : change.toggles) {
        // This server's own writes come back through the watch too: applied once, by version.
        if (auto it = m_toggles.find({t.key, t.scope}); it != m_toggles.end() && it->second.version >= t.version)
            continue;
        fresh.push_back(t);
    }
    if (!fresh.empty()) {
        publishToggles(fresh);
        applyKnobs();
    }
    for (const AuditEntry& e : change.audits)
        publishAudit(e);
}

std::optional<std::vector<ServerInfo>> Cluster::servers(std::string& error) const
{
    if (const FleetDirectory* fleet = m_fleet.load())
        return fleet->servers(error);
    return std::vector<ServerInfo>{describeSelf()};
}

ServerInfo Cluster::describeSelf() const
{
    ServerInfo self;
    self.id = serverId();
    self.state = ServerState::Serving;
    self.regions = regions();
    for (const RegionInfo& r : self.regions) {
        self.players += r.players;
        self.capacity += r.capacity;
    }
    std::lock_guard lock(m_mutex);
    if (m_shuttingDown)
        self.state = ServerState::ShuttingDown;
    return self;
}

Feed<TelemetryRecord>::Subscription Cluster::watchTelemetry(std::uint64_t resumeAfter, Feed<TelemetryRecord>::Callback callback)
{
    return m_telemetry.subscribe(std::move(callback), [&](const Feed<TelemetryRecord>::Callback& deliver) {
        for (const TelemetryRecord& record : m_history)
            if (record.sequence > resumeAfter)
                deliver(record);
    });
}

Feed<ToggleEvent>::Subscription Cluster::watchToggles(Feed<ToggleEvent>::Callback callback)
{
    std::lock_guard lock(m_mutex);  // no change can slip between the initial state and the first event
    return m_toggleFeed.subscribe(std::move(callback), [&](const Feed<ToggleEvent>::Callback& deliver) {
        for (const std::string& s : scopes())
            for (const ToggleDefinition& d : engineToggles())
                deliver(ToggleEvent{stateOf(d, s), true});
    });
}

Feed<AuditEntry>::Subscription Cluster::subscribeAudit(Feed<AuditEntry>::Callback callback)
{
    return m_auditFeed.subscribe(std::move(callback));
}

void Cluster::beginShutdown()
{
    std::lock_guard lock(m_mutex);
    m_shuttingDown = true;
    applyKnobs();
}

void Cluster::sampleNow()
{
    std::vector<Region*> ended;
    {
        std::lock_guard lock(m_mutex);
        const auto now = std::chrono::steady_clock::now();
        for (Region& r : m_regions)
            if (r.drill && r.drill->ends <= now)
                ended.push_back(&r);
    }
    if (!ended.empty()) {
        // Rare (a drill ran out): the audit append takes its turn among the writers.
        std::lock_guard write(m_writeMutex);
        for (Region* r : ended)
            endDrill(*r, kSystem, "drill_end", "drill duration elapsed");
    }
    std::vector<TelemetryRecord> records;
    {
        std::lock_guard lock(m_mutex);
        const std::int64_t time = unixMs();
        for (Region& r : m_regions)
            records.push_back(TelemetryRecord{0, time, stateOf(r), r.host->sample(), serverId()});
    }
    for (TelemetryRecord& record : records)
        m_telemetry.publish(std::move(record), [this](TelemetryRecord& r) {
            r.sequence = ++m_sequence;
            m_history.push_back(r);
            while (m_history.size() > m_config.telemetryHistory)
                m_history.pop_front();
        });
}

void Cluster::samplerLoop()
{
    auto next = std::chrono::steady_clock::now() + m_config.telemetryInterval;
    std::unique_lock lock(m_samplerMutex);
    while (!m_stopSampler) {
        if (m_samplerWake.wait_until(lock, next, [this] { return m_stopSampler; }))
            break;
        lock.unlock();
        sampleNow();
        if (const FleetDirectory* fleet = m_fleet.load(); fleet && fleet->knownVersion() != m_knownVersion) {
            // Servers came, went or changed state: failover targets by region name resolve anew.
            m_knownVersion = fleet->knownVersion();
            std::lock_guard state(m_mutex);
            applyKnobs();
        }
        lock.lock();
        next += m_config.telemetryInterval;
        const auto now = std::chrono::steady_clock::now();
        if (next < now)  // fell behind (suspended, overloaded): skip, never burst
            next = now + m_config.telemetryInterval;
    }
}

} // namespace lv::liveops
