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

std::string Address::toString() const
{
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xFF) + "." + std::to_string((ip >> 8) & 0xFF) + "."
        + std::to_string(ip & 0xFF) + ":" + std::to_string(port);
}

Result<Address> Address::parse(std::string_view text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return ErrorCode::Malformed;
    std::uint32_t ip = 0;
    std::string_view host = text.substr(0, colon);
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
    const std::string_view portText = text.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (portText.empty() || ec != std::errc{} || end != portText.data() + portText.size() || port > 65535)
        return ErrorCode::Malformed;
    return Address{ip, static_cast<std::uint16_t>(port)};
}

Result<std::unique_ptr<UdpSocket>> UdpSocket::bind(const Address& address)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ErrorCode::SocketError;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(address.port);
    sa.sin_addr.s_addr = htonl(address.ip);
    // Generous buffers: a region's burst of snapshots must not be dropped by the kernel.
    const int buffer = 4 * 1024 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return ErrorCode::SocketError;
    }
    socklen_t len = sizeof sa;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
        ::close(fd);
        return ErrorCode::SocketError;
    }
    return std::unique_ptr<UdpSocket>(new UdpSocket(fd, Address{ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)}));
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
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(to.port);
    sa.sin_addr.s_addr = htonl(to.ip);
    if (::sendto(m_fd, data.data(), data.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0)
        ++m_sendErrors;  // a full send buffer drops like the network would; counted
}

std::optional<Datagram> UdpSocket::receive(TimeUs)
{
    std::uint8_t buffer[kMaxDatagramSize + 1];
    for (;;) {
        sockaddr_in sa{};
        socklen_t len = sizeof sa;
        const ssize_t n = ::recvfrom(m_fd, buffer, sizeof buffer, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sa), &len);
        if (n < 0)
            return std::nullopt;  // EAGAIN or a transient error (ICMP refusal): nothing to read now
        if (static_cast<std::size_t>(n) > kMaxDatagramSize)
            continue;  // oversize: dropped, never truncated into something that parses
        Datagram d;
        d.from = Address{ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
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
