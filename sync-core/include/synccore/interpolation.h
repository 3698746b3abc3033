#pragma once

#include "synccore/types.h"

#include <cstdint>
#include <deque>
#include <array>
#include <optional>

namespace lv {

/// Estimates the server's clock from snapshot arrivals: the offset between server time and our
/// time (taken from the least-delayed recent arrivals, so queueing delay does not bias it) and the
/// jitter (mean deviation of arrivals from that estimate).
class ServerClock {
public:
    /// A snapshot of server time `serverTimeUs` (SnapshotRecord::timeUs: continuous across tick-rate
    /// changes) arrived at `receivedAt`; its tick rate and epoch map times back to ticks.
    void onSnapshot(TimeUs serverTimeUs, int tickHz, Tick epochTick, TimeUs epochTimeUs, TimeUs receivedAt);
    bool valid() const { return m_valid; }
    /// Server time (µs since its tick 0) as it was when the newest data we could have now left it.
    TimeUs serverTimeAt(TimeUs localNow) const { return localNow + m_offset; }
    /// The server tick (fractional, relative to the current epoch's tick) of a server time.
    double ticksSinceEpoch(TimeUs serverTimeUs) const;
    /// The server tick counter (modulo 2^32) and the 1/256-tick view time (modulo 2^32) at a
    /// server time, as the inputs carry them.
    Tick tickAt(TimeUs serverTimeUs) const;
    std::uint32_t tick256At(TimeUs serverTimeUs) const;
    TimeUs jitter() const { return static_cast<TimeUs>(m_jitter); }
    int tickHz() const { return m_tickHz; }

private:
    bool m_valid = false;
    int m_tickHz = 30;
    Tick m_epochTick = 0;
    TimeUs m_epochTimeUs = 0;
    TimeUs m_offset = 0;
    double m_jitter = 0.0;
    std::deque<TimeUs> m_recentOffsets;  // window for the max filter
};

/// Remote players are drawn a little in the past, between two snapshots that have both arrived.
/// The delay adapts: one snapshot interval plus twice the measured jitter (or a fixed override).
class InterpolationDelay {
public:
    TimeUs compute(TimeUs jitter, int snapshotHz, int overrideMs) const;
};

/// One remote entity's received states, and its position at any render time between them.
class InterpolationBuffer {
public:
    /// A state at server time `serverTimeUs` (SnapshotRecord::timeUs).
    void add(TimeUs serverTimeUs, const PlayerState& state);
    /// Position (in position units, fractional) at server time `timeUs`; holds the newest sample
    /// (no extrapolation beyond 100 ms) when the time is past the newest.
    std::optional<std::array<double, 3>> positionAt(TimeUs serverTimeUs) const;
    std::optional<PlayerState> newest() const;
    std::size_t size() const { return m_samples.size(); }
    std::uint64_t underruns() const { return m_underruns; }

private:
    struct Sample {
        TimeUs time;
        PlayerState state;
    };
    std::deque<Sample> m_samples;
    mutable std::uint64_t m_underruns = 0;
};

} // namespace lv
