#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace grpc {
class ClientContext;
}

namespace lv::liveops {

/// syncd's side of the Agones game-server SDK. Under Agones the pod has an SDK sidecar whose gRPC
/// port is in AGONES_SDK_GRPC_PORT (host in AGONES_SDK_GRPC_HOST, default localhost); syncd then
/// says Ready once it serves, pings Health while it runs, and says Shutdown after draining. Without
/// the variables there is no AgonesSdk and syncd is plain syncd.
class AgonesSdk {
public:
    /// Null when the environment names no SDK server (not under Agones).
    static std::unique_ptr<AgonesSdk> fromEnvironment();
    explicit AgonesSdk(const std::string& target, std::chrono::milliseconds healthPeriod = std::chrono::seconds(2));
    ~AgonesSdk();  ///< stops the health pings
    AgonesSdk(const AgonesSdk&) = delete;
    AgonesSdk& operator=(const AgonesSdk&) = delete;

    const std::string& target() const { return m_target; }
    /// Each call waits at most `deadline`; false with `error` set when the sidecar did not answer.
    bool ready(std::string& error, std::chrono::milliseconds deadline = std::chrono::seconds(5));
    bool shutdown(std::string& error, std::chrono::milliseconds deadline = std::chrono::seconds(5));
    /// Where Agones says players reach this GameServer: the node's address and the host port of
    /// each named port. Empty address with `error` set when the sidecar did not answer.
    struct Placement {
        std::string address;
        std::map<std::string, int> ports;
    };
    Placement placement(std::string& error, std::chrono::milliseconds deadline = std::chrono::seconds(5));
    /// Sets the GameServer annotation "agones.dev/sdk-<key>" (Agones adds the prefix).
    bool setAnnotation(const std::string& key, const std::string& value, std::string& error,
                       std::chrono::milliseconds deadline = std::chrono::seconds(5));
    /// Starts pinging Health every period on a thread (one streaming call, reopened if it breaks).
    void startHealth();
    void stopHealth();
    std::uint64_t healthPingsSent() const { return m_pings; }

private:
    struct Channel;
    void healthLoop();

    std::string m_target;
    std::chrono::milliseconds m_period;
    std::unique_ptr<Channel> m_channel;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    grpc::ClientContext* m_active = nullptr;  // the open Health call, cancelled by stopHealth()
    std::atomic<std::uint64_t> m_pings{0};
    std::thread m_health;
};

} // namespace lv::liveops
