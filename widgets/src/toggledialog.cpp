#include "widgets/toggledialog.h"
#include "widgets/tones.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace lv::widgets {

ToggleDialog::ToggleDialog(const ToggleEditRequest& request, QWidget* parent)
    : QDialog(parent), m_request(request), m_change(new QLabel), m_notice(new QLabel), m_reason(new QLineEdit),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel))
{
    setWindowTitle(request.target.cluster.isEmpty() ? tr("Change %1").arg(request.title)
                                                    : tr("Change %1 for %2").arg(request.title.section(QLatin1Char(' '), 0, 0), request.target.where()));
    auto* layout = new QVBoxLayout(this);
    if (!request.target.cluster.isEmpty())
        addTargetHeader(layout, request.target);
    auto* description = new QLabel(request.description);
    description->setWordWrap(true);
    layout->addWidget(description);
    auto* form = new QFormLayout;
    QWidget* editor = nullptr;
    if (request.kind == ToggleEditRequest::Kind::Int) {
        m_number = new QSpinBox;
        m_number->setRange(static_cast<int>(request.min), static_cast<int>(request.max));
        m_number->setValue(static_cast<int>(request.current.toLongLong()));
        connect(m_number, &QSpinBox::valueChanged, this, &ToggleDialog::refresh);
        editor = m_number;
    } else {
        m_choice = new QComboBox;
        const QStringList values = request.kind == ToggleEditRequest::Kind::Bool ? QStringList{QStringLiteral("true"), QStringLiteral("false")}
                                                                                 : request.choices;
        for (const QString& v : values)
            m_choice->addItem(v.isEmpty() ? tr("(none)") : v, v);
        m_choice->setCurrentIndex(m_choice->findData(text(request.current)));
        connect(m_choice, &QComboBox::currentIndexChanged, this, &ToggleDialog::refresh);
        editor = m_choice;
    }
    editor->setAccessibleName(tr("New value"));
    form->addRow(tr("&New value:"), editor);
    m_reason->setPlaceholderText(tr("Why? (required; goes to the audit log)"));
    m_reason->setAccessibleName(tr("Reason"));
    connect(m_reason, &QLineEdit::textChanged, this, &ToggleDialog::refresh);
    form->addRow(tr("&Reason:"), m_reason);
    if ((m_confirm = addConfirmation(form, request.target)))
        connect(m_confirm, &QLineEdit::textChanged, this, &ToggleDialog::refresh);
    layout->addLayout(form);
    m_change->setAccessibleName(tr("Change summary"));
    layout->addWidget(m_change);
    m_notice->setWordWrap(true);
    m_notice->setVisible(false);
    m_notice->setAccessibleName(tr("Notice"));
    layout->addWidget(m_notice);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Apply"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &ToggleDialog::applyRequested);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(m_buttons);
    setMinimumWidth(480);
    refresh();
}

QString ToggleDialog::text(const QVariant& v) const
{
    if (m_request.kind == ToggleEditRequest::Kind::Bool)
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    return v.toString();
}

QVariant ToggleDialog::value() const
{
    switch (m_request.kind) {
    case ToggleEditRequest::Kind::Int: return static_cast<qint64>(m_number->value());
    case ToggleEditRequest::Kind::Bool: return m_choice->currentData().toString() == QStringLiteral("true");
    case ToggleEditRequest::Kind::Choice: return m_choice->currentData().toString();
    }
    return {};
}

QString ToggleDialog::reason() const { return m_reason->text().trimmed(); }

void ToggleDialog::setValue(const QVariant& v)
{
    if (m_number)
        m_number->setValue(static_cast<int>(v.toLongLong()));
    else
        m_choice->setCurrentIndex(m_choice->findData(text(v)));
}

void ToggleDialog::setReason(const QString& reason) { m_reason->setText(reason); }

void ToggleDialog::refresh()
{
    const QString from = text(m_request.current), to = text(value());
    m_change->setText(tr("%1:  %2  →  %3").arg(m_request.title, from.isEmpty() ? tr("(none)") : from, to.isEmpty() ? tr("(none)") : to));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!reason().isEmpty() && from != to && confirmed(m_request.target, m_confirm));
}

void ToggleDialog::setConflict(const QString& message, const QVariant& newerCurrent)
{
    m_request.current = newerCurrent;
    m_notice->setText(tr("Someone changed this first. %1\nYour change will now apply on top of theirs; apply again to confirm.").arg(message));
    m_notice->setStyleSheet(toneStyle(Tone::Warning));
    m_notice->setVisible(true);
    refresh();
    adjustSize();
}

void ToggleDialog::setError(const QString& message)
{
    m_notice->setText(message);
    m_notice->setStyleSheet(toneStyle(Tone::Error));
    m_notice->setVisible(true);
    adjustSize();
}

} // namespace lv::widgets
