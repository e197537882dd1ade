"""The board's public pages in headless Chromium: no axe-core violations in English or Welsh, and
everything readable with JavaScript switched off."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.db import Database
from tests.web.conftest import ARGS, CHROMIUM  # noqa: F401
from tests.web.seed15 import SLUG, seed
from tests.web.test_browser import axe_violations

PAGES = [f"/boards/{SLUG}", f"/boards/{SLUG}/scrutiny", f"/boards/{SLUG}/reports/2026-27", "/boards/nowhere"]


@pytest.fixture
async def board_site(sqlite_url):
    import aiohttp

    db = Database.from_url(sqlite_url)
    await db.create_all()
    await seed(db)
    app = create_app(Settings(database_url=sqlite_url, scheduler_enabled=False, outbox_enabled=False,
                              analysis_enabled=False, admin_token="admin-token"), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/boards/{SLUG}/reports/2026-27/publish",
                             headers={"Authorization": "Bearer admin-token"}) as response:
            assert response.status == 201
    try:
        yield base
    finally:
        await server.close()
        await db.dispose()


@pytest.mark.parametrize("lang", ["en", "cy"])
async def test_no_axe_violations(board_site, page, lang):
    for path in PAGES:
        response = await page.goto(f"{board_site}{path}?lang={lang}")
        assert response.status in (200, 404)
        assert await page.get_attribute("html", "lang") == lang
        assert await axe_violations(page) == [], path


async def test_readable_without_javascript(board_site, browser):
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(f"{board_site}/boards/{SLUG}?lang=cy")
        assert "Ymgyrch ailgylchu ar y cyd" in await page.inner_text("main")
        await page.click("text=Cofrestr graffu a rhaglen waith i'r dyfodol")
        assert "Rhaglen waith i'r dyfodol" in await page.inner_text("h2#programme")
        await page.goto(f"{board_site}/boards/{SLUG}/reports/2026-27?lang=en")
        assert "Progress on every action" in await page.inner_text("main")
    finally:
        await context.close()
