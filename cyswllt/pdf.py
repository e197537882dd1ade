"""The one PDF renderer: a page's HTML and CSS printed to a PDF with WeasyPrint.

Digests, annual reports and meeting packs are written once, as HTML for the browser, and printed
from the same HTML here, so the PDF says what the page says. WeasyPrint is pure Python on top of
the Pango text library; where Pango is missing (a minimal container), ``PdfUnavailable`` says so
and web handlers answer 503 with that reason instead of failing (decision record 0012).

Nothing is fetched while printing: a document may embed images as ``data:`` URLs and pass its
stylesheets as text, and every other address (http, file, ftp) is refused, so citizen text can
never make the server read a file or call a URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from functools import cache
from typing import Any

from aiohttp import web

from cyswllt.i18n import normalise_language, t

log = logging.getLogger("cyswllt.pdf")

# Debian's names for the libraries WeasyPrint loads (Chromium's dependencies bring them too).
SYSTEM_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"


class PdfUnavailable(RuntimeError):
    """PDF output cannot work on this machine (WeasyPrint's system libraries are missing)."""


@cache
def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: cffi could not load Pango
        raise PdfUnavailable(
            f"PDF output needs the Pango text library, which is not installed here "
            f"(Debian: apt-get install {SYSTEM_PACKAGES}): {exc}") from exc
    return weasyprint


def available() -> bool:
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


def render_pdf(html: str, *, stylesheets: Iterable[str] = ()) -> bytes:
    """Print ``html`` (a whole document; its ``<title>`` and ``lang`` become the PDF's title and
    language) with the given CSS texts added to its own. Tagged (PDF/UA-1), for screen readers."""
    weasyprint = _weasyprint()
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(string=html, url_fetcher=fetcher, media_type="print")
    css = [weasyprint.CSS(string=text, url_fetcher=fetcher) for text in stylesheets]
    return document.write_pdf(stylesheets=css, pdf_variant="pdf/ua-1")


async def render_pdf_async(html: str, *, stylesheets: Iterable[str] = ()) -> bytes:
    """``render_pdf`` in a worker thread, so a long document does not hold up other requests."""
    return await asyncio.to_thread(render_pdf, html, stylesheets=tuple(stylesheets))


async def pdf_response(html: str, *, filename: str, language: str | None,
                       stylesheets: Iterable[str] = ()) -> web.Response:
    """A web answer holding the PDF of ``html``; 503 with the reason when PDFs cannot be made here."""
    try:
        body = await render_pdf_async(html, stylesheets=stylesheets)
    except PdfUnavailable as exc:
        log.error("%s", exc)
        lang = normalise_language(language)
        raise web.HTTPServiceUnavailable(text=t(lang, "common.pdf_unavailable"),
                                         content_type="text/plain") from exc
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename) or "document.pdf"
    return web.Response(body=body, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{safe_name}"',
                                 "Cache-Control": "private, no-store"})
