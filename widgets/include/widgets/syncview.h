#pragma once

#include <QWidget>

#include <optional>
#include <vector>

namespace lv::widgets {

/// One moment of a region as QA compares it: where the server says everyone is, where one client
/// predicts its own player, and where that client shows everyone else. Metres, top-down.
struct SyncScene {
    struct Dot {
        double x = 0, y = 0;
    };
    std::vector<Dot> truth;             ///< server: every player
    std::optional<Dot> localTruth;      ///< server: the observed client's player
    std::optional<Dot> predicted;       ///< client: its own player as predicted
    std::vector<Dot> interpolated;      ///< client: everyone else as shown
    bool correctedJustNow = false;      ///< a correction happened since the previous scene
    QString caption;                    ///< e.g. "eu-west — 20 players, interpolation 100 ms"
};

/// The top-down sync view: server truth (grey rings), the observed client's prediction (green
/// disc, joined to its true position), the others as that client interpolates them (blue
/// crosses), a red ring when the client just corrected. Pause freezes the picture (the session
/// runs on); Step shows the next scene while paused; Follow keeps the observed player centred;
/// the wheel zooms.
class SyncView : public QWidget {
    Q_OBJECT
public:
    explicit SyncView(QWidget* parent = nullptr);

    void setScene(const SyncScene& scene);
    const SyncScene& shown() const { return m_shown; }
    void setPaused(bool paused);
    bool paused() const { return m_paused; }
    void step();
    void setFollow(bool follow);
    void setMetresAcross(double metres);

    QSize sizeHint() const override { return {640, 480}; }

protected:
    void paintEvent(QPaintEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;

private:
    SyncScene m_shown;
    SyncScene m_pending;
    bool m_hasPending = false;
    bool m_paused = false;
    bool m_follow = true;
    double m_metresAcross = 120.0;
    int m_flash = 0;  // scenes left to show the correction ring
};

} // namespace lv::widgets
