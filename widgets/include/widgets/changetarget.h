#pragma once

#include <QLabel>
#include <QString>

class QFormLayout;
class QLineEdit;
class QVBoxLayout;

namespace lv::widgets {

/// Where a change goes, as every dialog that makes one names it: the cluster, its environment
/// and the scope; and, for a destructive change on production, the word to type to confirm.
struct ChangeTarget {
    QString cluster;
    QString environment;  ///< "production", "staging", "development", "sandbox"
    QString scope;        ///< a region, or "*" for the whole cluster
    QString confirmWord;  ///< non-empty: the dialog's action stays disabled until it is typed
    /// "eu-west on prod (production)", "every region of prod (production)".
    QString where() const;
};

/// The environment as a coloured badge: PRODUCTION on red, STAGING on amber, DEVELOPMENT on
/// blue, SANDBOX on grey. The same colours everywhere (window, status bar, dialogs).
class EnvironmentBadge : public QLabel {
    Q_OBJECT
public:
    explicit EnvironmentBadge(const QString& environment, QWidget* parent = nullptr);
    void setEnvironment(const QString& environment);
    static QColor colourOf(const QString& environment);
};

/// The top of every change dialog: the badge and "Changes … on <cluster> (<environment>)".
void addTargetHeader(QVBoxLayout* layout, const ChangeTarget& target);
/// With a confirm word, the field it must be typed into, as the form's last row (next to the
/// action); null without one.
QLineEdit* addConfirmation(QFormLayout* form, const ChangeTarget& target);

/// Whether the confirmation (if any) has been typed exactly.
bool confirmed(const ChangeTarget& target, const QLineEdit* confirmField);

} // namespace lv::widgets
