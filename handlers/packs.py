"""The chair's meeting pack: the same document as a web page (each recipient's own signed, expiring
link), a PDF (the one renderer, ``cyswllt.pdf``), a chat message through the outbox, and a board
paper from ``cyswllt meetings pack``. What goes in it is gathered by ``storage.packs``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_date
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import select

from cyswllt.admin import is_admin
from cyswllt.i18n import babel_locale, normalise_language, overdue_phrase, t
from cyswllt.signing import check_expiring, sign
from storage.models import Board, Meeting, MeetingPack, Person, utcnow
from storage.packs import Pack, gather, next_board_meeting

# A recipient's link works until two weeks after the meeting (minutes and follow-up).
LINK_DAYS_AFTER = 14
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
                   "X-Robots-Tag": "noindex, nofollow", "X-Content-Type-Options": "nosniff",
                   "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'none'; "
                                              "frame-ancestors 'none'; base-uri 'none'"}


# --- links --------------------------------------------------------------------------------------


def _key(settings, copy: MeetingPack) -> bytes:
    # The service secret where one is set, and always the copy's own random key, so a link cannot be
    # made for a copy that was never sent, and one copy can be withdrawn by changing its key.
    return f"{settings.secret_key or settings.admin_token or ''}:{copy.link_key}".encode()


def signature(settings, copy: MeetingPack, expires: int) -> str:
    return sign(_key(settings, copy), f"pack:{copy.id}:{copy.meeting_id}:{expires}")


def verify(settings, copy: MeetingPack, expires: str | None, sig: str | None, now: float | None = None) -> bool:
    return check_expiring(expires, sig, lambda moment: signature(settings, copy, moment), now)


def link(settings, copy: MeetingPack, held_on: date, *, pdf: bool = False, language: str | None = None) -> str:
    """``{base}/meetings/{id}/pack[.pdf]?copy=…&exp=…&sig=…&lang=…`` for one recipient."""
    zone = ZoneInfo(settings.timezone)
    expires = int(datetime.combine(held_on + timedelta(days=LINK_DAYS_AFTER), clock(23, 59), zone).timestamp())
    query = {"copy": copy.id, "exp": expires, "sig": signature(settings, copy, expires),
             "lang": language or copy.language}
    suffix = ".pdf" if pdf else ""
    return f"{settings.public_base_url}/meetings/{copy.meeting_id}/pack{suffix}?{urlencode(query)}"


async def copy_for(session, meeting: Meeting, person: Person) -> MeetingPack:
    """The person's copy of the meeting's pack, made the first time."""
    copy = (await session.exec(select(MeetingPack).where(
        MeetingPack.meeting_id == meeting.id, MeetingPack.person_id == person.id))).first()
    if copy is None:
        copy = MeetingPack(meeting_id=meeting.id, person_id=person.id, language=normalise_language(person.language),
                           link_key=secrets.token_hex(16), created_at=utcnow())
        session.add(copy)
        await session.flush()
    return copy


# --- words ----------------------------------------------------------------------------------------


@dataclass
class Words:
    """The pack in one language: every phrase the page, the PDF and the text share."""

    pack: Pack
    language: str

    def t(self, key: str, /, count: int | None = None, **kw: Any) -> str:
        return t(self.language, key, count=count, **kw)

    def date(self, day: date | None) -> str:
        return format_date(day, format="long", locale=babel_locale(self.language)) if day else "—"

    def rag(self, rag: str | None) -> str:
        return self.t(f"common.rag_{rag}" if rag else "common.rag_none")

    def name(self, item) -> str:
        """An action's title in the pack's language; English marked when there is no Welsh."""
        if self.language == "cy":
            return item.title_cy or f"{item.title} {self.t('common.fallback_marker')}"
        return item.title

    @property
    def title(self) -> str:
        return self.t("pack.title", board=self.pack.board, date=self.date(self.pack.meeting_on))

    @property
    def intro(self) -> str:
        if self.pack.previous_on:
            return self.t("pack.intro", made=self.date(self.pack.made_on), previous=self.date(self.pack.previous_on))
        return self.t("pack.intro_first", made=self.date(self.pack.made_on))

    def why(self, action) -> str:
        reasons = []
        if action.red:
            reasons.append(self.rag("red"))
        if action.overdue:
            reasons.append(overdue_phrase(self.language, action.due, self.pack.made_on))
        if action.stale:
            reasons.append(self.t("pack.stale_since", date=self.date(action.last_update)) if action.last_update
                           else self.t("pack.never_updated"))
        return "; ".join(reasons)

    def due(self, action) -> str:
        if action.due and action.due_text:
            return f"{self.date(action.due)} (“{action.due_text}”)"
        return self.date(action.due) if action.due else (f"“{action.due_text}”" if action.due_text else "—")

    def change(self, change) -> str:
        return self.t("pack.change", before=self.rag(change.before), after=self.rag(change.after),
                      updates=self.t("handlers.updates", count=change.updates), date=self.date(change.latest_on))

    def scrutiny_status(self, request) -> str:
        status = self.t(f"handlers.status_{request.status}")
        if request.committee_date:
            status += " — " + self.t("pack.committee_on", date=self.date(request.committee_date))
        return status

    def consultation(self, c) -> str:
        title = c.title_cy if self.language == "cy" else c.title_en
        key = "pack.consultation_closed" if c.closed else "pack.consultation_closing"
        return self.t(key, title=title, date=self.date(c.closes_on), responses=self.t("common.responses", count=c.responses))

    def counts(self) -> str:
        p = self.pack
        return self.t("pack.counts", attention=self.t("common.actions", count=len(p.attention)), red=len(p.red),
                      overdue=len(p.overdue), stale=len([a for a in p.attention if a.stale]),
                      changes=len(p.changes), scrutiny=len(p.scrutiny), consultations=len(p.consultations),
                      unreachable=len(p.unreachable))


# --- the document ---------------------------------------------------------------------------------


@cache
def _templates() -> Environment:
    return Environment(loader=PackageLoader("handlers", "templates"), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


@cache
def stylesheet() -> str:
    return (resources.files("handlers") / "static" / "pack.css").read_text(encoding="utf-8")


def html(pack: Pack, language: str, *, switch: str | None = None, pdf_link: str | None = None,
         for_print: bool = False) -> str:
    language = normalise_language(language)
    words = Words(pack, language)
    return _templates().get_template("pack.html").render(
        lang=language, w=words, p=pack, t=words.t, switch=switch, pdf_link=pdf_link, for_print=for_print,
        other_lang="en" if language == "cy" else "cy")


def pdf(pack: Pack, language: str) -> bytes:
    from cyswllt.pdf import render_pdf

    return render_pdf(html(pack, language, for_print=True), stylesheets=[stylesheet()])


def text(pack: Pack, language: str) -> str:
    """The pack as plain text (the command line's board paper)."""
    w = Words(pack, normalise_language(language))
    lines = [w.title, w.intro, "", w.counts()]

    def part(heading: str, items: list[str], empty: str) -> None:
        lines.extend(["", f"{heading} ({len(items)})"])
        lines.extend(f"  {item}" for item in items) if items else lines.append(f"  {empty}")

    part(w.t("pack.attention_heading"), [f"{a.ref} · {w.name(a)} — {w.why(a)} ({w.rag(a.rag)}; "
                                         f"{w.t('pack.column_due')}: {w.due(a)})" for a in pack.attention],
         w.t("pack.attention_none"))
    part(w.t("pack.changes_heading"), [f"{c.ref} · {w.name(c)} — {w.change(c)}" for c in pack.changes],
         w.t("pack.changes_none"))
    part(w.t("pack.scrutiny_heading"), [f"{s.ref} ({s.subject_ref}) — {w.scrutiny_status(s)}: {s.question}"
                                        for s in pack.scrutiny], w.t("pack.scrutiny_none"))
    part(w.t("pack.consultations_heading"), [w.consultation(c) for c in pack.consultations],
         w.t("pack.consultations_none"))
    part(w.t("pack.unreachable_heading"), [f"{m.name} <{m.email}>" for m in pack.unreachable],
         w.t("pack.unreachable_none"))
    return "\n".join(lines)


def chat_text(pack: Pack, language: str, url: str, pdf_url: str) -> str:
    w = Words(pack, normalise_language(language))
    return w.t("pack.message", board=pack.board, date=w.date(pack.meeting_on), counts=w.counts(), url=url,
               pdf_url=pdf_url)


# --- the web page --------------------------------------------------------------------------------


def _refused(language: str, status: int) -> web.Response:
    body = t(language, "pack.not_found" if status == 404 else "pack.refused")
    page = _templates().get_template("pack_refused.html").render(lang=language, title=t(language, "pack.refused_title"),
                                                                  message=body)
    return web.Response(text=page, status=status, content_type="text/html", headers=PRIVATE_HEADERS)


async def _authorised(request: web.Request) -> tuple[Meeting | None, MeetingPack | None, web.Response | None]:
    from cyswllt.appkeys import DB, SETTINGS

    language = normalise_language(request.query.get("lang"))
    try:
        meeting_id = int(request.match_info["id"])
        copy_id = int(request.query.get("copy") or 0)
    except ValueError:
        return None, None, _refused(language, 404)
    if not 0 < meeting_id < 2**31 or not 0 <= copy_id < 2**31:  # ids are positive 32-bit integers
        return None, None, _refused(language, 404)
    admin = is_admin(request)
    async with request.app[DB].session() as session:
        meeting = await session.get(Meeting, meeting_id)
        copy = await session.get(MeetingPack, copy_id) if copy_id else None
    if meeting is None or meeting.kind != "board":
        return None, None, _refused(language, 404 if admin else 403)
    if admin:
        return meeting, copy, None
    if copy is None or copy.meeting_id != meeting.id or not verify(
            request.app[SETTINGS], copy, request.query.get("exp"), request.query.get("sig")):
        return None, None, _refused(language, 403)
    return meeting, copy, None


def _language(request: web.Request, copy: MeetingPack | None) -> str:
    asked = request.query.get("lang")
    if asked in ("en", "cy"):
        return asked
    return copy.language if copy else "en"


async def _pack(request: web.Request, meeting: Meeting) -> Pack:
    from cyswllt.appkeys import DB, SETTINGS

    async with request.app[DB].session() as session:
        return await gather(session, meeting, utcnow(), request.app[SETTINGS].timezone,
                            request.app[SETTINGS].usable_platforms)


async def pack_page(request: web.Request) -> web.Response:
    meeting, copy, refusal = await _authorised(request)
    if refusal is not None:
        return refusal
    language = _language(request, copy)
    other = "en" if language == "cy" else "cy"
    query = {k: v for k, v in request.query.items() if k in ("copy", "exp", "sig")}
    switch = f"/meetings/{meeting.id}/pack?{urlencode({**query, 'lang': other})}"
    pdf_link = f"/meetings/{meeting.id}/pack.pdf?{urlencode({**query, 'lang': language})}"
    page = html(await _pack(request, meeting), language, switch=switch, pdf_link=pdf_link)
    return web.Response(text=page, content_type="text/html", headers=PRIVATE_HEADERS)


async def pack_pdf(request: web.Request) -> web.Response:
    from cyswllt.pdf import pdf_response

    meeting, copy, refusal = await _authorised(request)
    if refusal is not None:
        return refusal
    language = _language(request, copy)
    pack = await _pack(request, meeting)
    response = await pdf_response(html(pack, language, for_print=True), stylesheets=[stylesheet()],
                                  filename=f"meeting-pack-{pack.meeting_on.isoformat()}-{language}.pdf",
                                  language=language)
    response.headers.update(PRIVATE_HEADERS)
    return response


async def pack_css(request: web.Request) -> web.Response:
    return web.Response(text=stylesheet(), content_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def setup(app: web.Application) -> None:
    from cyswllt.appkeys import OPENAPI

    app.router.add_get("/meetings/pack.css", pack_css)
    app.router.add_get("/meetings/{id}/pack", pack_page)
    app.router.add_get("/meetings/{id}/pack.pdf", pack_pdf)
    # A recipient's copy, its link's expiry and signature (not looked at with the admin token).
    signed = [{"name": "copy", "in": "query", "schema": {"type": "integer", "minimum": 0}},
              {"name": "exp", "in": "query", "schema": {"type": "string"}},
              {"name": "sig", "in": "query", "schema": {"type": "string"}},
              {"name": "lang", "in": "query", "schema": {"type": "string"},
               "description": "en or cy; anything else, or none: the copy's own language"}]
    meeting_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    page = {"text/html": {"schema": {"type": "string"}}}
    app[OPENAPI].setdefault("/meetings/{id}/pack.pdf", {})["get"] = {
        "summary": "A board meeting's pack as PDF (admin token, or a recipient's signed, expiring link)",
        "operationId": "getMeetingPackPdf", "tags": ["boards"], "security": [{"adminToken": []}, {}],
        "parameters": [meeting_id, *signed],
        "responses": {"200": {"description": "the pack", "content": {"application/pdf": {
                          "schema": {"type": "string", "format": "binary"}}}},
                      "403": {"description": "no admin token and no valid signature", "content": page},
                      "404": {"description": "no such board meeting (with the admin token), or not a number",
                              "content": page},
                      "503": {"description": "PDFs cannot be made on this server"}}}


# --- the command line ------------------------------------------------------------------------------


def run_pack(settings, args) -> int:
    """``cyswllt meetings pack --board NAME [--meeting DATE] [--pdf FILE] [--lang en|cy]``."""
    from cyswllt.cli import CommandError
    from storage.db import run_once

    language = normalise_language(args.lang)
    try:
        on = date.fromisoformat(args.meeting) if args.meeting else None
    except ValueError as exc:
        raise CommandError(f"“{args.meeting}” is not a date (YYYY-MM-DD)") from exc

    async def work(db) -> Pack | str:
        async with db.session() as session:
            board = (await session.exec(select(Board).where(Board.name == args.board))).first()
            if board is None:
                return f"no board called “{args.board}”"
            if on is None:
                today = datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
                meeting = await next_board_meeting(session, board.id, today)
                if meeting is None:
                    return (f"{board.name} has no board meeting from today on; add one with "
                            f"cyswllt meetings add --board \"{board.name}\" YYYY-MM-DD, or name one with --meeting")
            else:
                meeting = (await session.exec(select(Meeting).where(
                    Meeting.board_id == board.id, Meeting.held_on == on, Meeting.kind == "board"))).first()
                if meeting is None:
                    return f"{board.name} has no board meeting on {on.isoformat()}"
            return await gather(session, meeting, utcnow(), settings.timezone, settings.usable_platforms)

    pack = run_once(settings.database_url, work)
    if isinstance(pack, str):
        raise CommandError(pack)
    if args.pdf:
        from cyswllt.pdf import PdfUnavailable

        try:
            body = pdf(pack, language)
        except PdfUnavailable as exc:
            raise CommandError(str(exc)) from exc
        with open(args.pdf, "wb") as out:
            out.write(body)
        print(t(language, "pack.pdf_written", file=args.pdf, title=Words(pack, language).title))
        return 0
    print(text(pack, language))
    return 0
