#pragma once

#include "synccore/result.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace lv {

/// Appends values bit by bit (least significant bit first within each 64-bit word, flushed as
/// little-endian bytes). Never fails: the buffer grows; callers enforce their own size limits.
class BitWriter {
public:
    /// Writes the low `bits` bits of `value` (0 <= bits <= 64).
    void writeBits(std::uint64_t value, int bits)
    {
        // Inline fast path: most writes are a few bits that fit the scratch word.
        if (bits > 0 && bits < 32 && m_scratchBits < 32) {
            m_scratch |= (value & ((std::uint64_t{1} << bits) - 1)) << m_scratchBits;
            m_scratchBits += bits;
            m_bitCount += static_cast<std::size_t>(bits);
            if (m_scratchBits >= 32)
                spill32();
            return;
        }
        writeBitsSlow(value, bits);
    }
    void writeBool(bool value) { writeBits(value ? 1u : 0u, 1); }
    /// Writes `value` known to lie in [min, max] using the fewest bits that cover the range.
    void writeRanged(std::int64_t value, std::int64_t min, std::int64_t max);
    /// Unsigned variable-length code (Elias gamma of value+1: n-1 zeros, a one, then the n-1 bits
    /// below the leading one, least significant first): small values are cheap.
    void writeGamma(std::uint64_t value);
    /// Signed value, zigzag-mapped then gamma-coded: residuals near zero cost 1-5 bits.
    void writeSignedGamma(std::int64_t value);
    /// Pads with zero bits to the next byte boundary.
    void alignToByte();
    void writeBytes(std::span<const std::uint8_t> bytes);

    std::size_t bitCount() const noexcept { return m_bitCount; }
    std::size_t byteCount() const noexcept { return (m_bitCount + 7) / 8; }
    /// The bytes written so far, the last one zero-padded.
    std::vector<std::uint8_t> finish() const;
    void clear();

private:
    void writeBitsSlow(std::uint64_t value, int bits);
    void spill32();
    std::vector<std::uint8_t> m_bytes;
    std::uint64_t m_scratch = 0;
    int m_scratchBits = 0;
    std::size_t m_bitCount = 0;
};

/// Reads what BitWriter wrote. Every read is bounds-checked: reading past the end, or a value
/// outside the range the caller declares, yields an error and leaves the reader failed.
class BitReader {
public:
    explicit BitReader(std::span<const std::uint8_t> data) : m_data(data) {}

    Result<std::uint64_t> readBits(int bits);
    Result<bool> readBool();
    Result<std::int64_t> readRanged(std::int64_t min, std::int64_t max);
    Result<std::uint64_t> readGamma();
    Result<std::int64_t> readSignedGamma();
    Status alignToByte();
    Status readBytes(std::span<std::uint8_t> out);

    std::size_t bitsRemaining() const noexcept { return m_data.size() * 8 - m_bitPos; }
    std::size_t bitPosition() const noexcept { return m_bitPos; }
    /// True once any read has failed; all later reads fail too.
    bool failed() const noexcept { return m_failed; }
    /// True when only zero padding (< 8 bits) is left.
    bool atPaddedEnd() const;

private:
    std::span<const std::uint8_t> m_data;
    std::size_t m_bitPos = 0;
    bool m_failed = false;
};

/// Number of bits needed to represent values 0..range (range >= 0).
int bitsForRange(std::uint64_t range) noexcept;

/// Zigzag mapping used by the signed codes: 0,-1,1,-2,2... -> 0,1,2,3,4...
constexpr std::uint64_t zigzagEncode(std::int64_t v) noexcept
{
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
constexpr std::int64_t zigzagDecode(std::uint64_t v) noexcept
{
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

} // namespace lv
