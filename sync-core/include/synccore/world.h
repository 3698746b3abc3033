#pragma once

#include "synccore/bitstream.h"
#include "synccore/interest.h"
#include "synccore/knobs.h"
#include "synccore/lagcomp.h"
#include "synccore/simulation.h"
#include "synccore/snapshot.h"
#include "synccore/types.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

namespace lv {

struct WorldConfig {
    MovementTuning tuning;
    /// Input budget, tied to server time: every tick earns a player one command of credit, and at
    /// most `inputBurst` can be banked. So a player may be a few ticks ahead after a burst (its
    /// inputs arrived bunched by jitter), never persistently faster: a client sending commands
    /// faster than the tick rate (a speed hack) or holding them back to release at once (a lag
    /// switch) gains at most `inputBurst` ticks of movement.
    std::size_t inputBurst = 8;         ///< 267 ms at 30 Hz: a stalled client or a jittery link catches up
    std::size_t maxInputsPerTick = 3;   ///< catch-up rate, within the credit
    /// Commands waiting beyond the credit; past this the oldest are dropped and counted per player.
    std::size_t inputQueueLimit = 16;
    std::size_t lagCompensationTicks = 64;
    Tick startTick = 0;                 ///< the tick counter's start (tests of its wrap-around)
    std::uint8_t damagePerHit = 10;
    int shotsPerSecond = 5;
    double weaponRangeM = 150.0;
};

/// The authoritative simulation: players, their queued inputs, the fixed tick, lag compensation.
/// Knows nothing of networking; the Server feeds it inputs and asks ClientViews for snapshots.
class ServerWorld {
public:
    explicit ServerWorld(RuntimeKnobs knobs = {}, WorldConfig config = {});

    /// New knobs; a tick-rate change starts a new time epoch (server time stays continuous).
    void setKnobs(const RuntimeKnobs& knobs);
    const RuntimeKnobs& knobs() const { return m_knobs; }
    const WorldConfig& config() const { return m_config; }

    /// Adds a player; nullopt when all 65,535 slots are taken.
    std::optional<EntityId> spawn(Platform platform, const Vec3i& position, std::uint16_t yaw = 0);
    bool despawn(EntityId id);
    /// Queues an input (duplicates and already processed sequences are ignored). False if unknown id.
    bool queueInput(EntityId id, const InputCommand& input);
    /// Server-side influence on a player (knockback, teleport): the client's prediction cannot know it.
    bool push(EntityId id, const Vec3i& displacement, const Vec3i& velocityChange = {});
    /// Advances one tick: applies up to maxInputsPerTick queued inputs per player in sequence order,
    /// resolves shots against lag-compensated history, records history.
    void step();
    /// The host skipped `ticks` ticks (it fell too far behind): players keep the credit those
    /// ticks of server time would have earned them, so a loaded server does not drop honest input.
    void creditSkippedTicks(std::size_t ticks);

    Tick tick() const { return m_tick; }
    /// Server time (µs since the world began) is continuous across tick-rate changes: it is
    /// epochTime + (tick - epochTick) / tickHz, and every rate change starts a new epoch.
    Tick epochTick() const { return m_epochTick; }
    TimeUs epochTimeUs() const { return m_epochTimeUs; }
    TimeUs timeOf(Tick tick) const;
    /// The deepest rewind a shot of this player may claim (1/256 tick): its RTT plus interpolation
    /// delay plus a margin, kept up to date by the Server. Deeper claims are clamped and counted.
    void setRewindLimit(EntityId id, std::uint32_t rewind256);
    std::uint64_t shotsClamped() const { return m_shotsClamped; }
    /// Commands a player sent beyond its input budget, dropped (all players: inputsDropped()).
    std::uint64_t inputsDropped(EntityId id) const;
    std::uint64_t inputsDropped() const { return m_inputsDropped; }
    std::span<const PlayerState> players() const { return m_players; }
    const PlayerState* state(EntityId id) const;
    std::uint32_t lastProcessedInput(EntityId id) const;
    std::size_t playerCount() const { return m_players.size(); }
    /// Slot of an entity in players(), or -1.
    int slotOf(EntityId id) const;
    /// Slot of whichever player holds entity index `index` now, or -1.
    int slotOfIndex(std::uint16_t index) const { return index < m_slotOfIndex.size() ? m_slotOfIndex[index] : -1; }
    const LagCompensation& lagCompensation() const { return m_lagComp; }
    /// The grid over players(), rebuilt at most once per tick (and when the radius changes).
    const SpatialGrid& grid();
    std::uint64_t hits() const { return m_hits; }
    std::uint64_t shots() const { return m_shots; }

private:
    struct Control {
        std::vector<InputCommand> queue;  // sorted by sequence
        std::uint32_t lastSequence = 0;
        Tick nextShotTick = 0;
        std::size_t credit = 0;           // commands the player may still apply (input budget)
        std::uint64_t dropped = 0;        // commands beyond the budget
        std::uint32_t maxRewind256 = ~std::uint32_t{0};  // until the Server says: the whole history
    };
    void fire(std::size_t slot, const InputCommand& input);

    RuntimeKnobs m_knobs;
    WorldConfig m_config;
    Tick m_tick = 0;
    Tick m_epochTick = 0;
    TimeUs m_epochTimeUs = 0;
    std::uint64_t m_shotsClamped = 0;
    std::uint64_t m_inputsDropped = 0;
    std::vector<PlayerState> m_players;   // dense
    std::vector<Control> m_controls;      // parallel to m_players
    std::vector<int> m_slotOfIndex;       // entity index -> dense slot, -1 if free
    std::vector<std::uint16_t> m_generation;
    std::vector<std::uint16_t> m_freeIndices;
    LagCompensation m_lagComp;
    SpatialGrid m_grid;
    Tick m_gridTick = ~Tick{0};
    std::uint64_t m_hits = 0;
    std::uint64_t m_shots = 0;
};

/// One client's side of the server: its interest set, priority accumulators, the snapshots it was
/// sent (so deltas can refer to any it acknowledges) and its newest acknowledgement.
class ClientView {
public:
    static constexpr std::size_t kHistory = 64;
    /// Interest is recomputed every this many snapshots (1.25 Hz at 20 Hz snapshots), staggered by
    /// player so the cost spreads evenly over ticks; the hysteresis (10 % of the radius) covers the
    /// movement in between (a runner covers 5.6 m in 0.8 s).
    static constexpr std::uint32_t kInterestRefresh = 16;

    explicit ClientView(EntityId player) : m_player(player) {}
    EntityId player() const { return m_player; }
    void setPlayer(EntityId player) { m_player = player; }

    /// The client decoded snapshot `tick`. Older acks are ignored; unknown ticks too.
    void acknowledge(Tick tick);
    std::optional<Tick> ackedTick() const { return m_acked; }
    /// Builds and records the next snapshot for this client into `writer`.
    SnapshotEncodeOutput buildSnapshot(ServerWorld& world, BitWriter& writer, std::size_t budgetBits);
    const SnapshotRecord* record(Tick tick) const;
    std::size_t historySize() const { return m_history.size(); }
    const InterestSet& interest() const { return m_interest; }

private:
    EntityId m_player;
    std::optional<Tick> m_acked;
    std::deque<SnapshotRecord> m_history;
    std::vector<PlayerState> m_spare;  // a retired record's storage, reused by the next one
    InterestSet m_interest;
    std::vector<std::pair<std::uint16_t, float>> m_priority;  // sorted by index, members only
    std::vector<SnapshotCandidate> m_candidates;
    static constexpr std::uint32_t kNoPriority = ~std::uint32_t{0};
    std::vector<std::uint32_t> m_candidatePriorityPos;                 // candidate -> m_priority position
    std::vector<std::pair<std::uint16_t, float>> m_priorityScratch;   // scratch, reused
    std::uint32_t m_snapshotsBuilt = 0;
    std::int32_t m_interestRadius = -1;  // settings of the last refresh: a change forces one
    std::size_t m_interestCap = 0;
    bool m_crossPlay = true;
};

/// Whether a client whose phase is `phase` (e.g. its entity index) gets a snapshot at `tick`:
/// snapshotHz out of every tickHz ticks, evenly spaced, and different clients on different ticks
/// so the encoding work spreads over every tick instead of piling onto some.
constexpr bool snapshotDue(Tick tick, int tickHz, int snapshotHz, std::uint32_t phase)
{
    const std::uint64_t t = std::uint64_t{tick} + phase % static_cast<std::uint32_t>(tickHz);
    return t * static_cast<std::uint64_t>(snapshotHz) / static_cast<std::uint64_t>(tickHz)
        != (t - 1) * static_cast<std::uint64_t>(snapshotHz) / static_cast<std::uint64_t>(tickHz);
}

/// Snapshot budget in bits for one client: the bandwidth cap spread over the snapshot rate, never
/// more than fits in one packet.
std::size_t snapshotBudgetBits(const RuntimeKnobs& knobs, std::size_t packetLimitBytes);

} // namespace lv
