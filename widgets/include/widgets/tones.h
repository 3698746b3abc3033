#pragma once

#include <QColor>
#include <QPalette>
#include <QString>

namespace lv::widgets {

/// What a coloured text or mark means; the colour for it comes from the palette in use, so the
/// same meaning reads on a light and on a dark scheme (the hue stays, the lightness follows).
enum class Tone { Error, Warning, Note, Change, Muted };

bool isDark(const QPalette& palette);
/// A text colour for `tone` with at least 4.5:1 contrast (WCAG AA) on the palette's window and base.
QColor toneColour(Tone tone, const QPalette& palette);
/// "color: #rrggbb;" for a label's style sheet, from the application's palette.
QString toneStyle(Tone tone);
/// WCAG contrast ratio of two colours (1 to 21).
double contrast(const QColor& a, const QColor& b);
/// The dark palette the console uses when asked for a dark scheme (Fusion style).
QPalette darkPalette();
/// "dark" or "light": the Fusion style with that palette; anything else ("system"): the
/// platform's style and palette, as the desktop sets them. Returns false for an unknown name.
bool applyScheme(const QString& scheme);

} // namespace lv::widgets
