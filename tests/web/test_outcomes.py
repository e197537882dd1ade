"""The outcomes archive and the publisher's pages: closed consultations with their counts, themes and
open data (never response text, small counts suppressed); the privacy notice, accessibility statement
and terms in both languages, linked from every footer; axe-core finds nothing in headless Chromium."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.settings import Settings
from engagement import outcomes, service
from engagement.worker import ANALYSER
from storage.db import Database
from storage.models import Consultation, Response, utcnow
from tests.engagement_api.conftest import seed_consultation
from tests.web.test_browser import axe_violations

RESPONSES = [
    ("The school bus is always late and the drivers are rude.", "bws-young"),
    ("The school bus is late every single morning, it is awful.", "bws-young"),
    ("The school bus takes over an hour, terrible.", None),
    ("Mae'r bws ysgol yn hwyr bob bore, mae'n ofnadwy.", "bws-young"),
    ("Mae'r bws ysgol yn araf iawn ac yn hwyr.", None),
    ("The new bus timetable is excellent, thank you.", None),
    ("My name is Sian Jones and my email is sian@example.com; the bus stop is lovely.", None),
]
SECRET_WORDS = ["drivers are rude", "Sian", "sian@example.com", "ofnadwy"]


async def fetch(url: str) -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            return response.status, await response.text(), dict(response.headers)


@pytest.fixture
async def closed_site(database_url):
    """A consultation that received responses (analysed by the real analyser), then closed."""
    db = Database.from_url(database_url)
    await db.create_all()
    await seed_consultation(db)
    await seed_consultation(db, "open-one")
    settings = Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                        analysis_enabled=False, CYSWLLT_RATE_LIMIT="1000/minute",
                        CYSWLLT_PUBLISHER_NAME="Bwrdd Gwasanaethau Cyhoeddus Môn",
                        CYSWLLT_CONTACT_EMAIL="ymgysylltu@mon.example.cymru")
    app = create_app(settings, db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        for text, group in RESPONSES:
            body = {"text": text, **({"group": group} if group else {})}
            async with http.post(f"{base}/api/v1/consultations/bws/responses", json=body) as answer:
                assert answer.status == 201
    await app[ANALYSER].analyse_pending()
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation).where(Consultation.slug == "bws"))).one()
        consultation.closes_at = utcnow() - timedelta(hours=1)
        s.add(consultation)
        await s.commit()
        service.forget(s)
    outcomes.forget()
    try:
        yield base, db
    finally:
        outcomes.forget()
        await server.close()
        await db.dispose()


async def test_the_archive_lists_closed_consultations_only(closed_site):
    base, _ = closed_site
    status, html, _ = await fetch(f"{base}/consultations?status=closed&lang=en")
    assert status == 200 and "Closed consultations" in html
    assert "/consultations/bws?lang=en" in html and "7 responses" in html
    assert "/consultations/open-one?" not in html
    status, html, _ = await fetch(f"{base}/consultations?lang=en")  # the open list is unchanged
    assert "/consultations/open-one?lang=en" in html and "/consultations/bws?lang=en" not in html
    status, html, _ = await fetch(f"{base}/consultations?status=closed&lang=cy")
    assert status == 200 and "Ymgyngoriadau sydd wedi cau" in html and "7 ymateb" in html


async def test_a_closed_consultation_shows_its_counts_and_themes_but_no_response_text(closed_site):
    base, _ = closed_site
    status, html, _ = await fetch(f"{base}/consultations/bws?lang=en")
    assert status == 200 and "What people told us" in html and "7 responses" in html
    assert "Responses by group" in html and "Young people" in html
    assert "bus" in html.split('id="outcome"')[1].lower()  # the theme everyone raised
    assert "&lt;5" in html  # the small counts are suppressed
    for words in SECRET_WORDS:
        assert words not in html
    status, html, _ = await fetch(f"{base}/consultations/bws?lang=cy")
    assert "Beth ddywedodd pobl wrthym" in html and "Pobl ifanc" in html and "Data agored" in html


async def test_results_are_open_data_counts_without_text(closed_site):
    base, db = closed_site
    status, body, headers = await fetch(f"{base}/consultations/bws/results.csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "open-government-licence/version/3" in headers["Link"]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == outcomes.CSV_COLUMNS
    by_dimension = {}
    for row in rows:
        by_dimension.setdefault(row["dimension"], []).append(row)
    (total,) = by_dimension["total"]
    assert total["responses"] == "7" and total["key"] == "bws"
    assert {r["key"]: r["responses"] for r in by_dimension["group"]} == {"bws-young": "<5"}
    assert {r["key"] for r in by_dimension["language"]} == {"en", "cy"}
    assert {r["key"] for r in by_dimension["sentiment"]} == {"positive", "neutral", "negative"}
    assert any("bus" in r["label_en"].lower() or "bws" in r["label_cy"].lower() for r in by_dimension["theme"])
    for row in rows:  # every count is a number of 5 or more, or "<5"
        for column in ("responses", "positive", "neutral", "negative"):
            assert row[column] in ("", "<5") or int(row[column]) >= 5, row
    for words in SECRET_WORDS:
        assert words not in body
    async with db.session() as s:  # and nothing in it is a whole response
        texts = [r.text for r in (await s.exec(select(Response))).all()]
    assert not any(text in body for text in texts)
    assert (await fetch(f"{base}/consultations/open-one/results.csv"))[0] == 404  # not before it closes
    assert (await fetch(f"{base}/consultations/nope/results.csv"))[0] == 404


async def test_publisher_pages_name_the_publisher_in_both_languages_and_every_footer_links_them(closed_site):
    base, _ = closed_site
    for path, en, cy in (("/privacy", "Privacy notice", "Hysbysiad preifatrwydd"),
                         ("/accessibility", "Accessibility statement", "Datganiad hygyrchedd"),
                         ("/terms", "Terms of use", "Telerau defnyddio")):
        status, html, headers = await fetch(f"{base}{path}?lang=en")
        assert status == 200 and f"<h1>{en}</h1>" in html and headers["X-Frame-Options"] == "DENY"
        assert "Bwrdd Gwasanaethau Cyhoeddus Môn" in html and "mailto:ymgysylltu@mon.example.cymru" in html
        status, html, _ = await fetch(f"{base}{path}?lang=cy")
        assert status == 200 and f"<h1>{cy}</h1>" in html and 'lang="cy"' in html
    _, html, _ = await fetch(f"{base}/privacy?lang=en")
    assert "Article 6(1)(e)" in html and "cyswllt_lang" in html and "ico.org.uk" in html
    _, html, _ = await fetch(f"{base}/accessibility?lang=cy")
    assert "WCAG" in html and "a redir gan Fwrdd Gwasanaethau Cyhoeddus Môn" in html  # gan softens Bwrdd
    for path in ("/consultations", "/consultations/bws", "/consultations/open-one/respond", "/consultations/withdraw"):
        _, html, _ = await fetch(f"{base}{path}?lang=en")
        assert 'href="/privacy?lang=en"' in html and 'href="/accessibility?lang=en"' in html
        assert 'href="/terms?lang=en"' in html and "Run by Bwrdd Gwasanaethau Cyhoeddus Môn." in html
    _, html, _ = await fetch(f"{base}/consultations?lang=cy")
    assert "Gwasanaeth gan Fwrdd Gwasanaethau Cyhoeddus Môn." in html


async def test_without_a_publisher_set_the_pages_still_read_well(site):
    base, _, _ = site
    status, html, _ = await fetch(f"{base}/privacy?lang=en")
    assert status == 200 and "The public services board that runs this site is responsible" in html
    assert "this site has not yet been given a contact address" in html and "mailto:" not in html


async def test_new_pages_pass_axe_in_both_languages(closed_site, page):
    base, _ = closed_site
    for lang in ("en", "cy"):
        for path in ("/privacy", "/accessibility", "/terms", "/consultations?status=closed", "/consultations/bws"):
            joiner = "&" if "?" in path else "?"
            await page.goto(f"{base}{path}{joiner}lang={lang}")
            assert await page.get_attribute("html", "lang") == lang
            assert await axe_violations(page) == [], (lang, path)
