#include "widgets/tones.h"

#include <QApplication>
#include <QStyle>

#include <algorithm>
#include <cmath>

namespace lv::widgets {

namespace {
double luminance(const QColor& c)
{
    auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

QColor hueOf(Tone tone)
{
    switch (tone) {
    case Tone::Error: return QColor(0xc6, 0x28, 0x28);
    case Tone::Warning: return QColor(0xb2, 0x6a, 0x00);
    case Tone::Note: return QColor(0x15, 0x65, 0xc0);
    case Tone::Change: return QColor(0x6a, 0x1b, 0x9a);
    case Tone::Muted: return QColor(0x60, 0x60, 0x60);
    }
    return QColor(0x60, 0x60, 0x60);
}
} // namespace

double contrast(const QColor& a, const QColor& b)
{
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

bool isDark(const QPalette& palette) { return palette.color(QPalette::Window).lightnessF() < 0.5; }

QColor toneColour(Tone tone, const QPalette& palette)
{
    // Keep the hue, move the lightness away from the background until both backgrounds read.
    const QColor window = palette.color(QPalette::Window), base = palette.color(QPalette::Base);
    QColor c = hueOf(tone);
    const bool dark = isDark(palette);
    for (int step = 0; step < 40 && std::min(contrast(c, window), contrast(c, base)) < 4.5; ++step) {
        float h, s, l;
        c.getHslF(&h, &s, &l);
        c = QColor::fromHslF(h, s, std::clamp(l + (dark ? 0.025f : -0.025f), 0.0f, 1.0f));
    }
    return c;
}

QString toneStyle(Tone tone) { return QStringLiteral("color: %1;").arg(toneColour(tone, QApplication::palette()).name()); }

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x30), base(0x1e, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6), disabled(0x80, 0x80, 0x80);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x3a, 0x3c, 0x40));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x8a, 0xb4, 0xf8));
    p.setColor(QPalette::Highlight, QColor(0x35, 0x74, 0xf0));
    p.setColor(QPalette::HighlightedText, Qt::white);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

bool applyScheme(const QString& scheme)
{
    if (scheme == QLatin1String("dark") || scheme == QLatin1String("light")) {
        QApplication::setStyle(QStringLiteral("Fusion"));
        QApplication::setPalette(scheme == QLatin1String("dark") ? darkPalette() : QApplication::style()->standardPalette());
        return true;
    }
    return scheme.isEmpty() || scheme == QLatin1String("system");
}

} // namespace lv::widgets
