"""Digest routes: the coordinators' page, its chart and counts (admin token or a signed, expiring
link), and the admin API to build a digest now and to record a "you said, we did"."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from collections import OrderedDict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from babel.dates import format_date
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from cyswllt.admin import is_admin, require_admin
from cyswllt.appkeys import DB, SETTINGS
from cyswllt.i18n import babel_locale, normalise_language, t
from cyswllt.openapi import ADMIN_DISABLED, BEARER, NOT_BLANK, UNAUTHORISED, describe, json_body, problem
from cyswllt.pdf import pdf_response
from engagement.digest import chart, links, render
from engagement.digest import svg as svg_chart
from engagement.digest.build import build_digest
from engagement.digest.mail import tell_respondents
from engagement.digest.schedule import queue_digest
from engagement.publisher import publisher_name
from engagement.spreadsheet import cell
from storage.models import Board, Consultation, Digest, StakeholderGroup, YouSaidWeDid, utcnow

TEMPLATES = web.AppKey("digest_templates", Environment)
CHARTS = web.AppKey("digest_charts", OrderedDict)
CHART_CACHE_SIZE = 64
LIMITS = {"theme": 200, "you_said_en": 5000, "you_said_cy": 5000, "we_did_en": 5000, "we_did_cy": 5000}
# The page's link carries its signature: keep it out of referrers, caches and search engines.
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
                   "X-Robots-Tag": "noindex, nofollow", "X-Content-Type-Options": "nosniff",
                   "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'self'; "
                                              "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"}


def _json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _language(request: web.Request, digest: Digest) -> str:
    asked = request.query.get("lang")
    if asked in ("en", "cy"):
        return asked
    group = (digest.data or {}).get("group") or {}
    return "cy" if group.get("language") == "cy" else "en"


def _refused(request: web.Request, language: str, status: int = 403) -> web.Response:
    key = "digest.page.not_found" if status == 404 else "digest.page.refused"
    html = request.app[TEMPLATES].get_template("refused.html").render(
        lang=language, t=lambda k, **kw: t(language, k, **kw), message=t(language, key))
    return web.Response(text=html, status=status, content_type="text/html", headers=PRIVATE_HEADERS)


async def _authorised_digest(request: web.Request) -> tuple[Digest | None, web.Response | None]:
    """The digest asked for, or the refusal to send: admins may see any digest (404 when unknown),
    a signed link only its own digest; without either, 403 whether or not the digest exists."""
    language = normalise_language(request.query.get("lang"))
    try:
        digest_id = int(request.match_info["id"])
    except ValueError:
        return None, _refused(request, language, 404)
    admin = is_admin(request)
    digest = None
    if 0 < digest_id < 2**31:  # ids are positive 32-bit integers
        async with request.app[DB].session() as session:
            digest = await session.get(Digest, digest_id)
    if digest is None:
        return None, _refused(request, language, 404 if admin else 403)
    if admin or links.verify(request.app[SETTINGS], digest, request.query.get("exp"), request.query.get("sig")):
        return digest, None
    return None, _refused(request, language, 403)


def _signed_query(request: web.Request, language: str) -> str:
    """The same credentials for the page's chart, CSV and language links."""
    exp, sig = request.query.get("exp"), request.query.get("sig")
    parts = [f"lang={language}"]
    if exp and sig:
        parts = [f"exp={exp}", f"sig={sig}"] + parts
    return "?" + "&".join(parts)


async def _publisher(request: web.Request, digest: Digest, language: str) -> str:
    """Who publishes the digest: the consultation's board, else the site's publisher."""
    async with request.app[DB].session() as session:
        name = (await session.exec(select(Board.name).join(Consultation, Consultation.board_id == Board.id)
                                   .where(Consultation.id == digest.consultation_id))).scalars().first()
    return name or publisher_name(request.app[SETTINGS], language)


def _svg(request: web.Request, digest: Digest, language: str) -> str:
    cache = request.app[CHARTS]
    key = (digest.id, language, "svg")
    svg = cache.get(key)
    if svg is None:  # a digest never changes once stored
        svg = svg_chart.render_svg(digest.data, language, title=t(language, "digest.chart_title"),
                                   description=chart.alt_text(digest.data, language))
        cache[key] = svg
        while len(cache) > CHART_CACHE_SIZE:
            cache.popitem(last=False)
    return svg


async def digest_page(request: web.Request) -> web.Response:
    """The coordinators' page; with ``?format=pdf`` the same page printed as a board paper."""
    digest, refusal = await _authorised_digest(request)
    if refusal is not None:
        return refusal
    language = _language(request, digest)
    other = "en" if language == "cy" else "cy"
    settings = request.app[SETTINGS]
    values = render.page_values(digest.data, language, settings.timezone)
    pdf = request.query.get("format") == "pdf"
    query = _signed_query(request, language)
    chart_src = (f"/digests/{digest.id}/chart.svg{query}" if not pdf else
                 "data:image/svg+xml;base64," + base64.b64encode(_svg(request, digest, language).encode()).decode())
    html = request.app[TEMPLATES].get_template("digest.html").render(
        lang=language, t=lambda k, **kw: t(language, k, **kw), d=values, digest_id=digest.id,
        query=query, switch=_signed_query(request, other), other_lang=other, pdf=pdf, chart_src=chart_src,
        alt=chart.alt_text(digest.data, language), publisher=await _publisher(request, digest, language),
        created=format_date(digest.created_at, format="long", locale=babel_locale(language)))
    if pdf:
        response = await pdf_response(html, filename=f"digest-{digest.id}-{language}.pdf", language=language,
                                      stylesheets=_print_stylesheets())
        response.headers.update(PRIVATE_HEADERS)
        return response
    return web.Response(text=html, content_type="text/html", headers=PRIVATE_HEADERS)


@cache
def _print_stylesheets() -> tuple[str, ...]:
    """The page's own stylesheets, handed to the PDF renderer as text (it fetches nothing)."""
    return (resources.files("engagement").joinpath("static/cyswllt.css").read_text(encoding="utf-8"),
            (Path(__file__).parent / "static" / "digest.css").read_text(encoding="utf-8"))


async def chart_svg(request: web.Request) -> web.Response:
    digest, refusal = await _authorised_digest(request)
    if refusal is not None:
        return refusal
    language = _language(request, digest)
    return web.Response(text=_svg(request, digest, language), content_type="image/svg+xml",
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'"})


async def chart_png(request: web.Request) -> web.Response:
    digest, refusal = await _authorised_digest(request)
    if refusal is not None:
        return refusal
    language = _language(request, digest)
    cache = request.app[CHARTS]
    png = cache.get((digest.id, language))
    if png is None:
        # A digest never changes once stored; a card's image is fetched once per viewer.
        png = await asyncio.to_thread(chart.render_png, digest.data, language)
        cache[(digest.id, language)] = png
        while len(cache) > CHART_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end((digest.id, language))
    return web.Response(body=png, content_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})



def counts_rows(data: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [["section", "name", "period", "total", "positive", "neutral", "negative"]]
    c = data["counts"]
    total, period = data["sentiment"]["total"], data["sentiment"]["period"]
    rows.append(["responses", "all", c["period"], c["total"], total["positive"], total["neutral"], total["negative"]])
    rows.append(["sentiment", "this period", "", c["period"], period["positive"], period["neutral"], period["negative"]])
    for key in ("pending", "hidden", "withdrawn"):
        rows.append(["responses", key, "", c[key], "", "", ""])
    for lang, n in data["by_language"].items():
        rows.append(["language", lang, n["period"], n["total"], "", "", ""])
    for g in data["by_group"]:
        rows.append(["group", g["slug"] or "none", g["period"], g["total"], "", "", ""])
    for th in data["themes"]:
        s = th["sentiment"]
        rows.append(["theme", th["label_en"], th["period_count"], th["count"], s["positive"], s["neutral"], s["negative"]])
    w = data["welsh_language"]
    rows.append(["welsh-language", "answers", "", w["count"], w["sentiment"]["positive"], w["sentiment"]["neutral"],
                 w["sentiment"]["negative"]])
    for day in data["timeline"]:
        rows.append(["day", day["day"], "", day["count"], "", "", ""])
    return [[cell(v) for v in row] for row in rows]


async def counts_csv(request: web.Request) -> web.Response:
    digest, refusal = await _authorised_digest(request)
    if refusal is not None:
        return refusal
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(counts_rows(digest.data))
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={**PRIVATE_HEADERS,
                                 "Content-Disposition": f'attachment; filename="digest-{digest.id}.csv"'})


# --- admin API --------------------------------------------------------------------------------------


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _json_error(413, "the request body is over 64 KB")
    except RequestPayloadError:
        return _json_error(400, "the request body could not be read: check its Content-Encoding")
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _json_error(400, "the request body is not valid JSON")
    if not isinstance(body, dict):
        return _json_error(400, "the request body must be a JSON object")
    return body


async def _consultation(session, slug: str) -> Consultation | None:
    return (await session.exec(select(Consultation).where(Consultation.slug == slug[:120]))).scalars().first()


async def build_now(request: web.Request) -> web.Response:
    require_admin(request)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    group_slug, deliver = body.get("group"), body.get("deliver", False)
    if group_slug is not None and not isinstance(group_slug, str) or not isinstance(deliver, bool):
        return _json_error(400, "group must be a group's slug or null, deliver true or false")
    settings = request.app[SETTINGS]
    async with request.app[DB].session() as session:
        consultation = await _consultation(session, request.match_info["slug"])
        if consultation is None:
            return _json_error(404, "no such consultation")
        group = None
        if group_slug:
            group = (await session.exec(select(StakeholderGroup).where(
                StakeholderGroup.slug == group_slug[:80]))).scalars().first()
            if group is None:
                return _json_error(400, "no stakeholder group with that slug")
        now = utcnow()
        digest = await build_digest(session, consultation, group, now, timezone_name=settings.timezone)
        queued = 0
        if deliver and group is not None:
            queued = await queue_digest(session, settings, digest, group, f"digest-now:{digest.id}", now=now,
                                        working_hours=False)
        await session.commit()
    _wake_outbox(request.app, queued)
    language = "cy" if group is not None and group.language == "cy" else "en"
    return web.json_response({
        "id": digest.id, "url": links.signed(settings, digest, language=language),
        "chart_url": links.signed(settings, digest, "/chart.png", language=language),
        "csv_url": links.signed(settings, digest, ".csv"), "queued": queued,
        "data": {k: v for k, v in digest.data.items() if k != "link_key"},
    }, status=201)


async def you_said_we_did(request: web.Request) -> web.Response:
    require_admin(request)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    problems = []
    for name, limit in LIMITS.items():
        value = body.get(name)
        if isinstance(value, str):  # NUL is dropped, as from a response's text (no keyboard types it)
            value = body[name] = value.replace("\x00", "")
        if not isinstance(value, str) or not value.strip():
            problems.append({"field": name, "error": "required: a non-empty string"})
        elif len(value) > limit:
            problems.append({"field": name, "error": f"at most {limit} characters"})
        elif any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            problems.append({"field": name, "error": "not valid text"})
    if problems:
        return _json_error(400, "some fields are missing or invalid", fields=problems)
    settings = request.app[SETTINGS]
    async with request.app[DB].session() as session:
        consultation = await _consultation(session, request.match_info["slug"])
        if consultation is None:
            return _json_error(404, "no such consultation")
        entry = YouSaidWeDid(consultation_id=consultation.id, created_at=utcnow(),
                             **{name: body[name].strip() for name in LIMITS})
        session.add(entry)
        await session.flush()
        mails = await tell_respondents(session, settings, consultation, entry)
        await session.commit()
    _wake_outbox(request.app, mails)
    return web.json_response({"id": entry.id, "theme": entry.theme, "mails_queued": mails,
                              "created_at": entry.created_at.isoformat()}, status=201)


def _wake_outbox(app: web.Application, queued: int) -> None:
    if queued:
        from scheduler.service import notify_outbox

        notify_outbox(app)


async def stylesheet(request: web.Request) -> web.Response:
    css = (Path(__file__).parent / "static" / "digest.css").read_text(encoding="utf-8")
    return web.Response(text=css, content_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def _describe(app: web.Application) -> None:
    digest_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
    # A signed link's expiry (seconds since 1970) and signature; not looked at with the admin token.
    signed = [{"name": "exp", "in": "query", "schema": {"type": "string"}},
              {"name": "sig", "in": "query", "schema": {"type": "string"}},
              {"name": "lang", "in": "query", "schema": {"type": "string"},
               "description": "en or cy; anything else, or none: the digest's own language"}]
    auth = [{"adminToken": []}, {}]
    slug = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
    refused = {"description": "No admin token and no valid signature (a page in the reader's language)",
               "content": {"text/html": {"schema": {"type": "string"}}}}
    missing = {"description": "No such digest (with the admin token)", "content": {"text/html": {"schema": {
        "type": "string"}}}}
    describe(app, "/digests/{id}.csv", "get", {
        "summary": "A digest's underlying counts as CSV (admin token or a signed, expiring link)",
        "operationId": "getDigestCounts", "tags": ["digests"], "parameters": [digest_id, *signed], "security": auth,
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "403": refused, "404": missing}})
    describe(app, "/digests/{id}/chart.png", "get", {
        "summary": "A digest's chart (admin token or a signed, expiring link, as chat cards use)",
        "operationId": "getDigestChart", "tags": ["digests"], "parameters": [digest_id, *signed], "security": auth,
        "responses": {"200": {"description": "PNG", "content": {"image/png": {"schema": {"type": "string",
                                                                                        "format": "binary"}}}},
                      "403": refused, "404": missing}})
    describe(app, "/digests/{id}/chart.svg", "get", {
        "summary": "A digest's chart as SVG, for the page and its PDF (admin token or a signed, expiring link)",
        "operationId": "getDigestChartSvg", "tags": ["digests"], "parameters": [digest_id, *signed], "security": auth,
        "responses": {"200": {"description": "SVG", "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
                      "403": refused, "404": missing}})
    describe(app, "/api/v1/admin/consultations/{slug}/digests", "post", {
        "summary": "Build a digest now for a stakeholder group (or all responses) and optionally deliver it",
        "operationId": "buildDigest", "tags": ["admin"], "security": BEARER, "parameters": [slug],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"group": {"type": ["string", "null"]}, "deliver": {"type": "boolean"}}}}}},
        "responses": {"201": json_body({"type": "object", "required": ["id", "url", "chart_url", "csv_url", "queued"],
                                        "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                                                       "chart_url": {"type": "string"}, "csv_url": {"type": "string"},
                                                       "queued": {"type": "integer"}, "data": {"type": "object"}}},
                                       "The digest: id, signed links, messages queued, and its figures"),
                      "400": problem("Invalid body or unknown group"), "401": UNAUTHORISED, "403": ADMIN_DISABLED,
                      "404": problem("No such consultation"), "413": problem("The body is over 64 KB")}})
    text = {"type": "string", "minLength": 1, "pattern": NOT_BLANK}
    describe(app, "/api/v1/admin/consultations/{slug}/you-said-we-did", "post", {
        "summary": "Record a \"you said, we did\": shown on the consultation page and in the next digest; "
                   "respondents who consented are told by mail in their language",
        "operationId": "recordYouSaidWeDid", "tags": ["admin"], "security": BEARER, "parameters": [slug],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": list(LIMITS),
            "properties": {name: {**text, "maxLength": limit} for name, limit in LIMITS.items()}}}}},
        "responses": {"201": json_body({"type": "object", "required": ["id", "theme", "mails_queued", "created_at"],
                                        "properties": {"id": {"type": "integer"}, "theme": {"type": "string"},
                                                       "mails_queued": {"type": "integer"},
                                                       "created_at": {"type": "string", "format": "date-time"}}}),
                      "400": problem("Missing or invalid fields"), "401": UNAUTHORISED, "403": ADMIN_DISABLED,
                      "404": problem("No such consultation"), "413": problem("The body is over 64 KB")}})


def setup(app: web.Application) -> None:
    app[CHARTS] = OrderedDict()
    app[TEMPLATES] = Environment(loader=PackageLoader("engagement.digest", "templates"),
                                 autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    app.router.add_get("/digests/digest.css", stylesheet)
    app.router.add_get(r"/digests/{id:[^/]+?}.csv", counts_csv)
    app.router.add_get(r"/digests/{id:[^/]+}/chart.png", chart_png)
    app.router.add_get(r"/digests/{id:[^/]+}/chart.svg", chart_svg)
    app.router.add_get(r"/digests/{id:[^/]+}", digest_page)
    app.router.add_post("/api/v1/admin/consultations/{slug}/digests", build_now)
    app.router.add_post("/api/v1/admin/consultations/{slug}/you-said-we-did", you_said_we_did)
    _describe(app)
