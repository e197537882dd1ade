"""The publisher's pages every public page links to: the privacy notice, the accessibility statement
and the terms of use, in English and Welsh, naming who runs the site (``CYSWLLT_PUBLISHER_NAME``) and
how to reach them (``CYSWLLT_CONTACT_EMAIL``)."""

from __future__ import annotations

from aiohttp import web

from cyswllt.appkeys import SETTINGS
from cyswllt.i18n import t
from cyswllt.settings import Settings

# Each page's sections, in order; their headings and bodies are in the ``publisher`` catalogue
# (a body's paragraphs are separated by blank lines).
SECTIONS = {
    "privacy": ["who", "what", "why", "shown", "withdraw", "keep", "cookies", "rights", "contact"],
    "accessibility": ["using", "how_accessible", "testing", "limits", "feedback", "enforcement", "welsh",
                      "prepared"],
    "terms": ["service", "responding", "moderation", "your_words", "open_data", "availability", "law",
              "contact"],
}


def publisher_name(settings: Settings, lang: str) -> str:
    return (settings.publisher_name or "").strip() or t(lang, "publisher.unnamed")


def contact(settings: Settings, lang: str) -> str:
    return (settings.contact_email or "").strip() or t(lang, "publisher.no_contact")


def page_content(settings: Settings, page: str, lang: str) -> dict:
    values = {"publisher": publisher_name(settings, lang), "contact": contact(settings, lang),
              "base_url": settings.public_base_url}
    sections = []
    for section in SECTIONS[page]:
        body = t(lang, f"publisher.{page}.{section}_body", **values)
        sections.append({"id": section.replace("_", "-"),
                         "heading": t(lang, f"publisher.{page}.{section}_heading", **values),
                         "paragraphs": [_sentence(p, values["publisher"]) for p in body.split("\n\n") if p.strip()]})
    return {"title": t(lang, f"publisher.{page}.title"),
            "intro": _sentence(t(lang, f"publisher.{page}.intro", **values), values["publisher"]),
            "sections": sections, "contact_email": (settings.contact_email or "").strip()}


def _sentence(paragraph: str, publisher: str) -> str:
    """A paragraph that opens with the publisher's name starts with a capital, whatever the name."""
    paragraph = paragraph.strip()
    if paragraph.startswith(publisher):
        return paragraph[:1].upper() + paragraph[1:]
    return paragraph


def _handler(page: str):
    async def show(request: web.Request) -> web.Response:
        from engagement.pages import language, render

        lang = language(request)
        return render(request, "publisher.html", lang, page=page_content(request.app[SETTINGS], page, lang))

    show.__name__ = f"{page}_page"
    return show


def setup(app: web.Application) -> None:
    for page in SECTIONS:
        app.router.add_get(f"/{page}", _handler(page))
