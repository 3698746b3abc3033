#include "liveops/etcd.h"

#include <fstream>
#include <sstream>

namespace lv::liveops {

namespace {
bool readFile(const std::string& path, std::string& out)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    std::ostringstream text;
    text << in.rdbuf();
    out = text.str();
    return true;
}
} // namespace

bool etcdUnavailable(const grpc::Status& status)
{
    switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
        return true;
    default:
        // etcd says "etcdserver: request timed out" / "no leader" with UNKNOWN on some paths.
        return status.error_message().find("timed out") != std::string::npos || status.error_message().find("no leader") != std::string::npos;
    }
}

std::string describeEtcdStatus(const grpc::Status& status)
{
    if (etcdUnavailable(status))
        return "the fleet store has no quorum or cannot be reached (" + status.error_message() + ")";
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED || status.error_code() == grpc::StatusCode::PERMISSION_DENIED)
        return "the fleet store refused syncd's credentials (" + status.error_message() + ")";
    return "the fleet store failed: " + status.error_message();
}

std::unique_ptr<EtcdClient> EtcdClient::create(const EtcdOptions& options, std::string& error)
{
    if (options.endpoints.empty()) {
        error = "no etcd endpoints given";
        return nullptr;
    }
    std::unique_ptr<EtcdClient> client(new EtcdClient(options));
    for (const std::string& url : options.endpoints) {
        std::string target = url;
        bool tls = false;
        if (target.starts_with("https://")) {
            tls = true;
            target = target.substr(8);
        } else if (target.starts_with("http://")) {
            target = target.substr(7);
        } else if (target.find("://") != std::string::npos) {
            error = "etcd endpoint '" + url + "': only http:// and https:// are understood";
            return nullptr;
        }
        while (!target.empty() && target.back() == '/')
            target.pop_back();
        if (target.empty() || target.find('/') != std::string::npos || target.rfind(':') == std::string::npos) {
            error = "etcd endpoint '" + url + "' is not host:port";
            return nullptr;
        }
        std::shared_ptr<grpc::ChannelCredentials> credentials;
        if (tls || !options.caFile.empty()) {
            grpc::SslCredentialsOptions ssl;
            if (!options.caFile.empty() && !readFile(options.caFile, ssl.pem_root_certs)) {
                error = "cannot read the etcd CA file " + options.caFile;
                return nullptr;
            }
            if (options.certFile.empty() != options.keyFile.empty()) {
                error = "etcd TLS: a client certificate needs its key, and the key its certificate";
                return nullptr;
            }
            if (!options.certFile.empty()
                && (!readFile(options.certFile, ssl.pem_cert_chain) || !readFile(options.keyFile, ssl.pem_private_key))) {
                error = "cannot read the etcd client certificate " + options.certFile + " or its key " + options.keyFile;
                return nullptr;
            }
            credentials = grpc::SslCredentials(ssl);
        } else {
            credentials = grpc::InsecureChannelCredentials();
        }
        grpc::ChannelArguments arguments;
        arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
        arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
        client->m_channels.push_back(grpc::CreateCustomChannel(target, credentials, arguments));
    }
    return client;
}

void EtcdClient::prepare(grpc::ClientContext& context, bool deadline, std::size_t member)
{
    (void)member;
    if (deadline)
        context.set_deadline(std::chrono::system_clock::now() + m_options.timeout);
    std::lock_guard lock(m_mutex);
    if (!m_token.empty())
        context.AddMetadata("token", m_token);
}

grpc::Status EtcdClient::authenticate(std::size_t member)
{
    auto auth = etcdserverpb::Auth::NewStub(m_channels[member]);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + m_options.timeout);
    etcdserverpb::AuthenticateRequest request;
    request.set_name(m_options.user);
    request.set_password(m_options.password);
    etcdserverpb::AuthenticateResponse response;
    grpc::Status status = auth->Authenticate(&context, request, &response);
    if (status.ok()) {
        std::lock_guard lock(m_mutex);
        m_token = response.token();
    }
    return status;
}

template <class Call>
grpc::Status EtcdClient::call(Call&& call)
{
    std::size_t first;
    {
        std::lock_guard lock(m_mutex);
        first = m_current;
    }
    grpc::Status status;
    bool reauthenticated = false;
    for (std::size_t attempt = 0; attempt < m_channels.size(); ++attempt) {
        const std::size_t member = (first + attempt) % m_channels.size();
        bool needToken;
        {
            std::lock_guard lock(m_mutex);
            needToken = !m_options.user.empty() && m_token.empty();
        }
        if (needToken) {
            status = authenticate(member);
            if (!status.ok()) {
                if (etcdUnavailable(status))
                    continue;
                return status;
            }
        }
        grpc::ClientContext context;
        prepare(context, true, member);
        status = call(m_channels[member], context);
        if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED && !m_options.user.empty() && !reauthenticated) {
            // The token expired (etcd's simple tokens last five minutes): once more, with a new one.
            reauthenticated = true;
            {
                std::lock_guard lock(m_mutex);
                m_token.clear();
            }
            --attempt;
            continue;
        }
        if (!etcdUnavailable(status)) {
            std::lock_guard lock(m_mutex);
            m_current = member;
            return status;
        }
    }
    return status;
}

grpc::Status EtcdClient::range(const etcdserverpb::RangeRequest& request, etcdserverpb::RangeResponse& response)
{
    return call([&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& context) {
        return etcdserverpb::KV::NewStub(channel)->Range(&context, request, &response);
    });
}

grpc::Status EtcdClient::txn(const etcdserverpb::TxnRequest& request, etcdserverpb::TxnResponse& response)
{
    return call([&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& context) {
        return etcdserverpb::KV::NewStub(channel)->Txn(&context, request, &response);
    });
}

grpc::Status EtcdClient::put(const etcdserverpb::PutRequest& request, etcdserverpb::PutResponse& response)
{
    return call([&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& context) {
        return etcdserverpb::KV::NewStub(channel)->Put(&context, request, &response);
    });
}

grpc::Status EtcdClient::leaseGrant(std::int64_t ttlSeconds, etcdserverpb::LeaseGrantResponse& response)
{
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttlSeconds);
    return call([&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& context) {
        return etcdserverpb::Lease::NewStub(channel)->LeaseGrant(&context, request, &response);
    });
}

grpc::Status EtcdClient::leaseRevoke(std::int64_t lease)
{
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(lease);
    etcdserverpb::LeaseRevokeResponse response;
    return call([&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& context) {
        return etcdserverpb::Lease::NewStub(channel)->LeaseRevoke(&context, request, &response);
    });
}

grpc::Status EtcdClient::leaseKeepAlive(std::int64_t lease, std::int64_t& ttlLeft)
{
    return call([&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& context) {
        auto stream = etcdserverpb::Lease::NewStub(channel)->LeaseKeepAlive(&context);
        etcdserverpb::LeaseKeepAliveRequest request;
        request.set_id(lease);
        etcdserverpb::LeaseKeepAliveResponse response;
        const bool answered = stream->Write(request) && stream->Read(&response);
        stream->WritesDone();
        context.TryCancel();
        grpc::Status status = stream->Finish();
        if (!answered)
            return status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "the keep-alive stream closed") : status;
        ttlLeft = response.ttl();
        return grpc::Status::OK;
    });
}

std::unique_ptr<etcdserverpb::Watch::Stub> EtcdClient::watchStub(grpc::ClientContext& context, std::size_t& member)
{
    {
        std::lock_guard lock(m_mutex);
        member = m_current;
    }
    bool needToken;
    {
        std::lock_guard lock(m_mutex);
        needToken = !m_options.user.empty() && m_token.empty();
    }
    if (needToken)
        authenticate(member);
    prepare(context, false, member);
    // etcd closes a watch on a member that has lost its leader only when asked to.
    context.AddMetadata("hasleader", "true");
    return etcdserverpb::Watch::NewStub(m_channels[member]);
}

void EtcdClient::rotate(std::size_t member)
{
    std::lock_guard lock(m_mutex);
    if (m_current == member)
        m_current = (member + 1) % m_channels.size();
}

} // namespace lv::liveops
