"""The meeting pack page, opened from a recipient's link in headless Chromium: no axe-core violations
in English or Welsh, and readable with JavaScript switched off."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from cyswllt.app import create_app
from scheduler.jobs import meeting_packs
from scheduler.messages import payload_reply
from storage.db import Database
from storage.models import OutboxMessage
from tests.packs.test_meeting_pack import NOW, seed_plan, settings
from tests.web.test_browser import axe_violations


@pytest.fixture
async def pack_link(sqlite_url):
    db = Database.from_url(sqlite_url)
    await db.create_all()
    await seed_plan(db)
    await meeting_packs(db, settings(sqlite_url), NOW)
    async with db.session() as s:
        row = (await s.exec(select(OutboxMessage).where(OutboxMessage.language == "en"))).first()
    url = next(w for w in payload_reply(row.payload, row.language).text.split() if "/pack?" in w)
    server = TestServer(create_app(settings(sqlite_url), db=db), host="127.0.0.1")
    await server.start_server()
    parsed = urlparse(url)
    try:
        yield str(server.make_url(parsed.path).with_query(parsed.query))
    finally:
        await server.close()
        await db.dispose()


@pytest.mark.parametrize("lang", ["en", "cy"])
async def test_the_pack_page_has_no_axe_violations(pack_link, page, lang):
    response = await page.goto(pack_link.replace("lang=en", f"lang={lang}"))
    assert response.status == 200 and await page.get_attribute("html", "lang") == lang
    assert await axe_violations(page) == []


async def test_the_pack_reads_without_javascript(pack_link, browser):
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(pack_link)
        text = await page.inner_text("main")
        assert "Actions that need the board's attention (5)" in text and "A-4" in text
        await page.click("text=Cymraeg")
        assert "Camau sydd angen sylw'r bwrdd (5)" in await page.inner_text("main")
    finally:
        await context.close()
