#include "sandboxpanel.h"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace lv::console {

SandboxPanel::SandboxPanel(ConsoleSession& session, QWidget* parent)
    : QWidget(parent), m_session(session), m_state(new QLabel), m_start(new QPushButton(tr("&Start sandbox"))),
      m_stop(new QPushButton(tr("S&top sandbox"))), m_regions(new QSpinBox), m_bots(new QSpinBox)
{
    m_regions->setRange(1, 8);
    m_regions->setValue(3);
    m_regions->setSuffix(tr(" regions"));
    m_regions->setAccessibleName(tr("Sandbox regions"));
    m_bots->setRange(0, 500);
    m_bots->setValue(20);
    m_bots->setSuffix(tr(" bots each"));
    m_bots->setAccessibleName(tr("Bots per sandbox region"));
    connect(m_start, &QPushButton::clicked, this, [this] {
        QString error;
        if (!m_session.startSandbox(SandboxConfig::sized(m_regions->value(), m_bots->value()), error))
            emit message(tr("The sandbox did not start: %1").arg(error));
        rebuild();
    });
    connect(m_stop, &QPushButton::clicked, this, [this] {
        m_session.stopSandbox();
        rebuild();
    });
    m_start->setAccessibleName(tr("Start the local sandbox"));
    m_stop->setAccessibleName(tr("Stop the local sandbox"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_state, 1);
    buttons->addWidget(m_regions);
    buttons->addWidget(m_bots);
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addStretch(1);
    rebuild();
}

void SandboxPanel::rebuild()
{
    delete m_grid;
    m_grid = nullptr;
    m_rows.clear();
    Sandbox* sandbox = m_session.sandbox();
    m_start->setEnabled(!sandbox);
    m_regions->setEnabled(!sandbox);
    m_bots->setEnabled(!sandbox);
    m_stop->setEnabled(sandbox != nullptr);
    if (!sandbox) {
        m_state->setText(tr("No sandbox running. Start one to get regions with bots on this machine."));
        return;
    }
    m_state->setText(tr("Sandbox running: %n region(s), each with its own bots over real UDP on loopback.", nullptr,
                        static_cast<int>(sandbox->config().regions.size())));
    m_grid = new QWidget;
    auto* grid = new QGridLayout(m_grid);
    const QStringList headers{tr("Region"), tr("Latency (ms, one way)"), tr("Jitter (ms)"), tr("Loss (%)"), tr("Bandwidth cap (kbit/s, 0 = none)")};
    for (int c = 0; c < headers.size(); ++c)
        grid->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(headers[c])), 0, c);
    int line = 1;
    for (const SandboxRegion& region : sandbox->config().regions) {
        const QString name = QString::fromStdString(region.name);
        auto spin = [&](double value, double max, const QString& what) {
            auto* box = new QDoubleSpinBox;
            box->setRange(0, max);
            box->setDecimals(1);
            box->setValue(value);
            box->setAccessibleName(tr("%1 for %2").arg(what, name));
            return box;
        };
        Row row{name, spin(region.network.latencyMs, 2000, tr("Latency")), spin(region.network.jitterMs, 1000, tr("Jitter")),
                spin(region.network.lossPercent, 100, tr("Loss")), spin(region.network.bandwidthKbps, 100000, tr("Bandwidth cap"))};
        grid->addWidget(new QLabel(name), line, 0);
        grid->addWidget(row.latency, line, 1);
        grid->addWidget(row.jitter, line, 2);
        grid->addWidget(row.loss, line, 3);
        grid->addWidget(row.bandwidth, line, 4);
        auto* apply = new QPushButton(tr("Apply"));
        apply->setAccessibleName(tr("Apply the network of %1").arg(name));
        connect(apply, &QPushButton::clicked, this, [this, row] {
            this->apply(row.region, row.latency->value(), row.jitter->value(), row.loss->value(), row.bandwidth->value());
        });
        grid->addWidget(apply, line, 5);
        m_rows.push_back(row);
        ++line;
    }
    static_cast<QVBoxLayout*>(layout())->insertWidget(1, m_grid);
}

bool SandboxPanel::apply(const QString& region, double latencyMs, double jitterMs, double lossPercent, double bandwidthKbps)
{
    Sandbox* sandbox = m_session.sandbox();
    if (!sandbox)
        return false;
    ConditionerSettings network;
    network.latencyMs = latencyMs;
    network.jitterMs = jitterMs;
    network.lossPercent = lossPercent;
    network.bandwidthKbps = bandwidthKbps;
    const bool ok = sandbox->setNetwork(region.toStdString(), network);
    for (Row& row : m_rows)
        if (row.region == region) {
            row.latency->setValue(latencyMs);
            row.jitter->setValue(jitterMs);
            row.loss->setValue(lossPercent);
            row.bandwidth->setValue(bandwidthKbps);
        }
    emit message(ok ? tr("%1: bots now see %2 ms ± %3, %4 % loss").arg(region).arg(latencyMs).arg(jitterMs).arg(lossPercent)
                    : tr("No sandbox region named %1").arg(region));
    return ok;
}

} // namespace lv::console
