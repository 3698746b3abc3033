#include "console/recordingfile.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

using namespace Qt::StringLiterals;

namespace lv::console {

namespace {
constexpr auto kFormat = "lifeverse-sandbox-recording";
constexpr int kVersion = 1;

QString platformName(Platform p)
{
    switch (p) {
    case Platform::Console: return u"console"_s;
    case Platform::Mobile: return u"mobile"_s;
    case Platform::Pc: break;
    }
    return u"pc"_s;
}

QString kindName(liveops::WorldChange::Kind k)
{
    switch (k) {
    case liveops::WorldChange::Kind::Fault: return u"fault"_s;
    case liveops::WorldChange::Kind::Network: return u"network"_s;
    case liveops::WorldChange::Kind::Kick: return u"kick"_s;
    case liveops::WorldChange::Kind::Move: return u"move"_s;
    case liveops::WorldChange::Kind::Knobs: break;
    }
    return u"knobs"_s;
}

QJsonObject networkJson(const ConditionerSettings& n)
{
    return {{u"latency_ms"_s, n.latencyMs},
            {u"jitter_ms"_s, n.jitterMs},
            {u"loss_percent"_s, n.lossPercent},
            {u"burst_enter_percent"_s, n.burstEnterPercent},
            {u"burst_exit_percent"_s, n.burstExitPercent},
            {u"burst_loss_percent"_s, n.burstLossPercent},
            {u"duplicate_percent"_s, n.duplicatePercent},
            {u"reorder_percent"_s, n.reorderPercent},
            {u"reorder_delay_ms"_s, n.reorderDelayMs},
            {u"bandwidth_kbps"_s, n.bandwidthKbps},
            {u"max_queue_ms"_s, n.maxQueueMs}};
}

QJsonObject knobsJson(const RuntimeKnobs& k)
{
    return {{u"tick_hz"_s, k.tickHz},
            {u"snapshot_hz"_s, k.snapshotHz},
            {u"delta_compression"_s, k.deltaCompression},
            {u"interest_radius_m"_s, k.interestRadiusM},
            {u"interest_hysteresis_m"_s, k.interestHysteresisM},
            {u"max_visible"_s, k.maxVisible},
            {u"bandwidth_cap_kbps"_s, k.bandwidthCapKbps},
            {u"prediction"_s, k.predictionEnabled},
            {u"cross_play"_s, k.crossPlay},
            {u"admissions_open"_s, k.admissionsOpen},
            {u"maintenance"_s, k.maintenanceMode},
            {u"failover_target"_s, QString::fromStdString(k.failoverTarget)},
            {u"interpolation_delay_override_ms"_s, k.interpolationDelayOverrideMs}};
}

QJsonObject behaviourJson(const BotBehaviour& b)
{
    return {{u"area_center"_s, QJsonArray{b.areaCenter.x, b.areaCenter.y, b.areaCenter.z}},
            {u"area_radius"_s, b.areaRadius},
            {u"idle_percent"_s, b.idlePercent},
            {u"run_percent"_s, b.runPercent},
            {u"turn_rate_deg_per_s"_s, b.turnRateDegPerS},
            {u"fire_per_second"_s, b.firePerSecond},
            {u"strafe_percent"_s, b.strafePercent},
            {u"input_drop_percent"_s, b.inputDropPercent},
            {u"stick_scale"_s, b.stickScale}};
}

/// Reads fields of one JSON object; the first problem is kept, named by its path.
class Reader {
public:
    Reader(QJsonObject object, QString path, QString& error) : m_o(std::move(object)), m_path(std::move(path)), m_error(error) {}

    double number(const char* key) { return take(key, &QJsonValue::isDouble, "a number is required").toDouble(); }
    int integer(const char* key)
    {
        const double d = number(key);
        if (d != static_cast<double>(static_cast<int>(d)))
            fail(key, QStringLiteral("a whole number is required"));
        return static_cast<int>(d);
    }
    bool boolean(const char* key) { return take(key, &QJsonValue::isBool, "true or false is required").toBool(); }
    QString string(const char* key) { return take(key, &QJsonValue::isString, "a string is required").toString(); }
    std::uint64_t hex(const char* key)
    {
        bool ok = false;
        const std::uint64_t value = string(key).toULongLong(&ok, 16);
        if (!ok)
            fail(key, QStringLiteral("a hexadecimal number in a string is required"));
        return value;
    }
    QJsonArray array(const char* key) { return take(key, &QJsonValue::isArray, "a list is required").toArray(); }
    Reader object(const char* key)
    {
        return Reader(take(key, &QJsonValue::isObject, "an object is required").toObject(), where(key), m_error);
    }
    Reader element(const QJsonArray& a, const char* key, qsizetype i)
    {
        const QString at = where(key) + QStringLiteral("[%1]").arg(i);
        if (!a.at(i).isObject() && m_error.isEmpty())
            m_error = at + QStringLiteral(": an object is required");
        return Reader(a.at(i).toObject(), at, m_error);
    }
    void fail(const char* key, const QString& problem)
    {
        if (m_error.isEmpty())
            m_error = where(key) + QStringLiteral(": ") + problem;
    }
    bool ok() const { return m_error.isEmpty(); }

private:
    QJsonValue take(const char* key, bool (QJsonValue::*is)() const, const char* problem)
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (!(v.*is)())
            fail(key, QString::fromLatin1(problem));
        return v;
    }
    QString where(const char* key) const { return m_path.isEmpty() ? QString::fromLatin1(key) : m_path + QLatin1Char('.') + QLatin1String(key); }
    QJsonObject m_o;
    QString m_path;
    QString& m_error;
};

ConditionerSettings readNetwork(Reader r)
{
    ConditionerSettings n;
    n.latencyMs = r.number("latency_ms");
    n.jitterMs = r.number("jitter_ms");
    n.lossPercent = r.number("loss_percent");
    n.burstEnterPercent = r.number("burst_enter_percent");
    n.burstExitPercent = r.number("burst_exit_percent");
    n.burstLossPercent = r.number("burst_loss_percent");
    n.duplicatePercent = r.number("duplicate_percent");
    n.reorderPercent = r.number("reorder_percent");
    n.reorderDelayMs = r.number("reorder_delay_ms");
    n.bandwidthKbps = r.number("bandwidth_kbps");
    n.maxQueueMs = r.number("max_queue_ms");
    return n;
}

RuntimeKnobs readKnobs(Reader r)
{
    RuntimeKnobs k;
    k.tickHz = r.integer("tick_hz");
    k.snapshotHz = r.integer("snapshot_hz");
    k.deltaCompression = r.boolean("delta_compression");
    k.interestRadiusM = r.number("interest_radius_m");
    k.interestHysteresisM = r.number("interest_hysteresis_m");
    k.maxVisible = r.integer("max_visible");
    k.bandwidthCapKbps = r.number("bandwidth_cap_kbps");
    k.predictionEnabled = r.boolean("prediction");
    k.crossPlay = r.boolean("cross_play");
    k.admissionsOpen = r.boolean("admissions_open");
    k.maintenanceMode = r.boolean("maintenance");
    k.failoverTarget = r.string("failover_target").toStdString();
    k.interpolationDelayOverrideMs = r.integer("interpolation_delay_override_ms");
    if (const std::string problem = validateKnobs(k); !problem.empty() && r.ok())
        r.fail("tick_hz", QString::fromStdString(problem));
    return k;
}

BotBehaviour readBehaviour(Reader r)
{
    BotBehaviour b;
    const QJsonArray centre = r.array("area_center");
    if (centre.size() != 3)
        r.fail("area_center", QStringLiteral("three numbers are required"));
    else
        b.areaCenter = {centre[0].toInt(), centre[1].toInt(), centre[2].toInt()};
    b.areaRadius = r.integer("area_radius");
    b.idlePercent = r.number("idle_percent");
    b.runPercent = r.number("run_percent");
    b.turnRateDegPerS = r.number("turn_rate_deg_per_s");
    b.firePerSecond = r.number("fire_per_second");
    b.strafePercent = r.number("strafe_percent");
    b.inputDropPercent = r.number("input_drop_percent");
    b.stickScale = r.number("stick_scale");
    return b;
}

QString hex(std::uint64_t v) { return QString::number(v, 16).rightJustified(16, QLatin1Char('0')); }
} // namespace

QByteArray recordingToJson(const SandboxRecording& recording)
{
    const liveops::WorldRecording& w = recording.world;
    QJsonArray groups, regions, changes;
    for (const auto& g : w.config.groups)
        groups.append(QJsonObject{{u"label"_s, QString::fromStdString(g.label)},
                                  {u"platform"_s, platformName(g.platform)},
                                  {u"input_hz"_s, g.inputHz},
                                  {u"frame_hz"_s, g.frameHz},
                                  {u"behaviour"_s, behaviourJson(g.behaviour)}});
    for (const auto& r : w.config.regions)
        regions.append(QJsonObject{{u"name"_s, QString::fromStdString(r.name)}, {u"bots"_s, r.bots}, {u"network"_s, networkJson(r.network)}});
    for (const auto& c : w.changes) {
        QJsonObject change{{u"at_us"_s, static_cast<double>(c.at)}, {u"region"_s, static_cast<int>(c.region)}, {u"kind"_s, kindName(c.kind)}};
        switch (c.kind) {
        case liveops::WorldChange::Kind::Knobs: change.insert(QStringLiteral("knobs"), knobsJson(c.knobs)); break;
        case liveops::WorldChange::Kind::Fault:
        case liveops::WorldChange::Kind::Network: change.insert(QStringLiteral("network"), networkJson(c.network)); break;
        case liveops::WorldChange::Kind::Move: change.insert(QStringLiteral("target"), QString::fromStdString(c.target.toString())); [[fallthrough]];
        case liveops::WorldChange::Kind::Kick:
            change.insert(QStringLiteral("client_id"), hex(c.clientId));
            change.insert(QStringLiteral("reason"), QString::fromStdString(c.reason));
            break;
        }
        changes.append(change);
    }
    const QJsonObject root{{u"format"_s, QLatin1String(kFormat)},
                           {u"version"_s, kVersion},
                           {u"app_version"_s, QStringLiteral(LV_VERSION)},
                           {u"scenario"_s, scenarioName(recording.scenario)},
                           {u"seed"_s, hex(w.config.seed)},
                           {u"step_us"_s, static_cast<double>(w.config.step)},
                           {u"groups"_s, groups},
                           {u"regions"_s, regions},
                           {u"changes"_s, changes},
                           {u"duration_us"_s, static_cast<double>(w.duration)},
                           {u"digest"_s, hex(w.digest)},
                           {u"datagrams"_s, hex(w.datagrams)}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

std::optional<SandboxRecording> recordingFromJson(const QByteArray& json, QString& error)
{
    error.clear();
    QJsonParseError parse{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parse);
    if (parse.error != QJsonParseError::NoError) {
        error = QObject::tr("not JSON: %1 at byte %2").arg(parse.errorString()).arg(parse.offset);
        return std::nullopt;
    }
    if (!doc.isObject()) {
        error = QObject::tr("not a sandbox recording: the top level is not an object");
        return std::nullopt;
    }
    Reader root(doc.object(), QString(), error);
    if (root.string("format") != QLatin1String(kFormat)) {
        error = QObject::tr("not a sandbox recording (format is not \"%1\")").arg(QLatin1String(kFormat));
        return std::nullopt;
    }
    if (const int version = root.integer("version"); root.ok() && version > kVersion) {
        error = QObject::tr("recording format version %1 is newer than this console reads (%2): update the console").arg(version).arg(kVersion);
        return std::nullopt;
    }
    SandboxRecording out;
    const auto scenario = scenarioFromName(root.string("scenario"));
    if (!scenario)
        root.fail("scenario", QStringLiteral("one of standard, cross-play, accessibility is required"));
    out.scenario = scenario.value_or(SandboxScenario::Standard);
    liveops::WorldRecording& w = out.world;
    w.config.seed = root.hex("seed");
    w.config.step = static_cast<TimeUs>(root.number("step_us"));
    if (w.config.step <= 0)
        root.fail("step_us", QStringLiteral("must be positive"));
    const QJsonArray groups = root.array("groups");
    for (qsizetype i = 0; i < groups.size(); ++i) {
        Reader g = root.element(groups, "groups", i);
        liveops::SwarmGroup group;
        group.label = g.string("label").toStdString();
        const QString platform = g.string("platform");
        if (platform == QLatin1String("console"))
            group.platform = Platform::Console;
        else if (platform == QLatin1String("mobile"))
            group.platform = Platform::Mobile;
        else if (platform != QLatin1String("pc"))
            g.fail("platform", QStringLiteral("one of pc, console, mobile is required"));
        group.inputHz = g.integer("input_hz");
        group.frameHz = g.integer("frame_hz");
        if (group.inputHz < 0 || group.frameHz < 0)
            g.fail("input_hz", QStringLiteral("rates cannot be negative"));
        group.behaviour = readBehaviour(g.object("behaviour"));
        w.config.groups.push_back(std::move(group));
    }
    const QJsonArray regions = root.array("regions");
    if (root.ok() && regions.isEmpty())
        root.fail("regions", QStringLiteral("at least one region is required"));
    for (qsizetype i = 0; i < regions.size(); ++i) {
        Reader r = root.element(regions, "regions", i);
        liveops::SimulatedRegionSpec region;
        region.name = r.string("name").toStdString();
        region.bots = r.integer("bots");
        if (region.bots < 0)
            r.fail("bots", QStringLiteral("cannot be negative"));
        region.network = readNetwork(r.object("network"));
        w.config.regions.push_back(std::move(region));
    }
    const QJsonArray changes = root.array("changes");
    TimeUs previous = 0;
    for (qsizetype i = 0; i < changes.size(); ++i) {
        Reader c = root.element(changes, "changes", i);
        liveops::WorldChange change;
        change.at = static_cast<TimeUs>(c.number("at_us"));
        if (change.at < previous)
            c.fail("at_us", QStringLiteral("changes must be in time order"));
        previous = change.at;
        const int region = c.integer("region");
        if (region < 0 || static_cast<std::size_t>(region) >= w.config.regions.size())
            c.fail("region", QStringLiteral("no such region"));
        change.region = static_cast<std::size_t>(std::max(region, 0));
        const QString kind = c.string("kind");
        if (kind == QLatin1String("knobs")) {
            change.kind = liveops::WorldChange::Kind::Knobs;
            change.knobs = readKnobs(c.object("knobs"));
        } else if (kind == QLatin1String("fault") || kind == QLatin1String("network")) {
            change.kind = kind == QLatin1String("fault") ? liveops::WorldChange::Kind::Fault : liveops::WorldChange::Kind::Network;
            change.network = readNetwork(c.object("network"));
        } else if (kind == QLatin1String("kick") || kind == QLatin1String("move")) {
            change.kind = kind == QLatin1String("kick") ? liveops::WorldChange::Kind::Kick : liveops::WorldChange::Kind::Move;
            change.clientId = c.hex("client_id");
            change.reason = c.string("reason").toStdString();
            if (change.kind == liveops::WorldChange::Kind::Move) {
                auto target = Address::parse(c.string("target").toStdString());
                if (target)
                    change.target = *target;
                else
                    c.fail("target", QStringLiteral("not an ip:port address"));
            }
        } else {
            c.fail("kind", QStringLiteral("unknown value '%1' (knobs, fault, network, kick or move)").arg(kind));
        }
        w.changes.push_back(std::move(change));
    }
    w.duration = static_cast<TimeUs>(root.number("duration_us"));
    if (w.duration < previous)
        root.fail("duration_us", QStringLiteral("ends before the last change"));
    w.digest = root.hex("digest");
    w.datagrams = root.hex("datagrams");
    if (!root.ok())
        return std::nullopt;
    return out;
}

bool saveRecording(const QString& path, const SandboxRecording& recording, QString& error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(recordingToJson(recording)) < 0 || !file.commit()) {
        error = QObject::tr("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

std::optional<SandboxRecording> loadRecording(const QString& path, QString& error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        error = QObject::tr("cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    auto recording = recordingFromJson(file.readAll(), error);
    if (!recording)
        error = QObject::tr("%1: %2").arg(path, error);
    return recording;
}

} // namespace lv::console
