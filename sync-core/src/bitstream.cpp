#include "synccore/bitstream.h"

#include <bit>

namespace lv {

int bitsForRange(std::uint64_t range) noexcept
{
    return range == 0 ? 0 : 64 - std::countl_zero(range);
}

void BitWriter::spill32()
{
    const std::size_t at = m_bytes.size();
    m_bytes.resize(at + 4);
    for (std::size_t i = 0; i < 4; ++i)
        m_bytes[at + i] = static_cast<std::uint8_t>(m_scratch >> (8 * i));
    m_scratch >>= 32;
    m_scratchBits -= 32;
}

void BitWriter::writeBitsSlow(std::uint64_t value, int bits)
{
    if (bits <= 0)
        return;
    if (bits < 64)
        value &= (std::uint64_t{1} << bits) - 1;
    m_bitCount += static_cast<std::size_t>(bits);
    if (m_scratchBits + bits < 64) {
        // Common case: it fits the scratch word; spill only whole 32-bit chunks.
        m_scratch |= value << m_scratchBits;
        m_scratchBits += bits;
        if (m_scratchBits >= 32)
            spill32();
        return;
    }
    // Fill the 64-bit scratch word; spill whole bytes as they complete.
    while (bits > 0) {
        const int room = 64 - m_scratchBits;
        const int take = bits < room ? bits : room;
        const std::uint64_t part = take == 64 ? value : (value & ((std::uint64_t{1} << take) - 1));
        m_scratch |= part << m_scratchBits;
        m_scratchBits += take;
        value = take == 64 ? 0 : value >> take;
        bits -= take;
        while (m_scratchBits >= 8) {
            m_bytes.push_back(static_cast<std::uint8_t>(m_scratch & 0xFF));
            m_scratch >>= 8;
            m_scratchBits -= 8;
        }
    }
}

void BitWriter::writeRanged(std::int64_t value, std::int64_t min, std::int64_t max)
{
    const auto range = static_cast<std::uint64_t>(max - min);
    writeBits(static_cast<std::uint64_t>(value - min), bitsForRange(range));
}

void BitWriter::writeGamma(std::uint64_t value)
{
    // Elias gamma of v = value+1 with n significant bits: (n-1) zero bits, a one, then the n-1
    // bits of v below its leading one as a block. value+1 cannot overflow for the ranges the
    // codecs use (< 2^63).
    const std::uint64_t v = value + 1;
    const int n = 64 - std::countl_zero(v);
    if (n <= 16) {
        // One write: zeros, the marker one, the low bits.
        writeBits((std::uint64_t{1} << (n - 1)) | ((v & ((std::uint64_t{1} << (n - 1)) - 1)) << n), 2 * n - 1);
        return;
    }
    writeBits(0, n - 1);
    writeBits(1, 1);
    writeBits(v & ((std::uint64_t{1} << (n - 1)) - 1), n - 1);
}

void BitWriter::writeSignedGamma(std::int64_t value)
{
    writeGamma(zigzagEncode(value));
}

void BitWriter::alignToByte()
{
    const int pad = static_cast<int>((8 - m_bitCount % 8) % 8);
    writeBits(0, pad);
}

void BitWriter::writeBytes(std::span<const std::uint8_t> bytes)
{
    for (std::uint8_t b : bytes)
        writeBits(b, 8);
}

std::vector<std::uint8_t> BitWriter::finish() const
{
    std::vector<std::uint8_t> out = m_bytes;
    for (int i = 0; i * 8 < m_scratchBits; ++i)
        out.push_back(static_cast<std::uint8_t>(m_scratch >> (8 * i)));
    return out;
}

void BitWriter::clear()
{
    m_bytes.clear();
    m_scratch = 0;
    m_scratchBits = 0;
    m_bitCount = 0;
}

Result<std::uint64_t> BitReader::readBits(int bits)
{
    if (m_failed)
        return ErrorCode::EndOfData;
    if (bits < 0 || bits > 64) {
        m_failed = true;
        return ErrorCode::OutOfRange;
    }
    if (static_cast<std::size_t>(bits) > bitsRemaining()) {
        m_failed = true;
        return ErrorCode::EndOfData;
    }
    std::uint64_t value = 0;
    int got = 0;
    while (got < bits) {
        const std::size_t byteIndex = m_bitPos / 8;
        const int bitInByte = static_cast<int>(m_bitPos % 8);
        const int avail = 8 - bitInByte;
        const int take = (bits - got) < avail ? (bits - got) : avail;
        const std::uint64_t chunk = (static_cast<std::uint64_t>(m_data[byteIndex]) >> bitInByte)
            & ((std::uint64_t{1} << take) - 1);
        value |= chunk << got;
        got += take;
        m_bitPos += static_cast<std::size_t>(take);
    }
    return value;
}

Result<bool> BitReader::readBool()
{
    auto bit = readBits(1);
    if (!bit)
        return bit.error();
    return *bit != 0;
}

Result<std::int64_t> BitReader::readRanged(std::int64_t min, std::int64_t max)
{
    if (max < min) {
        m_failed = true;
        return ErrorCode::OutOfRange;
    }
    const auto range = static_cast<std::uint64_t>(max - min);
    auto raw = readBits(bitsForRange(range));
    if (!raw)
        return raw.error();
    if (*raw > range) {
        m_failed = true;
        return ErrorCode::OutOfRange;
    }
    return min + static_cast<std::int64_t>(*raw);
}

Result<std::uint64_t> BitReader::readGamma()
{
    int zeros = 0;
    for (;;) {
        auto bit = readBits(1);
        if (!bit)
            return bit.error();
        if (*bit)
            break;
        if (++zeros > 62) {  // longer than any value the writer produces
            m_failed = true;
            return ErrorCode::OutOfRange;
        }
    }
    auto low = readBits(zeros);
    if (!low)
        return low.error();
    return ((std::uint64_t{1} << zeros) | *low) - 1;
}

Result<std::int64_t> BitReader::readSignedGamma()
{
    auto raw = readGamma();
    if (!raw)
        return raw.error();
    return zigzagDecode(*raw);
}

Status BitReader::alignToByte()
{
    const int pad = static_cast<int>((8 - m_bitPos % 8) % 8);
    auto bits = readBits(pad);
    if (!bits)
        return bits.error();
    if (*bits != 0) {
        m_failed = true;
        return ErrorCode::Malformed;
    }
    return {};
}

Status BitReader::readBytes(std::span<std::uint8_t> out)
{
    for (auto& b : out) {
        auto v = readBits(8);
        if (!v)
            return v.error();
        b = static_cast<std::uint8_t>(*v);
    }
    return {};
}

bool BitReader::atPaddedEnd() const
{
    const std::size_t rem = bitsRemaining();
    if (rem >= 8)
        return false;
    if (rem == 0)
        return true;
    const std::uint8_t last = m_data[m_data.size() - 1];
    return (last >> (m_bitPos % 8)) == 0;
}

} // namespace lv
