#pragma once

#include "console/qafigures.h"
#include "console/session.h"

#include <QTimer>
#include <QWidget>

class QDoubleSpinBox;
class QGridLayout;
class QLabel;
class QPushButton;
class QSpinBox;
class QComboBox;
class QCheckBox;

namespace lv::widgets {
class SyncView;
}

namespace lv::console {

/// QA's controls over the local sandbox: start and stop it, and per region the network its bots
/// see (latency, jitter, loss, bandwidth cap), applied live.
class SandboxPanel : public QWidget {
    Q_OBJECT
public:
    explicit SandboxPanel(ConsoleSession& session, QWidget* parent = nullptr);
    void rebuild();
    /// Sets a region's controls and applies them (what the Apply button does).
    bool apply(const QString& region, double latencyMs, double jitterMs, double lossPercent, double bandwidthKbps);
    widgets::SyncView* syncView() const { return m_view; }
    QaFiguresModel& figures() { return m_figures; }
    /// Starts a sandbox of this shape (what the Start button does with the chosen values), off
    /// the UI thread; started() reports.
    void start(int regions, int bots, SandboxScenario scenario);
    /// Takes the current frame of the watched region into the sync view (the timer does it 20x/s).
    void pullFrame();
    /// Writes the running session's recording to `path` off the UI thread; recordingSaved() reports.
    void saveRecording(const QString& path);
    /// Reads `path` off the UI thread, then starts a sandbox replaying it; replayStarted() reports.
    void replayRecording(const QString& path);
    /// What the state line says (replay progress and its verdict included).
    QString stateText() const;

signals:
    void message(const QString& text);
    void recordingSaved(const QString& path, bool ok, const QString& error);
    void replayStarted(const QString& path, bool ok, const QString& error);
    void started(bool ok, const QString& error);

private:
    void updateState();
    struct Row {
        QString region;
        QDoubleSpinBox *latency, *jitter, *loss, *bandwidth;
    };
    ConsoleSession& m_session;
    QLabel* m_state;
    QPushButton* m_start;
    QPushButton* m_stop;
    QPushButton* m_save;
    QPushButton* m_replay;
    QString m_replayFile;
    QString m_replayPending;  // a replay being started
    QSpinBox* m_regions;
    QSpinBox* m_bots;
    QComboBox* m_watched;
    QComboBox* m_scenario;
    QaFiguresModel m_figures;
    QTimer* m_figuresTimer;
    widgets::SyncView* m_view;
    QTimer* m_frames;
    std::uint64_t m_lastCorrections = 0;
    QWidget* m_grid = nullptr;
    std::vector<Row> m_rows;
};

} // namespace lv::console
