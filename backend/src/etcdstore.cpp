#include "liveops/etcdstore.h"

#include "convert.h"
#include "liveops/v1/fleet.pb.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace lv::liveops {

namespace {
namespace pb = ::liveops::v1;
namespace fpb = ::liveops::fleet::v1;

constexpr int kAttempts = 32;             // racing appenders: one wins each round
constexpr std::size_t kAuditScanLimit = 50'000;  // a filtered audit read looks at no more entries than this

/// The end of the range of every key starting with `prefix` (etcd's "prefix end").
std::string prefixEnd(std::string prefix)
{
    while (!prefix.empty()) {
        if (static_cast<unsigned char>(prefix.back()) < 0xff) {
            prefix.back() = static_cast<char>(prefix.back() + 1);
            return prefix;
        }
        prefix.pop_back();
    }
    return std::string(1, '\0');
}

std::string toJson(const google::protobuf::Message& message)
{
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(message, &out, options);
    return out;
}

bool fromJson(const std::string& text, google::protobuf::Message& message)
{
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // a newer syncd may add fields
    return google::protobuf::util::JsonStringToMessage(text, &message, options).ok();
}

std::string recordOf(const StoredToggle& t)
{
    fpb::ToggleRecord record;
    const ToggleDefinition* d = findToggle(t.key);
    convert::toProto(t.value, d ? d->type : ToggleType::Enum, *record.mutable_value());
    record.set_audit_id(t.lastAuditId);
    record.set_cleared(t.cleared);
    return toJson(record);
}

std::string entryJson(const AuditEntry& e)
{
    pb::AuditEntry out;
    convert::toProto(e, out);
    return toJson(out);
}

std::optional<AuditEntry> parseEntry(const std::string& text)
{
    pb::AuditEntry in;
    if (!fromJson(text, in) || in.id() == 0)
        return std::nullopt;
    return convert::fromProto(in);
}

void fail(StoreFailure& failure, const grpc::Status& status)
{
    failure.message = describeEtcdStatus(status);
    failure.unavailable = etcdUnavailable(status);
}
} // namespace

struct EtcdStore::Current {
    std::optional<StoredToggle> toggle;  // as stored (cleared ones too)
    std::int64_t toggleRevision = 0;     // 0 = never written
    std::uint64_t lastAudit = 0;
    std::int64_t auditLastRevision = 0;
};

std::unique_ptr<EtcdStore> EtcdStore::open(std::shared_ptr<EtcdClient> client, const std::string& fleet, std::string& error)
{
    if (fleet.empty() || fleet.find('/') != std::string::npos) {
        error = "the fleet name must be non-empty and contain no '/': '" + fleet + "'";
        return nullptr;
    }
    std::unique_ptr<EtcdStore> store(new EtcdStore(std::move(client), "/" + fleet + "/"));
    etcdserverpb::RangeRequest probe;
    probe.set_key(store->m_prefix + "audit-last");
    etcdserverpb::RangeResponse response;
    if (grpc::Status status = store->m_client->range(probe, response); !status.ok()) {
        error = describeEtcdStatus(status);
        return nullptr;
    }
    return store;
}

EtcdStore::~EtcdStore()
{
    stopChanges();
}

std::string EtcdStore::toggleKey(const std::string& key, const std::string& scope) const
{
    return m_prefix + "toggles/" + scope + "/" + key;
}

std::string EtcdStore::auditKey(std::uint64_t id) const
{
    char digits[24];
    std::snprintf(digits, sizeof digits, "%020" PRIu64, id);
    return m_prefix + "audit/" + digits;
}

std::optional<std::vector<StoredToggle>> EtcdStore::loadAll(std::int64_t& revision, std::string& error) const
{
    const std::string prefix = m_prefix + "toggles/";
    etcdserverpb::RangeRequest request;
    request.set_key(prefix);
    request.set_range_end(prefixEnd(prefix));
    etcdserverpb::RangeResponse response;
    if (grpc::Status status = m_client->range(request, response); !status.ok()) {
        error = describeEtcdStatus(status);
        return std::nullopt;
    }
    std::vector<StoredToggle> out;
    for (const mvccpb::KeyValue& kv : response.kvs()) {
        const std::string rest = kv.key().substr(prefix.size());
        const auto slash = rest.rfind('/');
        fpb::ToggleRecord record;
        std::optional<ToggleValue> value;
        if (slash == std::string::npos || !fromJson(kv.value(), record) || !(value = convert::fromProto(record.value()))) {
            error = "damaged toggle record at " + kv.key() + " (revision " + std::to_string(kv.mod_revision()) + ")";
            return std::nullopt;
        }
        out.push_back(StoredToggle{rest.substr(slash + 1), rest.substr(0, slash), *value, static_cast<std::uint64_t>(kv.mod_revision()),
                                   record.audit_id(), record.cleared()});
    }
    revision = response.header().revision();
    return out;
}

std::optional<std::vector<StoredToggle>> EtcdStore::toggles(std::string& error) const
{
    std::int64_t revision = 0;
    auto all = loadAll(revision, error);
    if (all) {
        std::lock_guard lock(m_mutex);
        m_loadedRevision = revision;
    }
    return all;
}

std::optional<StoredToggle> EtcdStore::toggle(const std::string& key, const std::string& scope) const
{
    Current current;
    StoreFailure failure;
    if (!readCurrent(key, scope, current, failure))
        return std::nullopt;
    return current.toggle;
}

bool EtcdStore::readCurrent(const std::string& key, const std::string& scope, Current& current, StoreFailure& failure) const
{
    // Both in one read-only transaction: one revision, a consistent pair.
    etcdserverpb::TxnRequest request;
    request.add_success()->mutable_request_range()->set_key(toggleKey(key, scope));
    request.add_success()->mutable_request_range()->set_key(m_prefix + "audit-last");
    etcdserverpb::TxnResponse response;
    if (grpc::Status status = m_client->txn(request, response); !status.ok()) {
        fail(failure, status);
        return false;
    }
    if (response.responses_size() != 2) {
        failure.message = "the fleet store answered a read with " + std::to_string(response.responses_size()) + " results";
        return false;
    }
    const auto& toggle = response.responses(0).response_range();
    if (toggle.kvs_size() == 1) {
        const mvccpb::KeyValue& kv = toggle.kvs(0);
        fpb::ToggleRecord record;
        std::optional<ToggleValue> value;
        if (!fromJson(kv.value(), record) || !(value = convert::fromProto(record.value()))) {
            failure.message = "damaged toggle record at " + kv.key();
            return false;
        }
        current.toggle = StoredToggle{key, scope, *value, static_cast<std::uint64_t>(kv.mod_revision()), record.audit_id(), record.cleared()};
        current.toggleRevision = kv.mod_revision();
    }
    const auto& last = response.responses(1).response_range();
    if (last.kvs_size() == 1) {
        current.lastAudit = std::strtoull(last.kvs(0).value().c_str(), nullptr, 10);
        current.auditLastRevision = last.kvs(0).mod_revision();
    }
    return true;
}

std::int64_t EtcdStore::commit(const std::vector<std::pair<std::string, std::string>>& writes, const std::vector<AuditEntry>& entries,
                               std::int64_t auditLastRevision, const std::string& compareKey, std::int64_t compareRevision,
                               StoreFailure& failure)
{
    etcdserverpb::TxnRequest request;
    auto compare = [&](const std::string& key, std::int64_t revision) {
        auto* c = request.add_compare();
        c->set_key(key);
        c->set_target(etcdserverpb::Compare::MOD);
        c->set_result(etcdserverpb::Compare::EQUAL);
        c->set_mod_revision(revision);  // 0 matches a key that does not exist
    };
    compare(m_prefix + "audit-last", auditLastRevision);
    if (!compareKey.empty())
        compare(compareKey, compareRevision);
    auto put = [&](const std::string& key, const std::string& value) {
        auto* p = request.add_success()->mutable_request_put();
        p->set_key(key);
        p->set_value(value);
    };
    for (const auto& [key, value] : writes)
        put(key, value);
    for (const AuditEntry& e : entries)
        put(auditKey(e.id), entryJson(e));
    if (!entries.empty())
        put(m_prefix + "audit-last", std::to_string(entries.back().id));
    etcdserverpb::TxnResponse response;
    if (grpc::Status status = m_client->txn(request, response); !status.ok()) {
        fail(failure, status);
        return -1;
    }
    return response.succeeded() ? response.header().revision() : 0;
}

Store::SetResult EtcdStore::setToggle(const std::string& key, const std::string& scope, const ToggleValue& value,
                                      std::uint64_t expectedVersion, const AuditEntry& who)
{
    SetResult result;
    const ToggleDefinition* definition = findToggle(key);
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        Current current;
        StoreFailure failure;
        if (!readCurrent(key, scope, current, failure)) {
            result.outcome = failure.unavailable ? Outcome::Unavailable : Outcome::Failed;
            result.error = failure.message;
            return result;
        }
        if (static_cast<std::uint64_t>(current.toggleRevision) != expectedVersion) {
            result.outcome = Outcome::Conflict;
            result.current = current.toggle ? *current.toggle : StoredToggle{key, scope, {}, 0, 0};
            return result;
        }
        AuditEntry entry = who;
        entry.id = current.lastAudit + 1;
        entry.action = "set_toggle";
        entry.target = key + "@" + scope;
        entry.oldValue = current.toggle && !current.toggle->cleared ? formatValue(current.toggle->value)
                                                                    : (definition ? formatValue(definition->defaultValue) : std::string{});
        entry.newValue = formatValue(value);
        StoredToggle next{key, scope, value, 0, entry.id};
        const std::int64_t revision = commit({{toggleKey(key, scope), recordOf(next)}}, {entry}, current.auditLastRevision,
                                             toggleKey(key, scope), current.toggleRevision, failure);
        if (revision < 0) {
            // Unknown whether it was applied only when the call timed out after reaching the
            // members; the caller's next read says (its version will have moved).
            result.outcome = failure.unavailable ? Outcome::Unavailable : Outcome::Failed;
            result.error = failure.message;
            return result;
        }
        if (revision > 0) {
            next.version = static_cast<std::uint64_t>(revision);
            result.outcome = Outcome::Applied;
            result.current = next;
            result.audit = entry;
            return result;
        }
        // A compare failed: the toggle moved (the next read says Conflict) or only audit-last did.
    }
    result.error = "too many concurrent writers to the fleet's audit log; try again";
    result.outcome = Outcome::Unavailable;
    return result;
}

Store::SetResult EtcdStore::clearToggle(const std::string& key, const std::string& scope, std::uint64_t expectedVersion,
                                        const AuditEntry& entry)
{
    SetResult result;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        Current current;
        StoreFailure failure;
        if (!readCurrent(key, scope, current, failure)) {
            result.outcome = failure.unavailable ? Outcome::Unavailable : Outcome::Failed;
            result.error = failure.message;
            return result;
        }
        if (!current.toggle || current.toggle->cleared || static_cast<std::uint64_t>(current.toggleRevision) != expectedVersion) {
            result.outcome = Outcome::Conflict;
            result.current = current.toggle ? *current.toggle : StoredToggle{key, scope, {}, 0, 0};
            return result;
        }
        AuditEntry e = entry;
        e.id = current.lastAudit + 1;
        e.action = "clear_toggle";
        e.target = key + "@" + scope;
        e.oldValue = formatValue(current.toggle->value);
        StoredToggle next{key, scope, current.toggle->value, 0, e.id, true};
        const std::int64_t revision = commit({{toggleKey(key, scope), recordOf(next)}}, {e}, current.auditLastRevision, toggleKey(key, scope),
                                             current.toggleRevision, failure);
        if (revision < 0) {
            result.outcome = failure.unavailable ? Outcome::Unavailable : Outcome::Failed;
            result.error = failure.message;
            return result;
        }
        if (revision > 0) {
            next.version = static_cast<std::uint64_t>(revision);
            result.outcome = Outcome::Applied;
            result.current = next;
            result.audit = e;
            return result;
        }
    }
    result.error = "too many concurrent writers to the fleet's audit log; try again";
    result.outcome = Outcome::Unavailable;
    return result;
}

std::optional<Store::OperationResult> EtcdStore::applyOperation(const std::vector<std::pair<std::string, ToggleChange>>& changes,
                                                               const AuditEntry& entry, StoreFailure& failure)
{
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        Current current;
        if (!readCurrent({}, "*", current, failure))
            return std::nullopt;
        AuditEntry e = entry;
        e.id = current.lastAudit + 1;
        OperationResult result;
        std::vector<std::pair<std::string, std::string>> writes;
        for (const auto& [scope, change] : changes) {
            result.toggles.push_back(StoredToggle{change.key, scope, change.value, 0, e.id, change.clear});
            writes.emplace_back(toggleKey(change.key, scope), recordOf(result.toggles.back()));
        }
        const std::int64_t revision = commit(writes, {e}, current.auditLastRevision, {}, 0, failure);
        if (revision < 0)
            return std::nullopt;
        if (revision > 0) {
            for (StoredToggle& t : result.toggles)
                t.version = static_cast<std::uint64_t>(revision);
            result.audit = e;
            return result;
        }
    }
    failure.message = "too many concurrent writers to the fleet's audit log; try again";
    failure.unavailable = true;
    return std::nullopt;
}

std::optional<std::vector<AuditEntry>> EtcdStore::appendEntries(std::vector<AuditEntry> entries, StoreFailure& failure)
{
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        Current current;
        if (!readCurrent({}, "*", current, failure))
            return std::nullopt;
        for (std::size_t i = 0; i < entries.size(); ++i)
            entries[i].id = current.lastAudit + 1 + i;
        const std::int64_t revision = commit({}, entries, current.auditLastRevision, {}, 0, failure);
        if (revision < 0)
            return std::nullopt;
        if (revision > 0)
            return entries;
    }
    failure.message = "too many concurrent writers to the fleet's audit log; try again";
    failure.unavailable = true;
    return std::nullopt;
}

std::optional<AuditEntry> EtcdStore::appendAudit(const AuditEntry& entry, StoreFailure* failure)
{
    StoreFailure local;
    auto written = appendEntries({entry}, failure ? *failure : local);
    if (!written)
        return std::nullopt;
    return written->front();
}

bool EtcdStore::appendAudits(const std::vector<AuditEntry>& entries, std::string& error)
{
    // etcd caps a transaction's operations (--max-txn-ops, 128 by default): in chunks.
    constexpr std::size_t kChunk = 100;
    for (std::size_t i = 0; i < entries.size(); i += kChunk) {
        StoreFailure failure;
        std::vector<AuditEntry> chunk(entries.begin() + static_cast<std::ptrdiff_t>(i),
                                      entries.begin() + static_cast<std::ptrdiff_t>(std::min(entries.size(), i + kChunk)));
        if (!appendEntries(std::move(chunk), failure)) {
            error = failure.message;
            return false;
        }
    }
    return true;
}

std::optional<AuditEntry> EtcdStore::auditEntry(std::uint64_t id) const
{
    etcdserverpb::RangeRequest request;
    request.set_key(auditKey(id));
    request.set_serializable(true);  // the entry never changes: any member's copy will do
    etcdserverpb::RangeResponse response;
    if (!m_client->range(request, response).ok() || response.kvs_size() != 1)
        return std::nullopt;
    return parseEntry(response.kvs(0).value());
}

std::vector<AuditEntry> EtcdStore::audit(std::uint64_t afterId, std::size_t limit, const std::string& target) const
{
    std::vector<AuditEntry> out;
    std::string from = auditKey(afterId + 1);
    const std::string end = prefixEnd(m_prefix + "audit/");
    std::size_t scanned = 0;
    while (out.size() < limit && scanned < kAuditScanLimit) {
        etcdserverpb::RangeRequest request;
        request.set_key(from);
        request.set_range_end(end);
        request.set_limit(static_cast<std::int64_t>(target.empty() ? limit - out.size() : 500));
        request.set_serializable(true);  // readable without quorum (entries are never rewritten)
        etcdserverpb::RangeResponse response;
        if (!m_client->range(request, response).ok() || response.kvs_size() == 0)
            break;
        for (const mvccpb::KeyValue& kv : response.kvs()) {
            ++scanned;
            if (auto e = parseEntry(kv.value()); e && (target.empty() || e->target == target) && out.size() < limit)
                out.push_back(std::move(*e));
        }
        if (!response.more())
            break;
        from = response.kvs(response.kvs_size() - 1).key() + '\0';
    }
    return out;
}

void EtcdStore::setChangeListener(ChangeListener listener)
{
    m_listener = std::move(listener);
    m_watch = std::thread([this] { watchLoop(); });
}

void EtcdStore::stopChanges()
{
    {
        std::lock_guard lock(m_watchMutex);
        m_stopping = true;
        if (m_watchContext)
            m_watchContext->TryCancel();
    }
    m_watchWake.notify_all();
    if (m_watch.joinable())
        m_watch.join();
}

void EtcdStore::watchLoop()
{
    std::int64_t next;
    {
        std::lock_guard lock(m_mutex);
        next = m_loadedRevision + 1;
    }
    const std::string togglePrefix = m_prefix + "toggles/", auditPrefix = m_prefix + "audit/";
    while (true) {
        grpc::ClientContext context;
        std::size_t member = 0;
        auto stub = m_client->watchStub(context, member);
        {
            std::lock_guard lock(m_watchMutex);
            if (m_stopping)
                return;
            m_watchContext = &context;
        }
        auto stream = stub->Watch(&context);
        etcdserverpb::WatchRequest request;
        auto* create = request.mutable_create_request();
        create->set_key(m_prefix);
        create->set_range_end(prefixEnd(m_prefix));
        create->set_start_revision(next);
        bool reload = false;
        if (stream->Write(request)) {
            etcdserverpb::WatchResponse response;
            while (stream->Read(&response)) {
                if (response.created())
                    ++m_watchStarts;
                if (response.compact_revision() > 0) {
                    reload = true;  // what happened since `next` is gone: start over from the current state
                    break;
                }
                if (response.canceled())
                    break;
                StoreChange change;
                for (const mvccpb::Event& event : response.events()) {
                    const mvccpb::KeyValue& kv = event.kv();
                    next = std::max(next, kv.mod_revision() + 1);
                    if (kv.key().starts_with(togglePrefix)) {
                        const std::string rest = kv.key().substr(togglePrefix.size());
                        const auto slash = rest.rfind('/');
                        if (slash == std::string::npos)
                            continue;
                        StoredToggle t{rest.substr(slash + 1), rest.substr(0, slash), {}, static_cast<std::uint64_t>(kv.mod_revision()), 0,
                                       true};
                        fpb::ToggleRecord record;
                        if (event.type() == mvccpb::Event::PUT) {
                            std::optional<ToggleValue> value;
                            if (!fromJson(kv.value(), record) || !(value = convert::fromProto(record.value())))
                                continue;  // damaged: the next full load reports it
                            t.value = *value;
                            t.lastAuditId = record.audit_id();
                            t.cleared = record.cleared();
                        }  // a DELETE (by hand, with etcdctl): the scope inherits again
                        change.toggles.push_back(std::move(t));
                    } else if (kv.key().starts_with(auditPrefix) && event.type() == mvccpb::Event::PUT) {
                        if (auto e = parseEntry(kv.value()))
                            change.audits.push_back(std::move(*e));
                    }
                }
                if (!change.toggles.empty() || !change.audits.empty())
                    m_listener(std::move(change));
            }
        }
        context.TryCancel();
        stream->Finish();
        {
            std::lock_guard lock(m_watchMutex);
            m_watchContext = nullptr;
            if (m_stopping)
                return;
        }
        if (reload) {
            std::string error;
            std::int64_t revision = 0;
            if (auto all = loadAll(revision, error)) {
                ++m_reloads;
                StoreChange change;
                change.reload = true;
                for (const StoredToggle& t : *all)
                    if (t.lastAuditId != 0)
                        if (auto e = auditEntry(t.lastAuditId))
                            change.audits.push_back(*e);
                change.toggles = std::move(*all);
                m_listener(std::move(change));
                next = revision + 1;
                continue;
            }
        } else {
            m_client->rotate(member);  // the member went away or lost its leader: another one
        }
        std::unique_lock lock(m_watchMutex);
        m_watchWake.wait_for(lock, std::chrono::milliseconds(250), [this] { return m_stopping; });
        if (m_stopping)
            return;
    }
}

} // namespace lv::liveops
