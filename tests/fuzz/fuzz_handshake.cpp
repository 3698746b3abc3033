// The handshake under a hostile network (docs/protocol-transport.md): a real client and server
// exchange real request, challenge, response, deny and session packets, and the input rewrites
// them on the way — flips bytes, cuts or extends them, replays, reorders or duplicates them,
// forges them from another address, and changes what the server admits between steps. Whatever
// happens: no crash, no hang, no session for anyone who did not finish the handshake, and a
// session's keys used once.
// Input: a sequence of 4-byte operations {op, a, b, c}.
#include "synccore/transport.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace {
/// One end of a two-ended in-memory wire that the harness can tamper with.
class WireSocket final : public lv::DatagramSocket {
public:
    explicit WireSocket(lv::Address self) : m_self(self) {}
    lv::Address localAddress() const override { return m_self; }
    void send(const lv::Address& to, std::span<const std::uint8_t> data, lv::TimeUs) override
    {
        if (m_peer)
            m_peer->m_inbox.push_back({m_self, to, {data.begin(), data.end()}});
        m_sent.push_back({data.begin(), data.end()});
        if (m_sent.size() > 64)
            m_sent.pop_front();
    }
    std::optional<lv::Datagram> receive(lv::TimeUs) override
    {
        if (m_inbox.empty())
            return std::nullopt;
        lv::Datagram d = std::move(m_inbox.front());
        m_inbox.pop_front();
        return d;
    }
    WireSocket* m_peer = nullptr;
    std::deque<lv::Datagram> m_inbox;
    std::deque<std::vector<std::uint8_t>> m_sent;  // what this end sent, newest last

private:
    lv::Address m_self;
};

const lv::Key& key()
{
    static const lv::Key fixed = [] {
        lv::Key k{};
        for (std::size_t i = 0; i < k.size(); ++i)
            k[i] = static_cast<std::uint8_t>(i * 5 + 3);
        return k;
    }();
    return fixed;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const lv::Address serverAddress = lv::Address::loopback(7777), clientAddress = lv::Address::loopback(40000);
    const lv::Address stranger = lv::Address::loopback6(40001);
    WireSocket serverSocket(serverAddress), clientSocket(clientAddress);
    serverSocket.m_peer = &clientSocket;
    clientSocket.m_peer = &serverSocket;
    lv::TransportConfig config;
    config.maxClients = 2;
    config.randomSeed = 7;
    lv::ServerTransport server(config, key(), serverSocket);
    lv::TransportConfig clientConfig;
    clientConfig.randomSeed = 8;
    lv::ClientTransport client(clientConfig, clientSocket);
    lv::TimeUs now = 1'000'000;
    const auto token = lv::issueConnectToken(key(), config.protocolId, 1, lv::seconds(3600), {}, std::array<std::uint8_t, 32>{});
    client.connect(token, serverAddress, now);

    for (std::size_t i = 0; i + 4 <= size && i < 4 * 256; i += 4) {
        const std::uint8_t op = data[i], a = data[i + 1], b = data[i + 2], c = data[i + 3];
        // Pick one captured datagram of either end (newest first) to work on.
        WireSocket& from = (op & 0x80) ? serverSocket : clientSocket;
        WireSocket& to = (op & 0x80) ? clientSocket : serverSocket;
        const std::size_t pick = from.m_sent.empty() ? 0 : from.m_sent.size() - 1 - (a % from.m_sent.size());
        switch (op & 0x0F) {
        case 0:  // time passes
            now += (lv::TimeUs{b} << 8 | c) * 100;
            break;
        case 1:  // flip a byte of a captured datagram and deliver it
        case 2:  // ... from a stranger's address
            if (!from.m_sent.empty()) {
                std::vector<std::uint8_t> d = from.m_sent[pick];
                if (!d.empty())
                    d[b % d.size()] ^= static_cast<std::uint8_t>(c | 1);
                to.m_inbox.push_back({(op & 0x0F) == 2 ? stranger : from.localAddress(), to.localAddress(), std::move(d)});
            }
            break;
        case 3:  // replay one as it was
            if (!from.m_sent.empty())
                to.m_inbox.push_back({from.localAddress(), to.localAddress(), from.m_sent[pick]});
            break;
        case 4:  // cut one short or extend it
            if (!from.m_sent.empty()) {
                std::vector<std::uint8_t> d = from.m_sent[pick];
                d.resize((b & 1) ? d.size() + c % 32 : d.size() * c / 256, static_cast<std::uint8_t>(b));
                to.m_inbox.push_back({from.localAddress(), to.localAddress(), std::move(d)});
            }
            break;
        case 5:  // lose what is in flight towards one end
            to.m_inbox.clear();
            break;
        case 6:  // reorder: the newest in flight first
            if (to.m_inbox.size() > 1) {
                to.m_inbox.push_front(std::move(to.m_inbox.back()));
                to.m_inbox.pop_back();
            }
            break;
        case 7:  // the server's admission changes
            server.setDenyReason(static_cast<lv::DenyReason>(b % 5));
            break;
        case 8:  // the client starts over with the same token, or leaves
            if (b & 1)
                client.connect(token, serverAddress, now);
            else
                client.disconnect(now);
            break;
        case 9:  // the server ends the session
            for (int slot : server.connectedClients())
                server.disconnect(slot, now);
            break;
        case 10:  // payloads both ways
            (void)client.send(std::vector<std::uint8_t>(c % 64, b), now);
            for (int slot : server.connectedClients())
                (void)server.send(slot, std::vector<std::uint8_t>(b % 64, c), now);
            break;
        default:  // step both ends
            break;
        }
        server.receive(now);
        while (server.pollEvent()) {
        }
        server.update(now);
        client.receive(now);
        while (client.pollEvent()) {
        }
        client.update(now);
        // Only the client that ran the handshake can hold a session, at its own address.
        for (int slot : server.connectedClients())
            if (server.clientAddress(slot) != clientAddress)
                __builtin_trap();
    }
    return 0;
}
