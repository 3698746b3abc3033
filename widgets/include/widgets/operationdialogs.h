#pragma once

#include "widgets/changetarget.h"

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace lv::widgets {

/// Confirming a drain — or, with `failoverOnly`, a failover — : where players go, and why. Says
/// what will happen before it does. A failover needs a target; a drain may have none.
class DrainDialog : public QDialog {
    Q_OBJECT
public:
    /// `target.scope` is the region; with `target.confirmWord` the action waits for it to be typed.
    DrainDialog(const ChangeTarget& target, int players, const QStringList& otherRegions, QWidget* parent = nullptr, bool failoverOnly = false);
    QString failoverRegion() const;  ///< "" = none
    QString reason() const;
    void setReason(const QString& reason);
    void setFailoverRegion(const QString& region);

private:
    void refresh();
    ChangeTarget m_where;
    QComboBox* m_target;
    QLineEdit* m_reason;
    QLineEdit* m_confirm = nullptr;
    QDialogButtonBox* m_buttons;
    bool m_failoverOnly;
};

/// Starting a drill: kind, size, duration, why. With `target.confirmWord`, an outage drill waits
/// for it to be typed (latency and loss drills do not).
class DrillDialog : public QDialog {
    Q_OBJECT
public:
    enum class Kind { Latency = 1, Loss = 2, Outage = 3 };
    explicit DrillDialog(const ChangeTarget& target, QWidget* parent = nullptr);
    Kind kind() const;
    double amount() const;  ///< ms for latency, percent for loss
    int durationSeconds() const;
    QString reason() const;
    void set(Kind kind, double amount, int durationSeconds, const QString& reason);

private:
    void refresh();
    QComboBox* m_kind;
    QDoubleSpinBox* m_amount;
    QSpinBox* m_duration;
    QLineEdit* m_reason;
    ChangeTarget m_where;
    QLineEdit* m_confirm = nullptr;
    QDialogButtonBox* m_buttons;
};

} // namespace lv::widgets
