"""The digest chart (PNG): sentiment by theme beside responses per day, drawn with matplotlib's Agg
canvas on a ``Figure`` of its own (no pyplot state, so charts can be drawn in threads), and alt
text that says what the chart shows in the digest's language."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date

from cyswllt.i18n import babel_locale, t
from engagement.digest.render import theme_label

CHART_THEMES = 8
# Colour-blind-safe (Okabe–Ito) blue / grey / vermilion, with hatching so colour is not the only signal.
COLOURS = {"positive": "#0072B2", "neutral": "#999999", "negative": "#D55E00"}
HATCHES = {"positive": "", "neutral": "..", "negative": "//"}


def render_png(data: dict[str, Any], language: str) -> bytes:
    """The chart for chat (uploaded, linked or attached, as each platform's registration says): the same two panels as the page's
    SVG, side by side, each day once on the time axis, whole-number ticks and the legend above the bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    themes = data["themes"][:CHART_THEMES]
    figure = Figure(figsize=(11, 5.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, width_ratios=[3, 2])
    labels = [_short(theme_label(th, language)) for th in reversed(themes)]
    start = [0] * len(themes)
    for side in ("positive", "neutral", "negative"):
        values = [th["sentiment"][side] for th in reversed(themes)]
        left.barh(labels, values, left=start, color=COLOURS[side], hatch=HATCHES[side], edgecolor="white",
                  label=t(language, f"digest.chart_{side}"))
        start = [a + b for a, b in zip(start, values)]
    left.set_title(t(language, "digest.chart_themes_title"), loc="left", pad=28)
    left.set_xlabel(t(language, "digest.chart_responses_axis"))
    if themes:  # above the bars, outside the axes: it never hides one
        left.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False, borderaxespad=0.2)
    else:
        left.text(0.5, 0.5, t(language, "digest.no_themes"), ha="center", va="center", transform=left.transAxes)
    days, counts = _every_day(data["timeline"])
    right.bar(range(len(days)), counts, color=COLOURS["positive"], width=0.7)
    right.set_title(t(language, "digest.chart_time_title"), loc="left", pad=28)
    right.set_ylabel(t(language, "digest.chart_responses_axis"))
    step = max(1, -(-len(days) // 6))  # each date once, at most six of them
    ticks = list(range(0, len(days), step))
    right.set_xticks(ticks, [format_date(days[i], "d MMM", locale=babel_locale(language)) for i in ticks])
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.tick_params(axis="x", labelsize=9)
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _every_day(timeline: list[dict[str, Any]]) -> tuple[list[date], list[int]]:
    """Each day from the first response to the last, quiet days as nought."""
    if not timeline:
        return [], []
    counts = {d["day"]: d["count"] for d in timeline}
    first, last = date.fromisoformat(timeline[0]["day"]), date.fromisoformat(timeline[-1]["day"])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return days, [counts.get(day.isoformat(), 0) for day in days]


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def alt_text(data: dict[str, Any], language: str) -> str:
    """What the chart shows, in words: each theme's split and the busiest day."""
    themes = data["themes"][:CHART_THEMES]
    parts = [t(language, "digest.alt_intro", count=len(themes))]
    if themes:
        parts.append("; ".join(t(language, "digest.alt_theme", theme=theme_label(th, language),
                                 **th["sentiment"]) for th in themes) + ".")
    days = data["timeline"]
    if days:
        busiest = max(days, key=lambda d: d["count"])
        locale = babel_locale(language)
        if len(days) == 1:
            parts.append(t(language, "digest.alt_one_day", total=busiest["count"],
                           day=format_date(date.fromisoformat(busiest["day"]), "d MMMM y", locale=locale)))
            return " ".join(parts)
        parts.append(t(language, "digest.alt_time", total=sum(d["count"] for d in days),
                       first=format_date(date.fromisoformat(days[0]["day"]), "d MMMM y", locale=locale),
                       last=format_date(date.fromisoformat(days[-1]["day"]), "d MMMM y", locale=locale),
                       day=format_date(date.fromisoformat(busiest["day"]), "d MMMM y", locale=locale),
                       most=busiest["count"]))
    else:
        parts.append(t(language, "digest.alt_no_time"))
    return " ".join(parts)
