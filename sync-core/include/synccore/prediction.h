#pragma once

#include "synccore/simulation.h"
#include "synccore/types.h"

#include <deque>
#include <optional>

namespace lv {

/// Outcome of reconciling the local prediction with one authoritative state.
struct Reconciliation {
    bool corrected = false;
    double errorMetres = 0.0;     ///< distance between what we predicted and what the server said
    std::size_t replayed = 0;     ///< inputs re-simulated on top of the server state
};

/// The local player's prediction: every input is applied at once (no waiting for the server) and
/// remembered until the server confirms it. A snapshot rewinds to the server's state, replays the
/// inputs the server has not applied yet, and turns any jump into a visual offset that decays.
class PredictionBuffer {
public:
    explicit PredictionBuffer(MovementTuning tuning = {}) : m_tuning(tuning) {}

    /// Starts from an authoritative state (first snapshot, or after a redirect).
    void reset(const PlayerState& state);
    bool initialised() const { return m_initialised; }
    /// Applies one input locally and remembers it. Returns the new predicted state.
    const PlayerState& apply(const InputCommand& input, int tickHz);
    /// The server applied inputs up to `lastProcessed` and reached `authoritative`.
    Reconciliation reconcile(const PlayerState& authoritative, std::uint32_t lastProcessed, int tickHz);

    const PlayerState& predicted() const { return m_current; }
    /// Inputs applied locally that the server has not confirmed yet, oldest first.
    const std::deque<InputCommand>& pending() const { return m_pendingInputs; }
    /// Visual correction still being smoothed out (position units, decays to zero).
    double offsetX() const { return m_offset[0]; }
    double offsetY() const { return m_offset[1]; }
    double offsetZ() const { return m_offset[2]; }
    /// Decays the visual offset: half-life `halfLife`, stepped by `elapsed`.
    void decayOffset(TimeUs elapsed, TimeUs halfLife = millis(50));

    std::uint64_t corrections() const { return m_corrections; }
    double largestCorrectionMetres() const { return m_largest; }

private:
    MovementTuning m_tuning;
    bool m_initialised = false;
    PlayerState m_current;
    std::deque<InputCommand> m_pendingInputs;
    std::deque<PlayerState> m_pendingStates;  // state after each pending input
    double m_offset[3] = {0, 0, 0};
    std::uint64_t m_corrections = 0;
    double m_largest = 0.0;
};

} // namespace lv
