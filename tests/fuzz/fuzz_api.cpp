// The liveops.v1 request handlers: any bytes as any request, from an admin (every role check
// passed, so the handler's own validation is what stands). The first byte picks the method, the
// rest is the request message. A bad request gets a gRPC status; the server never crashes.
#include "liveops/apiserver.h"
#include "liveops/cluster.h"
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <unistd.h>

namespace pb = liveops::v1;

namespace {
struct Service {
    std::unique_ptr<lv::liveops::Cluster> cluster;
    std::unique_ptr<lv::liveops::ApiServer> api;
    std::unique_ptr<pb::LiveOps::Stub> stub;
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("fuzz_api-" + std::to_string(::getpid()));
    ~Service()
    {
        stub.reset();
        if (api)
            api->shutdown(std::chrono::milliseconds(0));
        api.reset();
        cluster.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    Service()
    {
        std::filesystem::create_directories(dir);
        lv::liveops::ClusterConfig config;
        config.storePath = (dir / "syncd.db").string();
        for (const char* name : {"eu-west", "us-east"}) {
            lv::liveops::RegionConfig region;
            region.name = name;
            config.regions.push_back(region);
        }
        std::string error;
        cluster = lv::liveops::Cluster::start(std::move(config), error);
        lv::liveops::TokenTable tokens;
        tokens.add("fuzz-admin-token-0123", {"fuzz", lv::liveops::Role::Admin});
        lv::liveops::ApiServerOptions options;
        options.address.clear();  // in-process only
        api = lv::liveops::ApiServer::start(*cluster, std::move(tokens), options, error);
        stub = pb::LiveOps::NewStub(api->inProcessChannel());
    }
};

Service& service()
{
    static Service s;
    return s;
}

std::unique_ptr<grpc::ClientContext> context(std::chrono::milliseconds deadline = std::chrono::milliseconds(500))
{
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", "Bearer fuzz-admin-token-0123");
    c->set_deadline(std::chrono::system_clock::now() + deadline);
    return c;
}

template <typename Request, typename Response, typename Call>
void unary(const std::uint8_t* data, std::size_t size, Call call)
{
    Request request;
    if (!request.ParseFromArray(data, static_cast<int>(size)))
        return;
    Response response;
    auto c = context();
    (void)(service().stub.get()->*call)(c.get(), request, &response);
}

template <typename Request, typename Item, typename Call>
void stream(const std::uint8_t* data, std::size_t size, Call call)
{
    Request request;
    if (!request.ParseFromArray(data, static_cast<int>(size)))
        return;
    auto c = context(std::chrono::milliseconds(20));  // the handler validates at once; then let go
    auto reader = (service().stub.get()->*call)(c.get(), request);
    Item item;
    for (int i = 0; i < 2 && reader->Read(&item); ++i) {
    }
    c->TryCancel();
    (void)reader->Finish();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t* body = data + 1;
    const std::size_t n = size - 1;
    using S = pb::LiveOps::Stub;
    switch (data[0] % 12) {
    case 0: unary<pb::ListRegionsRequest, pb::ListRegionsResponse>(body, n, &S::ListRegions); break;
    case 1: unary<pb::ListTogglesRequest, pb::ListTogglesResponse>(body, n, &S::ListToggles); break;
    case 2: unary<pb::SetToggleRequest, pb::SetToggleResponse>(body, n, &S::SetToggle); break;
    case 3: unary<pb::DrainRegionRequest, pb::OperationResponse>(body, n, &S::DrainRegion); break;
    case 4: unary<pb::FailoverRequest, pb::OperationResponse>(body, n, &S::Failover); break;
    case 5: unary<pb::StartDrillRequest, pb::OperationResponse>(body, n, &S::StartDrill); break;
    case 6: unary<pb::CancelDrillRequest, pb::OperationResponse>(body, n, &S::CancelDrill); break;
    case 7: unary<pb::ListAuditRequest, pb::ListAuditResponse>(body, n, &S::ListAudit); break;
    case 8: unary<pb::WhoAmIRequest, pb::WhoAmIResponse>(body, n, &S::WhoAmI); break;
    case 9: stream<pb::WatchTelemetryRequest, pb::TelemetrySample>(body, n, &S::WatchTelemetry); break;
    case 10: stream<pb::WatchTogglesRequest, pb::ToggleEvent>(body, n, &S::WatchToggles); break;
    case 11: stream<pb::WatchAuditRequest, pb::AuditEntry>(body, n, &S::WatchAudit); break;
    }
    return 0;
}
