"""A digest's data as words: a chat ``Reply`` (plain text; each adapter escapes it) and the values
the web page's template shows, in English or Welsh."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from cyswllt.i18n import babel_locale, normalise_language, t
from engagement.digest.themes import SIDES
from handlers.core import Fact, Reply, Section

CHAT_THEMES = 5
CHAT_YOU_SAID = 3


def _date(value: str | date, language: str, zone: ZoneInfo) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return format_date(value, format="long", locale=babel_locale(language))


def _name(item: dict[str, Any] | None, language: str, prefix: str = "name") -> str:
    if not item:
        return ""
    return item.get(f"{prefix}_{language}") or item.get(f"{prefix}_{'en' if language == 'cy' else 'cy'}") or ""


def title(data: dict[str, Any], language: str) -> str:
    consultation = _name(data["consultation"], language, "title")
    group = _name(data["group"], language) if data.get("group") else t(language, "digest.all_responses")
    return t(language, "digest.title", consultation=consultation, group=group)


def period(data: dict[str, Any], language: str, zone: ZoneInfo) -> str:
    return t(language, "digest.period", start=_date(data["period"]["start"], language, zone),
             end=_date(data["period"]["end"], language, zone))


def split(counts: dict[str, int], language: str) -> str:
    return t(language, "digest.split", **{s: counts.get(s, 0) for s in SIDES})


def languages(by_language: dict[str, Any], language: str, key: str | None = "total") -> str:
    parts = []
    for lang in ("cy", "en", "unknown"):
        if lang in by_language:
            n = by_language[lang][key] if key else by_language[lang]
            parts.append(f"{t(language, f'digest.language_{lang}')} {n}")
    return " · ".join(parts) or "0"


def theme_label(theme: dict[str, Any], language: str) -> str:
    return theme.get(f"label_{language}") or theme.get("label_en") or theme["key"]


def delta(n: int) -> str:
    return f"+{n}" if n > 0 else f"−{-n}" if n < 0 else "±0"


def quote_lines(quotes: dict[str, list[dict]], language: str) -> list[str]:
    lines = []
    for side in ("positive", "negative"):
        for q in quotes.get(side, []):
            lines.append(t(language, f"digest.quote_{side}", quote=q["text"]))
    return lines


def facts(data: dict[str, Any], language: str) -> list[Fact]:
    counts = data["counts"]
    out = [
        Fact(t(language, "digest.fact_period"), t(language, "common.responses", count=counts["period"])),
        Fact(t(language, "digest.fact_total"), t(language, "common.responses", count=counts["total"])),
        Fact(t(language, "digest.fact_languages"), languages(data["by_language"], language)),
        Fact(t(language, "digest.fact_sentiment_period"), split(data["sentiment"]["period"], language)),
        Fact(t(language, "digest.fact_sentiment_total"), split(data["sentiment"]["total"], language)),
    ]
    for key in ("pending", "hidden", "withdrawn", "duplicates"):
        if counts.get(key):
            out.append(Fact(t(language, f"digest.fact_{key}"), str(counts[key])))
    state = data.get("theme_set")
    if state is not None:
        when = _date(state["signed_off_at"], language, ZoneInfo("Europe/London")) if state.get("signed_off_at") else ""
        text = (t(language, "digest.themes_signed_off", date=when) if state["signed_off"]
                else t(language, "digest.themes_updated", date=when) if state.get("updated_since")
                else t(language, "digest.themes_draft"))
        out.append(Fact(t(language, "digest.fact_themes"), text))
    return out


def changes_text(data: dict[str, Any], language: str, zone: ZoneInfo) -> str:
    changes = data.get("changes")
    if not changes:
        return t(language, "digest.first_digest")
    lines = [t(language, "digest.changes_counts", since=_date(changes["previous_end"], language, zone),
               total=delta(changes["total"]), **{s: delta(changes["sentiment"][s]) for s in SIDES})]
    if changes["new_themes"]:
        lines.append(t(language, "digest.new_themes",
                       themes=", ".join(theme_label(th, language) for th in changes["new_themes"])))
    return "\n".join(lines)


def welsh_text(data: dict[str, Any], language: str) -> str:
    welsh = data["welsh_language"]
    if not welsh["count"]:
        return t(language, "digest.welsh_none")
    lines = [t(language, "digest.welsh_summary", answers=t(language, "digest.answers", count=welsh["count"]),
               split=split(welsh["sentiment"], language))]
    if welsh["themes"]:
        lines.append(t(language, "digest.welsh_themes",
                       themes=", ".join(f"{theme_label(th, language)} ({th['count']})" for th in welsh["themes"])))
    lines += quote_lines(welsh["quotes"], language)
    return "\n".join(lines)


def you_said_lines(data: dict[str, Any], language: str, limit: int | None = None) -> list[str]:
    items = sorted(data.get("you_said_we_did", []), key=lambda i: (not i.get("new"), i["created_at"]))
    lines = []
    for item in items[:limit]:
        lines.append(t(language, "digest.you_said_item", theme=item.get(f"label_{language}") or item["theme"],
                       you_said=item[f"you_said_{language}"], we_did=item[f"we_did_{language}"],
                       new=t(language, "digest.new_marker") if item.get("new") else ""))
    return lines


def chat_reply(data: dict[str, Any], language: str, *, timezone_name: str = "Europe/London",
               link: str | None = None, image_url: str | None = None, image_alt: str | None = None,
               workbench: str | None = None) -> Reply:
    """The digest as a chat message: summary facts, the main themes with both sides, the
    Welsh-language answers, changes since last time, "you said, we did" and the web page's link."""
    language = normalise_language(language)
    zone = ZoneInfo(timezone_name)
    heading = title(data, language)
    sections = [Section(heading=heading, text=period(data, language, zone), facts=facts(data, language))]
    if data.get("overall"):
        overall = data["overall"]
        sections[0].facts.append(Fact(t(language, "digest.fact_overall"), t(
            language, "digest.overall", responses=t(language, "common.responses", count=overall["counts"]["total"]),
            split=split(overall["sentiment"]["total"], language))))
    themes = data["themes"][:CHAT_THEMES]
    if themes:
        sections.append(Section(heading=t(language, "digest.themes_heading"), text=t(language, "digest.themes_note")))
    else:
        sections.append(Section(heading=t(language, "digest.themes_heading"), text=t(language, "digest.no_themes")))
    for theme in themes:
        lines = [t(language, "digest.theme_counts", responses=t(language, "common.responses", count=theme["count"]),
                   split=split(theme["sentiment"], language))]
        lines += quote_lines(theme["quotes"], language)
        if theme["sentiment"]["negative"] and not theme["quotes"]["negative"]:
            lines.append(t(language, "digest.negative_unquoted", count=theme["sentiment"]["negative"]))
        sections.append(Section(heading=theme_label(theme, language), text="\n".join(lines)))
    sections.append(Section(heading=t(language, "digest.welsh_heading"), text=welsh_text(data, language)))
    sections.append(Section(heading=t(language, "digest.changes_heading"), text=changes_text(data, language, zone)))
    said = you_said_lines(data, language, CHAT_YOU_SAID)
    if said:
        sections.append(Section(heading=t(language, "digest.you_said_heading"), text="\n\n".join(said)))
    if link:
        sections.append(Section(text=t(language, "digest.link", url=link)))
    if workbench:
        sections.append(Section(text=t(language, "digest.workbench_link", url=workbench)))
    summary = "\n".join(f"{f.label}: {f.value}" for f in sections[0].facts)
    text = "\n\n".join(filter(None, [heading, period(data, language, zone), summary] +
                              [f"{s.heading}\n{s.text}" if s.heading else s.text for s in sections[1:]]))
    return Reply(language=language, text=text, sections=sections, ephemeral=False, image_url=image_url,
                 image_alt=image_alt)


def page_values(data: dict[str, Any], language: str, timezone_name: str = "Europe/London") -> dict[str, Any]:
    """What the digest page shows, worded in ``language`` (the template escapes every value)."""
    zone = ZoneInfo(timezone_name)
    themes = [{"label": theme_label(th, language), "count": th["count"], "period_count": th["period_count"],
               "sentiment": th["sentiment"], "split": split(th["sentiment"], language),
               "positive": th["quotes"]["positive"], "negative": th["quotes"]["negative"],
               "negative_unquoted": th["sentiment"]["negative"] and not th["quotes"]["negative"],
               # What people wrote, in each language they wrote in: the reader's first.
               "summaries": [{"language": lang, "heading": t(language, "digest.page.summary_in",
                                                            language=t(language, f"digest.language_{lang}")),
                              "sentences": sentences}
                             for lang, sentences in sorted((th.get("summary") or {}).items(),
                                                           key=lambda kv: kv[0] != language) if sentences]}
              for th in data["themes"]]
    groups = [{"name": _name(g, language) or t(language, "digest.no_group"), "period": g["period"], "total": g["total"]}
              for g in data["by_group"]]
    welsh = data["welsh_language"]
    return {
        "title": title(data, language),
        "period": period(data, language, zone),
        "facts": facts(data, language),
        "themes": themes,
        "groups": groups,
        "welsh": {"count": welsh["count"], "split": split(welsh["sentiment"], language),
                  "themes": [f"{theme_label(th, language)} ({th['count']})" for th in welsh["themes"]],
                  "positive": welsh["quotes"]["positive"], "negative": welsh["quotes"]["negative"]},
        "changes": changes_text(data, language, zone).split("\n"),
        "you_said": [{"theme": i.get(f"label_{language}") or i["theme"], "you_said": i[f"you_said_{language}"], "we_did": i[f"we_did_{language}"],
                      "new": i.get("new")} for i in data.get("you_said_we_did", [])],
        "timeline": data["timeline"],
    }
