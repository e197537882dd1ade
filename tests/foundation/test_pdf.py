"""The one PDF renderer: real PDFs, read back with pdftotext; nothing fetched while printing; a clear
503 where the system libraries are missing."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import sys

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from cyswllt import pdf

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (Debian poppler-utils) reads the PDFs back")

def _pixel() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (29, 112, 184)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


# A small PNG, embedded as a data: URL (the one kind of address a document may use).
PIXEL = _pixel()


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_info(data: bytes, tmp_path) -> str:
    path = tmp_path / "info.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout


def test_a_welsh_document_prints_with_its_diacritics_title_and_tags(tmp_path):
    html = ("<!doctype html><html lang='cy'><head><meta charset='utf-8'><title>Adroddiad blynyddol 2026-27</title>"
            "</head><body><h1>Adroddiad blynyddol 2026-27</h1>"
            "<p>Bwrdd Gwasanaethau Cyhoeddus Môn: ŵ ŷ â ê î ô û ẁ ẃ</p>"
            f"<img src='data:image/png;base64,{PIXEL}' alt='siart'></body></html>")
    data = pdf.render_pdf(html, stylesheets=["h1 { font-size: 20pt }"])
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    assert "Adroddiad blynyddol 2026-27" in text and "Môn: ŵ ŷ â ê î ô û ẁ ẃ" in text
    info = pdf_info(data, tmp_path)
    assert "Title:           Adroddiad blynyddol 2026-27" in info and "Tagged:          yes" in info


async def test_printing_fetches_no_url_and_reads_no_file(tmp_path):
    hits: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=base64.b64decode(PIXEL), content_type="image/png")

    app = web.Application()
    app.router.add_get("/{tail:.*}", anything)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    secret = tmp_path / "secret.txt"
    secret.write_text("do not print me")
    try:
        base = str(server.make_url("")).rstrip("/")
        html = (f"<html><head><link rel='stylesheet' href='{base}/style.css'><title>x</title></head><body>"
                f"<p>Before</p><img src='{base}/chart.png' alt='chart'><img src='file://{secret}' alt='file'>"
                f"<iframe src='file://{secret}'></iframe><object data='file://{secret}'></object>"
                f"<p style=\"background: url('{base}/bg.png')\">After</p></body></html>")
        data = await pdf.render_pdf_async(html, stylesheets=[f"@import url('{base}/more.css');"])
    finally:
        await server.close()
    assert hits == []
    text = pdf_text(data, tmp_path)
    assert "Before" in text and "After" in text and "do not print me" not in text


async def test_a_missing_library_is_a_clear_503_in_the_readers_language(monkeypatch):
    # Pango missing shows up as weasyprint failing to import; make it fail the same way here.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    pdf._weasyprint.cache_clear()
    try:
        assert not pdf.available()

        async def page(request: web.Request) -> web.Response:
            return await pdf.pdf_response("<html><title>x</title><p>x</p></html>", filename="x.pdf",
                                          language=request.query.get("lang"))

        app = web.Application()
        app.router.add_get("/report", page)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(server.make_url("/report")) as answer:
                    assert answer.status == 503
                    assert "a library it needs is not installed" in await answer.text()
                async with http.get(server.make_url("/report?lang=cy")) as answer:
                    assert answer.status == 503
                    assert "nid yw llyfrgell sydd ei hangen wedi'i gosod" in await answer.text()
        finally:
            await server.close()
    finally:
        monkeypatch.undo()
        pdf._weasyprint.cache_clear()
    assert pdf.available()


async def test_the_answer_is_an_inline_pdf_with_a_safe_file_name(tmp_path):
    response = await pdf.pdf_response("<html lang='en'><title>Digest</title><p>Themes</p></html>",
                                      filename='digest "young people".pdf', language="en")
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="digest--young-people-.pdf"'
    assert "Themes" in pdf_text(response.body, tmp_path)
