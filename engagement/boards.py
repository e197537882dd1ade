"""A published board's public pages: ``/boards/{slug}`` (priorities, actions, RAG history, meetings),
``/boards/{slug}/scrutiny`` (the scrutiny register and forward work programme) and its open data,
``/boards/{slug}/actions.csv`` and ``.json`` under the Open Government Licence. English and Welsh, no
JavaScript; an unpublished or unknown board is 404. Public fields only (``storage.public``)."""

from __future__ import annotations

import csv
import io
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_date
from markupsafe import Markup, escape

from cyswllt.appkeys import DB, SETTINGS
from cyswllt.i18n import babel_locale, t
from cyswllt.openapi import describe
from engagement.pages import language, render
from storage.models import utcnow
from storage.public import (
    RAGS,
    PublicAction,
    PublicBoard,
    board_page,
    local_day,
    published_board,
    scrutiny_register,
)

# Each board's RAG history as last worked out, by what it depends on (``storage.public.history_key``).
HISTORIES = web.AppKey("board_histories", dict)
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
RAG_COLOURS = {"red": "#d4351c", "amber": "#f47738", "green": "#00703c", "complete": "#1d70b8", None: "#b1b4b6"}
CSV_COLUMNS = ("ref", "priority_ref", "title", "title_cy", "lead", "due", "due_text", "rag", "last_update",
               "public_summary", "public_summary_date")


def pick(lang: str, english: str | None, welsh: str | None) -> dict[str, Any]:
    """The reader's language if there is one, else the other with a visible marker (and its lang)."""
    if lang == "cy" and welsh:
        return {"text": welsh, "lang": "cy", "marker": None}
    if lang == "en" and english:
        return {"text": english, "lang": "en", "marker": None}
    if english or welsh:
        other = "en" if lang == "cy" else "cy"
        return {"text": english or welsh if lang == "cy" else welsh or english, "lang": other,
                "marker": t(lang, "common.fallback_marker")}
    return {"text": "", "lang": lang, "marker": None}


@lru_cache(maxsize=8192)
def _date(day: date | None, lang: str) -> str:
    # Babel's formatting is slow and a plan repeats its dates: each is worked out once.
    return format_date(day, format="long", locale=babel_locale(lang)) if day else ""


@lru_cache(maxsize=1024)
def _month(day: date, lang: str) -> str:
    return format_date(day, format="LLLL y", locale=babel_locale(lang))


@lru_cache(maxsize=16)
def _rag(rag: str | None, lang: str) -> str:
    return t(lang, f"common.rag_{rag}" if rag else "common.rag_none")


def history_alt(board: PublicBoard, lang: str) -> str:
    if not board.history:
        return t(lang, "boards.history_none")
    last = board.history[-1]
    counts = ", ".join(f"{last.counts[r]} {_rag(r, lang)}" for r in RAGS)
    return t(lang, "boards.history_alt", first=_month(board.history[0].month_end, lang),
             last=_month(last.month_end, lang), counts=counts)


def history_svg(board: PublicBoard, lang: str) -> Markup:
    """A stacked bar per month (drawn on the server: no script, no image request). Its words are in
    the alt text and the table beside it; the colours carry no meaning the table does not."""
    points = board.history
    if not points:
        return Markup("")
    width, height, left, bottom, top = 720, 300, 40, 40, 20
    most = max(1, max(sum(p.counts.values()) for p in points))
    slot = (width - left - 10) / len(points)
    bar = min(60.0, max(8.0, slot * 0.6))  # one month alone is a bar, not a wall
    parts = [f'<svg class="rag-chart" viewBox="0 0 {width} {height + 60}" role="img" '
             f'aria-labelledby="rag-chart-title rag-chart-desc" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="rag-chart-title">{escape(t(lang, "boards.history_heading"))}</title>',
             f'<desc id="rag-chart-desc">{escape(history_alt(board, lang))}</desc>']
    scale = (height - bottom - top) / most
    for i, point in enumerate(points):
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom
        for rag in RAGS:
            n = point.counts[rag]
            if not n:
                continue
            h = n * scale
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{RAG_COLOURS[rag]}" '
                         f'stroke="#ffffff" stroke-width="1"/>')
        label = format_date(point.month_end, format="MMM yy", locale=babel_locale(lang))
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" '
                     f'fill="#0b0c0c">{escape(label)}</text>')
    parts.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#0b0c0c"/>')
    parts.append(f'<text x="{left - 6}" y="{top + 4}" font-size="11" text-anchor="end" fill="#0b0c0c">{most}</text>')
    parts.append(f'<text x="{left - 6}" y="{height - bottom}" font-size="11" text-anchor="end" fill="#0b0c0c">0</text>')
    # The legend: a swatch and the word for each status.
    for i, rag in enumerate(RAGS):
        x = left + i * 135
        parts.append(f'<rect x="{x}" y="{height + 20}" width="14" height="14" fill="{RAG_COLOURS[rag]}"/>')
        parts.append(f'<text x="{x + 20}" y="{height + 32}" font-size="12" fill="#0b0c0c">{escape(_rag(rag, lang))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _picked_html(p: dict[str, Any]) -> str:
    html = f'<span lang="{p["lang"]}">{escape(p["text"])}</span>'
    return html + f' <span class="fallback">{escape(p["marker"])}</span>' if p["marker"] else html


def action_row(a: PublicAction, lang: str) -> str:
    """One action as a table row. Built here rather than in the template: a plan has hundreds of rows,
    and this is the page's hot loop (every value escaped, the same markup the template would make)."""
    cells = [f'<th scope="row">{escape(a.ref)}</th>']
    title = _picked_html(pick(lang, a.title, a.title_cy))
    if a.public_summary:
        title += (f'<p class="summary"><strong>{escape(t(lang, "boards.latest_summary", date=_date(a.public_summary_on, lang)))}'
                  f'</strong> {escape(a.public_summary)}</p>')
    cells.append(f"<td>{title}</td>")
    cells.append(f'<td><span class="rag rag-{a.rag or "none"}">{escape(_rag(a.rag, lang))}</span></td>')
    cells.append(f"<td>{escape(', '.join(a.leads)) or '—'}</td>")
    due = [escape(_date(a.due, lang))] if a.due else []
    if a.due_text:
        due.append(f'<span class="meta">{escape(t(lang, "boards.by_when", words=a.due_text))}</span>')
    cells.append(f"<td>{'<br>'.join(due) or '—'}</td>")
    cells.append(f"<td>{escape(_date(a.last_update, lang)) if a.last_update else escape(t(lang, 'boards.no_update'))}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def action_view(a: PublicAction, lang: str) -> Markup:
    return Markup(action_row(a, lang))


def page_values(board: PublicBoard, lang: str, today: date) -> dict[str, Any]:
    priorities = [{"ref": p.ref, "title": pick(lang, p.title, p.title_cy), "scope": p.scope,
                   "actions": [action_view(a, lang) for a in p.actions]} for p in board.priorities]
    return {
        "name": pick(lang, board.name, board.name_cy), "slug": board.slug,
        "local": [p for p in priorities if p["scope"] != "national"],
        "national": [p for p in priorities if p["scope"] == "national"],
        "other": [action_view(a, lang) for a in board.unprioritised],
        "chart": history_svg(board, lang), "history": [
            {"month": _month(h.month_end, lang), "counts": [h.counts[r] for r in RAGS], "total": sum(h.counts.values())}
            for h in board.history],
        "rag_words": [_rag(r, lang) for r in RAGS],
        "upcoming": [{"date": _date(d, lang), "kind": t(lang, f"boards.meeting_{kind}")}
                     for d, kind in board.meetings if d >= today],
        "past": [{"date": _date(d, lang), "kind": t(lang, f"boards.meeting_{kind}")}
                 for d, kind in reversed(board.meetings) if d < today],
    }


async def _board(request: web.Request):
    async with request.app[DB].session() as session:
        return await published_board(session, request.match_info["slug"])


def _missing(request: web.Request, lang: str) -> web.Response:
    return render(request, "board_missing.html", lang, status=404)


async def board_html(request: web.Request) -> web.Response:
    lang = language(request)
    settings = request.app[SETTINGS]
    now = utcnow()
    async with request.app[DB].session() as session:
        board = await published_board(session, request.match_info["slug"])
        if board is None:
            return _missing(request, lang)
        public = await board_page(session, board, now, settings.timezone, request.app[HISTORIES])
        from engagement.reports import published_reports  # the reports module uses this one's pick()

        reports = await published_reports(session, board.id)
    zone = ZoneInfo(settings.timezone)
    values = page_values(public, lang, local_day(now, zone))
    values["reports"] = [{"year": r.year_label, "published": _date(local_day(r.published_at, zone), lang)}
                         for r in reports]
    return render(request, "board.html", lang, b=values, ogl=OGL, columns=CSV_COLUMNS)


async def scrutiny_html(request: web.Request) -> web.Response:
    lang = language(request)
    settings = request.app[SETTINGS]
    async with request.app[DB].session() as session:
        board = await published_board(session, request.match_info["slug"])
        if board is None:
            return _missing(request, lang)
        entries = await scrutiny_register(session, board, settings.timezone)
    today = local_day(utcnow(), ZoneInfo(settings.timezone))
    rows = [{"ref": e.ref, "subject": e.subject_ref, "question": e.question,
             "status": t(lang, f"boards.scrutiny_status_{e.status}"), "raised": _date(e.raised_on, lang),
             "due": _date(e.due, lang), "committee": _date(e.committee_date, lang), "response": e.response,
             "declined": e.decline_reason, "who": e.requester or t(lang, "boards.a_board_member"),
             "upcoming": e.committee_date is not None and e.committee_date >= today and e.status == "scheduled",
             "committee_date": e.committee_date} for e in entries]
    programme = sorted((r for r in rows if r["upcoming"]), key=lambda r: r["committee_date"])
    return render(request, "board_scrutiny.html", lang, name=pick(lang, board.name, board.name_cy), slug=board.slug,
                  rows=rows, programme=programme)


def open_rows(public: PublicBoard) -> list[dict[str, Any]]:
    return [{"ref": a.ref, "priority_ref": a.priority_ref or "", "title": a.title, "title_cy": a.title_cy or "",
             "lead": "; ".join(a.leads), "due": a.due.isoformat() if a.due else "", "due_text": a.due_text or "",
             "rag": a.rag or "", "last_update": a.last_update.isoformat() if a.last_update else "",
             "public_summary": a.public_summary or "",
             "public_summary_date": a.public_summary_on.isoformat() if a.public_summary_on else ""}
            for a in public.actions]


async def _open_data(request: web.Request) -> PublicBoard | None:
    async with request.app[DB].session() as session:
        board = await published_board(session, request.match_info["slug"])
        if board is None:
            return None
        return await board_page(session, board, utcnow(), request.app[SETTINGS].timezone, request.app[HISTORIES])


async def actions_csv(request: web.Request) -> web.Response:
    from engagement.spreadsheet import cell

    public = await _open_data(request)
    if public is None:
        return _missing(request, language(request))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in open_rows(public):
        writer.writerow([cell(row[c]) for c in CSV_COLUMNS])
    headers = {"Content-Disposition": f'attachment; filename="{public.slug}-actions.csv"',
               "Link": f'<{OGL}>; rel="license"', "X-Content-Type-Options": "nosniff"}
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8", headers=headers)


async def actions_json(request: web.Request) -> web.Response:
    public = await _open_data(request)
    if public is None:
        return web.json_response({"error": "no published board with that address"}, status=404)
    body = {"board": {"name": public.name, "name_cy": public.name_cy, "slug": public.slug},
            "licence": {"name": "Open Government Licence v3.0", "url": OGL},
            "priorities": [{"ref": p.ref, "title": p.title, "title_cy": p.title_cy, "scope": p.scope}
                           for p in public.priorities],
            "items": open_rows(public)}
    return web.json_response(body, headers={"Link": f'<{OGL}>; rel="license"'})


def setup(app: web.Application) -> None:
    app[HISTORIES] = {}
    app.router.add_get("/boards/{slug}", board_html)
    app.router.add_get("/boards/{slug}/scrutiny", scrutiny_html)
    app.router.add_get("/boards/{slug}/actions.csv", actions_csv)
    app.router.add_get("/boards/{slug}/actions.json", actions_json)
    item = {"type": "object", "properties": {c: {"type": "string"} for c in CSV_COLUMNS}}
    describe(app, "/boards/{slug}/actions.json", "get", {
        "summary": "A published board's actions as open data (Open Government Licence v3.0; public fields only)",
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The board, its priorities and its actions", "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "board": {"type": "object"}, "licence": {"type": "object"}, "priorities": {"type": "array"},
                "items": {"type": "array", "items": item}}}}}},
            "404": {"description": "No published board with that address"}}})

