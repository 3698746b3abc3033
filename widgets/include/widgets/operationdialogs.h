#pragma once

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
    DrainDialog(const QString& region, int players, const QStringList& otherRegions, QWidget* parent = nullptr, bool failoverOnly = false);
    QString failoverRegion() const;  ///< "" = none
    QString reason() const;
    void setReason(const QString& reason);
    void setFailoverRegion(const QString& region);

private:
    void refresh();
    QComboBox* m_target;
    QLineEdit* m_reason;
    QDialogButtonBox* m_buttons;
    bool m_failoverOnly;
};

/// Starting a drill: kind, size, duration, why.
class DrillDialog : public QDialog {
    Q_OBJECT
public:
    enum class Kind { Latency = 1, Loss = 2, Outage = 3 };
    explicit DrillDialog(const QString& region, QWidget* parent = nullptr);
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
    QDialogButtonBox* m_buttons;
};

} // namespace lv::widgets
