"""The pages a mail's links open: opening one only shows what it would do — mail scanners open
links — and the change happens when the member confirms (a POST). No account, no JavaScript;
GOV.UK patterns (one question, radios, a character-limited text area, an error summary)."""

from __future__ import annotations

import html
import re

from aiohttp import web

from bot.email import links
from cyswllt.appkeys import DB, SECRET, SETTINGS
from cyswllt.i18n import normalise_language, t
from handlers.core import Command, Context
from storage.models import Person

RAGS = ("green", "amber", "red", "complete")
NOTE_LIMIT = 2000
_PLACEHOLDER = re.compile(r"\{(\w{1,40})\}")


def _page(language: str, title: str, body: str, status: int = 200) -> web.Response:
    text = (f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)} – Cyswllt</title>"
            '<link rel="stylesheet" href="/static/cyswllt.css"></head><body><main class="govuk-main-wrapper" '
            f'id="main-content"><div class="govuk-width-container">{body}</div></main></body></html>')
    return web.Response(text=text, content_type="text/html", status=status,
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _invalid() -> web.Response:
    # Whose the link was is not known: Welsh first, then English.
    body = "".join(f'<h1 class="govuk-heading-l" lang="{lang}">{html.escape(t(lang, "email.invalid_title"))}</h1>'
                   f'<p class="govuk-body" lang="{lang}">{html.escape(t(lang, "email.invalid"))}</p>'
                   for lang in ("cy", "en"))
    return _page("cy", t("cy", "email.invalid_title"), body, status=410)


async def _link(request: web.Request):
    data = links.read(request.app[SECRET], request.match_info["token"])
    if data is None:
        return None, None
    async with request.app[DB].session() as session:
        person = await session.get(Person, data["p"]) if 0 < data["p"] < 2**31 else None
    return (data, person) if person is not None else (None, None)


def _form(language: str, token: str, data: dict, *, error: str | None = None, note: str = "") -> str:
    words = data["w"]
    form = data.get("f")
    parts = []
    if error:
        parts.append(f'<div class="govuk-error-summary" role="alert" tabindex="-1"><h2 class="govuk-error-summary__title">'
                     f'{html.escape(t(language, "email.error_title"))}</h2><ul class="govuk-list govuk-error-summary__list">'
                     f'<li><a href="#rag">{html.escape(error)}</a></li></ul></div>')
    action = f"/email/actions/{html.escape(token)}"
    if form:
        parts.append(f'<h1 class="govuk-heading-l">{html.escape(form.get("title") or words)}</h1>')
        radios = "".join(
            f'<div class="govuk-radios__item"><input class="govuk-radios__input" id="rag-{r}" name="rag" type="radio" '
            f'value="{r}"><label class="govuk-label govuk-radios__label" for="rag-{r}">'
            f'{html.escape(t(language, f"common.rag_{r}"))}</label></div>' for r in RAGS)
        parts.append(
            f'<form method="post" action="{action}" novalidate>'
            f'<div class="govuk-form-group"><fieldset class="govuk-fieldset" id="rag"><legend class="govuk-fieldset__legend '
            f'govuk-fieldset__legend--m">{html.escape(t(language, "email.rag_question"))}</legend>'
            f'<div class="govuk-radios">{radios}</div></fieldset></div>'
            f'<div class="govuk-form-group"><label class="govuk-label govuk-label--m" for="note">'
            f'{html.escape(t(language, "email.note_label"))}</label><div class="govuk-hint" id="note-hint">'
            f'{html.escape(t(language, "email.note_hint", limit=NOTE_LIMIT))}</div>'
            f'<textarea class="govuk-textarea" id="note" name="note" rows="5" maxlength="{NOTE_LIMIT}" '
            f'aria-describedby="note-hint">{html.escape(note)}</textarea></div>'
            f'<button class="govuk-button" type="submit">{html.escape(t(language, "email.save"))}</button></form>')
    else:
        parts.append(f'<h1 class="govuk-heading-l">{html.escape(t(language, "email.confirm_title"))}</h1>'
                     f'<p class="govuk-body">{html.escape(t(language, "email.confirm", words=words))}</p>'
                     f'<form method="post" action="{action}"><button class="govuk-button" type="submit">'
                     f'{html.escape(t(language, "email.confirm_button"))}</button></form>')
    return "".join(parts)


async def show(request: web.Request) -> web.Response:
    data, person = await _link(request)
    if data is None:
        return _invalid()
    language = normalise_language(person.language)
    title = (data.get("f") or {}).get("title") or t(language, "email.confirm_title")
    return _page(language, title, _form(language, request.match_info["token"], data))


async def confirm(request: web.Request) -> web.Response:
    data, person = await _link(request)
    if data is None:
        return _invalid()
    language = normalise_language(person.language)
    posted = await request.post()
    words, source = data["w"], "button"
    form = data.get("f")
    if form:
        rag = str(posted.get("rag") or "")
        note = str(posted.get("note") or "")[:NOTE_LIMIT]
        if rag not in RAGS:
            return _page(language, t(language, "email.error_title"),
                         _form(language, request.match_info["token"], data, error=t(language, "email.rag_missing"),
                               note=note), status=400)
        values = {"rag": rag, "note": note}
        # One pass: braces a member typed in the note are kept as written.
        words = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), str(form.get("command") or ""))
        source = "form"
    from handlers.dispatch import handle

    reply = await handle(Context(request.app[DB], request.app[SETTINGS]),
                         Command("email", person.email, words.strip(), None, source))
    paragraphs = "".join(f'<p class="govuk-body">{html.escape(line)}</p>'
                         for line in (reply.text or "").splitlines() if line.strip())
    return _page(reply.language, t(reply.language, "email.done_title"),
                 f'<h1 class="govuk-heading-l">{html.escape(t(reply.language, "email.done_title"))}</h1>{paragraphs}')


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/email/actions/{token}", show)
    app.router.add_post("/email/actions/{token}", confirm)
