#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace lv {

/// Error codes returned across sync-core's API boundaries. Decoders and the transport never
/// throw and never read out of bounds: a problem is one of these values.
enum class ErrorCode : std::uint8_t {
    Ok = 0,
    EndOfData,        ///< a read went past the end of the buffer
    OutOfRange,       ///< a decoded value is outside the range the format allows
    BadProtocol,      ///< protocol id, packet type or version does not match
    BadBaseline,      ///< a delta refers to a baseline the receiver does not hold
    Malformed,        ///< structurally inconsistent data (counts, ordering, trailing bits)
    AuthFailed,       ///< AEAD tag or token signature did not verify
    Expired,          ///< a connect token is past its expiry time
    Replayed,         ///< a packet or token was seen before
    Refused,          ///< the server refused the request (admissions closed, full, maintenance)
    TooLarge,         ///< data would exceed a fixed limit
    SocketError,      ///< the operating system reported an error
};

/// A human-readable name for an error code (stable, used in logs and metrics labels).
std::string_view errorName(ErrorCode code) noexcept;

/// A value or an error code. Small on purpose: no allocation, no exceptions.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)), m_error(ErrorCode::Ok) {}  // NOLINT(implicit)
    Result(ErrorCode error) : m_value(), m_error(error) {}                   // NOLINT(implicit)

    bool ok() const noexcept { return m_error == ErrorCode::Ok; }
    explicit operator bool() const noexcept { return ok(); }
    ErrorCode error() const noexcept { return m_error; }

    const T& value() const& { return m_value; }
    T& value() & { return m_value; }
    T&& value() && { return std::move(m_value); }
    const T& operator*() const& { return m_value; }
    T& operator*() & { return m_value; }
    const T* operator->() const { return &m_value; }
    T* operator->() { return &m_value; }

private:
    T m_value;
    ErrorCode m_error;
};

/// Result of an operation that has no value, only success or an error.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(ErrorCode error) : m_error(error) {}  // NOLINT(implicit)
    bool ok() const noexcept { return m_error == ErrorCode::Ok; }
    explicit operator bool() const noexcept { return ok(); }
    ErrorCode error() const noexcept { return m_error; }

private:
    ErrorCode m_error = ErrorCode::Ok;
};

} // namespace lv
