"""The theme workbench: a server-rendered page per consultation where people check the themes before
anything is reported — rename (English and Welsh), hide, merge, split, pin a quote, reassign a response's
themes, leave a note, sign the theme set off. Works without JavaScript, in both languages.

Who may use it:
- admins sign in once at ``/admin/sign-in`` with the admin token and their name and email (kept on every
  edit); a signed session cookie (HttpOnly, SameSite=Lax, eight hours) then stands for them;
- a stakeholder group's coordinators open it through a signed, expiring link given with each digest (the
  link itself signs them in, for that consultation only): they see the themes, redacted, may pin quotes
  for their own group's digest and leave notes; renaming, merging, splitting, hiding, reassigning and
  sign-off are for admins.
Every form carries a CSRF token tied to the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import func
from sqlmodel import select

from cyswllt.appkeys import DB, SECRET, SETTINGS
from cyswllt.i18n import t
from engagement import themes as edits
from engagement.pages import render
from engagement.theme_api import theme_items
from storage.models import (
    Consultation,
    ConsultationGroup,
    Response,
    ResponseTheme,
    StakeholderGroup,
    Theme,
    ThemeEdit,
)

SESSION_COOKIE = "cyswllt_workbench"
SESSION_HOURS = 8
LINK_DAYS = 14
SAMPLES = 5  # responses shown under each theme
LABEL_MAX = 200
NOTE_MAX = 2000
ADMIN_ACTIONS = {"rename", "hide", "show", "merge", "split", "reassign", "sign-off"}
COORDINATOR_ACTIONS = {"pin", "note"}


def _sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def session_value(secret: str, person: dict[str, Any], now: float | None = None) -> str:
    payload = {**person, "exp": int((now or time.time()) + SESSION_HOURS * 3600)}
    raw = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return f"{raw}.{_sign(secret, 'session:' + raw)}"


def read_session(secret: str, value: str | None, now: float | None = None) -> dict[str, Any] | None:
    raw, _, signature = (value or "").partition(".")
    if not raw or not hmac.compare_digest(_sign(secret, "session:" + raw), signature):
        return None
    try:
        person = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return None
    if not isinstance(person, dict) or int(person.get("exp", 0)) < (now or time.time()):
        return None
    return person


def csrf_for(secret: str, cookie: str) -> str:
    return _sign(secret, "workbench-csrf:" + cookie)[:40]


def coordinator_link(settings, secret: str, consultation_slug: str, group_slug: str, now: float | None = None) -> str:
    """The link the bot gives a group's coordinators with each digest: it signs them in to this
    consultation's workbench, as that group, until it expires."""
    exp = int((now or time.time()) + LINK_DAYS * 86400)
    sig = _sign(secret, f"workbench:{consultation_slug}:{group_slug}:{exp}")
    query = urlencode({"group": group_slug, "exp": exp, "sig": sig})
    return f"{settings.public_base_url.rstrip('/')}/admin/consultations/{consultation_slug}/themes?{query}"


def _link_ok(secret: str, slug: str, query) -> bool:
    group, exp, sig = query.get("group", ""), query.get("exp", ""), query.get("sig", "")
    if not (group and exp.isdigit() and sig) or int(exp) < time.time():
        return False
    return hmac.compare_digest(_sign(secret, f"workbench:{slug}:{group}:{exp}"), sig)


def _lang(request: web.Request) -> str:
    from engagement.pages import language

    return language(request)


def workbench_secret(settings, fallback: str = "") -> str:
    """The key that signs sessions and coordinators' links: the service secret, else the admin token (both
    the same on every replica); a process's own random secret only when neither is set."""
    return settings.secret_key or settings.admin_token or fallback


def _secret(request: web.Request) -> str:
    return workbench_secret(request.app[SETTINGS], request.app[SECRET])


def _set_session(request: web.Request, response: web.StreamResponse, person: dict[str, Any]) -> None:
    response.set_cookie(SESSION_COOKIE, session_value(_secret(request), person), httponly=True, samesite="Lax",
                        max_age=SESSION_HOURS * 3600, path="/admin/",
                        secure=request.app[SETTINGS].public_base_url.startswith("https"))


def _person(request: web.Request) -> dict[str, Any] | None:
    return read_session(_secret(request), request.cookies.get(SESSION_COOKIE))


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/admin/") and not value.startswith("//") else "/admin/"


# --- sign-in -------------------------------------------------------------------------------------------


async def sign_in_page(request: web.Request, errors: list | None = None, values: dict | None = None,
                       status: int = 200) -> web.Response:
    lang = _lang(request)
    return render(request, "workbench_signin.html", lang, status=status, errors=errors or [],
                  values=values or {}, next=_safe_next(request.query.get("next")))


async def sign_in(request: web.Request) -> web.Response:
    lang = _lang(request)
    form = await request.post()
    token, name = str(form.get("token", "")), " ".join(str(form.get("name", "")).split())[:200]
    email = str(form.get("email", "")).strip()[:320]
    expected = request.app[SETTINGS].admin_token or ""
    errors = []
    if not name:
        errors.append({"anchor": "name", "message": t(lang, "workbench.name_missing")})
    if "@" not in email or "." not in email.rpartition("@")[2]:
        errors.append({"anchor": "email", "message": t(lang, "workbench.email_missing")})
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        errors.append({"anchor": "token", "message": t(lang, "workbench.token_wrong")})
    if errors:
        return await sign_in_page(request, errors, {"name": name, "email": email}, status=400)
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    _set_session(request, response, {"role": "admin", "name": name, "email": email})
    return response


async def sign_out(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/admin/sign-in")
    response.del_cookie(SESSION_COOKIE, path="/admin/")
    return response


# --- the page --------------------------------------------------------------------------------------------


async def _access(request: web.Request, session, slug: str) -> tuple[Consultation | None, dict | None, web.Response | None]:
    """The consultation and the signed-in person allowed to work on it, or the answer to send instead."""
    lang = _lang(request)
    consultation = (await session.exec(select(Consultation).where(Consultation.slug == slug[:120]))).first()
    person = _person(request)
    if person is None:
        return None, None, web.HTTPSeeOther(f"/admin/sign-in?{urlencode({'next': request.path, 'lang': lang})}")
    if consultation is None:
        return None, None, render(request, "message.html", lang, status=404, title=t(lang, "workbench.not_found"),
                                  body=t(lang, "workbench.not_found_body"))
    if person["role"] == "coordinator" and person.get("consultation") != consultation.slug:
        return None, None, render(request, "message.html", lang, status=403, title=t(lang, "workbench.refused"),
                                  body=t(lang, "workbench.refused_body"))
    return consultation, person, None


async def workbench_page(request: web.Request) -> web.StreamResponse:
    slug = request.match_info["slug"]
    secret = _secret(request)
    if "sig" in request.query:  # a coordinator's link: it signs them in, then the address is clean again
        lang = _lang(request)
        async with request.app[DB].session() as session:
            group = (await session.exec(select(StakeholderGroup).where(
                StakeholderGroup.slug == request.query.get("group", "")[:80]))).first()
            asked = group is not None and (await session.exec(select(ConsultationGroup).join(
                Consultation, Consultation.id == ConsultationGroup.consultation_id).where(
                Consultation.slug == slug[:120], ConsultationGroup.group_id == group.id))).first() is not None
        if not (asked and _link_ok(secret, slug, request.query)):
            return render(request, "message.html", lang, status=403, title=t(lang, "workbench.refused"),
                          body=t(lang, "workbench.link_refused"))
        response = web.HTTPSeeOther(f"{request.path}?lang={lang}")
        _set_session(request, response, {"role": "coordinator", "name": group.name_en, "email": None,
                                         "group": group.id, "group_slug": group.slug, "consultation": slug})
        return response
    async with request.app[DB].session() as session:
        consultation, person, refusal = await _access(request, session, slug)
        if refusal is not None:
            return refusal
        lang = _lang(request)
        items = await theme_items(session, consultation)
        state = await edits.sign_off_state(session, consultation.id)
        samples = await _samples(session, consultation.id, [i["id"] for i in items])
        notes = await _notes(session, consultation.id)
    admin = person["role"] == "admin"
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return render(request, "workbench.html", lang, consultation=consultation, items=items, state=state,
                  samples=samples, notes=notes, admin=admin, person=person, csrf=csrf_for(secret, cookie),
                  title_text=consultation.title_cy if lang == "cy" else consultation.title_en,
                  all_themes=[{"id": i["id"], "label": i["label"][lang]} for i in items],
                  done_message=_done_message(lang, request.query.get("done")))


def _done_message(lang: str, done: str | None) -> str | None:
    """What the last edit did (or why it was refused), from the catalogue; nothing for anything else."""
    if not done:
        return None
    key = "workbench.done_" + done.replace("-", "_")
    try:
        return t(lang, key)
    except Exception:
        return None


async def _samples(session, consultation_id: int, theme_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """A few responses under each theme: reference, redacted words, sentiment toward the theme, the
    themes it has now. Held, hidden and withdrawn responses are not shown."""
    if not theme_ids:
        return {}
    rows = (await session.exec(
        select(Theme.id, Theme.merged_into_id, ResponseTheme.sentiment, Response.id, Response.reference,
               Response.redacted_text)
        .join(ResponseTheme, ResponseTheme.theme_id == Theme.id).join(Response, Response.id == ResponseTheme.response_id)
        .where(Theme.consultation_id == consultation_id, ResponseTheme.removed.is_(False),
               Response.moderation_state == "visible", Response.withdrawn_at.is_(None),
               Response.redacted_text.is_not(None))
        .order_by(Response.id.desc()))).all()
    out: dict[int, list[dict[str, Any]]] = {}
    current: dict[int, list[int]] = {}
    for theme_id, merged, _side, response_id, _ref, _text in rows:
        current.setdefault(response_id, []).append(merged or theme_id)
    for theme_id, merged, side, response_id, reference, text in rows:
        target = merged or theme_id
        shown = out.setdefault(target, [])
        if len(shown) < SAMPLES and all(s["reference"] != reference for s in shown):
            shown.append({"reference": reference, "text": text[:400], "side": side,
                          "themes": sorted(set(current[response_id]))})
    return out


async def _notes(session, consultation_id: int) -> dict[int, list[dict[str, Any]]]:
    rows = (await session.exec(select(ThemeEdit).where(ThemeEdit.consultation_id == consultation_id,
                                                       ThemeEdit.action == "note")
                               .order_by(ThemeEdit.created_at))).all()
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row.theme_id, []).append({"text": row.detail.get("text", ""), "by": row.actor_name,
                                                 "at": row.created_at.strftime("%Y-%m-%d %H:%M")})
    return out


# --- the forms ---------------------------------------------------------------------------------------------


def _label(value: Any) -> str:
    return " ".join(str(value or "").split())[:LABEL_MAX]


async def edit(request: web.Request) -> web.StreamResponse:
    slug, action = request.match_info["slug"], request.match_info["action"]
    lang = _lang(request)
    secret = _secret(request)
    form = await request.post()
    cookie = request.cookies.get(SESSION_COOKIE, "")
    async with request.app[DB].session() as session:
        consultation, person, refusal = await _access(request, session, slug)
        if refusal is not None:
            return refusal
        if not hmac.compare_digest(csrf_for(secret, cookie), str(form.get("csrf", ""))):
            return render(request, "message.html", lang, status=400, title=t(lang, "workbench.refused"),
                          body=t(lang, "workbench.csrf_refused"))
        allowed = COORDINATOR_ACTIONS | (ADMIN_ACTIONS if person["role"] == "admin" else set())
        if action not in allowed:
            return render(request, "message.html", lang, status=403, title=t(lang, "workbench.refused"),
                          body=t(lang, "workbench.admins_only"))
        actor = (person.get("name"), person.get("email"))
        theme = None
        if action not in ("sign-off", "reassign"):
            raw = str(form.get("theme", ""))
            theme = await session.get(Theme, int(raw)) if raw.isdigit() and int(raw) < 2**31 else None
            if theme is None or theme.consultation_id != consultation.id:
                return _back(request, slug, lang, "error-theme")
        try:
            if action == "rename":
                en, cy = _label(form.get("label_en")), _label(form.get("label_cy"))
                if not en or not cy:
                    return _back(request, slug, lang, "error-label")
                await edits.rename(session, actor, theme, en, cy)
            elif action in ("hide", "show"):
                await edits.set_hidden(session, actor, theme, action == "hide")
            elif action == "merge":
                raw = str(form.get("into", ""))
                await edits.merge(session, actor, theme, int(raw) if raw.isdigit() else 0)
            elif action == "split":
                en, cy = _label(form.get("label_en")), _label(form.get("label_cy"))
                if not en or not cy:
                    return _back(request, slug, lang, "error-label")
                await edits.split(session, actor, theme, [str(r) for r in form.getall("responses", [])], en, cy)
            elif action == "pin":
                group = person.get("group") if person["role"] == "coordinator" else None
                await edits.pin(session, actor, theme, str(form.get("reference", "")), group)
            elif action == "note":
                text = " ".join(str(form.get("note", "")).split())[:NOTE_MAX]
                if not text:
                    return _back(request, slug, lang, "error-note")
                await edits.note(session, actor, theme, text, person.get("group"))
            elif action == "reassign":
                response = (await session.exec(select(Response).where(
                    func.upper(Response.reference) == str(form.get("reference", "")).strip().upper()[:20],
                    Response.consultation_id == consultation.id))).first()
                if response is None:
                    return _back(request, slug, lang, "error-response")
                wanted = {int(v) for v in form.getall("themes", []) if str(v).isdigit() and int(v) < 2**31}
                await edits.reassign(session, actor, response, wanted)
            elif action == "sign-off":
                await edits.sign_off(session, actor, consultation.id)
        except edits.EditRefused as refused:
            await session.rollback()
            return _back(request, slug, lang, f"error-{refused.key}")
        await session.commit()
    return _back(request, slug, lang, action)


def _back(request: web.Request, slug: str, lang: str, done: str) -> web.StreamResponse:
    """Post/redirect/get: the page again, saying what happened (a refresh never repeats an edit)."""
    return web.HTTPSeeOther(f"/admin/consultations/{slug}/themes?{urlencode({'lang': lang, 'done': done})}")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/sign-in", sign_in_page)
    app.router.add_post("/admin/sign-in", sign_in)
    app.router.add_post("/admin/sign-out", sign_out)
    app.router.add_get("/admin/consultations/{slug}/themes", workbench_page)
    app.router.add_post("/admin/consultations/{slug}/themes/{action}", edit)
