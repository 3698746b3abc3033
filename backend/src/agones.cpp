#include "liveops/agones.h"

#include "agones/dev/sdk/sdk.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <functional>

namespace lv::liveops {

namespace sdk = agones::dev::sdk;

struct AgonesSdk::Channel {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<sdk::SDK::Stub> stub;
};

std::unique_ptr<AgonesSdk> AgonesSdk::fromEnvironment()
{
    const char* port = std::getenv("AGONES_SDK_GRPC_PORT");
    if (!port || !*port)
        return nullptr;
    const char* host = std::getenv("AGONES_SDK_GRPC_HOST");
    return std::make_unique<AgonesSdk>(std::string(host && *host ? host : "localhost") + ":" + port);
}

AgonesSdk::AgonesSdk(const std::string& target, std::chrono::milliseconds healthPeriod)
    : m_target(target), m_period(healthPeriod), m_channel(std::make_unique<Channel>())
{
    // The sidecar is in the same pod: plaintext on the pod's loopback, as Agones' own SDKs do.
    m_channel->channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    m_channel->stub = sdk::SDK::NewStub(m_channel->channel);
}

AgonesSdk::~AgonesSdk() { stopHealth(); }

namespace {
bool call(const char* what, std::chrono::milliseconds deadline, std::string& error,
          const std::function<grpc::Status(grpc::ClientContext&, const sdk::Empty&, sdk::Empty&)>& rpc)
{
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    context.set_wait_for_ready(true);  // the sidecar may start a moment after us
    sdk::Empty request, response;
    const grpc::Status status = rpc(context, request, response);
    if (status.ok())
        return true;
    error = std::string("Agones SDK ") + what + ": " + status.error_message();
    return false;
}
} // namespace

bool AgonesSdk::ready(std::string& error, std::chrono::milliseconds deadline)
{
    return call("Ready", deadline, error, [this](grpc::ClientContext& c, const sdk::Empty& in, sdk::Empty& out) {
        return m_channel->stub->Ready(&c, in, &out);
    });
}

bool AgonesSdk::shutdown(std::string& error, std::chrono::milliseconds deadline)
{
    return call("Shutdown", deadline, error, [this](grpc::ClientContext& c, const sdk::Empty& in, sdk::Empty& out) {
        return m_channel->stub->Shutdown(&c, in, &out);
    });
}

AgonesSdk::Placement AgonesSdk::placement(std::string& error, std::chrono::milliseconds deadline)
{
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    context.set_wait_for_ready(true);
    sdk::GameServer gameServer;
    const grpc::Status status = m_channel->stub->GetGameServer(&context, sdk::Empty(), &gameServer);
    Placement out;
    if (!status.ok()) {
        error = "Agones SDK GetGameServer: " + status.error_message();
        return out;
    }
    out.address = gameServer.status().address();
    for (const auto& port : gameServer.status().ports())
        out.ports[port.name()] = port.port();
    if (out.address.empty())
        error = "Agones SDK GetGameServer: the GameServer has no address yet";
    return out;
}

bool AgonesSdk::setAnnotation(const std::string& key, const std::string& value, std::string& error, std::chrono::milliseconds deadline)
{
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    context.set_wait_for_ready(true);
    sdk::KeyValue request;
    request.set_key(key);
    request.set_value(value);
    sdk::Empty response;
    const grpc::Status status = m_channel->stub->SetAnnotation(&context, request, &response);
    if (status.ok())
        return true;
    error = "Agones SDK SetAnnotation: " + status.error_message();
    return false;
}

void AgonesSdk::startHealth()
{
    std::lock_guard lock(m_mutex);
    if (m_health.joinable())
        return;
    m_stop = false;
    m_health = std::thread([this] { healthLoop(); });
}

void AgonesSdk::stopHealth()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        if (m_active)
            m_active->TryCancel();  // a Write stuck on a silent sidecar returns now
    }
    m_wake.notify_all();
    if (m_health.joinable())
        m_health.join();
}

void AgonesSdk::healthLoop()
{
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        // One client stream carries the pings; if the sidecar restarts, open another.
        grpc::ClientContext context;
        sdk::Empty response;
        m_active = &context;
        lock.unlock();
        auto stream = m_channel->stub->Health(&context, &response);
        lock.lock();
        while (!m_stop) {
            lock.unlock();
            const bool written = stream->Write(sdk::Empty());
            lock.lock();
            if (!written)
                break;
            ++m_pings;
            m_wake.wait_for(lock, m_period, [this] { return m_stop; });
        }
        lock.unlock();
        stream->WritesDone();
        stream->Finish();
        lock.lock();
        m_active = nullptr;
        if (!m_stop)
            m_wake.wait_for(lock, m_period, [this] { return m_stop; });  // back off before reopening
    }
}

} // namespace lv::liveops
