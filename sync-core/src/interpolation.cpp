#include "synccore/interpolation.h"

#include <algorithm>
#include <cmath>

namespace lv {

namespace {
constexpr std::size_t kOffsetWindow = 40;  // ~2 s of snapshots at 20 Hz
constexpr std::size_t kMaxSamples = 64;
} // namespace

void ServerClock::onSnapshot(TimeUs serverTimeUs, int tickHz, Tick epochTick, TimeUs epochTimeUs, TimeUs receivedAt)
{
    // Server time is continuous across tick-rate changes, so the offsets measured before one
    // stay valid after it: nothing to forget, remote players never freeze at a change.
    m_tickHz = std::max(1, tickHz);
    m_epochTick = epochTick;
    m_epochTimeUs = epochTimeUs;
    const TimeUs offset = serverTimeUs - receivedAt;
    m_recentOffsets.push_back(offset);
    if (m_recentOffsets.size() > kOffsetWindow)
        m_recentOffsets.pop_front();
    // Max over the window = the arrival that waited least in queues.
    const TimeUs best = *std::max_element(m_recentOffsets.begin(), m_recentOffsets.end());
    if (!m_valid) {
        m_offset = best;
        m_valid = true;
    } else {
        // Follow the best estimate gently so render time never jumps visibly.
        m_offset += (best - m_offset) / 8;
    }
    const double deviation = std::abs(double(offset - m_offset));
    m_jitter += (deviation - m_jitter) / 16.0;
}

double ServerClock::ticksSinceEpoch(TimeUs serverTimeUs) const
{
    return double(serverTimeUs - m_epochTimeUs) * m_tickHz / double(kMicrosPerSecond);
}

Tick ServerClock::tickAt(TimeUs serverTimeUs) const
{
    const auto since = static_cast<std::int64_t>(std::floor(ticksSinceEpoch(serverTimeUs)));
    return static_cast<Tick>(static_cast<std::int64_t>(m_epochTick) + since);  // modulo 2^32
}

std::uint32_t ServerClock::tick256At(TimeUs serverTimeUs) const
{
    const auto since256 = static_cast<std::int64_t>(std::floor(ticksSinceEpoch(serverTimeUs) * 256.0));
    return static_cast<std::uint32_t>(static_cast<std::int64_t>(m_epochTick) * 256 + since256);  // modulo 2^32
}

TimeUs InterpolationDelay::compute(TimeUs jitter, int snapshotHz, int overrideMs) const
{
    if (overrideMs > 0)
        return millis(overrideMs);
    const TimeUs interval = kMicrosPerSecond / std::max(1, snapshotHz);
    return std::clamp<TimeUs>(interval + 2 * jitter + millis(5), interval, seconds(1));
}

void InterpolationBuffer::add(TimeUs serverTimeUs, const PlayerState& state)
{
    const TimeUs t = serverTimeUs;
    if (!m_samples.empty() && t <= m_samples.back().time) {
        if (t == m_samples.back().time)
            m_samples.back().state = state;
        return;  // late duplicates are useless for interpolation
    }
    m_samples.push_back({t, state});
    while (m_samples.size() > kMaxSamples)
        m_samples.pop_front();
}

std::optional<std::array<double, 3>> InterpolationBuffer::positionAt(TimeUs time) const
{
    if (m_samples.empty())
        return std::nullopt;
    auto as = [](const PlayerState& s) {
        return std::array<double, 3>{double(s.position.x), double(s.position.y), double(s.position.z)};
    };
    if (time <= m_samples.front().time)
        return as(m_samples.front().state);
    if (time >= m_samples.back().time) {
        ++m_underruns;
        // Brief extrapolation on the last velocity hides a late packet; beyond that, hold.
        const double dt = double(std::min<TimeUs>(time - m_samples.back().time, millis(100))) / kMicrosPerSecond;
        const PlayerState& s = m_samples.back().state;
        return std::array<double, 3>{s.position.x + s.velocity.x * dt, s.position.y + s.velocity.y * dt,
                                     std::max(0.0, s.position.z + s.velocity.z * dt)};
    }
    auto next = std::upper_bound(m_samples.begin(), m_samples.end(), time,
                                 [](TimeUs t, const Sample& s) { return t < s.time; });
    auto prev = next - 1;
    const double f = double(time - prev->time) / double(next->time - prev->time);
    const auto a = as(prev->state), b = as(next->state);
    return std::array<double, 3>{a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f};
}

std::optional<PlayerState> InterpolationBuffer::newest() const
{
    if (m_samples.empty())
        return std::nullopt;
    return m_samples.back().state;
}

} // namespace lv
