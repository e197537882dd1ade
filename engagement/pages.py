"""Server-rendered consultation pages: English and Welsh, no JavaScript needed, GOV.UK patterns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_date
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import select

from cyswllt.appkeys import DB, SECRET, SETTINGS
from cyswllt.i18n import babel_locale, raw, t
from cyswllt.outage import HEALTH, RETRY_AFTER, is_unavailable
from cyswllt.outage import PAGE as UNAVAILABLE_PAGE
from engagement import forms, outcomes, ratelimit, service, worker
from engagement.schemas import ResponseIn
from engagement.service import (
    AlreadyReceived,
    ConsultationClosed,
    ConsultationNotFound,
    ConsultationView,
    InvalidResponse,
)
from storage.models import YouSaidWeDid, utcnow

LANG_COOKIE = "cyswllt_lang"
TEMPLATES = web.AppKey("templates", Environment)
# Only our own scripts, styles and form targets; no framing (clickjacking) and no plug-ins.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
PAGE_LANGUAGES = ("en", "cy")


class Refused(Exception):
    """A form post we will not act on: shown as a friendly page with this status."""

    def __init__(self, status: int, title_key: str, body_key: str, **params: Any) -> None:
        super().__init__(body_key)
        self.status, self.title_key, self.body_key, self.params = status, title_key, body_key, params


def language(request: web.Request) -> str:
    chosen = request.query.get("lang")
    if chosen in ("en", "cy"):
        return chosen
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in ("en", "cy"):
        return cookie
    return "cy" if request.headers.get("Accept-Language", "").lower().startswith("cy") else "en"


def render(request: web.Request, template: str, lang: str, *, status: int = 200, **context: Any) -> web.Response:
    other = "cy" if lang == "en" else "en"
    query = {k: v for k, v in request.query.items() if k != "lang"}
    query["lang"] = other
    from engagement.publisher import publisher_name

    html = request.app[TEMPLATES].get_template(template).render(
        lang=lang, other_lang=other, switch_url=f"{request.path}?{urlencode(query)}",
        publisher=publisher_name(request.app[SETTINGS], lang),
        t=lambda key, **kw: t(lang, key, **kw), errors=context.pop("errors", []), **context)
    response = web.Response(text=html, content_type="text/html", status=status, headers=SECURITY_HEADERS)
    if request.query.get("lang") in ("en", "cy"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="Lax",
                            secure=request.app[SETTINGS].public_base_url.startswith("https"))
    return response


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite may give naive UTC


def _local(request: web.Request, moment: datetime) -> datetime:
    """Dates are the board's calendar dates (CYSWLLT_TIMEZONE), not UTC's."""
    try:
        zone = ZoneInfo(request.app[SETTINGS].timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Europe/London")
    return _aware(moment).astimezone(zone)


def _date(request: web.Request, moment: datetime, lang: str) -> str:
    return format_date(_local(request, moment), format="long", locale=babel_locale(lang))


def _describe(request: web.Request, view: ConsultationView, lang: str, now: datetime) -> dict[str, Any]:
    c = view.consultation
    cy = lang == "cy"
    # Calendar days, so a consultation closing tomorrow morning is not "closes today" tonight.
    days = max(0, (_local(request, c.closes_at).date() - _local(request, now).date()).days)
    not_yet_open = _aware(c.opens_at) > now
    return {
        "slug": c.slug, "is_open": view.is_open,
        "title": c.title_cy if cy else c.title_en,
        "summary": c.summary_cy if cy else c.summary_en,
        "executive_summary": (c.executive_summary_cy if cy else c.executive_summary_en) or "",
        "closes": t(lang, "web.closes_on", date=_date(request, c.closes_at, lang)),
        "closed": (t(lang, "consultation.not_open", date=_date(request, c.opens_at, lang)) if not_yet_open
                   else t(lang, "web.closed_on", date=_date(request, c.closes_at, lang))),
        "days_left": t(lang, "web.days_left", count=days),
        "questions": [{"key": q.key, "text": q.text_cy if cy else q.text_en,
                       "hint": (q.hint_cy if cy else q.hint_en) or ""} for q in view.questions],
        "groups": [{"slug": g.slug, "name": g.name_cy if cy else g.name_en} for g in view.groups],
    }


def _message(request: web.Request, lang: str, title_key: str, body: str, status: int) -> web.Response:
    return render(request, "message.html", lang, status=status, title=t(lang, title_key), body=body)


def _not_found(request: web.Request, lang: str) -> web.Response:
    return _message(request, lang, "web.not_found_title", t(lang, "web.not_found_body"), 404)


def _closed(request: web.Request, lang: str, view_or_consultation, status: int,
            written: list[str] | None = None) -> web.Response:
    """The consultation is not open; a form sent to it gets the citizen's words back to keep."""
    c = getattr(view_or_consultation, "consultation", view_or_consultation)
    if _aware(c.opens_at) > utcnow():
        title, body = "web.not_open_title", t(lang, "consultation.not_open", date=_date(request, c.opens_at, lang))
    else:
        title, body = "web.closed_title", t(lang, "consultation.closed", date=_date(request, c.closes_at, lang))
    if written:
        response = render(request, "kept.html", lang, status=status, title=t(lang, title), body=body,
                          written=written)
        response.headers["Cache-Control"] = "no-store"
        return response
    return _message(request, lang, title, body, status)


def _refused(request: web.Request, lang: str, refusal: Refused) -> web.Response:
    return _message(request, lang, refusal.title_key, t(lang, refusal.body_key, **refusal.params), refusal.status)


async def _posted(request: web.Request) -> dict[str, str]:
    """The form's fields; anything a browser would not send from our form is refused."""
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "web.too_large_title", "web.too_large_body") from None
    except (UnicodeDecodeError, ValueError):  # bytes that are not UTF-8, or a malformed multipart body
        raise Refused(400, "web.refused_title", "web.unreadable_body") from None
    if any(not isinstance(value, str) for value in form.values()):  # file uploads
        raise Refused(400, "web.refused_title", "web.unreadable_body")
    return {key: value for key, value in form.items()}


async def _rate_wait(request: web.Request, bucket: str = ratelimit.SUBMIT) -> int:
    """0, or the seconds this client must wait before sending this kind of form again."""
    try:
        await ratelimit.check_rate(request, bucket=bucket)
    except web.HTTPTooManyRequests as exc:
        return int(exc.headers.get("Retry-After", "60"))
    return 0


def _kept(form: dict[str, str]) -> dict[str, str]:
    """What the citizen typed and chose, to put back in the form."""
    return {k: str(v) for k, v in form.items() if k not in ("csrf", "started", forms.HONEYPOT)}


def _csrf_cookie(request: web.Request) -> tuple[str, bool]:
    cookie = request.cookies.get(forms.CSRF_COOKIE)
    return (cookie, False) if cookie else (forms.new_cookie(), True)


def _with_csrf_cookie(request: web.Request, response: web.Response, cookie: str, new: bool) -> web.Response:
    if new:
        response.set_cookie(forms.CSRF_COOKIE, cookie, httponly=True, samesite="Lax",
                            secure=request.app[SETTINGS].public_base_url.startswith("https"))
    return response


# --- pages ------------------------------------------------------------------------------------


async def list_page(request: web.Request) -> web.Response:
    lang = language(request)
    now = utcnow()
    if request.query.get("status") == "closed":
        return await closed_list_page(request, lang, now)
    async with request.app[DB].session() as session:
        views = await service.list_open(session, now)
    return render(request, "list.html", lang, items=[_describe(request, v, lang, now) for v in views])


async def closed_list_page(request: web.Request, lang: str, now: datetime) -> web.Response:
    """The outcomes archive: every closed consultation, how many responded, and a link to its outcome."""
    async with request.app[DB].session() as session:
        closed = await outcomes.list_closed(session, now)
        counts = {c.id: await service.public_counts(session, c.id) for c in closed}
    items = [{"slug": c.slug, "title": c.title_cy if lang == "cy" else c.title_en,
              "summary": c.summary_cy if lang == "cy" else c.summary_en,
              "closed": t(lang, "web.closed_on", date=_date(request, c.closes_at, lang)),
              "responses": t(lang, "web.responses_received", count=counts[c.id]["visible"])}
             for c in closed]
    return render(request, "closed.html", lang, items=items)


async def consultation_page(request: web.Request) -> web.Response:
    lang = language(request)
    now = utcnow()
    async with request.app[DB].session() as session:
        try:
            view = await service.get_view(session, request.match_info["slug"], now)
        except ConsultationNotFound:
            return _not_found(request, lang)
        rows = (await session.exec(select(YouSaidWeDid).where(
            YouSaidWeDid.consultation_id == view.consultation.id).order_by(YouSaidWeDid.created_at))).all()
        described = _describe(request, view, lang, now)
        if not view.is_open and _aware(view.consultation.opens_at) <= now:  # closed: what came of it
            result = await outcomes.outcome(session, view.consultation, now,
                                            timezone_name=request.app[SETTINGS].timezone)
            described["outcome"] = _outcome(lang, result)
    cy = lang == "cy"
    described["you_said"] = [{"theme": r.theme, "you_said": r.you_said_cy if cy else r.you_said_en,
                              "we_did": r.we_did_cy if cy else r.we_did_en} for r in rows]
    return render(request, "consultation.html", lang, c=described)


def _outcome(lang: str, result: outcomes.Outcome) -> dict[str, Any]:
    """A closed consultation's results for the public: counts and themes, never who said what."""
    cy = lang == "cy"

    def label(item: dict[str, Any], en: str = "label_en", welsh: str = "label_cy") -> str:
        return (item.get(welsh) if cy else item.get(en)) or item.get(en) or item.get(welsh) or ""

    return {
        "responses": t(lang, "web.responses_received", count=result.total),
        "sentiment": [{"label": t(lang, f"web.outcome_{side}"), "count": outcomes.shown(result.sentiment[side])}
                      for side in ("positive", "neutral", "negative")],
        "languages": [{"label": t(lang, f"web.outcome_language_{code if code in ('en', 'cy') else 'unknown'}"),
                       "count": outcomes.shown(n)} for code, n in sorted(result.by_language.items())],
        "groups": [{"label": label(g, "name_en", "name_cy"), "count": outcomes.shown(g["responses"])}
                   for g in result.groups],
        "themes": [{"label": label(theme), "count": outcomes.shown(theme["responses"]),
                    "sentiment": {side: outcomes.shown(n) for side, n in theme["sentiment"].items()}}
                   for theme in result.themes],
    }


async def results_csv(request: web.Request) -> web.Response:
    """A closed consultation's results as open data (Open Government Licence v3.0): counts only."""
    lang = language(request)
    now = utcnow()
    async with request.app[DB].session() as session:
        try:
            view = await service.get_view(session, request.match_info["slug"], now)
        except ConsultationNotFound:
            return _not_found(request, lang)
        if view.is_open or _aware(view.consultation.opens_at) > now:
            return _message(request, lang, "web.results_not_yet_title", t(lang, "web.results_not_yet_body"), 404)
        result = await outcomes.outcome(session, view.consultation, now, timezone_name=request.app[SETTINGS].timezone)
    return web.Response(text=outcomes.results_csv(view.consultation, result), content_type="text/csv",
                        charset="utf-8", headers={
                            **SECURITY_HEADERS,
                            "Content-Disposition": f'attachment; filename="{view.consultation.slug}-results.csv"',
                            "Link": f'<{outcomes.OGL}>; rel="license"'})


def _form(request: web.Request, lang: str, view: ConsultationView, secret: str, cookie: str, *, values=None,
          errors=None, field_errors=None, status: int = 200, started: str | None = None) -> web.Response:
    counts = {"remaining": raw(lang, "web.characters_remaining"), "over": raw(lang, "web.characters_over")}
    return render(request, "respond.html", lang, status=status, c=_describe(request, view, lang, utcnow()),
                  csrf=forms.csrf_token(secret, cookie), started=started or forms.started_stamp(secret),
                  honeypot=forms.HONEYPOT, limit=f"{service.TEXT_LIMIT:,}", max_length=service.TEXT_LIMIT,
                  counts=json.dumps(counts, ensure_ascii=False), values=values or {},
                  errors=errors or [], field_errors=field_errors or {})


async def respond_page(request: web.Request) -> web.Response:
    lang = language(request)
    async with request.app[DB].session() as session:
        try:
            view = await service.get_view(session, request.match_info["slug"], utcnow())
        except ConsultationNotFound:
            return _not_found(request, lang)
    if not view.is_open:
        return _closed(request, lang, view, 409)
    secret = await request.app[SECRET].get()
    cookie, new = _csrf_cookie(request)
    return _with_csrf_cookie(request, _form(request, lang, view, secret, cookie), cookie, new)


def _anchor(field_name: str) -> str:
    if field_name.startswith("answers."):
        return "answer-" + field_name.removeprefix("answers.")
    return field_name


def _first_answer(view: ConsultationView, values: dict[str, str]) -> str:
    """Where a message about the whole form points: the first answer written, else the first question."""
    keys = [f"answer-{q.key}" for q in view.questions]
    return next((k for k in keys if values.get(k, "").strip()), keys[0] if keys else "main")


def _again(request: web.Request, lang: str, view: ConsultationView, secret: str, values: dict[str, str],
           message: str, status: int, started: str | None = None, headers: dict | None = None) -> web.Response:
    """The form once more, with everything the citizen typed and a message at the top saying why it was
    not sent: their words are never lost to a refusal."""
    cookie, new = _csrf_cookie(request)
    response = _form(request, lang, view, secret, cookie, values=values, status=status, started=started,
                     errors=[{"anchor": _first_answer(view, values), "message": message}])
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return _with_csrf_cookie(request, response, cookie, new)


async def respond_post(request: web.Request) -> web.Response:
    lang = language(request)
    try:
        form = await _posted(request)
    except Refused as refusal:
        return _refused(request, lang, refusal)
    try:
        return await _respond(request, lang, form)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        request.app[HEALTH].failed(exc)
        return _not_stored(request, lang, form)


async def _respond(request: web.Request, lang: str, form: dict[str, str]) -> web.Response:
    secret = await request.app[SECRET].get()
    values = _kept(form)
    async with request.app[DB].session() as session:
        try:
            view = await service.get_view(session, request.match_info["slug"], utcnow())
        except ConsultationNotFound:
            return _not_found(request, lang)
        if not view.is_open:
            return _closed(request, lang, view, 409, written=_written(values))
        # Every attempt counts towards the limit, refused or not.
        if seconds := await _rate_wait(request):
            return _again(request, lang, view, secret, values, t(lang, "web.kept_rate_limited", seconds=seconds),
                          429, started=form.get("started"), headers={"Retry-After": str(seconds)})
        stamp = form.get("started")
        stamp_ok = forms.stamp_ok(secret, stamp)
        if not forms.csrf_ok(secret, request.cookies.get(forms.CSRF_COOKIE), form.get("csrf")) or not stamp_ok:
            # The form outlived its token (a day, a restart with a new secret, cookies cleared): a fresh one.
            return _again(request, lang, view, secret, values, t(lang, "web.kept_expired"), 400,
                          started=stamp if stamp_ok else None)
        if not forms.fill_time_ok(secret, stamp, request.app[SETTINGS].form_min_seconds):
            return _again(request, lang, view, secret, values, t(lang, "web.kept_too_fast"), 400, started=stamp)
        if not forms.honeypot_ok(form.get(forms.HONEYPOT)):
            return _again(request, lang, view, secret, values, t(lang, "web.kept_check"), 400, started=stamp)
        answers = {q.key: values.get(f"answer-{q.key}", "") for q in view.questions}
        # The respondent's own choice, if they made one; otherwise the language is detected from the
        # text (nothing is pre-ticked: Welsh typed on the English page is Welsh).
        chosen = values.get("language", "")
        data = ResponseIn(
            answers={k: v for k, v in answers.items() if v.strip()},
            language=chosen if chosen in PAGE_LANGUAGES else None,
            group=values.get("group") or None, name=values.get("name") or None,
            email=values.get("email") or None, contact_consent=bool(values.get("contact_consent")),
            quote_consent=bool(values.get("quote_consent")),
            anonymous=not (values.get("name") or values.get("email")))
        try:
            submitted = await service.submit(session, view.consultation.slug, data, channel="web",
                                             client_hash=await ratelimit.client_of(request), now=utcnow(),
                                             form_token=form.get("started"))
        except AlreadyReceived as exc:  # a refreshed thank-you page or a second click: one copy is kept
            response = render(request, "thanks.html", lang, reference=exc.reference, token=None, again=True)
            response.headers["Cache-Control"] = "no-store"
            return response
        except ConsultationClosed as exc:
            return _closed(request, lang, exc.consultation, 409, written=_written(values))
        except InvalidResponse as exc:
            messages = {}
            for e in exc.errors:
                anchor = _anchor(e.field)
                if e.field == "group":  # a radio group is reached through its first option
                    anchor = f"group-{view.groups[0].slug}" if view.groups else "main"
                if e.field == "text":  # "answer at least one question" belongs to the first question
                    anchor = f"answer-{view.questions[0].key}" if view.questions else "main"
                messages.setdefault(anchor, t(lang, f"consultation.{e.message_key}", **e.params))
            errors = [{"anchor": a, "message": m} for a, m in messages.items()]
            # The first visit's stamp is kept: correcting a mistake is not a fresh race against the clock.
            cookie = request.cookies.get(forms.CSRF_COOKIE)
            response = _form(request, lang, view, secret, cookie, values=values, errors=errors,
                             field_errors=messages, status=400, started=stamp)
            response.headers["Cache-Control"] = "no-store"  # it holds what they wrote, perhaps their name
            return response
    worker.wake_analysis(request.app)
    response = render(request, "thanks.html", lang, reference=submitted.reference, token=submitted.withdrawal_token)
    response.headers["Cache-Control"] = "no-store"  # the withdrawal code is shown once
    return response


def _written(values: dict[str, str]) -> list[str]:
    return [v for k, v in values.items() if k.startswith("answer-") and v.strip()]


def _not_stored(request: web.Request, lang: str, form: dict[str, str]) -> web.Response:
    """The database could not be reached: the form again with the citizen's words (from the consultation
    as last read), or, if it was never read, a page that gives their words back to copy. 503."""
    headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    values = _kept(form)
    view = service.remembered(request.app[DB], request.match_info["slug"])
    secret = request.app[SECRET].value
    if view is not None and secret is not None:
        return _again(request, lang, view, secret, values, t(lang, "web.kept_unavailable"), 503,
                      started=form.get("started"), headers=headers)
    written = _written(values)
    response = render(request, "kept.html", lang, status=503, title=t(lang, "web.unavailable_title"),
                      body=t(lang, "web.unavailable_kept_body" if written else "web.unavailable_body"),
                      written=written)
    response.headers.update(headers)
    return response


def unavailable_page(request: web.Request) -> web.Response:
    """What a person sees on any page while the database is down (served with 503 and Retry-After)."""
    lang = language(request)
    return render(request, "kept.html", lang, status=503, title=t(lang, "web.unavailable_title"),
                  body=t(lang, "web.unavailable_body"), written=[])


async def withdraw_page(request: web.Request) -> web.Response:
    lang = language(request)
    cookie, new = _csrf_cookie(request)
    secret = await request.app[SECRET].get()
    response = render(request, "withdraw.html", lang, csrf=forms.csrf_token(secret, cookie),
                      values={}, field_errors={})
    return _with_csrf_cookie(request, response, cookie, new)


async def withdraw_post(request: web.Request) -> web.Response:
    lang = language(request)
    try:
        form = await _posted(request)
    except Refused as refusal:
        return _refused(request, lang, refusal)
    secret = await request.app[SECRET].get()
    # Codes copied by hand often pick up spaces or line breaks; the code itself never has any.
    reference, code = str(form.get("reference", "")).strip(), "".join(str(form.get("code", "")).split())

    def again(message: str, status: int, keep_code: bool = False, headers: dict | None = None) -> web.Response:
        cookie, new = _csrf_cookie(request)
        response = render(request, "withdraw.html", lang, status=status, csrf=forms.csrf_token(secret, cookie),
                          values={"reference": reference, "code": code if keep_code else ""},
                          errors=[{"anchor": "reference", "message": message}], field_errors={"reference": message})
        response.headers.update(headers or {})
        response.headers["Cache-Control"] = "no-store"
        return _with_csrf_cookie(request, response, cookie, new)

    # Every attempt counts, right or wrong: codes cannot be guessed in bulk.
    if seconds := await _rate_wait(request, ratelimit.WITHDRAW):
        return again(t(lang, "consultation.withdraw_rate_limited", seconds=seconds), 429, keep_code=True,
                     headers={"Retry-After": str(seconds)})
    if not forms.csrf_ok(secret, request.cookies.get(forms.CSRF_COOKIE), form.get("csrf")):
        return again(t(lang, "web.withdraw_expired"), 400, keep_code=True)
    if not reference or not code:
        return again(t(lang, "web.withdraw_missing"), 400)
    async with request.app[DB].session() as session:
        if not await service.withdraw(session, reference, code):
            return again(t(lang, "consultation.withdraw_failed"), 404)
    return _message(request, lang, "web.withdrawn_title", t(lang, "web.withdrawn_body"), 200)


def setup(app: web.Application) -> None:
    app[UNAVAILABLE_PAGE] = unavailable_page
    app[TEMPLATES] = Environment(loader=PackageLoader("engagement", "templates"),
                                 autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    app.router.add_static("/static", Path(__file__).with_name("static"), append_version=False)
    app.router.add_get("/consultations", list_page)
    app.router.add_get("/consultations/withdraw", withdraw_page)
    app.router.add_post("/consultations/withdraw", withdraw_post)
    app.router.add_get("/consultations/{slug}", consultation_page)
    app.router.add_get("/consultations/{slug}/respond", respond_page)
    app.router.add_post("/consultations/{slug}/respond", respond_post)
    app.router.add_get("/consultations/{slug}/results.csv", results_csv)
    app.router.add_route("*", "/consultations/{slug}/{rest:.*}", not_found_page)


async def not_found_page(request: web.Request) -> web.Response:
    return _not_found(request, language(request))
