#pragma once

#include <QFrame>
#include <QPointer>
#include <QUrl>

#include <vector>

class QAbstractItemModel;
class QLabel;
class QPushButton;

namespace lv::widgets {

/// One alert as a bar: what is wrong and what to do. "Open runbook" (the desktop's handler),
/// "Acknowledge", "Open incident…". Tinted by severity until acknowledged; the text says how bad
/// it is, colour is only a second signal.
class AlertBar : public QFrame {
    Q_OBJECT
public:
    explicit AlertBar(bool mnemonic, QWidget* parent = nullptr);
    void fill(const QString& text, const QUrl& runbook, bool severe, bool acknowledged);
    QString text() const;
    QUrl runbook() const { return m_runbook; }
    QPushButton* acknowledgeButton() const { return m_ack; }
    QPushButton* incidentButton() const { return m_incident; }

signals:
    void runbookOpened(const QUrl& url);
    void acknowledgeRequested();
    void incidentRequested();

private:
    QLabel* m_text;
    QPushButton* m_open;
    QPushButton* m_ack;
    QPushButton* m_incident;
    QUrl m_runbook;
};

/// The alerts that are up, one bar each, from a list model (display text plus roles for the
/// runbook, the severity and the acknowledgement). At most `visibleLimit` bars take room; the rest
/// are behind "N more alerts", so a storm of alerts never pushes the pages off a 768-pixel screen.
class AlertList : public QFrame {
    Q_OBJECT
public:
    struct Roles {
        int severe = -1;        ///< bool
        int acknowledged = -1;  ///< bool
        int runbook = -1;       ///< QUrl
    };
    explicit AlertList(QWidget* parent = nullptr);
    void setModel(QAbstractItemModel* model, Roles roles);
    void setVisibleLimit(int bars);

    /// The bars shown (their row in the model is their index).
    int barCount() const { return static_cast<int>(m_bars.size()); }
    AlertBar* bar(int row) const { return row >= 0 && row < barCount() ? m_bars[static_cast<std::size_t>(row)] : nullptr; }
    /// Every alert's text, one per line ("" with none): what a reader of the screen gets.
    QString text() const;

signals:
    void runbookOpened(const QUrl& url);
    void acknowledgeRequested(int row);
    void incidentRequested(int row);

private:
    void sync();

    QPointer<QAbstractItemModel> m_model;
    Roles m_roles;
    std::vector<AlertBar*> m_bars;
    QPushButton* m_more;
    bool m_expanded = false;
    int m_limit = 3;
};

} // namespace lv::widgets
