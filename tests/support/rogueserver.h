#pragma once

// A liveops.v1 server that misbehaves, for testing what the console makes of a cluster that is
// not well: Silent takes connections and never answers; Nonsense answers with values no sane
// syncd would send (next to a few sane ones); Sane answers briefly and correctly. Sync gRPC API:
// each call holds a thread of the server's pool, which is what a hung server looks like.
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

namespace lv::test {

class RogueServer final : public ::liveops::v1::LiveOps::Service {
public:
    enum class Mode { Silent, Nonsense, Sane };
    using ServerContext = grpc::ServerContext;

    explicit RogueServer(Mode mode) : m_mode(mode)
    {
        grpc::ServerBuilder builder;
        builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &m_port);
        builder.RegisterService(this);
        m_server = builder.BuildAndStart();
    }
    ~RogueServer() override
    {
        m_stopping = true;
        m_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    }
    int port() const { return m_port; }
    void setMode(Mode mode) { m_mode = mode; }

    static ::liveops::v1::Region saneRegion()
    {
        ::liveops::v1::Region r;
        r.set_name("eu-west");
        r.set_endpoint("127.0.0.1:7777");
        r.set_status(::liveops::v1::REGION_STATUS_SERVING);
        r.set_players(3);
        r.set_capacity(100);
        return r;
    }

private:
    /// Holds the call while the server is silent (until the client gives up or the mode changes).
    bool waitWhileSilent(ServerContext* context)
    {
        while (m_mode == Mode::Silent && !context->IsCancelled() && !m_stopping)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return !context->IsCancelled() && !m_stopping;
    }
    void holdOpen(ServerContext* context)
    {
        while (!context->IsCancelled() && !m_stopping)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    template <typename Writer>
    bool open(ServerContext* context, Writer* writer)
    {
        if (!waitWhileSilent(context))
            return false;
        context->AddInitialMetadata("liveops-stream", "open");
        writer->SendInitialMetadata();
        return true;
    }

    grpc::Status WhoAmI(ServerContext* context, const ::liveops::v1::WhoAmIRequest*, ::liveops::v1::WhoAmIResponse* response) override
    {
        if (!waitWhileSilent(context))
            return grpc::Status::CANCELLED;
        response->set_name("rogue");
        response->set_role(::liveops::v1::ROLE_VIEWER);
        return grpc::Status::OK;
    }

    grpc::Status ListRegions(ServerContext* context, const ::liveops::v1::ListRegionsRequest*,
                             ::liveops::v1::ListRegionsResponse* response) override
    {
        if (!waitWhileSilent(context))
            return grpc::Status::CANCELLED;
        *response->add_regions() = saneRegion();
        if (m_mode == Mode::Nonsense) {
            auto* unnamed = response->add_regions();
            unnamed->set_status(::liveops::v1::REGION_STATUS_SERVING);
            auto* future = response->add_regions();
            future->set_name("us-east");
            future->set_status(static_cast<::liveops::v1::RegionStatus>(99));  // from a newer protocol, or garbage
        }
        return grpc::Status::OK;
    }

    grpc::Status WatchTelemetry(ServerContext* context, const ::liveops::v1::WatchTelemetryRequest*,
                                grpc::ServerWriter<::liveops::v1::TelemetrySample>* writer) override
    {
        if (!open(context, writer))
            return grpc::Status::CANCELLED;
        if (m_mode == Mode::Nonsense) {
            const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
            std::uint64_t sequence = 0;
            auto sample = [&](auto change) {
                ::liveops::v1::TelemetrySample s;
                s.set_sequence(++sequence);
                s.set_region("eu-west");
                s.mutable_time()->set_seconds(now);
                s.set_rtt_p50_ms(20);
                s.set_rtt_p95_ms(30);
                s.set_rtt_p99_ms(40);
                s.set_loss_percent(1);
                s.set_players(3);
                s.set_status(::liveops::v1::REGION_STATUS_SERVING);
                change(s);
                writer->Write(s);
            };
            sample([](auto&) {});  // sane
            sample([](auto& s) { s.set_rtt_p50_ms(std::numeric_limits<double>::quiet_NaN()); });
            sample([](auto& s) { s.set_loss_percent(250); });
            sample([](auto& s) { s.set_rtt_p99_ms(-5); });
            sample([](auto& s) { s.set_region(std::string(4000, 'r')); });
            sample([&](auto& s) { s.mutable_time()->set_seconds(now + 400 * 24 * 3600); });
            sample([](auto& s) {  // a histogram whose buckets go backwards
                s.mutable_rtt_us()->add_bucket(900);
                s.mutable_rtt_us()->add_count(3);
                s.mutable_rtt_us()->add_bucket(800);
                s.mutable_rtt_us()->add_count(1);
            });
        }
        holdOpen(context);
        return grpc::Status::CANCELLED;
    }

    grpc::Status WatchToggles(ServerContext* context, const ::liveops::v1::WatchTogglesRequest*,
                              grpc::ServerWriter<::liveops::v1::ToggleEvent>* writer) override
    {
        if (!open(context, writer))
            return grpc::Status::CANCELLED;
        if (m_mode == Mode::Nonsense) {
            ::liveops::v1::ToggleEvent event;
            event.set_initial(true);
            auto* t = event.mutable_toggle();
            t->set_key("snapshot_hz");
            t->set_scope("*");
            t->set_type(::liveops::v1::TOGGLE_TYPE_INT);
            t->mutable_value()->set_int_value(20);
            t->mutable_default_value()->set_int_value(20);
            t->set_min(1);
            t->set_max(60);
            writer->Write(event);
            t->set_key("bogus_toggle");
            t->set_type(static_cast<::liveops::v1::ToggleType>(77));
            writer->Write(event);
        }
        holdOpen(context);
        return grpc::Status::CANCELLED;
    }

    grpc::Status WatchAudit(ServerContext* context, const ::liveops::v1::WatchAuditRequest*,
                            grpc::ServerWriter<::liveops::v1::AuditEntry>* writer) override
    {
        if (!open(context, writer))
            return grpc::Status::CANCELLED;
        if (m_mode == Mode::Nonsense) {
            ::liveops::v1::AuditEntry entry;  // id 0, no actor: not an entry
            entry.set_action("set_toggle");
            writer->Write(entry);
        }
        holdOpen(context);
        return grpc::Status::CANCELLED;
    }

    std::atomic<Mode> m_mode;
    std::atomic<bool> m_stopping{false};
    int m_port = 0;
    std::unique_ptr<grpc::Server> m_server;
};

} // namespace lv::test
