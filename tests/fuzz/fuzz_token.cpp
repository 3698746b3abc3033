// What a connect token carries, as the server uses it: a token sealed with the cluster key (so it
// opens) but with hostile contents — any client id, expiry and user data (platform byte, spawn
// point at any coordinates) — must give a sane player or a refusal. Input: 8 bytes client id,
// 8 bytes expiry offset, 32 bytes user data; then ticks to run.
#include "synccore/server.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>

namespace {
class ScriptedSocket final : public lv::DatagramSocket {
public:
    explicit ScriptedSocket(lv::Address self) : m_self(self) {}
    lv::Address localAddress() const override { return m_self; }
    void send(const lv::Address&, std::span<const std::uint8_t>, lv::TimeUs) override {}
    std::optional<lv::Datagram> receive(lv::TimeUs) override
    {
        if (m_queue.empty())
            return std::nullopt;
        auto d = std::move(m_queue.front());
        m_queue.pop_front();
        return d;
    }
    std::deque<lv::Datagram> m_queue;

private:
    lv::Address m_self;
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::uint8_t fields[48] = {};
    std::memcpy(fields, data, std::min<std::size_t>(size, sizeof fields));
    std::uint64_t clientId = 0, expiry = 0;
    std::memcpy(&clientId, fields, 8);
    std::memcpy(&expiry, fields + 8, 8);
    std::array<std::uint8_t, lv::kTokenUserDataSize> userData{};
    std::memcpy(userData.data(), fields + 16, userData.size());

    lv::ServerConfig config;
    config.tokenKey.fill(9);
    config.capacity = 8;
    config.transport.maxClients = 8;  // the default 4,096 slots would be most of each execution
    const lv::Address self = lv::Address::loopback(7777);
    ScriptedSocket socket(self);
    lv::Server server(config, socket);
    const lv::TimeUs now = 1'000'000;
    const auto token = lv::issueConnectToken(config.tokenKey, config.transport.protocolId, clientId, now + static_cast<lv::TimeUs>(expiry % (1ULL << 40)) - (1LL << 39),
                                             userData, std::array<std::uint8_t, 32>{});
    // The client's ConnectionRequest, as ClientTransport builds it (docs/protocol-transport.md).
    std::vector<std::uint8_t> request(1 + 8 + 8 + 24 + lv::kSealedTokenSize);
    request[0] = 1;
    for (int b = 0; b < 8; ++b) {
        request[1 + b] = static_cast<std::uint8_t>(config.transport.protocolId >> (8 * b));
        request[9 + b] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(token.expiresAt) >> (8 * b));
    }
    std::memcpy(&request[17], token.nonce.data(), token.nonce.size());
    std::memcpy(&request[41], token.sealed.data(), token.sealed.size());
    socket.m_queue.push_back({lv::Address::loopback(40000), self, request});
    const int ticks = size > sizeof fields ? data[sizeof fields] % 8 : 1;
    for (int t = 0; t <= ticks; ++t)
        server.advance(now + t * 33'334);
    return 0;
}
