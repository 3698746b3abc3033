#pragma once

#include <QFrame>
#include <QUrl>

class QLabel;
class QPushButton;

namespace lv::widgets {

/// A bar above a page that says what is wrong and what to do: the alert text, "Open runbook"
/// (opens the link with the desktop's handler), "Open incident…" and "Dismiss". Stays until
/// dismissed or cleared.
class AlertBanner : public QFrame {
    Q_OBJECT
public:
    explicit AlertBanner(QWidget* parent = nullptr);
    void raiseAlert(const QString& text, const QUrl& runbook, bool severe);
    void clear();
    QString text() const;
    QUrl runbook() const { return m_runbook; }

signals:
    void runbookOpened(const QUrl& url);
    void incidentRequested();

private:
    QLabel* m_text;
    QPushButton* m_open;
    QUrl m_runbook;
};

} // namespace lv::widgets
