"""The digest page in a real headless Chromium: the chart loads, the language link keeps the
signature, and axe-core finds no WCAG 2.2 AA violations in either language."""

import aiohttp
from aiohttp.test_utils import TestServer

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.db import Database
from storage.models import utcnow
from tests.web.conftest import browser, page  # noqa: F401  (the browser fixtures)
from tests.web.test_browser import axe_violations

from .conftest import ADMIN, SECRET, seed


async def test_the_digest_page_is_accessible_in_both_languages_and_shows_its_chart(sqlite_url, page):  # noqa: F811
    db = Database.from_url(sqlite_url)
    await db.create_all()
    seeded = await seed(db, utcnow())
    app = create_app(Settings(database_url=sqlite_url, scheduler_enabled=False, outbox_enabled=False,
                              analysis_enabled=False, admin_token=ADMIN, secret_key=SECRET), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/v1/admin/consultations/{seeded.slug}/digests", json={"group": "pobl-hyn"},
                                 headers={"Authorization": f"Bearer {ADMIN}"}) as r:
                built = await r.json()
        path = built["url"].split("://", 1)[1].split("/", 1)[1]
        for lang in ("cy", "en"):
            await page.goto(f"{base}/{path.replace('lang=en', 'lang=' + lang)}")
            assert await page.get_attribute("html", "lang") == lang
            width = await page.eval_on_selector("img.digest-chart", "img => img.complete && img.naturalWidth")
            assert width == 400  # the SVG chart, drawn for a phone's width
            assert await axe_violations(page) == [], lang
            # The language link opens the same digest, still signed.
            await page.click(f"a[hreflang={'en' if lang == 'cy' else 'cy'}]")
            assert await page.get_attribute("html", "lang") == ("en" if lang == "cy" else "cy")
        # On a 390 px phone the chart fills the width without shrinking its text below about 11 px.
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(f"{base}/{path}")
        shown = await page.eval_on_selector("img.digest-chart", "img => img.getBoundingClientRect().width")
        assert 330 <= shown <= 390
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
        await page.screenshot(path="/tmp/cyswllt-digest-390.png", full_page=True)
    finally:
        await server.close()
        await db.dispose()
