#pragma once

#include "console/sandbox.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace lv::console {

/// Sandbox recordings on disk: JSON, documented in docs/sandbox-recordings.md. 64-bit values
/// (seed, digest, datagram count) are strings so no JSON reader rounds them.
QByteArray recordingToJson(const SandboxRecording& recording);
/// Null with `error` naming the field (e.g. "changes[3].kind: unknown value 'x'") on bad input.
std::optional<SandboxRecording> recordingFromJson(const QByteArray& json, QString& error);

/// Writes through QSaveFile: a crash or full disk never leaves half a recording behind.
bool saveRecording(const QString& path, const SandboxRecording& recording, QString& error);
std::optional<SandboxRecording> loadRecording(const QString& path, QString& error);

} // namespace lv::console
