#pragma once

#include "widgets/changetarget.h"

#include <QDialog>
#include <QVariant>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace lv::widgets {

/// What the dialog needs to know about the toggle being changed.
struct ToggleEditRequest {
    enum class Kind { Bool, Int, Choice };
    QString title;        ///< e.g. "snapshot_hz @ eu-west"
    QString description;
    Kind kind = Kind::Bool;
    QVariant current;     ///< bool, qint64 or QString
    qint64 min = 0, max = 0;
    QStringList choices;  ///< Choice: the allowed values ("" shown as "(none)")
    ChangeTarget target;  ///< the cluster, environment and scope; a confirm word for critical toggles on production
};

/// Changing a toggle: shows old → new as you edit, and will not apply without a reason or a
/// change. Apply does not close it (see applyRequested()). After a conflict (someone else changed it first), setConflict() shows the newer change
/// and makes it the new "old" value, so the user retries on it knowingly.
class ToggleDialog : public QDialog {
    Q_OBJECT
public:
    explicit ToggleDialog(const ToggleEditRequest& request, QWidget* parent = nullptr);

    QVariant value() const;
    QString reason() const;
    void setValue(const QVariant& value);
    void setReason(const QString& reason);
    void setConflict(const QString& message, const QVariant& newerCurrent);
    void setError(const QString& message);

signals:
    /// "Apply" was pressed. The dialog stays open: whoever sends the change closes it (accept())
    /// once the server agreed, or shows why not.
    void applyRequested();

private:
    void refresh();
    QString text(const QVariant& v) const;

    ToggleEditRequest m_request;
    QLabel* m_change;
    QLabel* m_notice;
    QComboBox* m_choice = nullptr;
    QSpinBox* m_number = nullptr;
    QLineEdit* m_reason;
    QLineEdit* m_confirm = nullptr;
    QDialogButtonBox* m_buttons;
};

} // namespace lv::widgets
