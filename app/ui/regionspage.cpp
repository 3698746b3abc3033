#include "regionspage.h"

#include "widgets/tones.h"

#include <QApplication>

#include <QCheckBox>

#include <algorithm>
#include <set>
#include <tuple>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace lv::console {

RegionsPage::RegionsPage(ConsoleSession& session, QWidget* parent)
    : QWidget(parent), m_session(session), m_hint(new QLabel), m_table(new QTableView), m_window(new QComboBox),
      m_chart(new widgets::LatencyChart), m_serversPanel(new QWidget), m_serversTitle(new QLabel), m_servers(new QTableView)
{
    m_rebuild.setSingleShot(true);
    m_rebuild.setInterval(200);
    connect(&m_rebuild, &QTimer::timeout, this, &RegionsPage::rebuildChart);
    m_marks.setSingleShot(true);
    m_marks.setInterval(200);
    connect(&m_marks, &QTimer::timeout, this, &RegionsPage::updateMarks);
    connect(&session.changes(), &ChangeMarks::changed, this, [this] { m_marks.start(); });
    // "Worst 8" follows the data: every few seconds, and the chart is rebuilt only if the set changed.
    m_worst.setInterval(3000);
    connect(&m_worst, &QTimer::timeout, this, [this] {
        if (chartRegions() != m_shown)
            rebuildChart();
    });
    m_worst.start();
    m_resize.setSingleShot(true);
    m_resize.setInterval(500);
    connect(&m_resize, &QTimer::timeout, this, [this] { m_table->resizeColumnsToContents(); });
    m_proxy.setSourceModel(&session.regions());
    m_proxy.setSortRole(RegionModel::SortRole);
    m_table->setModel(&m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(RegionModel::Region, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setAccessibleName(tr("Regions"));
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QTableView::customContextMenuRequested, this, [this](const QPoint& at) {
        const QModelIndex index = m_table->indexAt(at);
        if (!index.isValid())
            return;
        const QModelIndex source = m_proxy.mapToSource(index);
        const QString cluster = m_session.regions().clusterAt(source.row());
        const QString region = m_session.regions().regionAt(source.row());
        QMenu menu(this);
        fillOperationsMenu(menu, source.row());
        menu.exec(m_table->viewport()->mapToGlobal(at));
    });
    // A disconnected cluster's rows say how old their figures are, and that moves on.
    auto* staleTick = new QTimer(this);
    staleTick->setInterval(1000);
    connect(staleTick, &QTimer::timeout, &session.regions(), &RegionModel::touchStale);
    staleTick->start();
    auto rebuildSoon = [this] { m_rebuild.start(); };
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, rebuildSoon);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RegionsPage::showServers);
    connect(&session.regions(), &QAbstractItemModel::rowsRemoved, this, &RegionsPage::showServers);
    connect(&session.history(), &LatencyHistory::seriesAdded, this, rebuildSoon);
    connect(&session.regions(), &QAbstractItemModel::rowsRemoved, this, rebuildSoon);
    connect(&session.regions(), &QAbstractItemModel::rowsInserted, this, rebuildSoon);
    connect(&session.regions(), &QAbstractItemModel::rowsInserted, this, [this] { m_resize.start(); });
    connect(&session.regions(), &RegionModel::sloAlertChanged, this, [this] { m_resize.start(); });  // "Burning fast" is wider than "OK"

    m_window->addItem(tr("Last 5 minutes"), static_cast<int>(HistoryWindow::FiveMinutes));
    m_window->addItem(tr("Last hour"), static_cast<int>(HistoryWindow::OneHour));
    m_window->addItem(tr("Last 24 hours"), static_cast<int>(HistoryWindow::Day));
    m_window->setAccessibleName(tr("Chart window"));
    connect(m_window, &QComboBox::currentIndexChanged, this, &RegionsPage::applyWindow);
    m_chart->setTimeZone(session.time().timeZone());
    connect(&session.time(), &TimeFormat::changed, this, [this] { m_chart->setTimeZone(m_session.time().timeZone()); });
    applyWindow();
    auto* p50 = new QCheckBox(tr("p5&0"));
    auto* p95 = new QCheckBox(tr("p9&5"));
    auto* p99 = new QCheckBox(tr("p&99"));
    for (QCheckBox* box : {p50, p95, p99}) {
        box->setChecked(true);
        connect(box, &QCheckBox::toggled, this, [=, this] { m_chart->setPercentilesVisible(p50->isChecked(), p95->isChecked(), p99->isChecked()); });
    }
    m_chart->setThreshold(session.regions().sloThresholdMs());
    m_chart->setMinimumHeight(260);

    auto* controls = new QHBoxLayout;
    m_hint->setAccessibleName(tr("Chart contents"));
    controls->addWidget(m_hint, 1);
    controls->addWidget(p50);
    controls->addWidget(p95);
    controls->addWidget(p99);
    controls->addWidget(m_window);
    auto* lower = new QWidget;
    auto* lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addLayout(controls);
    lowerLayout->addWidget(m_chart, 1);
    // The drill-down from a fleet's region to its servers.
    m_serversProxy.setSourceModel(&m_serversModel);
    m_serversProxy.setSortRole(FleetServersModel::SortRole);
    m_servers->setModel(&m_serversProxy);
    m_servers->setSortingEnabled(true);
    m_servers->sortByColumn(FleetServersModel::Server, Qt::AscendingOrder);
    m_servers->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_servers->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_servers->horizontalHeader()->setStretchLastSection(true);
    m_servers->verticalHeader()->hide();
    m_servers->setAccessibleName(tr("Servers of the selected region"));
    connect(&m_serversModel, &QAbstractItemModel::modelReset, m_servers, &QTableView::resizeColumnsToContents);
    m_servers->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_servers, &QTableView::customContextMenuRequested, this, [this](const QPoint& at) {
        const QModelIndex index = m_servers->indexAt(at);
        if (!index.isValid())
            return;
        QMenu menu(this);
        fillServerMenu(menu, m_serversProxy.mapToSource(index).row());
        menu.exec(m_servers->viewport()->mapToGlobal(at));
    });
    auto* serversLayout = new QVBoxLayout(m_serversPanel);
    serversLayout->setContentsMargins(0, 0, 0, 0);
    serversLayout->addWidget(m_serversTitle);
    serversLayout->addWidget(m_servers, 1);
    m_serversPanel->setVisible(false);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_table);
    split->addWidget(m_serversPanel);
    split->addWidget(lower);
    split->setStretchFactor(2, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);
    rebuildChart();  // regions known before this page existed
    m_table->resizeColumnsToContents();
}

void RegionsPage::showServers()
{
    const auto selected = selectedRegions();
    Fleet* fleet = selected.size() == 1 ? m_session.fleet(selected.front().first) : nullptr;
    if (!fleet) {
        m_serversModel.show(nullptr, {});
        m_serversPanel->setVisible(false);
        return;
    }
    m_serversModel.show(fleet, selected.front().second);
    m_serversTitle->setText(tr("Servers of %1 in fleet %2 — the row above merges their histograms")
                                .arg(selected.front().second, fleet->fleetName().isEmpty() ? fleet->name() : fleet->fleetName()));
    m_serversPanel->setVisible(true);
}

std::vector<std::pair<QString, QString>> RegionsPage::selectedRegions() const
{
    std::vector<std::pair<QString, QString>> out;
    for (const QModelIndex& index : m_table->selectionModel()->selectedRows()) {
        const int row = m_proxy.mapToSource(index).row();
        out.emplace_back(m_session.regions().clusterAt(row), m_session.regions().regionAt(row));
    }
    return out;
}

QVariant RegionTableProxy::data(const QModelIndex& index, int role) const
{
    if (role != Qt::ForegroundRole)
        return QSortFilterProxyModel::data(index, role);
    const int tone = QSortFilterProxyModel::data(index, RegionModel::ToneRole).toInt();
    if (tone == 0)
        return {};
    return widgets::toneColour(tone == RegionModel::ToneError     ? widgets::Tone::Error
                               : tone == RegionModel::ToneStale ? widgets::Tone::Muted
                                                                : widgets::Tone::Warning,
                               QApplication::palette());
}

void RegionsPage::fillOperationsMenu(QMenu& menu, int row)
{
    const QString cluster = m_session.regions().clusterAt(row);
    const QString region = m_session.regions().regionAt(row);
    // Only what applies to the region as it is: Undrain while it drains, Cancel while a drill runs.
    if (m_session.regions().statusAt(row) == liveops::client::RegionStatus::Draining)
        menu.addAction(tr("&Undrain %1…").arg(region), this, [=, this] { emit undrainRequested(cluster, region); });
    else
        menu.addAction(tr("&Drain %1…").arg(region), this, [=, this] { emit drainRequested(cluster, region); });
    menu.addAction(tr("&Fail %1 over…").arg(region), this, [=, this] { emit failoverRequested(cluster, region); });
    if (m_session.regions().drillAt(row).isEmpty())
        menu.addAction(tr("Start a d&rill on %1…").arg(region), this, [=, this] { emit drillRequested(cluster, region); });
    else
        menu.addAction(tr("&Cancel the drill on %1 (%2)…").arg(region, m_session.regions().drillAt(row)), this,
                       [=, this] { emit cancelDrillRequested(cluster, region); });
}

void RegionsPage::fillServerMenu(QMenu& menu, int row)
{
    const auto selected = selectedRegions();
    if (selected.size() != 1)
        return;
    const QString cluster = selected.front().first, region = selected.front().second;
    const QString server = m_serversModel.index(row, FleetServersModel::Server).data().toString();
    if (m_serversModel.drainingAt(row))
        menu.addAction(tr("&Undrain server %1…").arg(server), this, [=, this] { emit undrainServerRequested(cluster, server); });
    else
        menu.addAction(tr("&Drain server %1…").arg(server), this, [=, this] { emit drainServerRequested(cluster, region, server); });
}

void RegionsPage::applyWindow()
{
    const auto window = static_cast<HistoryWindow>(m_window->currentData().toInt());
    m_session.history().setWindow(window);
    // The span ends now; the gap limit is three of the window's buckets (1 s, 10 s, 4 min).
    switch (window) {
    case HistoryWindow::FiveMinutes: m_chart->setSpan(5 * 60'000, 3'000); break;
    case HistoryWindow::OneHour: m_chart->setSpan(3'600'000, 30'000); break;
    case HistoryWindow::Day: m_chart->setSpan(24 * 3'600'000, 12 * 60'000); break;
    }
}

std::vector<std::pair<QString, QString>> RegionsPage::chartRegions() const
{
    auto chosen = selectedRegions();
    if (!chosen.empty()) {
        if (chosen.size() > kMaxOverlaid)
            chosen.resize(kMaxOverlaid);
        return chosen;
    }
    // None selected: every region, or the worst few by p99 when there are many.
    RegionModel& regions = m_session.regions();
    std::vector<std::pair<double, int>> byP99;
    for (int row = 0; row < regions.rowCount(); ++row)
        byP99.emplace_back(-regions.index(row, RegionModel::RttP99).data(RegionModel::SortRole).toDouble(), row);
    std::stable_sort(byP99.begin(), byP99.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < byP99.size() && i < kMaxOverlaid; ++i)
        chosen.emplace_back(regions.clusterAt(byP99[i].second), regions.regionAt(byP99[i].second));
    return chosen;
}

void RegionsPage::rebuildChart()
{
    const int regions = m_session.regions().rowCount();
    const bool selected = !selectedRegions().empty();
    m_shown = chartRegions();
    if (!selected)
        m_hint->setText(regions > kMaxOverlaid
                            ? tr("Showing the %1 regions with the highest p99 of %2 (chosen again as they change); select rows to compare others.")
                                  .arg(kMaxOverlaid)
                                  .arg(regions)
                            : tr("Select regions to compare them; none selected shows all."));
    else
        m_hint->setText(tr("Showing %n selected region(s) (at most %1).", nullptr, static_cast<int>(m_shown.size())).arg(kMaxOverlaid));
    m_chart->clearSeries();
    const bool severalClusters = m_session.clusters().size() > 1;
    for (const auto& [cluster, region] : m_shown)
        m_chart->addSeries(severalClusters ? QStringLiteral("%1/%2").arg(cluster, region) : region, m_session.history().series(cluster, region));
    updateMarks();
}

void RegionsPage::updateMarks()
{
    // The changes of the regions shown; a cluster-wide change once, however many regions it touches.
    std::vector<widgets::ChartMark> marks;
    std::set<std::tuple<qint64, QString, QString>> seen;
    const bool severalClusters = m_session.clusters().size() > 1;
    for (const auto& [cluster, region] : m_shown)
        for (const ChangeMark& m : m_session.changes().marksFor(cluster, region)) {
            const QString what = severalClusters ? QStringLiteral("%1: %2").arg(cluster, m.what) : m.what;
            if (seen.insert({m.timeMs, m.who, what}).second)
                marks.push_back({m.timeMs, m.who, what, m.why});
        }
    m_chart->setMarks(std::move(marks));
}

} // namespace lv::console
