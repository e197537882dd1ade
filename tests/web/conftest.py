from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.db import Database
from tests.engagement_api.conftest import seed_consultation

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture
async def site(sqlite_url):
    db = Database.from_url(sqlite_url)
    await db.create_all()
    await seed_consultation(db)
    app = create_app(Settings(database_url=sqlite_url, scheduler_enabled=False, outbox_enabled=False,
                              analysis_enabled=False, CYSWLLT_FORM_MIN_SECONDS=0), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), db, app
    finally:
        await server.close()


@pytest.fixture(scope="session")
async def browser():
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium")
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(bypass_csp=True)  # axe-core is injected as an inline script
    page = await context.new_page()
    yield page
    await context.close()
