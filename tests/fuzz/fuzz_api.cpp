// The liveops.v1 request handlers: any bytes as any request, from an admin (every role check
// passed, so the handler's own validation is what stands). The first byte picks the method, the
// rest is the request message. A bad request gets a gRPC status; the server never crashes.
// The handlers are called directly (the ApiServer only authenticates and carries the call), so a
// run reaches millions of executions; the store lives on /dev/shm when there is one.
#include "handlers.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <unistd.h>

namespace pb = liveops::v1;
using lv::liveops::RequestHandlers;

namespace {
struct Service {
    std::filesystem::path dir;
    std::unique_ptr<lv::liveops::Cluster> cluster;
    std::unique_ptr<RequestHandlers> handlers;
    lv::liveops::Identity admin{"fuzz", lv::liveops::Role::Admin};
    ~Service()
    {
        handlers.reset();
        cluster.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    Service()
    {
        const std::filesystem::path shm("/dev/shm");
        dir = (std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path()) / ("fuzz_api-" + std::to_string(::getpid()));
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
        handlers = std::make_unique<RequestHandlers>(*cluster);
    }
};

Service& service()
{
    static Service s;
    return s;
}

template <typename Request, typename Response>
void unary(const std::uint8_t* data, std::size_t size,
           grpc::Status (RequestHandlers::*handler)(const lv::liveops::Identity&, const Request&, Response&))
{
    Request request;
    if (!request.ParseFromArray(data, static_cast<int>(size)))
        return;
    Response response;
    Service& s = service();
    (void)((*s.handlers).*handler)(s.admin, request, response);
}

template <typename Request>
bool parses(const std::uint8_t* data, std::size_t size)
{
    Request request;
    return request.ParseFromArray(data, static_cast<int>(size));
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t* body = data + 1;
    const std::size_t n = size - 1;
    using H = RequestHandlers;
    switch (data[0] % 18) {
    case 0: unary(body, n, &H::listRegions); break;
    case 1: unary(body, n, &H::listToggles); break;
    case 2: unary(body, n, &H::setToggle); break;
    case 3: unary(body, n, &H::drainRegion); break;
    case 4: unary(body, n, &H::failover); break;
    case 5: unary(body, n, &H::startDrill); break;
    case 6: unary(body, n, &H::cancelDrill); break;
    case 7: unary(body, n, &H::listAudit); break;
    case 8: unary(body, n, &H::whoAmI); break;
    case 9: {
        pb::WatchTelemetryRequest request;
        if (request.ParseFromArray(body, static_cast<int>(n)))
            (void)service().handlers->checkWatchTelemetry(request);
        break;
    }
    case 10: (void)parses<pb::WatchTogglesRequest>(body, n); break;  // no arguments to check
    case 11: (void)parses<pb::WatchAuditRequest>(body, n); break;    // any after_id is valid
    case 12: unary(body, n, &H::undrainRegion); break;
    case 13: unary(body, n, &H::clearToggle); break;
    case 14: unary(body, n, &H::listServers); break;
    case 15: unary(body, n, &H::findPlayer); break;
    case 16: unary(body, n, &H::kickPlayer); break;
    case 17: unary(body, n, &H::movePlayer); break;
    }
    return 0;
}
