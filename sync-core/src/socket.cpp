#include "synccore/socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

namespace lv {

namespace {
/// Fills a sockaddr for `a`: sockaddr_in for an IPv4 socket, sockaddr_in6 (IPv4-mapped for IPv4
/// peers) for an IPv6 one. Returns the length, 0 when the family cannot reach the address.
socklen_t toSockaddr(const Address& a, bool v6Socket, sockaddr_storage& out)
{
    out = {};
    if (!v6Socket) {
        if (!a.isV4())
            return 0;
        auto& sa = reinterpret_cast<sockaddr_in&>(out);
        sa.sin_family = AF_INET;
        sa.sin_port = htons(a.port);
        sa.sin_addr.s_addr = htonl(a.v4Bits());
        return sizeof sa;
    }
    auto& sa = reinterpret_cast<sockaddr_in6&>(out);
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(a.port);
    std::copy(a.ip.begin(), a.ip.end(), sa.sin6_addr.s6_addr);
    return sizeof sa;
}

Address fromSockaddr(const sockaddr_storage& in)
{
    if (in.ss_family == AF_INET) {
        const auto& sa = reinterpret_cast<const sockaddr_in&>(in);
        return Address::v4(ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port));
    }
    const auto& sa = reinterpret_cast<const sockaddr_in6&>(in);
    Address a;
    std::copy(std::begin(sa.sin6_addr.s6_addr), std::end(sa.sin6_addr.s6_addr), a.ip.begin());
    a.port = ntohs(sa.sin6_port);
    return a;
}
} // namespace

bool Address::isUnspecified() const
{
    if (isV4())
        return v4Bits() == 0;
    return std::all_of(ip.begin(), ip.end(), [](std::uint8_t b) { return b == 0; });
}

bool Address::isLoopback() const
{
    if (isV4())
        return (v4Bits() >> 24) == 127;
    return *this == loopback6(port);
}

std::string Address::toString() const
{
    if (isV4()) {
        const std::uint32_t v = v4Bits();
        return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xFF) + "." + std::to_string((v >> 8) & 0xFF) + "."
            + std::to_string(v & 0xFF) + ":" + std::to_string(port);
    }
    char text[INET6_ADDRSTRLEN] = {};
    in6_addr raw{};
    std::copy(ip.begin(), ip.end(), raw.s6_addr);
    ::inet_ntop(AF_INET6, &raw, text, sizeof text);
    std::string out;  // built by appending: GCC 12 warns (-Wrestrict, falsely) on "[" + string
    out.reserve(INET6_ADDRSTRLEN + 8);
    out.append(1, '[').append(text).append("]:").append(std::to_string(port));
    return out;
}

Result<Address> Address::parse(std::string_view text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return ErrorCode::Malformed;
    const std::string_view portText = text.substr(colon + 1);
    unsigned port = 0;
    auto [portEnd, portEc] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (portText.empty() || portEc != std::errc{} || portEnd != portText.data() + portText.size() || port > 65535)
        return ErrorCode::Malformed;
    std::string_view host = text.substr(0, colon);
    if (!host.empty() && host.front() == '[') {
        if (host.size() < 3 || host.back() != ']')
            return ErrorCode::Malformed;
        const std::string inner(host.substr(1, host.size() - 2));
        in6_addr raw{};
        if (inner.find('%') != std::string::npos || ::inet_pton(AF_INET6, inner.c_str(), &raw) != 1)
            return ErrorCode::Malformed;  // scope ids (fe80::1%eth0) are not supported
        Address a;
        std::copy(std::begin(raw.s6_addr), std::end(raw.s6_addr), a.ip.begin());
        a.port = static_cast<std::uint16_t>(port);
        return a;
    }
    std::uint32_t ip = 0;
    for (int part = 0; part < 4; ++part) {
        const auto dot = host.find('.');
        const std::string_view digits = part < 3 ? host.substr(0, dot) : host;
        if ((part < 3 && dot == std::string_view::npos) || digits.empty() || digits.size() > 3)
            return ErrorCode::Malformed;
        unsigned value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc{} || end != digits.data() + digits.size() || value > 255)
            return ErrorCode::Malformed;
        ip = (ip << 8) | value;
        if (part < 3)
            host = host.substr(dot + 1);
    }
    return Address::v4(ip, static_cast<std::uint16_t>(port));
}

std::size_t AddressHash::operator()(const Address& a) const noexcept
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::uint8_t b : a.ip)
        h = (h ^ b) * 0x100000001b3ULL;
    h = (h ^ a.port) * 0x100000001b3ULL;
    return static_cast<std::size_t>(h ^ (h >> 29));
}

Result<std::unique_ptr<UdpSocket>> UdpSocket::bind(const Address& address)
{
    const bool v6 = !address.isV4();
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ErrorCode::SocketError;
    if (v6) {
        // [::] serves both families; a specific IPv6 address only its own.
        const int only = address.isUnspecified() ? 0 : 1;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
    }
    sockaddr_storage sa{};
    socklen_t len = toSockaddr(address, v6, sa);
    // Generous buffers: a region's burst of snapshots must not be dropped by the kernel.
    const int buffer = 4 * 1024 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
        ::close(fd);
        return ErrorCode::SocketError;
    }
    len = sizeof sa;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
        ::close(fd);
        return ErrorCode::SocketError;
    }
    return std::unique_ptr<UdpSocket>(new UdpSocket(fd, fromSockaddr(sa), v6));
}

UdpSocket::~UdpSocket()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void UdpSocket::send(const Address& to, std::span<const std::uint8_t> data, TimeUs)
{
    if (data.size() > kMaxDatagramSize) {
        ++m_sendErrors;
        return;
    }
    sockaddr_storage sa{};
    const socklen_t len = toSockaddr(to, m_v6, sa);
    if (len == 0) {
        ++m_sendErrors;  // an IPv6 peer from an IPv4 socket: unreachable
        return;
    }
    if (::sendto(m_fd, data.data(), data.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&sa), len) < 0)
        ++m_sendErrors;  // a full send buffer drops like the network would; counted
}

std::optional<Datagram> UdpSocket::receive(TimeUs)
{
    std::uint8_t buffer[kMaxDatagramSize + 1];
    for (;;) {
        sockaddr_storage sa{};
        socklen_t len = sizeof sa;
        const ssize_t n = ::recvfrom(m_fd, buffer, sizeof buffer, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sa), &len);
        if (n < 0)
            return std::nullopt;  // EAGAIN or a transient error (ICMP refusal): nothing to read now
        if (static_cast<std::size_t>(n) > kMaxDatagramSize)
            continue;  // oversize: dropped, never truncated into something that parses
        Datagram d;
        d.from = fromSockaddr(sa);
        d.to = m_local;
        d.data.assign(buffer, buffer + n);
        return d;
    }
}

bool UdpSocket::waitReadable(TimeUs timeoutUs) const
{
    pollfd p{m_fd, POLLIN, 0};
    // Clamp before rounding up so a "wait forever"-sized timeout neither overflows nor wraps negative.
    const TimeUs clamped = std::clamp<TimeUs>(timeoutUs, 0, TimeUs{std::numeric_limits<int>::max()} * 1000);
    const int ms = static_cast<int>((clamped + 999) / 1000);
    return ::poll(&p, 1, ms) > 0;
}

} // namespace lv
