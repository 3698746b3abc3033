#include "synccore/prediction.h"

#include <cmath>

namespace lv {

namespace {
constexpr std::size_t kMaxPending = 256;  // ~8 s at 30 Hz: beyond that the link is dead anyway

bool samePhysics(const PlayerState& a, const PlayerState& b)
{
    // Health and animation are the server's to decide (hits); they are taken, not predicted.
    return a.position == b.position && a.velocity == b.velocity && a.mode == b.mode;
}
} // namespace

void PredictionBuffer::reset(const PlayerState& state)
{
    m_current = state;
    m_pendingInputs.clear();
    m_pendingStates.clear();
    m_initialised = true;
    m_offset[0] = m_offset[1] = m_offset[2] = 0;
}

const PlayerState& PredictionBuffer::apply(const InputCommand& input, int tickHz)
{
    m_current = simulate(m_current, input, tickHz, m_tuning);
    m_pendingInputs.push_back(input);
    m_pendingStates.push_back(m_current);
    if (m_pendingInputs.size() > kMaxPending) {
        m_pendingInputs.pop_front();
        m_pendingStates.pop_front();
    }
    return m_current;
}

Reconciliation PredictionBuffer::reconcile(const PlayerState& authoritative, std::uint32_t lastProcessed, int tickHz)
{
    Reconciliation result;
    if (!m_initialised) {
        reset(authoritative);
        return result;
    }
    // What did we predict right after input `lastProcessed`? Drop everything up to it.
    std::optional<PlayerState> predictedThen;
    while (!m_pendingInputs.empty() && m_pendingInputs.front().sequence <= lastProcessed) {
        if (m_pendingInputs.front().sequence == lastProcessed)
            predictedThen = m_pendingStates.front();
        m_pendingInputs.pop_front();
        m_pendingStates.pop_front();
    }
    if (!predictedThen) {
        // The server has not applied any input we still remember (or none at all yet): nothing
        // to compare against; a mismatch with the current prediction with no pending input is
        // still a correction (e.g. a push while idle).
        if (!m_pendingInputs.empty() || samePhysics(authoritative, m_current)) {
            m_current.health = authoritative.health;
            return result;
        }
        predictedThen = m_current;
    }
    if (samePhysics(*predictedThen, authoritative)) {
        m_current.health = authoritative.health;
        return result;
    }
    // Rewind and replay.
    const PlayerState before = m_current;
    PlayerState state = authoritative;
    for (std::size_t i = 0; i < m_pendingInputs.size(); ++i) {
        state = simulate(state, m_pendingInputs[i], tickHz, m_tuning);
        m_pendingStates[i] = state;
    }
    m_current = state;
    result.corrected = true;
    result.replayed = m_pendingInputs.size();
    const double dx = double(predictedThen->position.x) - authoritative.position.x;
    const double dy = double(predictedThen->position.y) - authoritative.position.y;
    const double dz = double(predictedThen->position.z) - authoritative.position.z;
    result.errorMetres = std::sqrt(dx * dx + dy * dy + dz * dz) / kPositionUnitsPerMetre;
    // Show the jump gradually: keep drawing where we were and let the offset decay.
    m_offset[0] += double(before.position.x) - m_current.position.x;
    m_offset[1] += double(before.position.y) - m_current.position.y;
    m_offset[2] += double(before.position.z) - m_current.position.z;
    ++m_corrections;
    if (result.errorMetres > m_largest)
        m_largest = result.errorMetres;
    return result;
}

void PredictionBuffer::decayOffset(TimeUs elapsed, TimeUs halfLife)
{
    if (halfLife <= 0) {
        m_offset[0] = m_offset[1] = m_offset[2] = 0;
        return;
    }
    const double factor = std::pow(0.5, double(elapsed) / double(halfLife));
    for (double& o : m_offset)
        o = std::abs(o * factor) < 0.5 ? 0.0 : o * factor;
}

} // namespace lv
