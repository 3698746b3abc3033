#include "liveops/config.h"

#include <toml++/toml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace lv::liveops {

namespace {

class Reader {
public:
    Reader(std::string name, std::string baseDir) : m_name(std::move(name)), m_baseDir(std::move(baseDir)) {}

    bool fail(const toml::source_region& where, const std::string& problem)
    {
        if (m_error.empty())
            m_error = m_name + ":" + std::to_string(where.begin.line) + ": " + problem;
        return false;
    }
    const std::string& error() const { return m_error; }

    /// Unknown keys are errors: a typo must not silently become a default.
    bool known(const toml::table& table, const std::set<std::string>& keys)
    {
        for (const auto& [key, node] : table)
            if (!keys.count(std::string(key.str())))
                return fail(node.source(), "unknown key '" + std::string(key.str()) + "'");
        return true;
    }

    bool text(const toml::table& table, const char* key, std::string& out)
    {
        const toml::node* node = table.get(key);
        if (!node)
            return true;
        auto value = node->value<std::string>();
        if (!value)
            return fail(node->source(), std::string("'") + key + "' must be a string");
        out = *value;
        return true;
    }

    bool path(const toml::table& table, const char* key, std::string& out)
    {
        if (!text(table, key, out))
            return false;
        if (!out.empty() && std::filesystem::path(out).is_relative())
            out = (std::filesystem::path(m_baseDir) / out).string();
        return true;
    }

    template <typename T>
    bool number(const toml::table& table, const char* key, T& out, double lo, double hi)
    {
        const toml::node* node = table.get(key);
        if (!node)
            return true;
        std::optional<double> value;
        if (auto i = node->value_exact<std::int64_t>())
            value = static_cast<double>(*i);
        else if (auto d = node->value_exact<double>())
            value = *d;
        if (!value || *value < lo || *value > hi) {
            std::ostringstream s;
            s << "'" << key << "' must be a number in [" << lo << ", " << hi << "]";
            return fail(node->source(), s.str());
        }
        out = static_cast<T>(*value);
        return true;
    }

private:
    std::string m_name;
    std::string m_baseDir;
    std::string m_error;
};

} // namespace

std::optional<SyncdConfig> parseConfig(const std::string& text, const std::string& name, const std::string& baseDir, std::string& error)
{
    toml::table root;
    try {
        root = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        error = name + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
        return std::nullopt;
    }
    Reader r(name, baseDir);
    SyncdConfig c;
    c.storePath.clear();
    bool ok = r.known(root, {"syncd", "tls", "region", "fleet"});
    if (const toml::table* s = root["syncd"].as_table(); ok && s) {
        ok = r.known(*s, {"grpc_address", "metrics_address", "token_file", "token_key_file", "store", "telemetry_interval_ms", "drain_timeout_s",
                          "public_host"})
             && r.text(*s, "grpc_address", c.grpcAddress) && r.text(*s, "metrics_address", c.metricsAddress)
             && r.text(*s, "public_host", c.publicHost)
             && r.path(*s, "token_file", c.tokenFile) && r.path(*s, "token_key_file", c.tokenKeyFile) && r.path(*s, "store", c.storePath)
             && r.number(*s, "telemetry_interval_ms", c.telemetryIntervalMs, 100, 60000)
             && r.number(*s, "drain_timeout_s", c.drainTimeoutS, 0, 600);
    }
    if (const toml::table* t = root["tls"].as_table(); ok && t) {
        ok = r.known(*t, {"cert", "key", "client_ca"}) && r.path(*t, "cert", c.tls.tlsCertFile) && r.path(*t, "key", c.tls.tlsKeyFile)
             && r.path(*t, "client_ca", c.tls.tlsClientCaFile);
        if (ok && c.tls.tlsCertFile.empty() != c.tls.tlsKeyFile.empty())
            ok = r.fail(t->source(), "[tls] needs both 'cert' and 'key'");
    }
    if (const toml::table* f = root["fleet"].as_table(); ok && f) {
        FleetSettings fleet;
        ok = r.known(*f, {"etcd", "name", "server_id", "ca_file", "cert_file", "key_file", "user", "lease_ttl_s"})
             && r.text(*f, "name", fleet.name) && r.text(*f, "server_id", fleet.serverId) && r.path(*f, "ca_file", fleet.caFile)
             && r.path(*f, "cert_file", fleet.certFile) && r.path(*f, "key_file", fleet.keyFile) && r.text(*f, "user", fleet.user)
             && r.number(*f, "lease_ttl_s", fleet.leaseTtlS, 2, 300);
        const toml::node* etcd = f->get("etcd");
        const toml::array* urls = etcd ? etcd->as_array() : nullptr;
        if (ok && (!urls || urls->empty()))
            ok = r.fail(etcd ? etcd->source() : f->source(), "[fleet] needs 'etcd', a list of member URLs, e.g. [\"http://127.0.0.1:2379\"]");
        for (std::size_t i = 0; ok && urls && i < urls->size(); ++i) {
            auto url = (*urls)[i].value<std::string>();
            if (!url || url->empty())
                ok = r.fail((*urls)[i].source(), "'etcd' entries must be URLs such as \"http://127.0.0.1:2379\"");
            else
                fleet.etcd.push_back(*url);
        }
        if (ok && (fleet.name.empty() || fleet.name.find('/') != std::string::npos))
            ok = r.fail(f->source(), "[fleet] needs a 'name' without '/', e.g. \"prod\"");
        if (ok && fleet.serverId.find('/') != std::string::npos)
            ok = r.fail((*f)["server_id"].node()->source(), "'server_id' must not contain '/'");
        if (ok && fleet.certFile.empty() != fleet.keyFile.empty())
            ok = r.fail(f->source(), "[fleet] needs both 'cert_file' and 'key_file', or neither");
        c.fleet = std::move(fleet);
    }
    if (c.storePath.empty())
        c.storePath = (std::filesystem::path(baseDir) / "syncd.db").string();
    const toml::array* regions = root["region"].as_array();
    if (ok && (!regions || regions->empty()))
        ok = r.fail(root.source(), "at least one [[region]] is required");
    for (std::size_t i = 0; ok && regions && i < regions->size(); ++i) {
        const toml::table* t = (*regions)[i].as_table();
        if (!t) {
            ok = r.fail((*regions)[i].source(), "[[region]] entries must be tables");
            break;
        }
        RegionConfig region;
        RegionBots bots;
        std::string udp = "127.0.0.1:0";  // loopback unless the config opens it up
        std::string publicEndpoint;
        ok = r.known(*t, {"name", "udp", "public_endpoint", "capacity", "bots", "bot_network"}) && r.text(*t, "name", region.name)
             && r.text(*t, "udp", udp) && r.text(*t, "public_endpoint", publicEndpoint)
             && r.number(*t, "capacity", region.capacity, 1, kMaxCapacity) && r.number(*t, "bots", bots.count, 0, 10000);
        if (!ok)
            break;
        if (region.name.empty() || region.name == "*" || region.name.find_first_of(" @/") != std::string::npos)
            ok = r.fail(t->source(), "each [[region]] needs a 'name' without spaces, '@' or '/', and not '*'");
        for (const RegionConfig& other : c.regions)
            if (ok && other.name == region.name)
                ok = r.fail(t->source(), "region '" + region.name + "' is defined twice");
        auto address = Address::parse(udp);
        if (ok && !address)
            ok = r.fail((*t)["udp"].node() ? (*t)["udp"].node()->source() : t->source(),
                        "'udp' must be ip:port or [ipv6]:port, e.g. \"0.0.0.0:7777\" or \"[::]:7777\"");
        if (ok && !publicEndpoint.empty()) {
            auto advertised = Address::parse(publicEndpoint);
            if (!advertised || advertised->isUnspecified() || advertised->port == 0)
                ok = r.fail((*t)["public_endpoint"].node()->source(),
                            "'public_endpoint' must be the ip:port or [ipv6]:port players reach, e.g. \"203.0.113.7:7777\"");
            else
                region.publicEndpoint = *advertised;
        }
        if (!ok)
            break;
        region.bind = *address;
        region.publicHost = c.publicHost;
        region.seed = 1000 + i;
        if (const toml::table* n = (*t)["bot_network"].as_table()) {
            ok = r.known(*n, {"latency_ms", "jitter_ms", "loss_percent"}) && r.number(*n, "latency_ms", bots.network.latencyMs, 0, 2000)
                 && r.number(*n, "jitter_ms", bots.network.jitterMs, 0, 1000) && r.number(*n, "loss_percent", bots.network.lossPercent, 0, 100);
        }
        c.regions.push_back(std::move(region));
        c.bots.push_back(bots);
    }
    if (!ok) {
        error = r.error();
        return std::nullopt;
    }
    return c;
}

std::optional<SyncdConfig> loadConfig(const std::string& path, std::string& error)
{
    std::ifstream in(path);
    if (!in) {
        error = path + ": cannot read";
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const auto dir = std::filesystem::absolute(path).parent_path().string();
    return parseConfig(text.str(), path, dir, error);
}

std::optional<Key> parseKey(const std::string& text)
{
    std::string hex;
    for (char ch : text)
        if (!std::isspace(static_cast<unsigned char>(ch)))
            hex += ch;
    Key key{};
    if (hex.size() != key.size() * 2)
        return std::nullopt;
    for (std::size_t i = 0; i < key.size(); ++i) {
        unsigned value = 0;
        for (int n = 0; n < 2; ++n) {
            const char ch = static_cast<char>(std::tolower(static_cast<unsigned char>(hex[i * 2 + n])));
            if (!std::isxdigit(static_cast<unsigned char>(ch)))
                return std::nullopt;
            value = value * 16 + static_cast<unsigned>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
        }
        key[i] = static_cast<std::uint8_t>(value);
    }
    return key;
}

std::string formatKey(const Key& key)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : key) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

} // namespace lv::liveops
