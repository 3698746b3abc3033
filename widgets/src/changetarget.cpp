#include "widgets/changetarget.h"

#include <QCoreApplication>
#include <QFormLayout>
#include <QLineEdit>
#include <QVBoxLayout>

namespace lv::widgets {

namespace {
QString tr(const char* text) { return QCoreApplication::translate("lv::widgets::ChangeTarget", text); }
} // namespace

QString ChangeTarget::where() const
{
    const QString named = environment.isEmpty() ? cluster : tr("%1 (%2)").arg(cluster, environment);
    return scope == QLatin1String("*") || scope.isEmpty() ? tr("every region of %1").arg(named) : tr("%1 on %2").arg(scope, named);
}

EnvironmentBadge::EnvironmentBadge(const QString& environment, QWidget* parent) : QLabel(parent)
{
    setEnvironment(environment);
}

QColor EnvironmentBadge::colourOf(const QString& environment)
{
    if (environment == QLatin1String("production"))
        return QColor(0xb7, 0x1c, 0x1c);
    if (environment == QLatin1String("staging"))
        return QColor(0xb2, 0x6a, 0x00);
    if (environment == QLatin1String("development"))
        return QColor(0x15, 0x65, 0xc0);
    return QColor(0x61, 0x61, 0x61);
}

void EnvironmentBadge::setEnvironment(const QString& environment)
{
    setText(environment.toUpper());
    setAccessibleName(tr("Environment: %1").arg(environment));
    // White on a dark, saturated colour reads in light and dark schemes alike.
    setStyleSheet(QStringLiteral("QLabel { color: white; background: %1; border-radius: 3px; padding: 1px 6px; font-weight: bold; }")
                      .arg(colourOf(environment).name()));
    setVisible(!environment.isEmpty());
}

void addTargetHeader(QVBoxLayout* layout, const ChangeTarget& target)
{
    auto* row = new QHBoxLayout;
    auto* badge = new EnvironmentBadge(target.environment);
    badge->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    row->addWidget(badge, 0, Qt::AlignTop);
    auto* where = new QLabel(tr("Changes <b>%1</b>").arg(target.where().toHtmlEscaped()));
    where->setWordWrap(true);
    where->setAccessibleName(tr("Where this change goes"));
    row->addWidget(where, 1);
    layout->addLayout(row);
}

QLineEdit* addConfirmation(QFormLayout* form, const ChangeTarget& target)
{
    if (target.confirmWord.isEmpty())
        return nullptr;
    auto* field = new QLineEdit;
    field->setAccessibleName(tr("Confirmation"));
    field->setPlaceholderText(target.confirmWord);
    form->addRow(tr("Type %1 to &confirm:").arg(target.confirmWord), field);
    return field;
}

bool confirmed(const ChangeTarget& target, const QLineEdit* confirmField)
{
    return target.confirmWord.isEmpty() || (confirmField && confirmField->text().trimmed() == target.confirmWord);
}

} // namespace lv::widgets
