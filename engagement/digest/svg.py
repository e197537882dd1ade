"""The digest chart as SVG, for the page and the PDF: sentiment per theme above responses per day,
stacked in one narrow drawing so it reads at 390 px without zooming and scales up on a desk.

Drawn by hand (no plotting library) so every label is real text, each day appears once, ticks fall on
whole numbers, and colour is never the only signal: the Okabe–Ito palette, which people with the
common colour-vision deficiencies can tell apart, plus a pattern per side (plain, dots, hatching) and
a legend above the bars, never on them. Theme labels are citizens' words and are escaped.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from babel.dates import format_date

from cyswllt.i18n import babel_locale, t
from engagement.digest.render import theme_label

WIDTH = 400  # drawing units: one unit is about one CSS pixel on a phone
MARGIN = 12
FONT = 13
SIDES = ("positive", "neutral", "negative")
CHART_THEMES = 8
# Okabe–Ito blue, grey, vermilion (the PNG uses the same), each with its own fill pattern.
COLOURS = {"positive": "#0072B2", "neutral": "#8C8C8C", "negative": "#D55E00"}
INK = "#0b0c0c"
GRID = "#b1b4b6"
MAX_DAY_LABELS = 6


def _text(x: float, y: float, words: str, *, size: int = FONT, anchor: str = "start", weight: str = "normal",
          fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{fill}">{escape(words)}</text>')


def _patterns() -> str:
    """Fills: plain blue; grey with white dots; vermilion with white diagonal hatching."""
    return ('<defs>'
            f'<pattern id="p-positive" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{COLOURS["positive"]}"/></pattern>'
            f'<pattern id="p-neutral" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{COLOURS["neutral"]}"/><circle cx="3" cy="3" r="1.2" fill="#fff"/></pattern>'
            f'<pattern id="p-negative" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="{COLOURS["negative"]}"/><rect width="2" height="6" fill="#fff"/></pattern>'
            '</defs>')


def _short(label: str, width: int = 44) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _nice_step(top: int, ticks: int = 4) -> int:
    """A whole-number gridline step giving at most ``ticks`` lines up to ``top``: 1, 2, 5, 10, 20…"""
    step = 1
    while top / step > ticks:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if top / step <= ticks:
                break
    return max(1, step)


def _themes(themes: list[dict[str, Any]], language: str, top: float) -> tuple[list[str], float]:
    parts = [_text(MARGIN, top + FONT + 2, t(language, "digest.chart_themes_title"), size=FONT + 2, weight="bold")]
    y = top + FONT + 14
    # The legend, on its own line above the bars.
    x = MARGIN
    for side in SIDES:
        label = t(language, f"digest.chart_{side}")
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="url(#p-{side})" stroke="{INK}" stroke-width="0.5"/>')
        parts.append(_text(x + 19, y + 12, label, size=FONT - 1))
        x += 19 + len(label) * 7 + 16
    y += 30
    if not themes:
        parts.append(_text(MARGIN, y + FONT, t(language, "digest.no_themes")))
        return parts, y + FONT + 14
    biggest = max(sum(th["sentiment"][side] for side in SIDES) for th in themes) or 1
    span = WIDTH - 2 * MARGIN - 40  # room for the total at the end of each bar
    for th in themes:
        counts = [th["sentiment"][side] for side in SIDES]
        total = sum(counts)
        parts.append(_text(MARGIN, y + FONT, _short(theme_label(th, language))))
        y += FONT + 5
        x = MARGIN
        for side, n in zip(SIDES, counts):
            if not n:
                continue
            width = span * n / biggest
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="18" fill="url(#p-{side})" '
                         f'stroke="#fff" stroke-width="1"><title>{escape(t(language, f"digest.chart_{side}"))}: {n}</title></rect>')
            x += width
        parts.append(_text(x + 6, y + 14, str(total), size=FONT - 1))
        y += 30
    return parts, y


def _days(timeline: list[dict[str, Any]], language: str, top: float) -> tuple[list[str], float]:
    parts = [_text(MARGIN, top + FONT + 2, t(language, "digest.chart_time_title"), size=FONT + 2, weight="bold")]
    y0 = top + FONT + 14
    if not timeline:
        parts.append(_text(MARGIN, y0 + FONT, t(language, "digest.alt_no_time")))
        return parts, y0 + FONT + 14
    counts = {d["day"]: d["count"] for d in timeline}
    first, last = date.fromisoformat(timeline[0]["day"]), date.fromisoformat(timeline[-1]["day"])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]  # quiet days drawn as nought
    height, axis = 140.0, 30
    left, right = MARGIN + axis, WIDTH - MARGIN
    biggest = max(counts.values()) or 1
    step = _nice_step(biggest)
    ceiling = step * -(-biggest // step)
    base = y0 + height
    for value in range(0, ceiling + 1, step):  # whole-number gridlines, labelled on the left
        gy = base - height * value / ceiling
        parts.append(f'<line x1="{left}" y1="{gy:.1f}" x2="{right}" y2="{gy:.1f}" stroke="{GRID}" stroke-width="0.75"/>')
        parts.append(_text(left - 5, gy + 4, str(value), size=FONT - 2, anchor="end"))
    slot = (right - left) / len(days)
    bar = max(1.0, min(28.0, slot * 0.7))
    locale = babel_locale(language)
    label_every = max(1, -(-len(days) // MAX_DAY_LABELS))
    for i, day in enumerate(days):
        n = counts.get(day.isoformat(), 0)
        x = left + slot * i + (slot - bar) / 2
        h = height * n / ceiling
        name = format_date(day, "d MMM", locale=locale)
        if n:
            parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS["positive"]}"><title>{escape(name)}: {n}</title></rect>')
        if i % label_every == 0:  # each date once, no more than MAX_DAY_LABELS of them
            parts.append(_text(x + bar / 2, base + FONT + 4, name, size=FONT - 2, anchor="middle"))
    parts.append(_text(left, base + 2 * FONT + 12, t(language, "digest.chart_responses_axis"), size=FONT - 2))
    return parts, base + 2 * FONT + 20


def render_svg(data: dict[str, Any], language: str, *, title: str, description: str) -> str:
    """One SVG document: the themes chart, then responses per day; ``title`` and ``description`` are
    its accessible name and text alternative (the same alt text the PNG carries)."""
    themes_parts, y = _themes(data["themes"][:CHART_THEMES], language, MARGIN)
    day_parts, y = _days(data["timeline"], language, y + 16)
    height = int(y + MARGIN)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" aria-labelledby="chart-title chart-desc" '
            f'font-family="Arial, Helvetica, \'DejaVu Sans\', sans-serif" lang={quoteattr(language)}>'
            f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(description)}</desc>'
            f'{_patterns()}<rect width="{WIDTH}" height="{height}" fill="#fff"/>'
            + "".join(themes_parts) + "".join(day_parts) + "</svg>")
