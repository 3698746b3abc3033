// The game-message decoders on raw bytes: input messages, snapshot headers and bodies (against a
// real baseline, as a client decodes a delta), control messages. Every count, index and range is
// checked; a bad message is an error value, never a crash or an oversized allocation.
#include "synccore/bitstream.h"
#include "synccore/messages.h"
#include "synccore/snapshot.h"

#include <cstddef>
#include <cstdint>

namespace {
const lv::SnapshotRecord& baseline()
{
    static const lv::SnapshotRecord record = [] {
        lv::SnapshotRecord r;
        r.tick = 100;
        for (std::uint16_t i = 0; i < 8; ++i) {
            lv::PlayerState p;
            p.id = {i, 1};
            p.position = {i * 1000, -i * 500, 0};
            r.entities.push_back(p);
        }
        return r;
    }();
    return record;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> bytes(data, size);
    {
        lv::BitReader reader(bytes);
        (void)lv::readInputMessage(reader);
    }
    {
        lv::BitReader reader(bytes);
        if (lv::readSnapshotHeader(reader))
            (void)lv::decodeSnapshot(reader, [](lv::Tick tick) { return tick == baseline().tick ? &baseline() : nullptr; });
    }
    {
        lv::BitReader reader(bytes);
        (void)lv::decodeSnapshot(reader, [](lv::Tick) { return &baseline(); });
    }
    (void)lv::decodeControl(bytes);
    return 0;
}
