#include "synccore/world.h"

#include <algorithm>
#include <cmath>

namespace lv {

ServerWorld::ServerWorld(RuntimeKnobs knobs, WorldConfig config)
    : m_knobs(std::move(knobs)), m_config(config), m_tick(config.startTick), m_epochTick(config.startTick),
      m_lagComp(config.lagCompensationTicks)
{
}

void ServerWorld::setKnobs(const RuntimeKnobs& knobs)
{
    if (knobs.tickHz != m_knobs.tickHz) {
        m_epochTimeUs = timeOf(m_tick);
        m_epochTick = m_tick;
    }
    m_knobs = knobs;
}

TimeUs ServerWorld::timeOf(Tick tick) const
{
    const auto ticks = static_cast<std::int64_t>(static_cast<std::int32_t>(tick - m_epochTick));
    return m_epochTimeUs + ticks * kMicrosPerSecond / std::max(1, m_knobs.tickHz);
}

void ServerWorld::setRewindLimit(EntityId id, std::uint32_t rewind256)
{
    if (const int slot = slotOf(id); slot >= 0)
        m_controls[static_cast<std::size_t>(slot)].maxRewind256 = rewind256;
}

std::uint64_t ServerWorld::inputsDropped(EntityId id) const
{
    const int slot = slotOf(id);
    return slot < 0 ? 0 : m_controls[static_cast<std::size_t>(slot)].dropped;
}

std::optional<EntityId> ServerWorld::spawn(Platform platform, const Vec3i& position, std::uint16_t yaw)
{
    std::uint16_t index;
    if (!m_freeIndices.empty()) {
        index = m_freeIndices.back();
        m_freeIndices.pop_back();
    } else {
        if (m_slotOfIndex.size() >= 0xFFFF)
            return std::nullopt;
        index = static_cast<std::uint16_t>(m_slotOfIndex.size());
        m_slotOfIndex.push_back(-1);
        m_generation.push_back(0);
    }
    const EntityId id{index, ++m_generation[index]};
    PlayerState s;
    s.id = id;
    s.platform = platform;
    s.position = {std::clamp(position.x, -kWorldHalfExtent, kWorldHalfExtent - 1),
                  std::clamp(position.y, -kWorldHalfExtent, kWorldHalfExtent - 1), std::max(position.z, 0)};
    s.yaw = yaw;
    m_slotOfIndex[index] = static_cast<int>(m_players.size());
    m_players.push_back(s);
    m_controls.emplace_back();
    m_gridTick = ~Tick{0};
    return id;
}

int ServerWorld::slotOf(EntityId id) const
{
    if (id.index >= m_slotOfIndex.size() || m_generation[id.index] != id.generation)
        return -1;
    return m_slotOfIndex[id.index];
}

bool ServerWorld::despawn(EntityId id)
{
    const int slot = slotOf(id);
    if (slot < 0)
        return false;
    // Swap-remove keeps the arrays dense.
    const auto last = static_cast<int>(m_players.size()) - 1;
    if (slot != last) {
        m_players[static_cast<std::size_t>(slot)] = m_players.back();
        m_controls[static_cast<std::size_t>(slot)] = std::move(m_controls.back());
        m_slotOfIndex[m_players[static_cast<std::size_t>(slot)].id.index] = slot;
    }
    m_players.pop_back();
    m_controls.pop_back();
    m_slotOfIndex[id.index] = -1;
    m_freeIndices.push_back(id.index);
    m_gridTick = ~Tick{0};
    return true;
}

const PlayerState* ServerWorld::state(EntityId id) const
{
    const int slot = slotOf(id);
    return slot < 0 ? nullptr : &m_players[static_cast<std::size_t>(slot)];
}

std::uint32_t ServerWorld::lastProcessedInput(EntityId id) const
{
    const int slot = slotOf(id);
    return slot < 0 ? 0 : m_controls[static_cast<std::size_t>(slot)].lastSequence;
}

bool ServerWorld::queueInput(EntityId id, const InputCommand& input)
{
    const int slot = slotOf(id);
    if (slot < 0)
        return false;
    Control& c = m_controls[static_cast<std::size_t>(slot)];
    if (input.sequence <= c.lastSequence)
        return true;  // already applied (redundant copy from a later packet)
    auto it = std::lower_bound(c.queue.begin(), c.queue.end(), input.sequence,
                               [](const InputCommand& q, std::uint32_t s) { return q.sequence < s; });
    if (it != c.queue.end() && it->sequence == input.sequence)
        return true;
    c.queue.insert(it, input);
    if (c.queue.size() > m_config.inputQueueLimit) {
        // More than the budget lets through: the oldest go (latency stays bounded; a speed hack
        // only loses its own commands), counted per player.
        c.queue.erase(c.queue.begin());
        ++c.dropped;
        ++m_inputsDropped;
    }
    return true;
}

bool ServerWorld::push(EntityId id, const Vec3i& displacement, const Vec3i& velocityChange)
{
    const int slot = slotOf(id);
    if (slot < 0)
        return false;
    PlayerState& s = m_players[static_cast<std::size_t>(slot)];
    s.position.x = std::clamp(s.position.x + displacement.x, -kWorldHalfExtent, kWorldHalfExtent - 1);
    s.position.y = std::clamp(s.position.y + displacement.y, -kWorldHalfExtent, kWorldHalfExtent - 1);
    s.position.z = std::clamp(s.position.z + displacement.z, 0, kWorldMaxZ - 1);
    s.velocity.x = std::clamp(s.velocity.x + velocityChange.x, -kMaxSpeed + 1, kMaxSpeed - 1);
    s.velocity.y = std::clamp(s.velocity.y + velocityChange.y, -kMaxSpeed + 1, kMaxSpeed - 1);
    s.velocity.z = std::clamp(s.velocity.z + velocityChange.z, -kMaxSpeed + 1, kMaxSpeed - 1);
    return true;
}

void ServerWorld::fire(std::size_t slot, const InputCommand& input)
{
    Control& c = m_controls[slot];
    if (tickBefore(m_tick, c.nextShotTick))
        return;
    c.nextShotTick = m_tick + static_cast<Tick>(std::max(1, m_knobs.tickHz / std::max(1, m_config.shotsPerSecond)));
    ++m_shots;
    const PlayerState& shooter = m_players[slot];
    Vec3i eye = shooter.position;
    eye.z += static_cast<std::int32_t>(1.6 * kPositionUnitsPerMetre);
    const auto range = static_cast<std::int64_t>(m_config.weaponRangeM * kPositionUnitsPerMetre);
    // View time is in 1/256 tick, modulo 2^32 (it wraps after 2^24 ticks: 6.5 days at 30 Hz), so
    // only the difference to now is meaningful. A view from the future is judged now; one older
    // than the player's rewind limit (RTT + interpolation delay + margin) is clamped to it.
    const std::uint32_t now256 = static_cast<std::uint32_t>(m_tick) * 256u;
    const std::int32_t claimed = static_cast<std::int32_t>(now256 - input.viewTime256);
    std::uint32_t rewind = claimed > 0 ? static_cast<std::uint32_t>(claimed) : 0;
    if (rewind > c.maxRewind256 || rewind > m_lagComp.maxRewind256()) {
        rewind = std::min(c.maxRewind256, m_lagComp.maxRewind256());
        ++m_shotsClamped;
    }
    const auto hit = m_lagComp.raycast(shooter.id, eye, input.yaw, input.pitch, range, rewind);
    if (!hit)
        return;
    const int target = slotOf(hit->target);
    if (target < 0)
        return;
    ++m_hits;
    PlayerState& t = m_players[static_cast<std::size_t>(target)];
    t.health = t.health > m_config.damagePerHit ? static_cast<std::uint8_t>(t.health - m_config.damagePerHit) : static_cast<std::uint8_t>(kMaxHealth);
}

void ServerWorld::step()
{
    ++m_tick;
    if (static_cast<Tick>(m_tick - m_epochTick) >= (Tick{1} << 30)) {
        // Keep epochs short of the tick counter's wrap, so tick differences stay unambiguous.
        m_epochTimeUs = timeOf(m_tick);
        m_epochTick = m_tick;
    }
    const std::size_t burst = std::max<std::size_t>(1, m_config.inputBurst);
    for (std::size_t i = 0; i < m_players.size(); ++i) {
        Control& c = m_controls[i];
        c.credit = std::min(c.credit + 1, burst);  // one command per tick of server time
        std::size_t applied = 0;
        while (!c.queue.empty() && applied < m_config.maxInputsPerTick && c.credit > 0) {
            const InputCommand input = c.queue.front();
            c.queue.erase(c.queue.begin());
            m_players[i] = simulate(m_players[i], input, m_knobs.tickHz, m_config.tuning);
            c.lastSequence = input.sequence;
            ++applied;
            --c.credit;
            if (input.buttons & ButtonFire)
                fire(i, input);
        }
    }
    m_lagComp.record(m_tick, m_players);
}

void ServerWorld::creditSkippedTicks(std::size_t ticks)
{
    const std::size_t burst = std::max<std::size_t>(1, m_config.inputBurst);
    for (Control& c : m_controls)
        c.credit = std::min(c.credit + ticks, burst);
}

const SpatialGrid& ServerWorld::grid()
{
    const auto cell = std::max(static_cast<std::int32_t>(m_knobs.interestRadiusM * kPositionUnitsPerMetre / 4), 4 * kPositionUnitsPerMetre);
    if (m_gridTick != m_tick || m_grid.cellSize() != cell) {
        m_grid.rebuild(m_players, cell);
        m_gridTick = m_tick;
    }
    return m_grid;
}

void ClientView::acknowledge(Tick tick)
{
    if (m_acked && !tickBefore(*m_acked, tick))
        return;
    if (!record(tick))
        return;  // not a snapshot we sent (or long gone): ignore rather than trust it
    m_acked = tick;
    // Acks only move forward, so older records can never be a baseline again.
    while (!m_history.empty() && tickBefore(m_history.front().tick, tick)) {
        if (m_spare.capacity() < m_history.front().entities.capacity())
            m_spare.swap(m_history.front().entities);  // keep the allocation for the next record
        m_history.pop_front();
    }
}

const SnapshotRecord* ClientView::record(Tick tick) const
{
    auto it = std::lower_bound(m_history.begin(), m_history.end(), tick,
                               [](const SnapshotRecord& r, Tick t) { return tickBefore(r.tick, t); });
    return it != m_history.end() && it->tick == tick ? &*it : nullptr;
}

SnapshotEncodeOutput ClientView::buildSnapshot(ServerWorld& world, BitWriter& writer, std::size_t budgetBits)
{
    const RuntimeKnobs& knobs = world.knobs();
    const int selfSlot = world.slotOf(m_player);
    const auto players = world.players();
    const PlayerState* self = selfSlot >= 0 ? &players[static_cast<std::size_t>(selfSlot)] : nullptr;

    InterestSettings settings;
    settings.radius = static_cast<std::int32_t>(knobs.interestRadiusM * kPositionUnitsPerMetre);
    settings.hysteresis = static_cast<std::int32_t>(knobs.interestHysteresisM * kPositionUnitsPerMetre);
    settings.maxCount = static_cast<std::size_t>(knobs.maxVisible);
    // The refresh slot is a hash of the index, not index % 8, which would correlate with the
    // snapshot phase (index % tickHz) and bunch refreshes onto some ticks.
    const std::uint32_t refreshSlot = (std::uint32_t{m_player.index} * 2654435761u) >> 28;
    const bool refresh = m_snapshotsBuilt++ % kInterestRefresh == refreshSlot % kInterestRefresh
        || m_interestRadius != settings.radius || m_interestCap != settings.maxCount || m_crossPlay != knobs.crossPlay;
    if (self && refresh) {
        m_interestRadius = settings.radius;
        m_interestCap = settings.maxCount;
        m_crossPlay = knobs.crossPlay;
        std::function<bool(std::uint32_t)> allowed;
        if (!knobs.crossPlay) {
            const Platform own = self->platform;
            allowed = [players, own](std::uint32_t slot) { return players[slot].platform == own; };
        }
        m_interest.update(players, world.grid(), self->position, selfSlot, settings, allowed);
    }

    // Priority: accumulate every snapshot, nearer players faster; sent ones start again from zero.
    auto& next = m_priorityScratch;
    next.clear();
    std::size_t p = 0;
    for (std::uint16_t index : m_interest.members()) {
        while (p < m_priority.size() && m_priority[p].first < index)
            ++p;
        float acc = (p < m_priority.size() && m_priority[p].first == index) ? m_priority[p].second : 0.0f;
        next.emplace_back(index, acc);
    }
    std::swap(m_priority, next);

    // Candidates in index order (the encoder pairs them with the baseline by merging), each with
    // its accumulated priority; the client's own player is mandatory.
    m_candidates.clear();
    m_candidatePriorityPos.clear();
    const double radius2 = std::max(1.0, double(settings.radius) * settings.radius);
    const double leave = double(settings.radius) + settings.hysteresis;
    const double leave2 = leave * leave;
    bool selfPlaced = self == nullptr;
    for (std::size_t pi = 0; pi < m_priority.size(); ++pi) {
        auto& [index, acc] = m_priority[pi];
        const int slot = world.slotOfIndex(index);
        if (slot < 0)
            continue;
        if (!selfPlaced && self->id.index < index) {
            m_candidates.push_back({self, true, 0.0f});
            m_candidatePriorityPos.push_back(kNoPriority);
            selfPlaced = true;
        }
        const PlayerState& other = players[static_cast<std::size_t>(slot)];
        const double d2 = self ? static_cast<double>(distanceSquared(other.position, self->position)) : radius2;
        // Between interest refreshes a member may have run off: never send anyone beyond the
        // leave distance, whatever the refresh cadence.
        if (d2 > leave2)
            continue;
        // 1 for the farthest member up to 5 for one standing next to us (squared falloff: no sqrt).
        acc += 1.0f + 4.0f * static_cast<float>(std::max(0.0, 1.0 - d2 / radius2));
        m_candidates.push_back({&other, false, acc});
        m_candidatePriorityPos.push_back(static_cast<std::uint32_t>(pi));
    }
    if (!selfPlaced) {
        m_candidates.push_back({self, true, 0.0f});
        m_candidatePriorityPos.push_back(kNoPriority);
    }

    const SnapshotRecord* baseline = (knobs.deltaCompression && m_acked) ? record(*m_acked) : nullptr;
    SnapshotEncodeInput input;
    input.tick = world.tick();
    input.tickHz = knobs.tickHz;
    input.epochTick = world.epochTick();
    input.epochTimeUs = world.epochTimeUs();
    input.baseline = baseline;
    input.candidates = m_candidates;
    input.budgetBits = budgetBits;
    SnapshotEncodeOutput out = encodeSnapshot(writer, input);

    for (std::size_t c = 0; c < out.candidateUpdated.size(); ++c)
        if (out.candidateUpdated[c] && m_candidatePriorityPos[c] != kNoPriority)
            m_priority[m_candidatePriorityPos[c]].second = 0.0f;
    if (!m_history.empty() && !tickBefore(m_history.back().tick, out.record.tick))
        m_history.clear();  // the world was reset behind us: start over with full state
    SnapshotRecord& kept = m_history.emplace_back();
    kept.entities.swap(m_spare);  // reuse a retired record's allocation
    kept.entities.assign(out.record.entities.begin(), out.record.entities.end());
    kept.tick = out.record.tick;
    kept.tickHz = out.record.tickHz;
    kept.epochTick = out.record.epochTick;
    kept.epochTimeUs = out.record.epochTimeUs;
    while (m_history.size() > kHistory) {
        m_spare.swap(m_history.front().entities);
        m_history.pop_front();
    }
    if (m_acked && !record(*m_acked))
        m_acked.reset();  // the acked snapshot fell out of history: next one is full state
    return out;
}

std::size_t snapshotBudgetBits(const RuntimeKnobs& knobs, std::size_t packetLimitBytes)
{
    const std::size_t packetBits = packetLimitBytes * 8;
    if (knobs.bandwidthCapKbps <= 0.0)
        return packetBits;
    const double bits = knobs.bandwidthCapKbps * 1000.0 / std::max(1, knobs.snapshotHz);
    return std::min(packetBits, static_cast<std::size_t>(std::max(bits, 64.0)));
}

} // namespace lv
