#include "widgets/operationdialogs.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace lv::widgets {

DrainDialog::DrainDialog(const ChangeTarget& target, int players, const QStringList& otherRegions, QWidget* parent, bool failoverOnly)
    : QDialog(parent), m_where(target), m_target(new QComboBox), m_reason(new QLineEdit),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel)), m_failoverOnly(failoverOnly)
{
    const QString& region = target.scope;
    setWindowTitle(failoverOnly ? tr("Fail over %1").arg(target.where()) : tr("Drain %1").arg(target.where()));
    auto* layout = new QVBoxLayout(this);
    addTargetHeader(layout, target);
    auto* what = new QLabel(failoverOnly ? tr("The %n player(s) connected to %1 are sent to the region you choose now, and players "
                                              "who arrive at %1 are sent on too.",
                                              nullptr, players)
                                               .arg(region)
                                         : tr("New players will be refused in %1. With a failover region, its %n connected player(s) "
                                              "are sent there now; without one they stay until they leave.",
                                              nullptr, players)
                                               .arg(region));
    what->setWordWrap(true);
    layout->addWidget(what);
    if (!failoverOnly)
        m_target->addItem(tr("(none: let players finish)"), QString());
    for (const QString& r : otherRegions)
        m_target->addItem(r, r);
    m_target->setAccessibleName(tr("Failover region"));
    m_reason->setPlaceholderText(tr("Why? (required; goes to the audit log)"));
    m_reason->setAccessibleName(tr("Reason"));
    auto* form = new QFormLayout;
    form->addRow(tr("&Send players to:"), m_target);
    form->addRow(tr("&Reason:"), m_reason);
    if ((m_confirm = addConfirmation(form, target)))
        connect(m_confirm, &QLineEdit::textChanged, this, &DrainDialog::refresh);
    layout->addLayout(form);
    m_buttons->button(QDialogButtonBox::Ok)->setText(failoverOnly ? tr("&Fail over") : tr("&Drain"));
    connect(m_reason, &QLineEdit::textChanged, this, &DrainDialog::refresh);
    connect(m_target, &QComboBox::currentIndexChanged, this, &DrainDialog::refresh);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(m_buttons);
    refresh();
}

void DrainDialog::refresh()
{
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!reason().isEmpty() && (!m_failoverOnly || !failoverRegion().isEmpty())
                                                        && confirmed(m_where, m_confirm));
}

QString DrainDialog::failoverRegion() const { return m_target->currentData().toString(); }
QString DrainDialog::reason() const { return m_reason->text().trimmed(); }
void DrainDialog::setReason(const QString& reason) { m_reason->setText(reason); }
void DrainDialog::setFailoverRegion(const QString& region) { m_target->setCurrentIndex(std::max(0, m_target->findData(region))); }

DrillDialog::DrillDialog(const ChangeTarget& target, QWidget* parent)
    : QDialog(parent), m_kind(new QComboBox), m_amount(new QDoubleSpinBox), m_duration(new QSpinBox), m_reason(new QLineEdit), m_where(target),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel))
{
    const QString& region = target.scope;
    setWindowTitle(tr("Drill on %1").arg(target.where()));
    auto* layout = new QVBoxLayout(this);
    addTargetHeader(layout, target);
    auto* what = new QLabel(tr("A drill degrades %1 for real players and bots alike, then ends by itself.").arg(region));
    what->setWordWrap(true);
    layout->addWidget(what);
    m_kind->addItem(tr("Extra latency"), static_cast<int>(Kind::Latency));
    m_kind->addItem(tr("Packet loss"), static_cast<int>(Kind::Loss));
    m_kind->addItem(tr("Outage"), static_cast<int>(Kind::Outage));
    m_kind->setAccessibleName(tr("Drill kind"));
    m_amount->setAccessibleName(tr("Drill size"));
    m_duration->setRange(1, 3600);
    m_duration->setValue(60);
    m_duration->setSuffix(tr(" s"));
    m_duration->setAccessibleName(tr("Drill duration"));
    m_reason->setPlaceholderText(tr("Why? (required; goes to the audit log)"));
    m_reason->setAccessibleName(tr("Reason"));
    auto* form = new QFormLayout;
    form->addRow(tr("&Kind:"), m_kind);
    form->addRow(tr("&Size:"), m_amount);
    form->addRow(tr("D&uration:"), m_duration);
    form->addRow(tr("&Reason:"), m_reason);
    if ((m_confirm = addConfirmation(form, target)))
        connect(m_confirm, &QLineEdit::textChanged, this, &DrillDialog::refresh);
    layout->addLayout(form);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Start drill"));
    connect(m_kind, &QComboBox::currentIndexChanged, this, &DrillDialog::refresh);
    connect(m_reason, &QLineEdit::textChanged, this, &DrillDialog::refresh);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(m_buttons);
    refresh();
}

void DrillDialog::refresh()
{
    switch (kind()) {
    case Kind::Latency:
        m_amount->setEnabled(true);
        m_amount->setRange(1, 2000);
        m_amount->setSuffix(tr(" ms"));
        break;
    case Kind::Loss:
        m_amount->setEnabled(true);
        m_amount->setRange(0.1, 100);
        m_amount->setSuffix(tr(" %"));
        break;
    case Kind::Outage: m_amount->setEnabled(false); break;
    }
    // Only an outage takes the region away: only an outage asks for the typed confirmation.
    const bool outage = kind() == Kind::Outage;
    if (m_confirm)
        m_confirm->setEnabled(outage);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!reason().isEmpty() && (!outage || confirmed(m_where, m_confirm)));
}

DrillDialog::Kind DrillDialog::kind() const { return static_cast<Kind>(m_kind->currentData().toInt()); }
double DrillDialog::amount() const { return m_amount->value(); }
int DrillDialog::durationSeconds() const { return m_duration->value(); }
QString DrillDialog::reason() const { return m_reason->text().trimmed(); }

void DrillDialog::set(Kind kind, double amount, int durationSeconds, const QString& reason)
{
    m_kind->setCurrentIndex(m_kind->findData(static_cast<int>(kind)));
    m_amount->setValue(amount);
    m_duration->setValue(durationSeconds);
    m_reason->setText(reason);
}

} // namespace lv::widgets
