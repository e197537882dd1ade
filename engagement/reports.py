"""The annual report: ``/boards/{slug}/reports/{year}`` (HTML; ``?format=pdf`` the same document as a
PDF), ``cyswllt report annual``, and the admin API the secretariat uses to add an introduction and a
commentary on each part, then publish. A published report is frozen: its facts and commentary are
stored as they were, and it never changes when the data does."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aiohttp import web
from babel.dates import format_date
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import select

from cyswllt.admin import is_admin, require_admin
from cyswllt.appkeys import DB, SETTINGS
from cyswllt.i18n import babel_locale, normalise_language, t
from cyswllt.openapi import BEARER, describe
from storage.models import AnnualReport, Board, utcnow
from storage.reports import change_draft, gather, parse_year, report_row, year_label

PARTS = ("intro", "aims", "progress", "wrong", "engagement")
COMMENTARY_LIMIT = 10_000


async def published_reports(session, board_id: int) -> list[AnnualReport]:
    return list((await session.exec(select(AnnualReport).where(
        AnnualReport.board_id == board_id, AnnualReport.published_at.is_not(None))
        .order_by(AnnualReport.year_start.desc()))).all())


async def report_data(session, board: Board, start: int, settings) -> tuple[dict[str, Any], AnnualReport | None]:
    """The report: frozen as published, or drawn from the data now (a draft) with any commentary so far."""
    stored = (await session.exec(select(AnnualReport).where(
        AnnualReport.board_id == board.id, AnnualReport.year_start == start))).first()
    if stored is not None and stored.published_at is not None and stored.snapshot:
        return stored.snapshot, stored
    data = await gather(session, board, start, utcnow(), settings.timezone)
    data["commentary"] = (stored.commentary if stored else None) or {}
    data["published"] = None
    return data, stored


# --- words ---------------------------------------------------------------------------------------


def _pick(lang: str, english: str | None, welsh: str | None) -> dict[str, Any]:
    from engagement.boards import pick

    return pick(lang, english, welsh)


def _date(text: str | None, lang: str) -> str:
    return format_date(date.fromisoformat(text), format="long", locale=babel_locale(lang)) if text else ""


def _rag(rag: str | None, lang: str) -> str:
    return t(lang, f"common.rag_{rag}" if rag else "common.rag_none")


def view(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The report's words in one language, for the page, the PDF and the text alike."""
    commentary = data.get("commentary") or {}

    def said(part: str) -> dict[str, Any] | None:
        entry = commentary.get(part) or {}
        picked = _pick(lang, entry.get("en"), entry.get("cy"))
        return picked if picked["text"] else None

    board = data["board"]
    progress = [{**a, "title": _pick(lang, a["title"], a["title_cy"]), "rag_word": _rag(a["rag"], lang),
                 "due_words": _date(a["due"], lang), "summary_on_words": _date(a["summary_on"], lang)}
                for a in data["progress"]]
    return {
        "board": _pick(lang, board["name"], board["name_cy"]), "slug": board["slug"], "year": data["year"],
        "title": t(lang, "reports.title", board=(_pick(lang, board["name"], board["name_cy"]))["text"], year=data["year"]),
        "period": t(lang, "reports.period", first=_date(data["from"], lang), last=_date(data["to"], lang)),
        "as_at": t(lang, "reports.as_at", date=_date(data["as_at"], lang)) if data["as_at"] != data["to"] else None,
        "published": t(lang, "reports.published_on", date=_date(data["published"], lang)) if data.get("published")
        else t(lang, "reports.draft"),
        "commentary": {part: said(part) for part in PARTS},
        "aims": [{**p, "title": _pick(lang, p["title"], p["title_cy"])} for p in data["aims"]],
        "progress": progress, "red_or_overdue": [a for a in progress if a["red"] or a["overdue"]],
        "counts": [(_rag(r if r != "none" else None, lang), data["counts"][r])
                   for r in ("red", "amber", "green", "complete", "none")],
        "summary": t(lang, "reports.progress_summary", total=t(lang, "common.actions", count=data["total"]),
                     red=sum(1 for a in progress if a["red"]), overdue=sum(1 for a in progress if a["overdue"]),
                     updates=data["updates"]),
        "wrong": [{**w, "title": _pick(lang, w["title"], w["title_cy"]),
                   "line": t(lang, "reports.wrong_back" if w["back_on"] else "reports.wrong_still",
                             red=_date(w["red_on"], lang) or t(lang, "reports.before_the_year"),
                             back=_date(w["back_on"], lang), rag=_rag(w["back_to"], lang))}
                  for w in data["wrong"]],
        "engagement": [{**e, "title": _pick(lang, e["title"], e["title_cy"]),
                        "line": t(lang, "reports.consultation_line", opened=_date(e["opened"], lang),
                                  closes=_date(e["closes"], lang), responses=t(lang, "common.responses", count=e["responses"])),
                        "changes": [{"theme": c["theme"], "you_said": _pick(lang, c["you_said"], c["you_said_cy"]),
                                     "we_did": _pick(lang, c["we_did"], c["we_did_cy"])} for c in e["changes"]]}
                       for e in data["engagement"]],
        "undertaken": [{**s, "status_word": t(lang, f"boards.scrutiny_status_{s['status']}"),
                        "raised_words": _date(s["raised"], lang), "committee_words": _date(s["committee_date"], lang)}
                       for s in data["scrutiny"]["undertaken"]],
        "planned": [{**s, "status_word": t(lang, f"boards.scrutiny_status_{s['status']}"),
                     "committee_words": _date(s["committee_date"], lang)} for s in data["scrutiny"]["planned"]],
    }


def text(data: dict[str, Any], lang: str) -> str:
    v = view(data, lang)
    lines = [v["title"], v["period"], v["published"]]
    if v["as_at"]:
        lines.append(v["as_at"])
    for part, heading in (("intro", None), ("aims", "reports.aims_heading"), ("progress", "reports.progress_heading"),
                          ("wrong", "reports.wrong_heading"), ("engagement", "reports.engagement_heading")):
        if heading:
            lines += ["", t(lang, heading)]
        if v["commentary"][part]:
            lines.append(v["commentary"][part]["text"])
        if part == "aims":
            lines += [f"  {p['ref']}: {p['title']['text']}" for p in v["aims"]]
        elif part == "progress":
            lines.append(v["summary"])
            lines += [f"  {a['ref']} · {a['title']['text']} — {a['rag_word']}"
                      + (f" ({t(lang, 'reports.flag_red')})" if a["red"] else "")
                      + (f" ({t(lang, 'reports.flag_overdue')})" if a["overdue"] else "")
                      + (f": {a['summary']}" if a["summary"] else "") for a in v["progress"]]
        elif part == "wrong":
            lines += [f"  {w['ref']} · {w['title']['text']} — {w['line']}" for w in v["wrong"]] or \
                [f"  {t(lang, 'reports.wrong_none')}"]
        elif part == "engagement":
            lines += [f"  {e['title']['text']}: {e['line']}" for e in v["engagement"]] or \
                [f"  {t(lang, 'reports.engagement_none')}"]
            lines += ["", t(lang, "reports.scrutiny_heading")]
            lines += [f"  {s['ref']} ({s['subject']}) — {s['status_word']}: {s['question']}" for s in v["undertaken"]] or \
                [f"  {t(lang, 'reports.scrutiny_none')}"]
            lines += ["", t(lang, "reports.planned_heading")]
            lines += [f"  {s['ref']} ({s['subject']}) — {s['committee_words'] or s['status_word']}" for s in v["planned"]] or \
                [f"  {t(lang, 'reports.planned_none')}"]
    return "\n".join(lines)


_environment: Environment | None = None


def _templates() -> Environment:
    global _environment
    if _environment is None:
        _environment = Environment(loader=PackageLoader("engagement", "templates"),
                                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    return _environment


def print_stylesheet() -> str:
    from importlib import resources

    return (resources.files("engagement") / "static" / "report-print.css").read_text(encoding="utf-8")


def printable(data: dict[str, Any], lang: str) -> str:
    """The whole report as one standalone document, for the PDF."""
    return _templates().get_template("report_print.html").render(lang=lang, r=view(data, lang),
                                                                  t=lambda key, **kw: t(lang, key, **kw))


def pdf(data: dict[str, Any], lang: str) -> bytes:
    from cyswllt.pdf import render_pdf

    return render_pdf(printable(data, lang), stylesheets=[print_stylesheet()])


# --- the public page ---------------------------------------------------------------------------------


async def report_page(request: web.Request) -> web.Response:
    from engagement.pages import language, render
    from storage.public import published_board

    lang = language(request)
    start = parse_year(request.match_info["year"])
    async with request.app[DB].session() as session:
        board = await published_board(session, request.match_info["slug"])
        if board is None or start is None:
            return render(request, "board_missing.html", lang, status=404)
        data, stored = await report_data(session, board, start, request.app[SETTINGS])
    if stored is None or stored.published_at is None:
        # A draft is the secretariat's: only the admin token sees it before it is published.
        if not is_admin(request):
            return render(request, "board_missing.html", lang, status=404)
    if request.query.get("format") == "pdf":
        from cyswllt.pdf import pdf_response

        return await pdf_response(printable(data, lang), stylesheets=[print_stylesheet()], language=lang,
                                  filename=f"{board.slug}-annual-report-{data['year']}-{lang}.pdf")
    return render(request, "report.html", lang, r=view(data, lang), pdf_url=f"{request.path}?format=pdf&lang={lang}")


# --- the admin API -------------------------------------------------------------------------------------


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _board_and_year(request: web.Request, session) -> tuple[Board | None, int | None, web.Response | None]:
    board = (await session.exec(select(Board).where(Board.slug == request.match_info["slug"]))).first()
    if board is None:
        return None, None, _error(404, "there is no board with that slug")
    start = parse_year(request.match_info["year"])
    if start is None:
        return None, None, _error(400, "the year is a financial year like 2026-27 (or 2026, the year it starts)")
    return board, start, None


async def get_report(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[DB].session() as session:
        board, start, problem = await _board_and_year(request, session)
        if problem:
            return problem
        data, _ = await report_data(session, board, start, request.app[SETTINGS])
    return web.json_response(data)


async def put_commentary(request: web.Request) -> web.Response:
    require_admin(request)
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    unknown = sorted(set(body) - set(PARTS))
    if unknown:
        return _error(400, f"unknown parts: {', '.join(unknown)}; the parts are {', '.join(PARTS)}")
    commentary: dict[str, dict[str, str]] = {}
    for part, value in body.items():
        if not isinstance(value, dict) or set(value) - {"en", "cy"} or \
                not all(isinstance(v, str) and len(v) <= COMMENTARY_LIMIT for v in value.values()):
            return _error(400, f"{part} must be {{\"en\": TEXT, \"cy\": TEXT}}, each up to {COMMENTARY_LIMIT} characters")
        commentary[part] = {k: v.strip() for k, v in value.items()}
    async with request.app[DB].session() as session:
        board, start, problem = await _board_and_year(request, session)
        if problem:
            return problem
        stored = await report_row(session, board.id, start)
        merged = {**(stored.commentary or {}), **commentary}
        if stored.published_at is not None or not await change_draft(session, stored.id, commentary=merged,
                                                                      updated_at=utcnow()):
            await session.rollback()
            return _error(409, f"the {year_label(start)} report is published and cannot change")
        await session.commit()
        return web.json_response({"year": year_label(start), "commentary": merged, "published": None})


async def publish(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[DB].session() as session:
        board, start, problem = await _board_and_year(request, session)
        if problem:
            return problem
        stored = (await session.exec(select(AnnualReport).where(
            AnnualReport.board_id == board.id, AnnualReport.year_start == start))).first()
        if stored is not None and stored.published_at is not None:
            return _error(409, f"the {year_label(start)} report was published on {stored.published_at.date()}")
        now = utcnow()
        data = await gather(session, board, start, now, request.app[SETTINGS].timezone)
        # Two publishes at once: one freezes the report, the other is told it is published.
        stored = await report_row(session, board.id, start)
        data["commentary"] = stored.commentary or {}
        data["published"] = now.date().isoformat()
        if stored.published_at is not None or not await change_draft(session, stored.id, snapshot=data,
                                                                      published_at=now, updated_at=now):
            await session.rollback()
            return _error(409, f"the {year_label(start)} report has just been published")
        await session.commit()
    url = f"{request.app[SETTINGS].public_base_url}/boards/{board.slug}/reports/{year_label(start)}"
    return web.json_response({"year": year_label(start), "published": data["published"], "url": url}, status=201)


def setup(app: web.Application) -> None:
    app.router.add_get("/boards/{slug}/reports/{year}", report_page)
    app.router.add_get("/api/v1/boards/{slug}/reports/{year}", get_report)
    app.router.add_put("/api/v1/boards/{slug}/reports/{year}", put_commentary)
    app.router.add_post("/api/v1/boards/{slug}/reports/{year}/publish", publish)
    params = [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
              {"name": "year", "in": "path", "required": True, "description": "A financial year from 1990-91 to "
               "2200-01: 2026-27, 2026-2027, or 2026 (the April it starts)",
               "schema": {"type": "string", "pattern": "^[0-9]{4}(-([0-9]{2}|[0-9]{4}))?$", "example": "2026-27"}}]
    text_pair = {"type": "object", "properties": {"en": {"type": "string"}, "cy": {"type": "string"}}}
    describe(app, "/api/v1/boards/{slug}/reports/{year}", "get", {
        "summary": "A board's annual report for a financial year: frozen if published, else a draft from the data",
        "security": BEARER, "parameters": params,
        "responses": {"200": {"description": "The report's facts and commentary"},
                      "400": {"description": "Not a financial year"}, "404": {"description": "No such board"}}})
    describe(app, "/api/v1/boards/{slug}/reports/{year}", "put", {
        "summary": "Set the introduction and the commentary on each part of an unpublished annual report",
        "security": BEARER, "parameters": params,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {part: text_pair for part in PARTS}, "additionalProperties": False}}}},
        "responses": {"200": {"description": "The commentary as stored"}, "400": {"description": "Invalid body"},
                      "404": {"description": "No such board"}, "409": {"description": "Already published"}}})
    describe(app, "/api/v1/boards/{slug}/reports/{year}/publish", "post", {
        "summary": "Publish an annual report: it is frozen as it is now and listed on the board's page",
        "security": BEARER, "parameters": params,
        "responses": {"201": {"description": "Published: year, date and public URL"},
                      "404": {"description": "No such board"}, "409": {"description": "Already published"}}})


# --- the command line ------------------------------------------------------------------------------------


def run_annual(settings, args) -> int:
    """``cyswllt report annual --board NAME --year YYYY-YY [--lang en|cy] [--pdf FILE]``."""
    from cyswllt.cli import CommandError
    from storage.db import run_once

    start = parse_year(args.year)
    if start is None:
        raise CommandError(f"“{args.year}” is not a financial year: give it as 2026-27 (or 2026, the April it starts)")
    lang = normalise_language(args.lang)

    async def work(db):
        async with db.session() as session:
            board = (await session.exec(select(Board).where(Board.name == args.board))).first()
            if board is None:
                return None
            data, _ = await report_data(session, board, start, settings)
            return data

    data = run_once(settings.database_url, work)
    if data is None:
        raise CommandError(f"no board called “{args.board}”")
    if args.pdf:
        from cyswllt.pdf import PdfUnavailable

        try:
            body = pdf(data, lang)
        except PdfUnavailable as exc:
            raise CommandError(str(exc)) from exc
        with open(args.pdf, "wb") as out:
            out.write(body)
        print(t(lang, "reports.pdf_written", title=view(data, lang)["title"], file=args.pdf))
        return 0
    print(text(data, lang))
    return 0
