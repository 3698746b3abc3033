#include "sandboxpanel.h"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QHeaderView>
#include <QTableView>
#include <QVBoxLayout>

#include "widgets/syncview.h"

namespace lv::console {

SandboxPanel::SandboxPanel(ConsoleSession& session, QWidget* parent)
    : QWidget(parent), m_session(session), m_state(new QLabel), m_start(new QPushButton(tr("&Start sandbox"))),
      m_stop(new QPushButton(tr("S&top sandbox"))), m_regions(new QSpinBox), m_bots(new QSpinBox), m_watched(new QComboBox),
      m_scenario(new QComboBox), m_figuresTimer(new QTimer(this)), m_view(new widgets::SyncView), m_frames(new QTimer(this))
{
    m_scenario->addItem(tr("Standard players"), static_cast<int>(SandboxScenario::Standard));
    m_scenario->addItem(tr("Cross-play: PC, console, mobile"), static_cast<int>(SandboxScenario::CrossPlay));
    m_scenario->addItem(tr("Accessibility: slow, bursty, assisted inputs"), static_cast<int>(SandboxScenario::Accessibility));
    m_scenario->setAccessibleName(tr("Sandbox scenario"));
    m_figuresTimer->setInterval(1000);
    connect(m_figuresTimer, &QTimer::timeout, this, [this] {
        if (Sandbox* s = m_session.sandbox())
            m_figures.update(s->figures());
    });
    m_watched->setAccessibleName(tr("Region shown in the sync view"));
    m_frames->setInterval(50);
    connect(m_frames, &QTimer::timeout, this, &SandboxPanel::pullFrame);
    connect(m_watched, &QComboBox::currentIndexChanged, this, [this] { m_lastCorrections = UINT64_MAX; });  // no flash on switching
    m_regions->setRange(1, 8);
    m_regions->setValue(3);
    m_regions->setSuffix(tr(" regions"));
    m_regions->setAccessibleName(tr("Sandbox regions"));
    m_bots->setRange(0, 500);
    m_bots->setValue(20);
    m_bots->setSuffix(tr(" bots each"));
    m_bots->setAccessibleName(tr("Bots per sandbox region"));
    connect(m_start, &QPushButton::clicked, this, [this] {
        QString error;
        start(m_regions->value(), m_bots->value(), static_cast<SandboxScenario>(m_scenario->currentData().toInt()));
    });
    connect(m_stop, &QPushButton::clicked, this, [this] {
        m_session.stopSandbox();
        rebuild();
    });
    m_start->setAccessibleName(tr("Start the local sandbox"));
    m_stop->setAccessibleName(tr("Stop the local sandbox"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_state, 1);
    buttons->addWidget(m_scenario);
    buttons->addWidget(m_regions);
    buttons->addWidget(m_bots);
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    auto* pause = new QPushButton(tr("&Pause"));
    pause->setCheckable(true);
    pause->setAccessibleName(tr("Pause the sync view"));
    auto* step = new QPushButton(tr("St&ep"));
    step->setAccessibleName(tr("Show the next moment while paused"));
    auto* follow = new QCheckBox(tr("&Follow the observed player"));
    follow->setChecked(true);
    connect(pause, &QPushButton::toggled, m_view, &widgets::SyncView::setPaused);
    connect(step, &QPushButton::clicked, m_view, &widgets::SyncView::step);
    connect(follow, &QCheckBox::toggled, m_view, &widgets::SyncView::setFollow);
    auto* viewControls = new QHBoxLayout;
    viewControls->addWidget(new QLabel(tr("Sync view of")));
    viewControls->addWidget(m_watched);
    viewControls->addStretch(1);
    viewControls->addWidget(follow);
    viewControls->addWidget(pause);
    viewControls->addWidget(step);
    auto* figures = new QTableView;
    figures->setModel(&m_figures);
    figures->verticalHeader()->hide();
    figures->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    figures->setAccessibleName(tr("QA figures per group of players"));
    figures->setMaximumHeight(170);
    auto* copy = new QPushButton(tr("&Copy QA figures"));
    copy->setAccessibleName(tr("Copy the QA figures as a Markdown table"));
    connect(copy, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(m_figures.toMarkdown());
        emit message(tr("QA figures copied as a Markdown table"));
    });
    auto* figuresRow = new QHBoxLayout;
    figuresRow->addWidget(figures, 1);
    figuresRow->addWidget(copy, 0, Qt::AlignTop);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addLayout(figuresRow);
    layout->addLayout(viewControls);
    layout->addWidget(m_view, 1);
    rebuild();
}

void SandboxPanel::rebuild()
{
    delete m_grid;
    m_grid = nullptr;
    m_rows.clear();
    Sandbox* sandbox = m_session.sandbox();
    m_start->setEnabled(!sandbox);
    m_scenario->setEnabled(!sandbox);
    m_regions->setEnabled(!sandbox);
    m_bots->setEnabled(!sandbox);
    m_stop->setEnabled(sandbox != nullptr);
    m_watched->clear();
    if (!sandbox) {
        m_state->setText(tr("No sandbox running. Start one to get regions with bots on this machine."));
        m_frames->stop();
        m_figuresTimer->stop();
        m_figures.update({});
        m_view->setScene({});
        return;
    }
    m_figuresTimer->start();
    for (const SandboxRegion& region : sandbox->config().regions)
        m_watched->addItem(QString::fromStdString(region.name));
    m_frames->start();
    m_state->setText(tr("Sandbox running: %n region(s), each with its own bots over real UDP on loopback.", nullptr,
                        static_cast<int>(sandbox->config().regions.size())));
    m_grid = new QWidget;
    auto* grid = new QGridLayout(m_grid);
    const QStringList headers{tr("Region"), tr("Latency (ms, one way)"), tr("Jitter (ms)"), tr("Loss (%)"), tr("Bandwidth cap (kbit/s, 0 = none)")};
    for (int c = 0; c < headers.size(); ++c)
        grid->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(headers[c])), 0, c);
    int line = 1;
    for (const SandboxRegion& region : sandbox->config().regions) {
        const QString name = QString::fromStdString(region.name);
        auto spin = [&](double value, double max, const QString& what) {
            auto* box = new QDoubleSpinBox;
            box->setRange(0, max);
            box->setDecimals(1);
            box->setValue(value);
            box->setAccessibleName(tr("%1 for %2").arg(what, name));
            return box;
        };
        Row row{name, spin(region.network.latencyMs, 2000, tr("Latency")), spin(region.network.jitterMs, 1000, tr("Jitter")),
                spin(region.network.lossPercent, 100, tr("Loss")), spin(region.network.bandwidthKbps, 100000, tr("Bandwidth cap"))};
        grid->addWidget(new QLabel(name), line, 0);
        grid->addWidget(row.latency, line, 1);
        grid->addWidget(row.jitter, line, 2);
        grid->addWidget(row.loss, line, 3);
        grid->addWidget(row.bandwidth, line, 4);
        auto* apply = new QPushButton(tr("Apply"));
        apply->setAccessibleName(tr("Apply the network of %1").arg(name));
        connect(apply, &QPushButton::clicked, this, [this, row] {
            this->apply(row.region, row.latency->value(), row.jitter->value(), row.loss->value(), row.bandwidth->value());
        });
        grid->addWidget(apply, line, 5);
        m_rows.push_back(row);
        ++line;
    }
    static_cast<QVBoxLayout*>(layout())->insertWidget(1, m_grid);
}

bool SandboxPanel::start(int regions, int bots, SandboxScenario scenario)
{
    m_regions->setValue(regions);
    m_bots->setValue(bots);
    m_scenario->setCurrentIndex(m_scenario->findData(static_cast<int>(scenario)));
    SandboxConfig config = SandboxConfig::sized(regions, bots);
    config.scenario = scenario;
    QString error;
    const bool ok = m_session.startSandbox(config, error);
    if (!ok)
        emit message(tr("The sandbox did not start: %1").arg(error));
    rebuild();
    return ok;
}

void SandboxPanel::pullFrame()
{
    Sandbox* sandbox = m_session.sandbox();
    if (!sandbox || m_watched->currentText().isEmpty())
        return;
    const auto frame = sandbox->syncFrame(m_watched->currentText().toStdString());
    widgets::SyncScene scene;
    const auto metres = [](const Vec3i& p) {
        return widgets::SyncScene::Dot{double(p.x) / kPositionUnitsPerMetre, double(p.y) / kPositionUnitsPerMetre};
    };
    for (const PlayerState& s : frame.truth) {
        scene.truth.push_back(metres(s.position));
        if (frame.observer.local && s.id == *frame.observer.local)
            scene.localTruth = metres(s.position);
    }
    if (frame.observer.connected && frame.observer.local)
        scene.predicted = metres(frame.observer.predicted.position);
    for (const auto& [index, position] : frame.observer.remotes)
        scene.interpolated.push_back({position[0], position[1]});
    scene.correctedJustNow = m_lastCorrections != UINT64_MAX && frame.observer.corrections > m_lastCorrections;
    m_lastCorrections = frame.observer.corrections;
    scene.caption = tr("%1 — %2 players; observed client: %3 corrections (largest %4 m), interpolation %5 ms")
                        .arg(m_watched->currentText())
                        .arg(frame.truth.size())
                        .arg(frame.observer.corrections)
                        .arg(frame.observer.largestCorrectionMetres, 0, 'f', 2)
                        .arg(frame.observer.interpolationDelayMs, 0, 'f', 0);
    m_view->setScene(scene);
}

bool SandboxPanel::apply(const QString& region, double latencyMs, double jitterMs, double lossPercent, double bandwidthKbps)
{
    Sandbox* sandbox = m_session.sandbox();
    if (!sandbox)
        return false;
    ConditionerSettings network;
    network.latencyMs = latencyMs;
    network.jitterMs = jitterMs;
    network.lossPercent = lossPercent;
    network.bandwidthKbps = bandwidthKbps;
    const bool ok = sandbox->setNetwork(region.toStdString(), network);
    for (Row& row : m_rows)
        if (row.region == region) {
            row.latency->setValue(latencyMs);
            row.jitter->setValue(jitterMs);
            row.loss->setValue(lossPercent);
            row.bandwidth->setValue(bandwidthKbps);
        }
    emit message(ok ? tr("%1: bots now see %2 ms ± %3, %4 % loss").arg(region).arg(latencyMs).arg(jitterMs).arg(lossPercent)
                    : tr("No sandbox region named %1").arg(region));
    return ok;
}

} // namespace lv::console
