#pragma once

// Test-only transport fixtures: a recording socket and a loop that pumps a server and clients.

#include "synccore/conditioner.h"
#include "synccore/transport.h"

#include <algorithm>
#include <memory>
#include <vector>

namespace lv::test {

/// Forwards to another socket and keeps a copy of everything sent (to replay or tamper with).
class RecordingSocket final : public DatagramSocket {
public:
    explicit RecordingSocket(std::unique_ptr<DatagramSocket> inner) : m_inner(std::move(inner)) {}
    Address localAddress() const override { return m_inner->localAddress(); }
    void send(const Address& to, std::span<const std::uint8_t> data, TimeUs now) override
    {
        sent.push_back({m_inner->localAddress(), to, {data.begin(), data.end()}});
        m_inner->send(to, data, now);
    }
    std::optional<Datagram> receive(TimeUs now) override { return m_inner->receive(now); }
    /// Sends raw bytes from this socket's address, bypassing the recording.
    void inject(const Address& to, std::span<const std::uint8_t> data, TimeUs now) { m_inner->send(to, data, now); }
    std::vector<Datagram> sent;

private:
    std::unique_ptr<DatagramSocket> m_inner;
};

inline const Key& testKey()
{
    static const Key key = [] {
        Key k{};
        for (std::size_t i = 0; i < k.size(); ++i)
            k[i] = static_cast<std::uint8_t>(i * 7 + 3);
        return k;
    }();
    return key;
}

inline ConnectToken token(std::uint64_t clientId, TimeUs expiresAt = seconds(3600), const Key& key = testKey())
{
    std::array<std::uint8_t, 32> seed{};
    seed[0] = static_cast<std::uint8_t>(clientId);
    const std::array<std::uint8_t, 4> user{1, 2, 3, 4};
    return issueConnectToken(key, TransportConfig{}.protocolId, clientId, expiresAt, user, seed);
}

/// Runs server and clients for `duration` in steps, sending a payload from each client every
/// `clientInterval` and from the server to each client every `serverInterval` (0 = never).
struct Pump {
    Pump(ServerTransport& s, std::vector<ClientTransport*> c) : server(s), clients(std::move(c)) {}
    ServerTransport& server;
    std::vector<ClientTransport*> clients;
    TimeUs now = 0;
    TimeUs step = millis(1);
    TimeUs clientInterval = 0;
    TimeUs serverInterval = 0;
    std::vector<TransportEvent> serverEvents;
    std::vector<std::vector<TransportEvent>> clientEvents = std::vector<std::vector<TransportEvent>>(8);
    std::vector<std::uint8_t> clientPayload{0xC1};
    std::vector<std::uint8_t> serverPayload{0x5E};
    TimeUs nextClientSend = 0;
    TimeUs nextServerSend = 0;

    void run(TimeUs duration)
    {
        const TimeUs end = now + duration;
        while (now < end) {
            now += step;
            for (std::size_t i = 0; i < clients.size(); ++i) {
                ClientTransport& c = *clients[i];
                c.receive(now);
                while (auto e = c.pollEvent())
                    clientEvents[i].push_back(std::move(*e));
                if (clientInterval > 0 && now >= nextClientSend && c.state() == ClientState::Connected)
                    (void)c.send(clientPayload, now);
                c.update(now);
            }
            if (clientInterval > 0 && now >= nextClientSend)
                nextClientSend = now + clientInterval;
            server.receive(now);
            while (auto e = server.pollEvent())
                serverEvents.push_back(std::move(*e));
            if (serverInterval > 0 && now >= nextServerSend) {
                for (int client : server.connectedClients())
                    (void)server.send(client, serverPayload, now);
                nextServerSend = now + serverInterval;
            }
            server.update(now);
        }
    }
    std::size_t serverCount(TransportEvent::Kind kind) const
    {
        return static_cast<std::size_t>(std::count_if(serverEvents.begin(), serverEvents.end(), [kind](const TransportEvent& e) { return e.kind == kind; }));
    }
    std::size_t clientCount(std::size_t i, TransportEvent::Kind kind) const
    {
        return static_cast<std::size_t>(std::count_if(clientEvents[i].begin(), clientEvents[i].end(), [kind](const TransportEvent& e) { return e.kind == kind; }));
    }
};

} // namespace lv::test
