#pragma once

#include <string>

namespace lv {

/// The live-ops knobs the engine honours while running. A host changes them with
/// Server::setKnobs(); they take effect at the next tick (rates) or next snapshot (everything else).
struct RuntimeKnobs {
    int tickHz = 30;                  ///< simulation rate, 10..120
    int snapshotHz = 20;              ///< snapshot rate, 1..tickHz
    bool deltaCompression = true;     ///< off: every snapshot carries full state
    double interestRadiusM = 60.0;    ///< players within this distance are candidates for a client's view
    double interestHysteresisM = 6.0; ///< leave only beyond radius + hysteresis
    int maxVisible = 64;              ///< cap on a client's view
    double bandwidthCapKbps = 0.0;    ///< per-client snapshot budget; 0 = limited only by the packet size
    bool predictionEnabled = true;    ///< clients predict their own player (off: they show server state)
    bool crossPlay = true;            ///< off: players only see and meet players of their own platform pool
    bool admissionsOpen = true;       ///< off: new connections are denied (drain)
    bool maintenanceMode = false;     ///< on: new connections denied, connected clients notified
    std::string failoverTarget;       ///< "ip:port": connected clients are redirected there
    int interpolationDelayOverrideMs = 0;  ///< 0 = adaptive (driven by measured jitter)
    friend bool operator==(const RuntimeKnobs&, const RuntimeKnobs&) = default;
};

/// An empty string when the knobs are acceptable, else a message naming the offending knob.
std::string validateKnobs(const RuntimeKnobs& knobs);

} // namespace lv
