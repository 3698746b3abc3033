#include "widgets/tones.h"
#include "console/exportcommand.h"
#include <QDir>
#include <QFileInfo>
#include <QVBoxLayout>
#include <QSettings>
#include <QLineEdit>
#include <QLabel>
#include <QFormLayout>
#include <QDialogButtonBox>
#include "controllers.h"

#include "widgets/operationdialogs.h"

#include <QDateTime>
#include <QInputDialog>
#include <QMessageBox>

namespace lv::console {

namespace lc = liveops::client;
using widgets::ToggleEditRequest;

namespace {

QVariant toVariant(const liveops::ToggleValue& v)
{
    if (const bool* b = std::get_if<bool>(&v))
        return *b;
    if (const std::int64_t* i = std::get_if<std::int64_t>(&v))
        return static_cast<qint64>(*i);
    return QString::fromStdString(std::get<std::string>(v));
}

liveops::ToggleValue fromVariant(const QVariant& v, liveops::ToggleType type)
{
    switch (type) {
    case liveops::ToggleType::Bool: return v.toBool();
    case liveops::ToggleType::Int: return static_cast<std::int64_t>(v.toLongLong());
    default: return v.toString().toStdString();
    }
}

QString describe(const liveops::AuditEntry& e, const TimeFormat& time)
{
    return ToggleController::tr("%1 (%2) set it from %3 to %4 at %5: “%6”.")
        .arg(QString::fromStdString(e.actor), QString::fromLatin1(liveops::roleName(e.role).data()), QString::fromStdString(e.oldValue),
             QString::fromStdString(e.newValue), time.dateTime(e.timeMs),
             QString::fromStdString(e.reason));
}

/// Where a change goes, for the dialog: the cluster, its environment, the scope; on production a
/// destructive change is confirmed by typing `confirmWord`.
widgets::ChangeTarget targetOf(const ConsoleSession& session, const QString& cluster, const QString& scope, const QString& confirmWord)
{
    const ClusterConnection* c = session.cluster(cluster);
    widgets::ChangeTarget t;
    t.cluster = cluster;
    t.environment = c ? c->environment() : QString();
    t.scope = scope;
    if (t.environment == QLatin1String("production"))
        t.confirmWord = confirmWord;
    return t;
}

/// The toggles syncd reserves for operators (or admins) are the engine-critical ones
/// (liveops.proto: "engine-critical toggles need operator or admin"); producers' are product
/// switches.
/// With a confirm word (an engine-critical toggle on production), asks for it to be typed.
bool confirmedByTyping(QWidget* parent, const widgets::ChangeTarget& target, const QString& key)
{
    if (target.confirmWord.isEmpty())
        return true;
    bool ok = false;
    const QString typed = QInputDialog::getText(parent, ToggleController::tr("Confirm on %1").arg(target.where()),
                                                ToggleController::tr("%1 is engine-critical and this is production. Type %2 to confirm:")
                                                    .arg(key, target.confirmWord),
                                                QLineEdit::Normal, QString(), &ok)
                              .trimmed();
    return ok && typed == target.confirmWord;
}

bool critical(const lc::Toggle& t) { return t.requiredRole == liveops::Role::Operator || t.requiredRole == liveops::Role::Admin; }

} // namespace

ToggleController::ToggleController(ConsoleSession& session, widgets::ToggleBoard& board, QWidget* dialogParent)
    : QObject(dialogParent), m_session(session), m_parent(dialogParent)
{
    connect(&board, &widgets::ToggleBoard::changeRequested, this, &ToggleController::change);
    connect(&board, &widgets::ToggleBoard::historyRequested, this, &ToggleController::history);
    connect(&board, &widgets::ToggleBoard::rollbackRequested, this, [this](int row) { rollback(row); });
    connect(&board, &widgets::ToggleBoard::clearRequested, this, [this](int row) { clearOverride(row); });
}

void ToggleController::rollback(int row, const QString& givenReason)
{
    if (row < 0 || !m_session.toggles().editable(row))
        return;
    const QString cluster = m_session.toggles().clusterAt(row);
    const lc::Toggle toggle = m_session.toggles().toggleAt(row);
    if (!toggle.lastChange) {
        emit message(tr("%1 @ %2 was never changed: nothing to roll back.").arg(QString::fromStdString(toggle.key), QString::fromStdString(toggle.scope)));
        return;
    }
    const liveops::AuditEntry& last = *toggle.lastChange;
    QString reason = givenReason;
    const QString key = QString::fromStdString(toggle.key);
    const widgets::ChangeTarget target = targetOf(m_session, cluster, QString::fromStdString(toggle.scope), critical(toggle) ? key : QString());
    if (reason.isEmpty()) {
        bool ok = false;
        reason = QInputDialog::getText(m_parent, tr("Roll back %1 for %2").arg(key, target.where()),
                                       tr("%1 for %2: back from %3 to %4 (undoing %5's change: “%6”).\nReason (goes to the audit log):")
                                           .arg(key, target.where(), QString::fromStdString(last.newValue), QString::fromStdString(last.oldValue),
                                                QString::fromStdString(last.actor), QString::fromStdString(last.reason)),
                                       QLineEdit::Normal, QString(), &ok)
                     .trimmed();
        if (!ok || reason.isEmpty())
            return;
        if (!confirmedByTyping(m_parent, target, key)) {
            emit message(tr("Not rolled back: the confirmation was not typed."));
            return;
        }
    }
    // The audit log holds values as text; read the old one back in the toggle's type.
    liveops::ToggleValue previous;
    switch (toggle.type) {
    case liveops::ToggleType::Bool: previous = last.oldValue == "true"; break;
    case liveops::ToggleType::Int: previous = static_cast<std::int64_t>(QString::fromStdString(last.oldValue).toLongLong()); break;
    default: previous = last.oldValue; break;
    }
    ClusterConnection* c = m_session.cluster(cluster);
    if (!c)
        return;
    c->setToggle(toggle.key, toggle.scope, previous, toggle.version, (QStringLiteral("rollback: ") + reason).toStdString(),
                 [this, cluster, toggle](const lc::Reply<lc::Toggle>& reply) {
                     if (reply.status.ok()) {
                         m_session.toggles().apply(cluster, reply.value);
                         emit message(tr("%1 @ %2 rolled back to %3").arg(QString::fromStdString(toggle.key), QString::fromStdString(toggle.scope),
                                                                        formatToggleValue(reply.value.value)));
                     } else if (reply.status.code == 10) {
                         emit message(tr("Not rolled back: %1 @ %2 changed again meanwhile; look at its history first.")
                                          .arg(QString::fromStdString(toggle.key), QString::fromStdString(toggle.scope)));
                     } else {
                         emit message(tr("Rollback refused: %1").arg(QString::fromStdString(reply.status.message)));
                     }
                 });
}

void ToggleController::clearOverride(int row, const QString& givenReason)
{
    if (row < 0 || !m_session.toggles().editable(row))
        return;
    const QString cluster = m_session.toggles().clusterAt(row);
    const lc::Toggle toggle = m_session.toggles().toggleAt(row);
    const QString key = QString::fromStdString(toggle.key);
    const widgets::ChangeTarget target = targetOf(m_session, cluster, QString::fromStdString(toggle.scope), critical(toggle) ? key : QString());
    QString reason = givenReason;
    if (reason.isEmpty()) {
        bool ok = false;
        const QString then = toggle.scope == "*" ? tr("its default (%1)").arg(formatToggleValue(toggle.defaultValue))
                                                 : tr("the cluster-wide value, or the default");
        reason = QInputDialog::getText(m_parent, tr("Clear %1 for %2").arg(key, target.where()),
                                       tr("%1 for %2 is set to %3 there; cleared, it inherits %4.\nReason (goes to the audit log):")
                                           .arg(key, target.where(), formatToggleValue(toggle.value), then),
                                       QLineEdit::Normal, QString(), &ok)
                     .trimmed();
        if (!ok || reason.isEmpty())
            return;
        if (!confirmedByTyping(m_parent, target, key)) {
            emit message(tr("Not cleared: the confirmation was not typed."));
            return;
        }
    }
    ClusterConnection* c = m_session.cluster(cluster);
    if (!c)
        return;
    c->clearToggle(toggle.key, toggle.scope, toggle.version, reason.toStdString(), [this, cluster, key, target](const lc::Reply<lc::Toggle>& reply) {
        if (reply.status.ok()) {
            m_session.toggles().apply(cluster, reply.value);
            emit message(tr("%1 for %2 now inherits %3").arg(key, target.where(), formatToggleValue(reply.value.effective)));
        } else {
            emit message(tr("Not cleared: %1").arg(QString::fromStdString(reply.status.message)));
        }
    });
}

void ToggleController::change(int row)
{
    if (row < 0 || m_dialog || !m_session.toggles().editable(row))
        return;
    m_cluster = m_session.toggles().clusterAt(row);
    m_base = m_session.toggles().toggleAt(row);
    ToggleEditRequest request;
    request.title = QStringLiteral("%1 @ %2").arg(QString::fromStdString(m_base.key), QString::fromStdString(m_base.scope));
    request.target = targetOf(m_session, m_cluster, QString::fromStdString(m_base.scope), critical(m_base) ? QString::fromStdString(m_base.key) : QString());
    request.description = QString::fromStdString(m_base.description);
    request.current = toVariant(m_base.effective);  // what applies now, inherited or not
    switch (m_base.type) {
    case liveops::ToggleType::Bool: request.kind = ToggleEditRequest::Kind::Bool; break;
    case liveops::ToggleType::Int:
        request.kind = ToggleEditRequest::Kind::Int;
        request.min = m_base.min;
        request.max = m_base.max;
        break;
    case liveops::ToggleType::Enum:
        request.kind = ToggleEditRequest::Kind::Choice;
        for (const auto& a : m_base.allowed)
            request.choices << QString::fromStdString(a);
        break;
    case liveops::ToggleType::Region:
        request.kind = ToggleEditRequest::Kind::Choice;
        request.choices << QString();
        for (int r = 0; r < m_session.regions().rowCount(); ++r)
            if (m_session.regions().clusterAt(r) == m_cluster && m_session.regions().regionAt(r).toStdString() != m_base.scope)
                request.choices << m_session.regions().regionAt(r);
        break;
    }
    m_dialog = new widgets::ToggleDialog(request, m_parent);
    m_dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_dialog->setWindowModality(Qt::WindowModal);
    connect(m_dialog, &widgets::ToggleDialog::applyRequested, this, &ToggleController::submit);
    m_dialog->show();
}

void ToggleController::submit()
{
    if (!m_dialog)
        return;
    ClusterConnection* cluster = m_session.cluster(m_cluster);
    if (!cluster)
        return;
    m_dialog->setEnabled(false);  // until the server answers
    const liveops::ToggleValue value = fromVariant(m_dialog->value(), m_base.type);
    const std::string reason = m_dialog->reason().toStdString();
    QPointer<widgets::ToggleDialog> dialog = m_dialog;
    cluster->setToggle(m_base.key, m_base.scope, value, m_base.version, reason, [this, dialog](const lc::Reply<lc::Toggle>& reply) {
        if (!dialog)
            return;
        dialog->setEnabled(true);
        if (reply.status.ok()) {
            emit message(tr("%1 @ %2 is now %3").arg(QString::fromStdString(reply.value.key), QString::fromStdString(reply.value.scope),
                                                     formatToggleValue(reply.value.value)));
            m_session.toggles().apply(m_cluster, reply.value);
            dialog->accept();
            return;
        }
        if (reply.status.code == 10 /* ABORTED */) {
            // Someone else changed it first: read it again, show their change, and make it the
            // base of a retry (the user applies again, knowingly, on top of it).
            if (ClusterConnection* c = m_session.cluster(m_cluster))
                c->listToggles(m_base.scope, [this, dialog](const lc::Reply<std::vector<lc::Toggle>>& fresh) {
                    if (!dialog)
                        return;
                    for (const lc::Toggle& t : fresh.value)
                        if (t.key == m_base.key) {
                            m_base = t;
                            m_session.toggles().apply(m_cluster, t);
                            dialog->setConflict(t.lastChange ? describe(*t.lastChange, m_session.time()) : tr("It is now at version %1.").arg(t.version),
                                                toVariant(t.effective));
                            return;
                        }
                    dialog->setError(tr("Someone changed this first, and it could not be read again: %1")
                                         .arg(QString::fromStdString(fresh.status.message)));
                });
            return;
        }
        dialog->setError(tr("The server refused: %1").arg(QString::fromStdString(reply.status.message)));
    });
}

void ToggleController::history(int row)
{
    if (row < 0)
        return;
    const QString cluster = m_session.toggles().clusterAt(row);
    const lc::Toggle toggle = m_session.toggles().toggleAt(row);
    ClusterConnection* c = m_session.cluster(cluster);
    if (!c)
        return;
    c->listAudit(toggle.key + "@" + toggle.scope, [this, toggle](const lc::Reply<std::vector<liveops::AuditEntry>>& reply) {
        QString text;
        if (!reply.status.ok())
            text = tr("Could not read the history: %1").arg(QString::fromStdString(reply.status.message));
        else if (reply.value.empty())
            text = tr("Never changed: at its default.");
        for (auto it = reply.value.rbegin(); it != reply.value.rend(); ++it)
            text += describe(*it, m_session.time()) + QLatin1Char('\n');
        auto* box = new QMessageBox(QMessageBox::Information,
                                    tr("History of %1 @ %2").arg(QString::fromStdString(toggle.key), QString::fromStdString(toggle.scope)), text,
                                    QMessageBox::Close, m_parent);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    });
}

OperationsController::OperationsController(ConsoleSession& session, QWidget* dialogParent)
    : QObject(dialogParent), m_session(session), m_parent(dialogParent)
{
}

widgets::DrainDialog* OperationsController::moveDialog(const QString& cluster, const QString& region, bool failoverOnly)
{
    // The other regions of the same cluster are where players can go.
    const int row = m_session.regions().rowOf(cluster, region);
    QStringList others;
    for (int r = 0; r < m_session.regions().rowCount(); ++r)
        if (m_session.regions().clusterAt(r) == cluster && r != row)
            others << m_session.regions().regionAt(r);
    const int players = row >= 0 ? m_session.regions().index(row, RegionModel::Players).data(RegionModel::SortRole).toInt() : 0;
    return new widgets::DrainDialog(targetOf(m_session, cluster, region, region), players, others, m_parent, failoverOnly);
}

void OperationsController::failover(const QString& cluster, const QString& region)
{
    auto* dialog = moveDialog(cluster, region, true);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_dialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog, cluster, region] {
        if (ClusterConnection* c = m_session.cluster(cluster))
            c->failover(region.toStdString(), dialog->failoverRegion().toStdString(), dialog->reason().toStdString(),
                        [this, cluster, region](const lc::Reply<liveops::AuditEntry>& reply) {
                            emit message(reply.status.ok() ? tr("%1 fails over to %2").arg(region, QString::fromStdString(reply.value.newValue))
                                                           : tr("Failover refused: %1").arg(QString::fromStdString(reply.status.message)));
                        });
    });
    dialog->open();
}

void OperationsController::drain(const QString& cluster, const QString& region)
{
    auto* dialog = moveDialog(cluster, region, false);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_dialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog, cluster, region] {
        if (ClusterConnection* c = m_session.cluster(cluster))
            c->drainRegion(region.toStdString(), dialog->failoverRegion().toStdString(), dialog->reason().toStdString(),
                           [this, cluster, region](const lc::Reply<liveops::AuditEntry>& reply) {
                               emit message(reply.status.ok() ? tr("%1 is draining").arg(region)
                                                              : tr("Drain refused: %1").arg(QString::fromStdString(reply.status.message)));
                               if (ClusterConnection* again = m_session.cluster(cluster))
                                   again->refreshRegions();
                           });
    });
    dialog->open();
}

void OperationsController::drainServer(const QString& cluster, const QString& region, const QString& server)
{
    // Where its players can go: the region on its other servers (the roomiest, chosen by syncd),
    // one of them by name, or another region of the fleet.
    Fleet* fleet = m_session.fleet(cluster);
    if (!fleet)
        return;
    QStringList targets{region};
    int players = 0;
    for (const auto& part : fleet->merge().servers(region)) {
        if (part.server == server)
            players = static_cast<int>(part.sample.players);
        else
            targets << region + QLatin1Char('@') + part.server;
    }
    for (int r = 0; r < m_session.regions().rowCount(); ++r)
        if (m_session.regions().clusterAt(r) == cluster && m_session.regions().regionAt(r) != region)
            targets << m_session.regions().regionAt(r);
    const QString scope = QStringLiteral("server/") + server;
    auto* dialog = new widgets::DrainDialog(targetOf(m_session, cluster, scope, server), players, targets, m_parent);
    dialog->setFailoverRegion(region);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_dialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog, cluster, server] {
        if (ClusterConnection* c = m_session.cluster(cluster))
            c->drainServer(server.toStdString(), dialog->failoverRegion().toStdString(), dialog->reason().toStdString(),
                           [this, cluster, server](const lc::Reply<liveops::AuditEntry>& reply) {
                               emit message(reply.status.ok() ? tr("Server %1 is draining").arg(server)
                                                              : tr("Drain refused: %1").arg(QString::fromStdString(reply.status.message)));
                               if (Fleet* f = m_session.fleet(cluster))
                                   f->refreshRegions();
                           });
    });
    dialog->open();
}

void OperationsController::undrainServer(const QString& cluster, const QString& server)
{
    bool ok = false;
    const QString where = targetOf(m_session, cluster, QStringLiteral("server/") + server, {}).where();
    const QString reason = QInputDialog::getText(m_parent, tr("Undrain %1").arg(where),
                                                 tr("Server %1 admits players again and runs what its regions say.\nReason (goes to the audit log):")
                                                     .arg(server),
                                                 QLineEdit::Normal, QString(), &ok)
                               .trimmed();
    if (!ok || reason.isEmpty())
        return;
    if (ClusterConnection* c = m_session.cluster(cluster))
        c->undrainServer(server.toStdString(), reason.toStdString(), [this, cluster, server](const lc::Reply<liveops::AuditEntry>& reply) {
            emit message(reply.status.ok() ? tr("Server %1 admits players again").arg(server)
                                           : tr("Undrain refused: %1").arg(QString::fromStdString(reply.status.message)));
            if (Fleet* f = m_session.fleet(cluster))
                f->refreshRegions();
        });
}

void OperationsController::undrain(const QString& cluster, const QString& region)
{
    bool ok = false;
    const QString where = targetOf(m_session, cluster, region, {}).where();
    const QString reason = QInputDialog::getText(m_parent, tr("Undrain %1").arg(where),
                                                 tr("Admits new players to %1 again and stops sending them elsewhere.\nReason (goes to the audit log):")
                                                     .arg(where),
                                                 QLineEdit::Normal, QString(), &ok)
                               .trimmed();
    if (!ok || reason.isEmpty())
        return;
    if (ClusterConnection* c = m_session.cluster(cluster))
        c->undrainRegion(region.toStdString(), reason.toStdString(), [this, cluster, region](const lc::Reply<liveops::AuditEntry>& reply) {
            emit message(reply.status.ok() ? tr("%1 admits players again").arg(region)
                                           : tr("Undrain refused: %1").arg(QString::fromStdString(reply.status.message)));
            if (ClusterConnection* again = m_session.cluster(cluster))
                again->refreshRegions();
        });
}

void OperationsController::drill(const QString& cluster, const QString& region)
{
    auto* dialog = new widgets::DrillDialog(targetOf(m_session, cluster, region, region), m_parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_dialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog, cluster, region] {
        ClusterConnection* c = m_session.cluster(cluster);
        if (!c)
            return;
        const auto kind = static_cast<lc::DrillKind>(dialog->kind());
        const double amount = dialog->amount();
        c->startDrill(region.toStdString(), kind, kind == lc::DrillKind::Latency ? amount : 0.0, kind == lc::DrillKind::Loss ? amount : 0.0,
                      std::chrono::seconds(dialog->durationSeconds()), dialog->reason().toStdString(),
                      [this, cluster, region](const lc::Reply<liveops::AuditEntry>& reply) {
                          emit message(reply.status.ok() ? tr("Drill started on %1: %2").arg(region, QString::fromStdString(reply.value.newValue))
                                                         : tr("Drill refused: %1").arg(QString::fromStdString(reply.status.message)));
                          if (ClusterConnection* again = m_session.cluster(cluster))
                              again->refreshRegions();  // the table shows the drill
                      });
    });
    dialog->open();
}

void OperationsController::cancelDrill(const QString& cluster, const QString& region)
{
    bool ok = false;
    const QString where = targetOf(m_session, cluster, region, {}).where();
    const QString reason = QInputDialog::getText(m_parent, tr("Cancel the drill on %1").arg(where),
                                                 tr("Ends the drill on %1 now.\nReason (goes to the audit log):").arg(where), QLineEdit::Normal, QString(), &ok);
    if (!ok || reason.trimmed().isEmpty())
        return;
    if (ClusterConnection* c = m_session.cluster(cluster))
        c->cancelDrill(region.toStdString(), reason.trimmed().toStdString(), [this, region](const lc::Reply<liveops::AuditEntry>& reply) {
            emit message(reply.status.ok() ? tr("Drill on %1 cancelled").arg(region)
                                           : tr("Could not cancel: %1").arg(QString::fromStdString(reply.status.message)));
        });
}

} // namespace lv::console

namespace lv::console {

TeamDatabaseController::TeamDatabaseController(IncidentDesk& desk, TokenVault& vault, QWidget* dialogParent)
    : QObject(dialogParent), m_desk(desk), m_vault(vault), m_parent(dialogParent)
{
}

QString TeamDatabaseController::outboxPath()
{
    return QFileInfo(defaultIncidentDatabase()).dir().filePath(QStringLiteral("incidents-outbox.db"));
}

bool TeamDatabaseController::connectTo(const QString& address, const QString& password, QString& error)
{
    auto server = IncidentDesk::parseServer(address.trimmed(), error);
    if (!server)
        return false;
    QSettings().setValue(QStringLiteral("incidents/server"), address.trimmed());
    server->password = password;
    m_vault.store(QStringLiteral("incidents@") + address.trimmed(), password, [this, server = *server](const TokenVault::Outcome& stored) {
        if (!stored.message.isEmpty())
            emit message(stored.message);  // e.g. no keychain: this session only
        m_desk.openServer(server, outboxPath());
        emit message(tr("Opening the team's incident database at %1@%2…").arg(server.user, server.host));
    });
    return true;
}

void TeamDatabaseController::choose()
{
    auto* dialog = new QDialog(m_parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Team incident database"));
    auto* address = new QLineEdit(QSettings().value(QStringLiteral("incidents/server")).toString());
    address->setPlaceholderText(QStringLiteral("postgresql://user@host:5432/incidents"));
    address->setAccessibleName(tr("Team database address"));
    auto* password = new QLineEdit;
    password->setEchoMode(QLineEdit::Password);
    password->setAccessibleName(tr("Team database password"));
    password->setPlaceholderText(tr("kept in the system keychain"));
    auto* problem = new QLabel;
    problem->setWordWrap(true);
    problem->setStyleSheet(widgets::toneStyle(widgets::Tone::Error));
    problem->setVisible(false);
    auto* form = new QFormLayout;
    form->addRow(tr("&Address:"), address);
    form->addRow(tr("&Password:"), password);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(new QLabel(tr("Share incidents with your team on a PostgreSQL database. Notes written while it cannot be "
                                    "reached are kept on this machine and sent when it is back.")));
    layout->addLayout(form);
    layout->addWidget(problem);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    connect(buttons, &QDialogButtonBox::accepted, dialog, [this, dialog, address, password, problem] {
        QString error;
        if (!connectTo(address->text(), password->text(), error)) {
            problem->setText(error);
            problem->setVisible(true);
            return;
        }
        dialog->accept();
    });
    m_dialog = dialog;
    dialog->open();
}

} // namespace lv::console
