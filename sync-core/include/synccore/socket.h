#pragma once

#include "synccore/result.h"
#include "synccore/types.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lv {

/// An IPv4 address and port, in host byte order. The in-memory network uses the same type.
struct Address {
    std::uint32_t ip = 0;
    std::uint16_t port = 0;
    friend constexpr bool operator==(const Address&, const Address&) = default;
    friend constexpr bool operator<(const Address& a, const Address& b)
    {
        return a.ip != b.ip ? a.ip < b.ip : a.port < b.port;
    }
    std::string toString() const;
    /// Parses "a.b.c.d:port"; an error for anything else.
    static Result<Address> parse(std::string_view text);
    static constexpr Address loopback(std::uint16_t port) { return {0x7F000001u, port}; }
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

/// A non-blocking UDP socket bound to an IPv4 address (port 0 picks an ephemeral port).
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
    UdpSocket(int fd, Address local) : m_fd(fd), m_local(local) {}
    int m_fd = -1;
    Address m_local;
    std::uint64_t m_sendErrors = 0;
};

} // namespace lv
