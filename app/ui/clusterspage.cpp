#include "clusterspage.h"

#include "widgets/tones.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace lv::console {

ClusterListModel::ClusterListModel(ConsoleSession& session, const ClusterDirectory& directory, QObject* parent)
    : QAbstractTableModel(parent), m_session(session), m_directory(directory)
{
    connect(&session, &ConsoleSession::clustersChanged, this, &ClusterListModel::reload);
    connect(&session, &ConsoleSession::prometheusChanged, this, &ClusterListModel::fleetChanged);
    reload();
}

void ClusterListModel::reload()
{
    // Clusters come and go rarely (a user adds or removes one): a reset is the honest signal.
    beginResetModel();
    m_clusters = m_session.clusters();
    m_entries = m_directory.load();
    endResetModel();
    for (ClusterConnection* c : m_clusters) {
        connect(c, &ClusterConnection::stateChanged, this, &ClusterListModel::connectionChanged, Qt::UniqueConnection);
        if (Fleet* f = m_session.fleet(c->name())) {
            connect(f, &Fleet::serversChanged, this, &ClusterListModel::fleetChanged, Qt::UniqueConnection);
            connect(f, &Fleet::storeProblemChanged, this, &ClusterListModel::fleetChanged, Qt::UniqueConnection);
        }
    }
}

void ClusterListModel::fleetChanged()
{
    if (rowCount() > 0)
        emit dataChanged(index(0, Endpoint), index(rowCount() - 1, Connection));
}

void ClusterListModel::connectionChanged()
{
    for (std::size_t r = 0; r < m_clusters.size(); ++r)
        if (m_clusters[r] == sender())
            emit dataChanged(index(static_cast<int>(r), Connection), index(static_cast<int>(r), Connection));
}

int ClusterListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_clusters.size()); }
int ClusterListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ClusterListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return tr("Cluster");
    case Environment: return tr("Environment");
    case Endpoint: return tr("Endpoint");
    case Connection: return tr("Connection");
    case TokenKeptIn: return tr("Token kept in");
    default: return {};
    }
}

QString ClusterListModel::nameAt(int row) const { return m_clusters.at(static_cast<std::size_t>(row))->name(); }

void ClusterListModel::setTokenStorage(const QString& cluster, const QString& where)
{
    m_storage[cluster] = where;
    if (rowCount() > 0)
        emit dataChanged(index(0, TokenKeptIn), index(rowCount() - 1, TokenKeptIn));
}

QVariant ClusterListModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || (role != Qt::DisplayRole && role != Qt::AccessibleTextRole) || index.row() >= rowCount())
        return {};
    const ClusterConnection* c = m_clusters[static_cast<std::size_t>(index.row())];
    const bool sandbox = c->name() == QStringLiteral("sandbox") && m_session.sandbox();
    switch (index.column()) {
    case Name: return c->name();
    case Environment: return c->environment();
    case Endpoint:
        for (const ClusterEntry& e : m_entries)
            if (e.name == c->name())
            {
                const QString target = e.fleet ? tr("%1 (fleet, through this address)").arg(e.target) : e.target;
                return c->plaintextOverNetwork() ? tr("%1 — plaintext over the network: the token and every change can be read on the way")
                                                       .arg(target)
                                                 : target;
            }
        return sandbox ? tr("in-process sandbox") : QString();
    case Connection: {
        const Fleet* f = m_session.fleet(c->name());
        const QString history = m_session.prometheusState(c->name());
        if (!f)
            return history.isEmpty() ? c->stateText() : tr("%1 · %2").arg(c->stateText(), history);
        int connected = 0;
        for (const auto& server : f->servers())
            if (const ClusterConnection* sc = f->connectionTo(QString::fromStdString(server.id)); sc && sc->state() == ClusterConnection::State::Connected)
                ++connected;
        QString text = tr("%1 · fleet %2: %3 servers, %4 connected").arg(c->stateText(), f->fleetName()).arg(f->servers().size()).arg(connected);
        if (!f->listProblem().isEmpty())
            text += tr(" · listing failed: %1").arg(f->listProblem());
        if (!f->storeProblem().isEmpty())
            text += tr(" · toggles read-only: %1").arg(f->storeProblem());
        if (!history.isEmpty())
            text += tr(" · %1").arg(history);
        return text;
    }
    case TokenKeptIn: {
        auto it = m_storage.find(c->name());
        return it != m_storage.end() ? it->second : sandbox ? tr("generated for the sandbox") : tr("—");
    }
    default: return {};
    }
}

ClustersPage::ClustersPage(ConsoleSession& session, TokenVault& vault, QWidget* parent)
    : QWidget(parent), m_session(session), m_vault(vault), m_model(session, m_directory), m_table(new QTableView), m_notice(new QLabel),
      m_name(new QLineEdit), m_target(new QLineEdit), m_token(new QLineEdit), m_ca(new QLineEdit), m_environment(new QComboBox),
      m_fleet(new QCheckBox(tr("A fleet: list its servers through this address and connect to ever&y one"))), m_serversTitle(new QLabel),
      m_servers(new QTableView), m_prometheus(new QLineEdit)
{
    m_prometheus->setPlaceholderText(tr("optional: http://prometheus:9090 — fills the last hour, day and SLO windows at connect"));
    m_prometheus->setAccessibleName(tr("Prometheus URL"));
    m_servers->setModel(&m_serversModel);
    m_servers->horizontalHeader()->setStretchLastSection(true);
    m_servers->verticalHeader()->hide();
    m_servers->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_servers->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_servers->setAccessibleName(tr("Servers of the selected fleet"));
    for (int column : {FleetServersModel::RttP99, FleetServersModel::TickP99, FleetServersModel::Loss})
        m_servers->hideColumn(column);  // per region, on the Regions page; here the fleet as listed
    connect(&m_serversModel, &QAbstractItemModel::modelReset, m_servers, &QTableView::resizeColumnsToContents);
    m_serversTitle->setVisible(false);
    m_servers->setVisible(false);
    m_fleet->setAccessibleName(tr("The endpoint is one server of a fleet"));
    m_fleet->setToolTip(tr("Give one server's API (or the fleet's Service). The console follows servers joining and leaving, "
                           "shows each region once with percentiles merged over its servers, and the fleet's toggles once."));
    // What it is decides how much the console asks before changing it: production asks most.
    m_environment->addItem(tr("Production"), QStringLiteral("production"));
    m_environment->addItem(tr("Staging"), QStringLiteral("staging"));
    m_environment->addItem(tr("Development"), QStringLiteral("development"));
    m_environment->setAccessibleName(tr("Cluster environment"));
    m_table->setModel(&m_model);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAccessibleName(tr("Clusters"));
    m_notice->setWordWrap(true);
    m_notice->setStyleSheet(widgets::toneStyle(widgets::Tone::Warning));
    m_notice->setVisible(false);
    m_notice->setAccessibleName(tr("Keychain notice"));
    connect(&m_vault, &TokenVault::retrying, this, [this](const QString& key, int attempt, const QString& error) {
        setNotice(tr("The keychain failed for %1 (%2); trying again (attempt %3 of %4)…").arg(key.section(QLatin1Char('@'), 0, 0), error).arg(attempt).arg(TokenVault::kAttempts));
    });
    m_name->setPlaceholderText(tr("e.g. prod-eu"));
    m_target->setPlaceholderText(tr("host:port of syncd's API"));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("bearer token (kept in the system keychain)"));
    m_ca->setPlaceholderText(tr("optional: CA certificate (PEM) for TLS"));
    m_name->setAccessibleName(tr("Cluster name"));
    m_target->setAccessibleName(tr("Cluster endpoint"));
    m_token->setAccessibleName(tr("Cluster token"));
    m_ca->setAccessibleName(tr("CA certificate file"));
    auto* add = new QPushButton(tr("Add an&d connect"));
    auto* remove = new QPushButton(tr("Remove selected"));
    add->setAccessibleName(tr("Add and connect the cluster"));
    remove->setAccessibleName(tr("Remove the selected cluster"));
    connect(add, &QPushButton::clicked, this, [this] {
        if (m_name->text().trimmed().isEmpty() || m_target->text().trimmed().isEmpty() || m_token->text().isEmpty()) {
            emit message(tr("A cluster needs a name, an endpoint and a token."));
            return;
        }
        ClusterEntry entry;
        entry.name = m_name->text().trimmed();
        entry.target = m_target->text().trimmed();
        entry.tlsCaFile = m_ca->text().trimmed();
        entry.environment = m_environment->currentData().toString();
        entry.fleet = m_fleet->isChecked();
        entry.prometheusUrl = m_prometheus->text().trimmed();
        addCluster(entry, m_token->text());
        m_token->clear();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &ClustersPage::showFleetServers);
    connect(&m_model, &QAbstractItemModel::modelReset, this, &ClustersPage::showFleetServers);
    connect(remove, &QPushButton::clicked, this, [this] {
        const QModelIndex current = m_table->currentIndex();
        if (current.isValid())
            removeCluster(m_model.nameAt(current.row()));
    });

    auto* form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Endpoint:"), m_target);
    form->addRow(tr("To&ken:"), m_token);
    form->addRow(tr("C&A file:"), m_ca);
    form->addRow(tr("Environ&ment:"), m_environment);
    form->addRow(QString(), m_fleet);
    form->addRow(tr("Prometheus:"), m_prometheus);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(remove);
    buttons->addWidget(add);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_serversTitle);
    layout->addWidget(m_servers, 1);
    layout->addWidget(m_notice);
    layout->addLayout(form);
    layout->addLayout(buttons);
}

void ClustersPage::showFleetServers()
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    Fleet* fleet = rows.size() == 1 ? m_session.fleet(m_model.nameAt(rows.front().row())) : nullptr;
    m_serversModel.show(fleet, {});
    if (fleet)
        m_serversTitle->setText(tr("Servers of fleet %1 as its store lists them (asked every %2 ms); a server that stops renewing "
                                   "its lease leaves this list")
                                    .arg(fleet->fleetName().isEmpty() ? fleet->name() : fleet->fleetName())
                                    .arg(Fleet::kListIntervalMs));
    m_serversTitle->setVisible(fleet != nullptr);
    m_servers->setVisible(fleet != nullptr);
}

QString ClustersPage::notice() const { return m_notice->isVisible() ? m_notice->text() : QString(); }

void ClustersPage::setNotice(const QString& text)
{
    m_notice->setText(text);
    m_notice->setVisible(!text.isEmpty());
}

void ClustersPage::connectCluster(const ClusterEntry& entry, const QString& token)
{
    liveops::client::ClientOptions options;
    options.target = entry.target.toStdString();
    options.token = token.toStdString();
    options.tlsRootCertFile = entry.tlsCaFile.toStdString();
    if (entry.fleet)
        m_session.addFleet(entry.name, options, entry.environment);
    else
        m_session.addCluster(entry.name, options, entry.environment);
    m_session.setPrometheus(entry.name, QUrl(entry.prometheusUrl));
}

void ClustersPage::addCluster(const ClusterEntry& entry, const QString& token)
{
    m_directory.add(entry);
    m_vault.store(TokenVault::keyFor(entry), token, [this, entry, token](const TokenVault::Outcome& outcome) {
        setNotice(outcome.message);
        connectCluster(entry, token);  // the token typed works now; whether it was saved is said above
        m_model.setTokenStorage(entry.name, !outcome.ok ? tr("not saved (keychain error)") : outcome.sessionOnly ? tr("this session only") : tr("system keychain"));
        emit message(tr("Connecting to %1 (%2)…").arg(entry.name, entry.target));
    });
}

void ClustersPage::removeCluster(const QString& name)
{
    m_session.removeCluster(name);
    for (const ClusterEntry& entry : m_directory.load())
        if (entry.name == name)
            m_vault.forget(TokenVault::keyFor(entry));
    m_directory.remove(name);
}

void ClustersPage::reconnectSaved()
{
    for (const ClusterEntry& entry : m_directory.load())
        m_vault.read(TokenVault::keyFor(entry), [this, entry](const TokenVault::Outcome& outcome) {
            if (!outcome.ok) {
                setNotice(tr("%1 was not reconnected: %2 Add it again with its token.").arg(entry.name, outcome.message));
                return;
            }
            connectCluster(entry, outcome.token);
            m_model.setTokenStorage(entry.name, outcome.sessionOnly ? tr("this session only") : tr("system keychain"));
        });
}

} // namespace lv::console
