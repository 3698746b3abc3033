#include "synccore/snapshot.h"

#include "synccore/simulation.h"

#include <algorithm>
#include <array>
#include <bit>

namespace lv {

namespace {

/// Counts the bits a BitWriter would write, so the encoder can price an entity before choosing it.
class BitCounter {
public:
    void writeBits(std::uint64_t, int bits) { m_bits += static_cast<std::size_t>(bits); }
    void writeBool(bool) { ++m_bits; }
    void writeRanged(std::int64_t, std::int64_t min, std::int64_t max)
    {
        m_bits += static_cast<std::size_t>(bitsForRange(static_cast<std::uint64_t>(max - min)));
    }
    void writeGamma(std::uint64_t value)
    {
        const int n = 64 - std::countl_zero(value + 1);
        m_bits += static_cast<std::size_t>(2 * n - 1);
    }
    void writeSignedGamma(std::int64_t value) { writeGamma(zigzagEncode(value)); }
    std::size_t bits() const { return m_bits; }

private:
    std::size_t m_bits = 0;
};

constexpr int kTickBits = 32;

bool validState(const PlayerState& s)
{
    auto inXY = [](std::int32_t v) { return v >= -kWorldHalfExtent && v < kWorldHalfExtent; };
    auto inVel = [](std::int32_t v) { return v > -kMaxSpeed && v < kMaxSpeed; };
    return inXY(s.position.x) && inXY(s.position.y) && s.position.z >= kWorldMinZ && s.position.z < kWorldMaxZ
        && inVel(s.velocity.x) && inVel(s.velocity.y) && inVel(s.velocity.z)
        && s.pitch >= -kPitchLimit && s.pitch <= kPitchLimit
        && static_cast<int>(s.mode) < kMoveModeCount && s.animation < kAnimationCount
        && s.health <= kMaxHealth && static_cast<int>(s.platform) < kPlatformCount && s.stepPhase < kMaxTickHz;
}

template <typename W>
void writeFull(W& w, const PlayerState& s)
{
    w.writeRanged(static_cast<int>(s.platform), 0, kPlatformCount - 1);
    w.writeRanged(s.position.x, -kWorldHalfExtent, kWorldHalfExtent - 1);
    w.writeRanged(s.position.y, -kWorldHalfExtent, kWorldHalfExtent - 1);
    const bool grounded = s.position.z == 0;
    w.writeBool(grounded);
    if (!grounded)
        w.writeRanged(s.position.z, kWorldMinZ, kWorldMaxZ - 1);
    const bool still = s.velocity == Vec3i{};
    w.writeBool(still);
    if (!still) {
        w.writeRanged(s.velocity.x, -kMaxSpeed + 1, kMaxSpeed - 1);
        w.writeRanged(s.velocity.y, -kMaxSpeed + 1, kMaxSpeed - 1);
        w.writeRanged(s.velocity.z, -kMaxSpeed + 1, kMaxSpeed - 1);
    }
    w.writeBits(s.yaw, 16);
    w.writeRanged(s.pitch, -kPitchLimit, kPitchLimit);
    w.writeRanged(static_cast<int>(s.mode), 0, kMoveModeCount - 1);
    w.writeBits(s.animation, 6);
    w.writeRanged(s.health, 0, kMaxHealth);
    w.writeRanged(s.stepPhase, 0, kMaxTickHz - 1);
}

/// Residuals of `c` against the prediction `p`, grouped so that untouched groups cost one bit.
template <typename W>
void writeDelta(W& w, const PlayerState& p, const PlayerState& c)
{
    const bool pos = c.position != p.position;
    const bool vel = c.velocity != p.velocity;
    const bool ang = c.yaw != p.yaw || c.pitch != p.pitch;
    const bool misc = c.mode != p.mode || c.animation != p.animation || c.health != p.health || c.stepPhase != p.stepPhase;
    w.writeBool(pos);
    if (pos) {
        w.writeSignedGamma(std::int64_t{c.position.x} - p.position.x);
        w.writeSignedGamma(std::int64_t{c.position.y} - p.position.y);
        w.writeSignedGamma(std::int64_t{c.position.z} - p.position.z);
    }
    w.writeBool(vel);
    if (vel) {
        w.writeSignedGamma(std::int64_t{c.velocity.x} - p.velocity.x);
        w.writeSignedGamma(std::int64_t{c.velocity.y} - p.velocity.y);
        w.writeSignedGamma(std::int64_t{c.velocity.z} - p.velocity.z);
    }
    w.writeBool(ang);
    if (ang) {
        // Yaw wraps: the residual is the short way round.
        w.writeSignedGamma(static_cast<std::int16_t>(static_cast<std::uint16_t>(c.yaw - p.yaw)));
        w.writeSignedGamma(std::int64_t{c.pitch} - p.pitch);
    }
    w.writeBool(misc);
    if (misc) {
        const bool mode = c.mode != p.mode;
        const bool anim = c.animation != p.animation;
        const bool health = c.health != p.health;
        w.writeBool(mode);
        if (mode)
            w.writeRanged(static_cast<int>(c.mode), 0, kMoveModeCount - 1);
        w.writeBool(anim);
        if (anim)
            w.writeBits(c.animation, 6);
        w.writeBool(health);
        if (health)
            w.writeRanged(c.health, 0, kMaxHealth);
        // The phase is off by a step or two when a tick applied more or fewer commands than one:
        // a small residual, not a fresh 8-bit value.
        const bool phase = c.stepPhase != p.stepPhase;
        w.writeBool(phase);
        if (phase)
            w.writeSignedGamma(std::int64_t{c.stepPhase} - p.stepPhase);
    }
}

std::size_t deltaBits(const PlayerState& p, const PlayerState& c)
{
    BitCounter counter;
    writeDelta(counter, p, c);
    return counter.bits();
}

std::size_t fullBits(const PlayerState& s)
{
    BitCounter counter;
    writeFull(counter, s);
    return counter.bits() + 16;  // + generation
}

std::size_t gammaBits(std::uint64_t v)
{
    BitCounter counter;
    counter.writeGamma(v);
    return counter.bits();
}

template <typename T>
Result<T> narrow(Result<std::int64_t> r)
{
    if (!r)
        return r.error();
    return static_cast<T>(*r);
}

Result<PlayerState> readDelta(BitReader& r, const PlayerState& p)
{
    PlayerState c = p;
    auto readAxis = [&r](std::int32_t base, std::int32_t& out) -> Status {
        auto d = r.readSignedGamma();
        if (!d)
            return d.error();
        const std::int64_t v = std::int64_t{base} + *d;
        if (v < INT32_MIN || v > INT32_MAX)
            return ErrorCode::OutOfRange;
        out = static_cast<std::int32_t>(v);
        return {};
    };
    auto flag = r.readBool();
    if (!flag)
        return flag.error();
    if (*flag) {
        for (auto [base, out] : {std::pair{p.position.x, &c.position.x}, std::pair{p.position.y, &c.position.y},
                                 std::pair{p.position.z, &c.position.z}})
            if (auto s = readAxis(base, *out); !s)
                return s.error();
    }
    if (flag = r.readBool(); !flag)
        return flag.error();
    if (*flag) {
        for (auto [base, out] : {std::pair{p.velocity.x, &c.velocity.x}, std::pair{p.velocity.y, &c.velocity.y},
                                 std::pair{p.velocity.z, &c.velocity.z}})
            if (auto s = readAxis(base, *out); !s)
                return s.error();
    }
    if (flag = r.readBool(); !flag)
        return flag.error();
    if (*flag) {
        auto dy = r.readSignedGamma();
        if (!dy)
            return dy.error();
        if (*dy < INT16_MIN || *dy > INT16_MAX)
            return ErrorCode::OutOfRange;
        c.yaw = static_cast<std::uint16_t>(p.yaw + static_cast<std::uint16_t>(static_cast<std::int16_t>(*dy)));
        auto dp = r.readSignedGamma();
        if (!dp)
            return dp.error();
        const std::int64_t pitch = std::int64_t{p.pitch} + *dp;
        if (pitch < -kPitchLimit || pitch > kPitchLimit)
            return ErrorCode::OutOfRange;
        c.pitch = static_cast<std::int16_t>(pitch);
    }
    if (flag = r.readBool(); !flag)
        return flag.error();
    if (*flag) {
        if (flag = r.readBool(); !flag)
            return flag.error();
        if (*flag) {
            auto m = narrow<int>(r.readRanged(0, kMoveModeCount - 1));
            if (!m)
                return m.error();
            c.mode = static_cast<MoveMode>(*m);
        }
        if (flag = r.readBool(); !flag)
            return flag.error();
        if (*flag) {
            auto a = r.readBits(6);
            if (!a)
                return a.error();
            c.animation = static_cast<std::uint8_t>(*a);
        }
        if (flag = r.readBool(); !flag)
            return flag.error();
        if (*flag) {
            auto h = narrow<int>(r.readRanged(0, kMaxHealth));
            if (!h)
                return h.error();
            c.health = static_cast<std::uint8_t>(*h);
        }
        if (flag = r.readBool(); !flag)
            return flag.error();
        if (*flag) {
            auto d = r.readSignedGamma();
            if (!d)
                return d.error();
            const std::int64_t phase = std::int64_t{p.stepPhase} + *d;
            if (phase < 0 || phase >= kMaxTickHz)
                return ErrorCode::OutOfRange;
            c.stepPhase = static_cast<std::uint8_t>(phase);
        }
    }
    if (!validState(c))
        return ErrorCode::OutOfRange;
    return c;
}

} // namespace

const PlayerState* SnapshotRecord::find(std::uint16_t index) const
{
    auto it = std::lower_bound(entities.begin(), entities.end(), index,
                               [](const PlayerState& s, std::uint16_t i) { return s.id.index < i; });
    return it != entities.end() && it->id.index == index ? &*it : nullptr;
}

PlayerState predictFromBaseline(const PlayerState& baseline, Tick ticks, int tickHz)
{
    tickHz = std::clamp(tickHz, 1, kMaxTickHz);
    const std::int64_t dt = std::min<std::int64_t>(ticks, tickHz / 2);
    PlayerState p = baseline;
    // Step exactly as the simulation does (one command per tick, each its fraction of the
    // velocity from the baseline's integrator phase), so a player moving at constant velocity
    // lands precisely on the prediction and costs one bit.
    if (baseline.velocity == Vec3i{})
        return p;  // standing still: neither position nor the integrator's phase moves
    const std::int64_t phase = baseline.stepPhase % tickHz;
    auto advance = [&](std::int32_t pos, std::int32_t vel, std::int64_t lo, std::int64_t hi) {
        return static_cast<std::int32_t>(std::clamp<std::int64_t>(pos + stepDistance(vel, phase, dt, tickHz), lo, hi));
    };
    p.position.x = advance(baseline.position.x, baseline.velocity.x, -kWorldHalfExtent, kWorldHalfExtent - 1);
    p.position.y = advance(baseline.position.y, baseline.velocity.y, -kWorldHalfExtent, kWorldHalfExtent - 1);
    p.position.z = advance(baseline.position.z, baseline.velocity.z, 0, kWorldMaxZ - 1);
    p.stepPhase = static_cast<std::uint8_t>((phase + dt) % tickHz);
    return p;
}

void writeFullState(BitWriter& writer, const PlayerState& state) { writeFull(writer, state); }

Result<PlayerState> readFullState(BitReader& r, EntityId id)
{
    PlayerState s;
    s.id = id;
    auto platform = narrow<int>(r.readRanged(0, kPlatformCount - 1));
    if (!platform)
        return platform.error();
    s.platform = static_cast<Platform>(*platform);
    auto x = narrow<std::int32_t>(r.readRanged(-kWorldHalfExtent, kWorldHalfExtent - 1));
    auto y = narrow<std::int32_t>(r.readRanged(-kWorldHalfExtent, kWorldHalfExtent - 1));
    if (!x || !y)
        return ErrorCode::EndOfData;
    s.position.x = *x;
    s.position.y = *y;
    auto grounded = r.readBool();
    if (!grounded)
        return grounded.error();
    if (!*grounded) {
        auto z = narrow<std::int32_t>(r.readRanged(kWorldMinZ, kWorldMaxZ - 1));
        if (!z)
            return z.error();
        s.position.z = *z;
    }
    auto still = r.readBool();
    if (!still)
        return still.error();
    if (!*still) {
        for (std::int32_t* v : {&s.velocity.x, &s.velocity.y, &s.velocity.z}) {
            auto value = narrow<std::int32_t>(r.readRanged(-kMaxSpeed + 1, kMaxSpeed - 1));
            if (!value)
                return value.error();
            *v = *value;
        }
    }
    auto yaw = r.readBits(16);
    auto pitch = narrow<std::int16_t>(r.readRanged(-kPitchLimit, kPitchLimit));
    auto mode = narrow<int>(r.readRanged(0, kMoveModeCount - 1));
    auto anim = r.readBits(6);
    auto health = narrow<int>(r.readRanged(0, kMaxHealth));
    auto phase = narrow<int>(r.readRanged(0, kMaxTickHz - 1));
    if (!yaw || !pitch || !mode || !anim || !health || !phase)
        return r.failed() ? ErrorCode::EndOfData : ErrorCode::OutOfRange;
    s.stepPhase = static_cast<std::uint8_t>(*phase);
    s.yaw = static_cast<std::uint16_t>(*yaw);
    s.pitch = *pitch;
    s.mode = static_cast<MoveMode>(*mode);
    s.animation = static_cast<std::uint8_t>(*anim);
    s.health = static_cast<std::uint8_t>(*health);
    return s;
}

SnapshotEncodeOutput encodeSnapshot(BitWriter& w, const SnapshotEncodeInput& in)
{
    SnapshotEncodeOutput out;
    out.record.tick = in.tick;
    out.record.tickHz = std::clamp(in.tickHz, 1, kMaxTickHz);
    out.record.epochTick = in.epochTick;
    out.record.epochTimeUs = in.epochTimeUs;
    const int hz = out.record.tickHz;

    const SnapshotRecord* base = in.baseline;
    if (base && (!tickBefore(base->tick, in.tick) || in.tick - base->tick > kMaxBaselineAge))
        base = nullptr;  // unusable: fall back to full state rather than send a bad reference
    // The epoch costs one bit while it is the one the client already holds (the baseline's, or
    // the initial one for full state).
    const bool epochSent = base ? (base->epochTick != in.epochTick || base->epochTimeUs != in.epochTimeUs)
                                : (in.epochTick != 0 || in.epochTimeUs != 0);
    const Tick age = base ? in.tick - base->tick : 0;

    // Scratch reused across calls on this thread: encoding runs for every client at 20 Hz and
    // must not allocate per snapshot.
    struct Scratch {
        std::vector<SnapshotCandidate> sorted;
        std::vector<std::size_t> baseSlotOf;
        std::vector<std::uint8_t> removed;
        std::vector<PlayerState> predicted;
        std::vector<PlayerState> keptStates;
        std::vector<std::uint8_t> keptChanged;
        std::vector<const PlayerState*> added;
        std::vector<std::size_t> cost;
        std::vector<std::uint32_t> order;
        std::vector<std::uint8_t> take;
    };
    thread_local Scratch scratch;

    // Candidates must be sorted by index and unique; repair a caller's list that is not.
    std::span<const SnapshotCandidate> cands = in.candidates;
    bool ordered = true;
    for (std::size_t i = 1; i < cands.size() && ordered; ++i)
        ordered = cands[i - 1].state->id.index < cands[i].state->id.index;
    if (!ordered) {
        auto& sorted = scratch.sorted;
        sorted.assign(cands.begin(), cands.end());
        std::stable_sort(sorted.begin(), sorted.end(), [](const SnapshotCandidate& a, const SnapshotCandidate& b) {
            return a.state->id.index < b.state->id.index;
        });
        sorted.erase(std::unique(sorted.begin(), sorted.end(), [](const SnapshotCandidate& a, const SnapshotCandidate& b) {
                         return a.state->id.index == b.state->id.index;
                     }), sorted.end());
        cands = sorted;
    }
    const std::size_t n = cands.size();

    // Pair baseline entities with candidates: both are sorted by index, one merge pass.
    constexpr std::size_t kNone = ~std::size_t{0};
    auto& baseSlotOf = scratch.baseSlotOf;
    baseSlotOf.assign(n, kNone);
    auto& removed = scratch.removed;
    auto& predicted = scratch.predicted;
    removed.clear();
    predicted.clear();
    std::size_t removedCount = 0;
    std::size_t fixedBits = kTickBits + 8 + 1 + 1 + (epochSent ? 32 + 64 : 0) + (base ? gammaBits(age) : 0);
    if (base) {
        removed.assign(base->entities.size(), 0);
        predicted.resize(base->entities.size());
        std::size_t lastRemoved = kNone;
        std::size_t k = 0;
        for (std::size_t b = 0; b < base->entities.size(); ++b) {
            const PlayerState& bs = base->entities[b];
            while (k < n && cands[k].state->id.index < bs.id.index)
                ++k;
            // A different generation in the same slot is a different player: remove and re-add.
            if (k == n || cands[k].state->id.index != bs.id.index || cands[k].state->id.generation != bs.id.generation) {
                removed[b] = 1;
                fixedBits += gammaBits(lastRemoved == kNone ? b : b - lastRemoved - 1);
                lastRemoved = b;
                ++removedCount;
            } else {
                baseSlotOf[k] = b;
                predicted[b] = predictFromBaseline(bs, age, hz);
                fixedBits += 1;  // the changed/unchanged bit
            }
        }
        fixedBits += gammaBits(removedCount);
    }
    fixedBits += gammaBits(n);  // upper bound for the added count

    // Price every candidate: nothing when it sits at its prediction, its residuals when it moved
    // otherwise, its full state when it is new to the client.
    auto& cost = scratch.cost;
    cost.resize(n);
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const PlayerState& truth = *cands[i].state;
        const std::size_t b = baseSlotOf[i];
        cost[i] = b != kNone ? (truth == predicted[b] ? 0 : deltaBits(predicted[b], truth)) : fullBits(truth) + gammaBits(truth.id.index);
        total += cost[i];
    }
    const std::size_t keptCount = base ? base->entities.size() - removedCount : 0;
    auto& take = scratch.take;
    take.assign(n, 0);
    std::size_t addedCount = 0;
    if (fixedBits + total <= in.budgetBits && n <= kMaxSnapshotEntities) {
        std::fill(take.begin(), take.end(), 1);  // everything fits: priority order is moot
    } else {
        // Highest priority first (the client's own player before anyone), greedy under the budget.
        auto& order = scratch.order;
        order.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            order[i] = static_cast<std::uint32_t>(i);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            if (cands[a].mandatory != cands[b].mandatory)
                return cands[a].mandatory;
            if (cands[a].priority != cands[b].priority)
                return cands[a].priority > cands[b].priority;
            return a < b;
        });
        std::size_t remaining = in.budgetBits > fixedBits ? in.budgetBits - fixedBits : 0;
        for (std::uint32_t i : order) {
            const bool isNew = baseSlotOf[i] == kNone;
            if (isNew && keptCount + addedCount >= kMaxSnapshotEntities)
                continue;
            if (cands[i].mandatory || cost[i] <= remaining) {
                remaining -= std::min(cost[i], remaining);
                take[i] = 1;
                addedCount += isNew ? 1 : 0;
            }
        }
    }

    auto& keptStates = scratch.keptStates;
    auto& keptChanged = scratch.keptChanged;
    auto& added = scratch.added;
    keptStates.resize(base ? base->entities.size() : 0);
    keptChanged.assign(keptStates.size(), 0);
    added.clear();
    out.updated.reserve(n);
    out.candidateUpdated.assign(in.candidates.size(), 0);
    for (std::size_t i = 0; i < n; ++i) {
        const PlayerState& truth = *cands[i].state;
        const std::size_t b = baseSlotOf[i];
        if (take[i]) {
            out.updated.push_back(truth.id.index);
            if (b != kNone) {
                keptStates[b] = truth;
                keptChanged[b] = cost[i] > 0 ? 1 : 0;
            } else {
                added.push_back(&truth);  // already in index order
            }
        } else {
            out.deferred.push_back(truth.id.index);
            if (b != kNone)
                keptStates[b] = predicted[b];
        }
    }
    if (ordered) {
        for (std::size_t i = 0; i < n; ++i)
            out.candidateUpdated[i] = take[i];
    } else {
        // Map back to the caller's positions.
        for (std::size_t i = 0; i < in.candidates.size(); ++i) {
            const std::uint16_t index = in.candidates[i].state->id.index;
            out.candidateUpdated[i] = std::find(out.updated.begin(), out.updated.end(), index) != out.updated.end() ? 1 : 0;
        }
    }

    // Write, in canonical order.
    const std::size_t startBits = w.bitCount();
    w.writeBits(in.tick, kTickBits);
    w.writeRanged(hz, 1, kMaxTickHz);
    w.writeBool(epochSent);
    if (epochSent) {
        w.writeBits(in.epochTick, 32);
        w.writeBits(static_cast<std::uint64_t>(in.epochTimeUs), 64);
    }
    w.writeBool(base != nullptr);
    if (base) {
        w.writeGamma(age);
        w.writeGamma(removedCount);
        std::size_t lastRemoved = kNone;
        for (std::size_t b = 0; b < removed.size(); ++b) {
            if (!removed[b])
                continue;
            w.writeGamma(lastRemoved == kNone ? b : b - lastRemoved - 1);
            lastRemoved = b;
        }
        for (std::size_t b = 0; b < removed.size(); ++b) {
            if (removed[b])
                continue;
            w.writeBool(keptChanged[b] != 0);
            if (keptChanged[b])
                writeDelta(w, predicted[b], keptStates[b]);
        }
    }
    w.writeGamma(added.size());
    std::uint32_t previous = 0;
    bool first = true;
    for (const PlayerState* s : added) {
        w.writeGamma(first ? s->id.index : s->id.index - previous - 1);
        previous = s->id.index;
        first = false;
        w.writeBits(s->id.generation, 16);
        writeFull(w, *s);
    }
    out.bits = w.bitCount() - startBits;

    // The record: kept (in baseline order, which is index order) merged with added.
    out.record.entities.reserve(keptStates.size() - removedCount + added.size());
    std::size_t a = 0;
    for (std::size_t b = 0; b < keptStates.size(); ++b) {
        if (removed[b])
            continue;
        while (a < added.size() && added[a]->id.index < keptStates[b].id.index)
            out.record.entities.push_back(*added[a++]);
        out.record.entities.push_back(keptStates[b]);
    }
    while (a < added.size())
        out.record.entities.push_back(*added[a++]);
    return out;
}

Result<SnapshotRecord> decodeSnapshot(BitReader& r, const BaselineLookup& findBaseline)
{
    SnapshotRecord record;
    auto tick = r.readBits(kTickBits);
    if (!tick)
        return tick.error();
    record.tick = static_cast<Tick>(*tick);
    auto hz = r.readRanged(1, kMaxTickHz);
    if (!hz)
        return hz.error();
    record.tickHz = static_cast<int>(*hz);
    auto epochSent = r.readBool();
    if (!epochSent)
        return epochSent.error();
    if (*epochSent) {
        auto epochTick = r.readBits(32);
        auto epochTime = r.readBits(64);
        if (!epochTick || !epochTime)
            return ErrorCode::EndOfData;
        record.epochTick = static_cast<Tick>(*epochTick);
        record.epochTimeUs = static_cast<TimeUs>(*epochTime);
        if (record.epochTimeUs < 0 || tickBefore(record.tick, record.epochTick))
            return ErrorCode::OutOfRange;  // an epoch after its own snapshot
    }
    auto hasBase = r.readBool();
    if (!hasBase)
        return hasBase.error();

    std::vector<PlayerState> kept;
    if (*hasBase) {
        auto age = r.readGamma();
        if (!age)
            return age.error();
        if (*age == 0 || *age > kMaxBaselineAge)
            return ErrorCode::OutOfRange;
        const Tick baseTick = record.tick - static_cast<Tick>(*age);  // modular: the counter may have wrapped
        const SnapshotRecord* base = findBaseline ? findBaseline(baseTick) : nullptr;
        if (!base || base->tick != baseTick)
            return ErrorCode::BadBaseline;
        if (!*epochSent) {
            record.epochTick = base->epochTick;
            record.epochTimeUs = base->epochTimeUs;
        }
        auto removedCount = r.readGamma();
        if (!removedCount)
            return removedCount.error();
        if (*removedCount > base->entities.size())
            return ErrorCode::Malformed;
        std::vector<bool> removed(base->entities.size(), false);
        std::uint64_t position = 0;
        for (std::uint64_t i = 0; i < *removedCount; ++i) {
            auto gap = r.readGamma();
            if (!gap)
                return gap.error();
            position = (i == 0 ? 0 : position + 1) + *gap;
            if (position >= base->entities.size())
                return ErrorCode::Malformed;
            removed[position] = true;
        }
        kept.reserve(base->entities.size());
        for (std::size_t b = 0; b < base->entities.size(); ++b) {
            if (removed[b])
                continue;
            const PlayerState predicted = predictFromBaseline(base->entities[b], static_cast<Tick>(*age), record.tickHz);
            auto changed = r.readBool();
            if (!changed)
                return changed.error();
            if (*changed) {
                auto state = readDelta(r, predicted);
                if (!state)
                    return state.error();
                kept.push_back(*state);
            } else {
                kept.push_back(predicted);
            }
        }
    }

    auto addedCount = r.readGamma();
    if (!addedCount)
        return addedCount.error();
    if (*addedCount + kept.size() > kMaxSnapshotEntities)
        return ErrorCode::TooLarge;
    std::vector<PlayerState> added;
    added.reserve(*addedCount);
    std::uint64_t index = 0;
    for (std::uint64_t i = 0; i < *addedCount; ++i) {
        auto gap = r.readGamma();
        if (!gap)
            return gap.error();
        index = (i == 0 ? 0 : index + 1) + *gap;
        if (index > 0xFFFF)
            return ErrorCode::OutOfRange;
        auto generation = r.readBits(16);
        if (!generation)
            return generation.error();
        auto state = readFullState(r, EntityId{static_cast<std::uint16_t>(index), static_cast<std::uint16_t>(*generation)});
        if (!state)
            return state.error();
        added.push_back(*state);
    }

    record.entities.reserve(kept.size() + added.size());
    std::merge(kept.begin(), kept.end(), added.begin(), added.end(), std::back_inserter(record.entities),
               [](const PlayerState& a, const PlayerState& b) { return a.id.index < b.id.index; });
    for (std::size_t i = 1; i < record.entities.size(); ++i)
        if (record.entities[i - 1].id.index == record.entities[i].id.index)
            return ErrorCode::Malformed;  // an added entity collides with a kept one
    return record;
}

} // namespace lv
