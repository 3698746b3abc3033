#include "synccore/messages.h"

#include <algorithm>

namespace lv {

namespace {
constexpr std::size_t kMaxControlText = 160;

void writeCommandBody(BitWriter& w, const InputCommand& c)
{
    w.writeRanged(c.moveForward, -127, 127);
    w.writeRanged(c.moveRight, -127, 127);
    w.writeBits(c.yaw, 16);
    w.writeRanged(c.pitch, -kPitchLimit, kPitchLimit);
    w.writeBits(c.buttons, kButtonBits);
}

Status readCommandBody(BitReader& r, InputCommand& c)
{
    auto f = r.readRanged(-127, 127);
    auto s = r.readRanged(-127, 127);
    auto yaw = r.readBits(16);
    auto pitch = r.readRanged(-kPitchLimit, kPitchLimit);
    auto buttons = r.readBits(kButtonBits);
    if (!f || !s || !yaw || !pitch || !buttons)
        return r.failed() ? ErrorCode::EndOfData : ErrorCode::OutOfRange;
    c.moveForward = static_cast<std::int8_t>(*f);
    c.moveRight = static_cast<std::int8_t>(*s);
    c.yaw = static_cast<std::uint16_t>(*yaw);
    c.pitch = static_cast<std::int16_t>(*pitch);
    c.buttons = static_cast<std::uint16_t>(*buttons);
    return {};
}
} // namespace

void writeInputMessage(BitWriter& w, const InputMessage& m)
{
    w.writeBits(static_cast<std::uint8_t>(MessageType::Input), 8);
    w.writeBool(m.ackedSnapshot.has_value());
    if (m.ackedSnapshot)
        w.writeBits(*m.ackedSnapshot, 32);
    w.writeBits(m.correctionsTotal, 32);
    const std::size_t count = std::clamp<std::size_t>(m.commands.size(), 1, kMaxInputsPerMessage);
    w.writeRanged(static_cast<std::int64_t>(count), 1, kMaxInputsPerMessage);
    const InputCommand empty{};
    const InputCommand& newest = m.commands.empty() ? empty : m.commands.front();
    w.writeBits(newest.sequence, 32);
    w.writeBits(newest.tick, 32);
    w.writeBits(newest.viewTime256, 32);
    writeCommandBody(w, newest);
    // Older commands: consecutive sequences, ticks and view times as small backwards steps,
    // modulo 2^32 (both counters wrap: the view time after 2^24 ticks).
    for (std::size_t i = 1; i < count; ++i) {
        const InputCommand& c = m.commands[i];
        const InputCommand& prev = m.commands[i - 1];
        w.writeGamma(static_cast<std::uint32_t>(prev.tick - c.tick));
        w.writeGamma(static_cast<std::uint32_t>(prev.viewTime256 - c.viewTime256));
        writeCommandBody(w, c);
    }
}

Result<InputMessage> readInputMessage(BitReader& r)
{
    InputMessage m;
    auto type = r.readBits(8);
    if (!type)
        return type.error();
    if (*type != static_cast<std::uint8_t>(MessageType::Input))
        return ErrorCode::BadProtocol;
    auto hasAck = r.readBool();
    if (!hasAck)
        return hasAck.error();
    if (*hasAck) {
        auto ack = r.readBits(32);
        if (!ack)
            return ack.error();
        m.ackedSnapshot = static_cast<Tick>(*ack);
    }
    auto corrections = r.readBits(32);
    auto count = r.readRanged(1, kMaxInputsPerMessage);
    auto seq = r.readBits(32);
    auto tick = r.readBits(32);
    auto view = r.readBits(32);
    if (!corrections || !count || !seq || !tick || !view)
        return r.failed() ? ErrorCode::EndOfData : ErrorCode::OutOfRange;
    m.correctionsTotal = static_cast<std::uint32_t>(*corrections);
    InputCommand newest;
    newest.sequence = static_cast<std::uint32_t>(*seq);
    newest.tick = static_cast<Tick>(*tick);
    newest.viewTime256 = static_cast<std::uint32_t>(*view);
    if (auto s = readCommandBody(r, newest); !s)
        return s.error();
    m.commands.push_back(newest);
    for (std::int64_t i = 1; i < *count; ++i) {
        const InputCommand& prev = m.commands.back();
        if (prev.sequence == 0)
            return ErrorCode::Malformed;
        auto dt = r.readGamma();
        auto dv = r.readGamma();
        if (!dt || !dv)
            return r.failed() ? ErrorCode::EndOfData : ErrorCode::OutOfRange;
        if (*dt > 0xFFFFFFFFu || *dv > 0xFFFFFFFFu)
            return ErrorCode::OutOfRange;
        InputCommand c;
        c.sequence = prev.sequence - 1;
        c.tick = prev.tick - static_cast<Tick>(*dt);
        c.viewTime256 = prev.viewTime256 - static_cast<std::uint32_t>(*dv);
        if (auto s = readCommandBody(r, c); !s)
            return s.error();
        m.commands.push_back(c);
    }
    return m;
}

void writeSnapshotHeader(BitWriter& w, const SnapshotHeader& h)
{
    w.writeBits(static_cast<std::uint8_t>(MessageType::Snapshot), 8);
    w.writeBits(h.lastProcessedInput, 32);
    w.writeBits(h.localPlayer.index, 16);
    w.writeBits(h.localPlayer.generation, 16);
    w.writeBool(h.predictionEnabled);
    w.writeRanged(h.interpolationDelayOverrideMs, 0, 2000);
    w.writeRanged(h.snapshotHz, 1, 240);
}

Result<SnapshotHeader> readSnapshotHeader(BitReader& r)
{
    auto type = r.readBits(8);
    if (!type)
        return type.error();
    if (*type != static_cast<std::uint8_t>(MessageType::Snapshot))
        return ErrorCode::BadProtocol;
    auto seq = r.readBits(32);
    auto index = r.readBits(16);
    auto generation = r.readBits(16);
    auto prediction = r.readBool();
    auto delay = r.readRanged(0, 2000);
    auto rate = r.readRanged(1, 240);
    if (!seq || !index || !generation || !prediction || !delay || !rate)
        return r.failed() ? ErrorCode::EndOfData : ErrorCode::OutOfRange;
    SnapshotHeader h;
    h.lastProcessedInput = static_cast<std::uint32_t>(*seq);
    h.localPlayer = {static_cast<std::uint16_t>(*index), static_cast<std::uint16_t>(*generation)};
    h.predictionEnabled = *prediction;
    h.interpolationDelayOverrideMs = static_cast<std::uint16_t>(*delay);
    h.snapshotHz = static_cast<std::uint8_t>(*rate);
    return h;
}

std::vector<std::uint8_t> encodeControl(const ControlMessage& m)
{
    BitWriter w;
    w.writeRanged(static_cast<std::uint8_t>(m.kind), 1, 3);
    const bool v4 = m.target.isV4();
    w.writeBool(v4);
    if (v4)
        w.writeBits(m.target.v4Bits(), 32);
    else
        w.writeBytes(m.target.ip);
    w.writeBits(m.target.port, 16);
    w.writeBits(m.seconds, 32);
    std::size_t len = std::min(m.text.size(), kMaxControlText);
    while (len < m.text.size() && len > 0 && (static_cast<unsigned char>(m.text[len]) & 0xC0) == 0x80)
        --len;  // never cut a UTF-8 character in two: the player's screen shows the text
    w.writeRanged(static_cast<std::int64_t>(len), 0, kMaxControlText);
    w.writeBytes({reinterpret_cast<const std::uint8_t*>(m.text.data()), len});
    w.writeBool(m.token.has_value());
    if (m.token) {
        const ConnectToken& t = *m.token;
        w.writeBits(t.protocolId, 64);
        w.writeBits(t.clientId, 64);
        w.writeBits(static_cast<std::uint64_t>(t.expiresAt), 64);
        w.writeBytes(t.nonce);
        w.writeBytes(t.sealed);
        w.writeBytes(t.clientToServerKey);
        w.writeBytes(t.serverToClientKey);
    }
    return w.finish();
}

Result<ControlMessage> decodeControl(std::span<const std::uint8_t> bytes)
{
    BitReader r(bytes);
    auto kind = r.readRanged(1, 3);
    auto v4 = r.readBool();
    if (!kind || !v4)
        return r.failed() ? ErrorCode::EndOfData : ErrorCode::OutOfRange;
    ControlMessage m;
    if (*v4) {
        auto ip = r.readBits(32);
        if (!ip)
            return ip.error();
        m.target = Address::v4(static_cast<std::uint32_t>(*ip), 0);
    } else if (auto s = r.readBytes(m.target.ip); !s) {
        return s.error();
    } else if (m.target.isV4()) {
        return ErrorCode::Malformed;  // one spelling per address: IPv4 goes the short way
    }
    auto port = r.readBits(16);
    auto secs = r.readBits(32);
    auto len = r.readRanged(0, kMaxControlText);
    if (!port || !secs || !len)
        return r.failed() ? ErrorCode::EndOfData : ErrorCode::OutOfRange;
    m.kind = static_cast<ControlMessage::Kind>(*kind);
    m.target.port = static_cast<std::uint16_t>(*port);
    m.seconds = static_cast<std::uint32_t>(*secs);
    m.text.resize(static_cast<std::size_t>(*len));
    if (auto s = r.readBytes({reinterpret_cast<std::uint8_t*>(m.text.data()), m.text.size()}); !s)
        return s.error();
    auto hasToken = r.readBool();
    if (!hasToken)
        return hasToken.error();
    if (*hasToken) {
        ConnectToken t;
        auto protocol = r.readBits(64);
        auto client = r.readBits(64);
        auto expiry = r.readBits(64);
        if (!protocol || !client || !expiry)
            return ErrorCode::EndOfData;
        t.protocolId = *protocol;
        t.clientId = *client;
        t.expiresAt = static_cast<TimeUs>(*expiry);
        for (std::span<std::uint8_t> part : {std::span<std::uint8_t>(t.nonce), std::span<std::uint8_t>(t.sealed),
                                             std::span<std::uint8_t>(t.clientToServerKey), std::span<std::uint8_t>(t.serverToClientKey)})
            if (auto s = r.readBytes(part); !s)
                return s.error();
        if (m.kind != ControlMessage::Kind::Redirect)
            return ErrorCode::Malformed;
        m.token = t;
    }
    if (!r.atPaddedEnd())
        return ErrorCode::Malformed;
    return m;
}

} // namespace lv
