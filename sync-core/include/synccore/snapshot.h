#pragma once

#include "synccore/bitstream.h"
#include "synccore/result.h"
#include "synccore/types.h"

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace lv {

/// What one client holds for one snapshot: the tick, the tick rate it was encoded at, and the state
/// of every entity it contains, sorted by entity index. Server and client keep identical records
/// (the server's copy is what it encoded, the client's what it decoded); deltas refer to them.
struct SnapshotRecord {
    Tick tick = 0;
    int tickHz = 30;
    /// The server's time base: server time is continuous across tick-rate changes, and each rate
    /// change starts an epoch (the tick it happened at and the server time then).
    Tick epochTick = 0;
    TimeUs epochTimeUs = 0;
    std::vector<PlayerState> entities;  ///< sorted by id.index, indices unique
    const PlayerState* find(std::uint16_t index) const;
    /// Server time of this snapshot, µs.
    TimeUs timeUs() const
    {
        return epochTimeUs + static_cast<std::int64_t>(static_cast<std::int32_t>(tick - epochTick)) * kMicrosPerSecond / tickHz;
    }
    friend bool operator==(const SnapshotRecord&, const SnapshotRecord&) = default;
};

/// Limits the decoder enforces (the encoder never exceeds them).
constexpr std::size_t kMaxSnapshotEntities = 1024;
constexpr Tick kMaxBaselineAge = 1024;
constexpr int kMaxTickHz = 240;

/// Where the prediction of an entity from its baseline record lands after `ticks` ticks at `tickHz`:
/// dead reckoning on the baseline velocity, capped at half a second. Both ends compute it identically.
PlayerState predictFromBaseline(const PlayerState& baseline, Tick ticks, int tickHz);

/// One entity the server would like the client to see.
struct SnapshotCandidate {
    const PlayerState* state = nullptr;  ///< the server's current (authoritative) state
    bool mandatory = false;              ///< always sent with fresh data (the client's own player)
    float priority = 0.0f;               ///< higher goes first when not everyone fits the budget
};

struct SnapshotEncodeInput {
    Tick tick = 0;
    int tickHz = 30;
    Tick epochTick = 0;       ///< the world's time epoch (see SnapshotRecord)
    TimeUs epochTimeUs = 0;
    /// The newest snapshot the client acknowledged that the server still holds; null = full state.
    const SnapshotRecord* baseline = nullptr;
    /// Entities of the interest set, sorted by entity index and unique (a list that is not is
    /// sorted, and duplicates dropped, on a slower path).
    std::span<const SnapshotCandidate> candidates;
    /// Hard budget for the encoded snapshot in bits (header included).
    std::size_t budgetBits = 8 * 1100;
};

struct SnapshotEncodeOutput {
    SnapshotRecord record;               ///< what the client will hold after decoding
    std::vector<std::uint16_t> updated;  ///< entity indices whose record now equals the server's state
    std::vector<std::uint16_t> deferred; ///< candidates that did not fit the budget
    std::vector<std::uint8_t> candidateUpdated;  ///< per candidate (input order): 1 if updated
    std::size_t bits = 0;
};

/// Encodes a snapshot into `writer`. Entities kept from the baseline cost one bit when they are
/// where the baseline predicts; changed ones carry gamma-coded residuals against that prediction;
/// entities new to the client carry full quantised state. When everything fits the budget, all
/// are sent; otherwise candidates are taken by priority while they fit: a kept entity that does
/// not fit stays at its prediction (one bit), a new one waits for a later snapshot.
SnapshotEncodeOutput encodeSnapshot(BitWriter& writer, const SnapshotEncodeInput& input);

/// Looks up the record for a baseline tick (null when the receiver does not hold it).
using BaselineLookup = std::function<const SnapshotRecord*(Tick)>;

/// Decodes a snapshot written by encodeSnapshot. Every count, index, range and the baseline
/// reference is validated; any problem is an error and nothing partial is returned.
Result<SnapshotRecord> decodeSnapshot(BitReader& reader, const BaselineLookup& findBaseline);

/// Encoding of one full entity state on its own (used by the codec and by tests/benchmarks).
void writeFullState(BitWriter& writer, const PlayerState& state);
Result<PlayerState> readFullState(BitReader& reader, EntityId id);

} // namespace lv
