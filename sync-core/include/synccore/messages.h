#pragma once

#include "synccore/bitstream.h"
#include "synccore/result.h"
#include "synccore/socket.h"
#include "synccore/transport.h"
#include "synccore/types.h"

#include <optional>
#include <string>
#include <vector>

namespace lv {

/// First byte of every unreliable payload the game layer puts in a transport packet.
enum class MessageType : std::uint8_t { Input = 1, Snapshot = 2 };

/// Client -> server, every client tick: the newest snapshot decoded (the delta baseline ack) and
/// the newest input commands not yet known to be processed, newest first, consecutive sequences,
/// so a lost packet costs nothing as long as one of the next few arrives.
struct InputMessage {
    std::optional<Tick> ackedSnapshot;
    std::vector<InputCommand> commands;  ///< 1..kMaxInputsPerMessage, newest first
    /// Client-side figures the server folds into region metrics (prediction corrections so far).
    std::uint32_t correctionsTotal = 0;
};
constexpr std::size_t kMaxInputsPerMessage = 8;

void writeInputMessage(BitWriter& writer, const InputMessage& message);
Result<InputMessage> readInputMessage(BitReader& reader);

/// Server -> client, before the snapshot body: what the client needs to reconcile and render.
struct SnapshotHeader {
    std::uint32_t lastProcessedInput = 0;  ///< newest input sequence applied to the client's player
    EntityId localPlayer;
    bool predictionEnabled = true;
    std::uint16_t interpolationDelayOverrideMs = 0;
    std::uint8_t snapshotHz = 20;
};
void writeSnapshotHeader(BitWriter& writer, const SnapshotHeader& header);
Result<SnapshotHeader> readSnapshotHeader(BitReader& reader);

/// Reliable-ordered control messages (server -> client).
struct ControlMessage {
    enum class Kind : std::uint8_t { Redirect = 1, Kick = 2, MaintenanceNotice = 3 };
    Kind kind = Kind::Kick;
    Address target;          ///< Redirect: where to reconnect (IPv4 or IPv6)
    std::uint32_t seconds = 0;  ///< MaintenanceNotice: time until maintenance starts
    std::string text;        ///< reason shown to the player (<= 160 bytes)
    /// Redirect: a fresh, short-lived token for the target, sealed with the cluster key, so the
    /// client is admitted there even when the token it came with has expired. Its user data is
    /// sealed inside (the public copy stays zero). Without one the client keeps its own token.
    std::optional<ConnectToken> token;
};
std::vector<std::uint8_t> encodeControl(const ControlMessage& message);
Result<ControlMessage> decodeControl(std::span<const std::uint8_t> bytes);

} // namespace lv
