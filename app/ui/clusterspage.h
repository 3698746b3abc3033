#pragma once

#include "console/clusterdirectory.h"
#include "console/fleetserversmodel.h"
#include "console/session.h"

#include <QAbstractTableModel>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace lv::console {

/// The connected clusters as a table: name, endpoint, connection state, where the token is kept.
class ClusterListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Environment, Endpoint, Connection, TokenKeptIn, ColumnCount };
    ClusterListModel(ConsoleSession& session, const ClusterDirectory& directory, QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void setTokenStorage(const QString& cluster, const QString& where);
    QString nameAt(int row) const;

private:
    void reload();
    void connectionChanged();  // a slot: Qt::UniqueConnection needs a member function
    void fleetChanged();
    ConsoleSession& m_session;
    const ClusterDirectory& m_directory;
    std::vector<ClusterConnection*> m_clusters;
    std::vector<ClusterEntry> m_entries;   // read from settings when the clusters change, not per paint
    std::map<QString, QString> m_storage;  // cluster -> "system keychain" / "this session only"
};

/// Live clusters: add one (name, endpoint, token, optional CA), remove one, see each connection's
/// state. Endpoints persist in settings, tokens in the keychain (or for this session only, said
/// visibly, where no keychain service runs). Clusters are reconnected at start.
class ClustersPage : public QWidget {
    Q_OBJECT
public:
    ClustersPage(ConsoleSession& session, TokenVault& vault, QWidget* parent = nullptr);
    /// What "Add" does once the fields are filled in.
    void addCluster(const ClusterEntry& entry, const QString& token);
    void removeCluster(const QString& name);
    /// Connects every remembered cluster whose token the keychain has.
    void reconnectSaved();
    QString notice() const;
    ClusterListModel& model() { return m_model; }
    /// The servers of the fleet selected in the table (hidden when the selection is no fleet).
    QTableView* fleetServers() const { return m_servers; }
    const FleetServersModel& fleetServersModel() const { return m_serversModel; }

signals:
    void message(const QString& text);

private:
    void connectCluster(const ClusterEntry& entry, const QString& token);
    void setNotice(const QString& text);
    void showFleetServers();

    ConsoleSession& m_session;
    TokenVault& m_vault;
    ClusterDirectory m_directory;
    ClusterListModel m_model;
    QTableView* m_table;
    QLabel* m_notice;
    QLineEdit* m_name;
    QLineEdit* m_target;
    QLineEdit* m_token;
    QLineEdit* m_ca;
    QComboBox* m_environment;
    QCheckBox* m_fleet;
    FleetServersModel m_serversModel;
    QLabel* m_serversTitle;
    QTableView* m_servers;
    QLineEdit* m_prometheus;
};

} // namespace lv::console
