// Authenticated but hostile: a peer that holds the keys (a modified client) sends arbitrary
// plaintext inside correctly sealed Connected packets. The link's parser (ack header, reliable
// section), and the game messages it carries (input messages, control messages), must reject
// what is malformed without crashing. Input: packets of [sequence delta][length][plaintext].
#include "link.h"
#include "synccore/bitstream.h"
#include "synccore/messages.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    lv::Key send{}, receive{};
    send.fill(3);
    receive.fill(5);
    const lv::TransportConfig config;
    lv::detail::Link link(config.protocolId, send, receive, config);
    std::uint64_t sequence = 0;
    lv::TimeUs now = 1'000'000;
    for (std::size_t i = 0; i + 2 <= size;) {
        sequence += data[i];  // 0 repeats a sequence: the replay window must refuse it
        const std::size_t n = std::min<std::size_t>(data[i + 1], size - i - 2);
        const std::span<const std::uint8_t> plain(data + i + 2, n);
        i += 2 + n;
        const auto datagram = lv::detail::sealConnected(config.protocolId, receive, sequence, plain);
        lv::detail::Refusal refusal = lv::detail::Refusal::None;
        now += 10'000;
        auto opened = link.open(datagram, now, refusal, [](lv::TimeUs) {});
        if (!opened)
            continue;
        for (const auto& message : opened->reliable)
            (void)lv::decodeControl(message);
        lv::BitReader reader(opened->payload);
        (void)lv::readInputMessage(reader);
        link.expire(now);
        (void)link.seal(lv::detail::PacketKind::KeepAlive, {}, now);  // acks what arrived
    }
    return 0;
}
