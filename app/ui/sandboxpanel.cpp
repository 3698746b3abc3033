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
#include <QCoreApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QPointer>
#include <QThreadPool>
#include <QTableView>
#include <QVBoxLayout>

#include <utility>

#include "console/recordingfile.h"
#include "widgets/syncview.h"

namespace lv::console {

SandboxPanel::SandboxPanel(ConsoleSession& session, QWidget* parent)
    : QWidget(parent), m_session(session), m_state(new QLabel), m_start(new QPushButton(tr("Start sa&ndbox"))),
      m_stop(new QPushButton(tr("Stop sandbo&x"))), m_save(new QPushButton(tr("Save recordin&g…"))),
      m_replay(new QPushButton(tr("Repl&ay recording…"))), m_regions(new QSpinBox), m_bots(new QSpinBox), m_watched(new QComboBox),
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
        updateState();
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
        m_session.stopSandboxInBackground();
        rebuild();
    });
    connect(&m_session, &ConsoleSession::sandboxStarted, this, [this](bool ok, const QString& error) {
        const QString replay = std::exchange(m_replayPending, QString());
        if (ok && !replay.isEmpty())
            m_replayFile = replay;
        rebuild();
        if (!replay.isEmpty()) {
            emit message(ok ? tr("Replaying %1").arg(replay) : tr("Cannot replay: %1").arg(error));
            emit replayStarted(replay, ok, error);
        } else {
            if (!ok)
                emit message(tr("The sandbox did not start: %1").arg(error));
            emit started(ok, error);
        }
    });
    m_start->setAccessibleName(tr("Start the local sandbox"));
    m_stop->setAccessibleName(tr("Stop the local sandbox"));
    m_save->setAccessibleName(tr("Save the sandbox session as a recording file"));
    m_save->setToolTip(tr("Everything needed to replay this session exactly, for a bug report (Ctrl+Shift+S)"));
    m_save->setShortcut(QKeySequence(tr("Ctrl+Shift+S")));
    m_replay->setAccessibleName(tr("Replay a sandbox recording file"));
    m_replay->setToolTip(tr("Start a sandbox that replays a recording byte for byte (Ctrl+Shift+O)"));
    m_replay->setShortcut(QKeySequence(tr("Ctrl+Shift+O")));
    const QString filter = tr("Sandbox recordings (*.lvrec.json);;All files (*)");
    connect(m_save, &QPushButton::clicked, this, [this, filter] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save sandbox recording"), QStringLiteral("sandbox.lvrec.json"), filter);
        if (!path.isEmpty())
            saveRecording(path);
    });
    connect(m_replay, &QPushButton::clicked, this, [this, filter] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Replay sandbox recording"), QString(), filter);
        if (!path.isEmpty())
            replayRecording(path);
    });
    // The state line wraps on its own row: a long replay or lag message must not widen the window.
    m_state->setWordWrap(true);
    m_state->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_scenario);
    buttons->addWidget(m_regions);
    buttons->addWidget(m_bots);
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    buttons->addWidget(m_save);
    buttons->addWidget(m_replay);
    auto* pause = new QPushButton(tr("Pa&use"));
    pause->setCheckable(true);
    pause->setAccessibleName(tr("Pause the sync view"));
    auto* step = new QPushButton(tr("Ste&p"));
    step->setAccessibleName(tr("Show the next moment while paused"));
    auto* follow = new QCheckBox(tr("Follo&w the observed player"));
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
    auto* copy = new QPushButton(tr("Cop&y QA figures"));
    copy->setAccessibleName(tr("Copy the QA figures as a Markdown table"));
    connect(copy, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(m_figures.toMarkdown());
        emit message(tr("QA figures copied as a Markdown table"));
    });
    auto* figuresRow = new QHBoxLayout;
    figuresRow->addWidget(figures, 1);
    figuresRow->addWidget(copy, 0, Qt::AlignTop);
    buttons->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_state);
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
    const bool starting = m_session.sandboxStarting();
    m_start->setEnabled(!sandbox && !starting);
    m_start->setText(starting ? tr("Starting…") : tr("Start sa&ndbox"));
    m_replay->setEnabled(!starting);
    m_scenario->setEnabled(!sandbox && !starting);
    m_regions->setEnabled(!sandbox && !starting);
    m_bots->setEnabled(!sandbox && !starting);
    m_stop->setEnabled(sandbox != nullptr);
    m_save->setEnabled(sandbox != nullptr);
    m_watched->clear();
    updateState();
    if (!sandbox) {
        m_replayFile.clear();
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
        apply->setObjectName(QStringLiteral("apply-") + name);
        connect(apply, &QPushButton::clicked, this, [this, row] {
            this->apply(row.region, row.latency->value(), row.jitter->value(), row.loss->value(), row.bandwidth->value());
        });
        if (sandbox->replaying()) {  // the recording decides the network
            for (QWidget* w : std::initializer_list<QWidget*>{row.latency, row.jitter, row.loss, row.bandwidth, apply})
                w->setEnabled(false);
            apply->setToolTip(tr("A replay applies the recorded network changes"));
        }
        grid->addWidget(apply, line, 5);
        m_rows.push_back(row);
        ++line;
    }
    static_cast<QVBoxLayout*>(layout())->insertWidget(1, m_grid);
}

QString SandboxPanel::stateText() const
{
    Sandbox* sandbox = m_session.sandbox();
    if (!sandbox)
        return tr("No sandbox running. Start one to get regions with bots on this machine, or replay a recording.");
    const int regions = static_cast<int>(sandbox->config().regions.size());
    const auto lag = sandbox->lag();
    const QString behind = lag >= std::chrono::seconds(1)
                               ? tr(" Running %1 s behind real time: this machine cannot step that many bots live (the session stays exact).")
                                     .arg(double(lag.count()) / 1000.0, 0, 'f', 1)
                               : QString();
    if (!sandbox->replaying())
        return tr("Sandbox running: %n region(s) of simulated players. Deterministic and recorded from the start: "
                  "save the recording to attach it to a bug report.", nullptr, regions) + behind;
    const auto p = sandbox->replayProgress();
    const QString file = QFileInfo(m_replayFile).fileName();
    if (!p.finished)
        return tr("Replaying %1: %2 s of %3 s.").arg(file).arg(double(p.now) / 1e6, 0, 'f', 1).arg(double(p.end) / 1e6, 0, 'f', 1) + behind;
    const auto recorded = sandbox->recording().world;
    return p.identical ? tr("Replay of %1 finished: traffic identical to the recording (%2 datagrams, digest %3).")
                             .arg(file).arg(recorded.datagrams).arg(recorded.digest, 16, 16, QLatin1Char('0'))
                       : tr("Replay of %1 finished but DIVERGED from the recording: this build behaves differently "
                            "(digest %2, %3 datagrams).").arg(file).arg(recorded.digest, 16, 16, QLatin1Char('0')).arg(recorded.datagrams);
}

void SandboxPanel::updateState()
{
    m_state->setText(stateText());
    Sandbox* sandbox = m_session.sandbox();
    if (!sandbox || !sandbox->replaying())
        return;
    // The controls show the network the replay has reached, change by change.
    const auto recording = sandbox->recording().world;
    for (const auto& change : recording.changes)
        if (change.kind == liveops::WorldChange::Kind::Network && change.region < m_rows.size()) {
            const Row& row = m_rows[change.region];
            row.latency->setValue(change.network.latencyMs);
            row.jitter->setValue(change.network.jitterMs);
            row.loss->setValue(change.network.lossPercent);
            row.bandwidth->setValue(change.network.bandwidthKbps);
        }
}

void SandboxPanel::saveRecording(const QString& path)
{
    Sandbox* sandbox = m_session.sandbox();
    if (!sandbox) {
        emit recordingSaved(path, false, tr("no sandbox is running"));
        return;
    }
    // Taking the recording is a copy under the world's lock; writing it is disk work: off the UI thread.
    QPointer<SandboxPanel> self(this);
    QThreadPool::globalInstance()->start([self, path, recording = sandbox->recording()] {
        QString error;
        const bool ok = lv::console::saveRecording(path, recording, error);
        QMetaObject::invokeMethod(qApp, [self, path, ok, error] {
            if (!self)
                return;
            emit self->message(ok ? tr("Sandbox recording saved to %1").arg(path) : error);
            emit self->recordingSaved(path, ok, error);
        }, Qt::QueuedConnection);
    });
}

void SandboxPanel::replayRecording(const QString& path)
{
    QPointer<SandboxPanel> self(this);
    QThreadPool::globalInstance()->start([self, path] {
        QString error;
        auto recording = loadRecording(path, error);
        QMetaObject::invokeMethod(qApp, [self, path, recording = std::move(recording), error]() mutable {
            if (!self)
                return;
            if (!recording) {
                emit self->message(tr("Cannot replay: %1").arg(error));
                emit self->replayStarted(path, false, error);
                return;
            }
            self->m_replayPending = path;  // sandboxStarted() reports
            self->m_session.replaySandboxInBackground(*recording);
            self->rebuild();
        }, Qt::QueuedConnection);
    });
}

void SandboxPanel::start(int regions, int bots, SandboxScenario scenario)
{
    m_regions->setValue(regions);
    m_bots->setValue(bots);
    m_scenario->setCurrentIndex(m_scenario->findData(static_cast<int>(scenario)));
    SandboxConfig config = SandboxConfig::sized(regions, bots);
    config.scenario = scenario;
    m_replayPending.clear();
    m_session.startSandboxInBackground(config);  // started() reports
    rebuild();
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
    if (sandbox->replaying())
        updateState();  // progress moves with the picture
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
