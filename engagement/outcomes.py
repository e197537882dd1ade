"""What happened to a consultation once it closed, in public: the archive of closed consultations,
each one's outcome (how many responded, the themes they raised, "you said, we did") and its results
as open data (counts only, never response text, small counts suppressed).

The figures are the digest's own aggregates over every response (``engagement.digest.build``), so the
public page, the open data and the coordinators' digests agree. A closed consultation changes little
(a withdrawal, a moderation decision), so its outcome is kept for a few minutes per process.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from engagement.digest.build import build_data
from engagement.digest.themes import SIDES
from engagement.spreadsheet import cell
from storage.models import Consultation

# Open data: counts below this are shown as "<5", so no small group of respondents can be singled out.
SUPPRESS_BELOW = 5
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
OUTCOME_TTL = 300.0  # seconds a closed consultation's outcome is reused
THEMES_SHOWN = 50  # themes in the outcome and the open data (every theme two or more people raised)
LANGUAGE_NAMES = {"en": ("English", "Saesneg"), "cy": ("Welsh", "Cymraeg")}
SIDE_NAMES = {"positive": ("Positive", "Cadarnhaol"), "neutral": ("Neutral", "Niwtral"),
              "negative": ("Negative", "Negyddol")}
CSV_COLUMNS = ["dimension", "key", "label_en", "label_cy", "responses", "positive", "neutral", "negative"]


@dataclass
class Outcome:
    total: int
    by_language: dict[str, int]
    sentiment: dict[str, int]
    groups: list[dict[str, Any]]  # slug, name_en, name_cy, responses
    themes: list[dict[str, Any]]  # key, label_en, label_cy, responses, sentiment
    you_said_we_did: list[dict[str, Any]]


_outcomes: dict[tuple[int, int], tuple[float, Outcome]] = {}


async def list_closed(session: AsyncSession, now: datetime) -> list[Consultation]:
    """Closed consultations, the most recently closed first."""
    return list((await session.exec(select(Consultation).where(Consultation.closes_at <= now)
                                    .order_by(Consultation.closes_at.desc(), Consultation.id.desc()))).all())


async def outcome(session: AsyncSession, consultation: Consultation, now: datetime, *,
                  timezone_name: str = "Europe/London") -> Outcome:
    key = (id(session.bind), consultation.id)
    hit = _outcomes.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    data = await build_data(session, consultation, None, now, timezone_name=timezone_name, top=THEMES_SHOWN)
    result = Outcome(
        total=data["counts"]["total"],
        by_language={lang: n["total"] for lang, n in data["by_language"].items()},
        sentiment={side: data["sentiment"]["total"][side] for side in SIDES},
        groups=[{"slug": g["slug"], "name_en": g["name_en"], "name_cy": g["name_cy"], "responses": g["total"]}
                for g in data["by_group"] if g["slug"] is not None],
        themes=[{"key": theme["key"], "label_en": theme["label_en"], "label_cy": theme["label_cy"],
                 "responses": theme["count"], "sentiment": theme["sentiment"]} for theme in data["themes"]],
        you_said_we_did=data["you_said_we_did"],
    )
    _outcomes[key] = (time.monotonic() + OUTCOME_TTL, result)
    return result


def forget(consultation_id: int | None = None) -> None:
    """Drop remembered outcomes (after a moderation decision or an edit that should show at once)."""
    for key in [k for k in _outcomes if consultation_id is None or k[1] == consultation_id]:
        del _outcomes[key]


def shown(count: int) -> str:
    """A count as published: "<5" below the threshold, so nobody can be singled out."""
    return f"<{SUPPRESS_BELOW}" if count < SUPPRESS_BELOW else str(count)


def results_rows(consultation: Consultation, result: Outcome) -> list[list[str]]:
    """The open data: one row per count, by group, language, sentiment and theme."""
    rows = [CSV_COLUMNS,
            ["total", consultation.slug, consultation.title_en, consultation.title_cy, shown(result.total),
             *[shown(result.sentiment[side]) for side in SIDES]]]
    for group in result.groups:
        rows.append(["group", group["slug"], group["name_en"], group["name_cy"], shown(group["responses"]),
                     "", "", ""])
    for lang, count in sorted(result.by_language.items()):
        rows.append(["language", lang, LANGUAGE_NAMES.get(lang, ("Not known", "Anhysbys"))[0],
                     LANGUAGE_NAMES.get(lang, ("Not known", "Anhysbys"))[1], shown(count), "", "", ""])
    for side in SIDES:
        rows.append(["sentiment", side, *SIDE_NAMES[side], shown(result.sentiment[side]), "", "", ""])
    for theme in result.themes:
        rows.append(["theme", theme["key"], theme["label_en"], theme["label_cy"], shown(theme["responses"]),
                     *[shown(theme["sentiment"][side]) for side in SIDES]])
    return rows


def results_csv(consultation: Consultation, result: Outcome) -> str:
    """``results_rows`` as RFC 4180 CSV; every cell stays text in a spreadsheet (theme labels are
    citizens' words)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([[cell(value) for value in row] for row in results_rows(consultation, result)])
    return out.getvalue()
