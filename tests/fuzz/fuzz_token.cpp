// What a connect token carries, as the server uses it: a token sealed with the cluster key (so it
// opens) but with hostile contents — any client id, expiry and user data (platform byte, spawn
// point at any coordinates) — must give a sane player or a refusal. The client goes through the
// whole handshake (request, challenge, response) on an in-memory network. Input: 8 bytes client
// id, 8 bytes expiry offset, 32 bytes user data; then ticks to run.
#include "synccore/conditioner.h"
#include "synccore/server.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

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
    config.capacity = 8;  // the transport gets as many slots; thousands would be most of each execution
    config.transport.randomSeed = 1;
    lv::MemoryNetwork net(1);
    auto serverSocket = net.createSocket(7777);
    auto clientSocket = net.createSocket();
    lv::Server server(config, *serverSocket);
    lv::TransportConfig clientConfig;
    clientConfig.randomSeed = 2;
    lv::ClientTransport client(clientConfig, *clientSocket);
    lv::TimeUs now = 1'000'000;
    const auto token = lv::issueConnectToken(config.tokenKey, config.transport.protocolId, clientId,
                                             now + static_cast<lv::TimeUs>(expiry % (1ULL << 40)) - (1LL << 39), userData,
                                             std::array<std::uint8_t, 32>{});
    client.connect(token, serverSocket->localAddress(), now);
    const int ticks = size > sizeof fields ? data[sizeof fields] % 8 : 1;
    for (int t = 0; t <= ticks + 2; ++t) {
        now += 33'334;
        server.advance(now);
        client.receive(now);
        while (client.pollEvent()) {
        }
        client.update(now);
    }
    return 0;
}
