// Hostile datagrams before authentication: whatever arrives at a server's socket, and whatever a
// connecting client receives from its server's address, is counted and dropped or handled; never
// a crash, a hang or unbounded state. Input: datagrams, each prefixed by a 1-byte length.
#include "synccore/transport.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace {
/// A socket that hands out the fuzz datagrams, from a fixed peer, and swallows what is sent.
class ScriptedSocket final : public lv::DatagramSocket {
public:
    ScriptedSocket(lv::Address self, lv::Address peer) : m_self(self), m_peer(peer) {}
    lv::Address localAddress() const override { return m_self; }
    void send(const lv::Address&, std::span<const std::uint8_t>, lv::TimeUs) override {}
    std::optional<lv::Datagram> receive(lv::TimeUs) override
    {
        if (m_queue.empty())
            return std::nullopt;
        lv::Datagram d{m_peer, m_self, std::move(m_queue.front())};
        m_queue.pop_front();
        return d;
    }
    std::deque<std::vector<std::uint8_t>> m_queue;

private:
    lv::Address m_self, m_peer;
};

const lv::Key& key()
{
    static const lv::Key fixed = [] {
        lv::Key k{};
        for (std::size_t i = 0; i < k.size(); ++i)
            k[i] = static_cast<std::uint8_t>(i * 7 + 1);
        return k;
    }();
    return fixed;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const lv::Address server = lv::Address::loopback(7777), client = lv::Address::loopback(40000);
    ScriptedSocket serverSocket(server, client), clientSocket(client, server);
    for (std::size_t i = 0; i < size;) {
        const std::size_t n = std::min<std::size_t>(data[i], size - i - 1);
        std::vector<std::uint8_t> datagram(data + i + 1, data + i + 1 + n);
        serverSocket.m_queue.push_back(datagram);
        clientSocket.m_queue.push_back(std::move(datagram));
        i += 1 + n;
    }
    lv::TransportConfig config;
    config.maxClients = 8;  // the default 4,096 slots would be most of each execution
    lv::ServerTransport transport(config, key(), serverSocket);
    transport.receive(1'000'000);
    while (transport.pollEvent()) {
    }
    transport.update(1'000'000);

    lv::ClientTransport connecting(lv::TransportConfig{}, clientSocket);
    const auto token = lv::issueConnectToken(key(), lv::TransportConfig{}.protocolId, 1, lv::seconds(3600), {}, std::array<std::uint8_t, 32>{});
    connecting.connect(token, server, 0);
    connecting.receive(1'000);
    while (connecting.pollEvent()) {
    }
    return 0;
}
