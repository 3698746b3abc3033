#pragma once

#include "synccore/result.h"
#include "synccore/types.h"

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lv {

/// A UDP endpoint: an IPv6 address (IPv4 as an IPv4-mapped address, ::ffff:a.b.c.d) and a port,
/// both in host byte order for the port and network order for the address bytes. One type for
/// both families, so sessions, tokens, redirects and the in-memory network need no special case.
struct Address {
    std::array<std::uint8_t, 16> ip{};
    std::uint16_t port = 0;
    friend constexpr bool operator==(const Address&, const Address&) = default;
    friend constexpr auto operator<=>(const Address&, const Address&) = default;

    /// An IPv4 address (host byte order, e.g. 0x7F000001 for 127.0.0.1).
    static constexpr Address v4(std::uint32_t ipv4, std::uint16_t port)
    {
        Address a;
        a.ip[10] = 0xFF;
        a.ip[11] = 0xFF;
        for (int i = 0; i < 4; ++i)
            a.ip[static_cast<std::size_t>(12 + i)] = static_cast<std::uint8_t>(ipv4 >> (24 - 8 * i));
        a.port = port;
        return a;
    }
    static constexpr Address loopback(std::uint16_t port) { return v4(0x7F000001u, port); }
    static constexpr Address loopback6(std::uint16_t port)
    {
        Address a;
        a.ip[15] = 1;
        a.port = port;
        return a;
    }
    /// True for IPv4 (IPv4-mapped) addresses.
    constexpr bool isV4() const
    {
        for (int i = 0; i < 10; ++i)
            if (ip[static_cast<std::size_t>(i)] != 0)
                return false;
        return ip[10] == 0xFF && ip[11] == 0xFF;
    }
    /// The IPv4 address in host byte order (0 for IPv6 addresses).
    constexpr std::uint32_t v4Bits() const
    {
        if (!isV4())
            return 0;
        return std::uint32_t{ip[12]} << 24 | std::uint32_t{ip[13]} << 16 | std::uint32_t{ip[14]} << 8 | ip[15];
    }
    /// 0.0.0.0 or :: (a bind address meaning "every interface": never a place to send players).
    bool isUnspecified() const;
    bool isLoopback() const;
    /// "a.b.c.d:port" for IPv4, "[v6]:port" for IPv6.
    std::string toString() const;
    /// Parses "a.b.c.d:port" or "[v6]:port"; an error for anything else.
    static Result<Address> parse(std::string_view text);
};

/// A hash for unordered containers keyed by Address.
struct AddressHash {
    std::size_t operator()(const Address& a) const noexcept;
};

struct Datagram {
    Address from;
    Address to;
    std::vector<std::uint8_t> data;
};

/// Maximum datagram the transport sends or accepts (fits a 1500-byte MTU with IP/UDP headers).
constexpr std::size_t kMaxDatagramSize = 1400;

/// A datagram endpoint. The caller passes the time so that simulated networks stay deterministic;
/// real sockets ignore it.
class DatagramSocket {
public:
    virtual ~DatagramSocket() = default;
    virtual Address localAddress() const = 0;
    /// Sends one datagram; oversize datagrams are dropped and counted, never truncated.
    virtual void send(const Address& to, std::span<const std::uint8_t> data, TimeUs now) = 0;
    /// The next datagram that has arrived by `now`, if any. Never blocks.
    virtual std::optional<Datagram> receive(TimeUs now) = 0;
};

/// A non-blocking UDP socket (port 0 picks an ephemeral port). Bound to an IPv4 address it is an
/// IPv4 socket; bound to an IPv6 address it is an IPv6 socket, dual-stack when bound to [::] (IPv4
/// peers then appear as IPv4-mapped addresses, which Address already uses for IPv4).
class UdpSocket final : public DatagramSocket {
public:
    static Result<std::unique_ptr<UdpSocket>> bind(const Address& address);
    ~UdpSocket() override;
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    Address localAddress() const override { return m_local; }
    void send(const Address& to, std::span<const std::uint8_t> data, TimeUs now) override;
    std::optional<Datagram> receive(TimeUs now) override;
    /// Blocks up to `timeoutUs` until a datagram is readable (for hosts that own a real-time loop).
    bool waitReadable(TimeUs timeoutUs) const;
    int nativeHandle() const { return m_fd; }
    std::uint64_t sendErrors() const { return m_sendErrors; }

private:
    UdpSocket(int fd, Address local, bool v6) : m_fd(fd), m_local(local), m_v6(v6) {}
    int m_fd = -1;
    Address m_local;
    bool m_v6 = false;
    std::uint64_t m_sendErrors = 0;
};

} // namespace lv
