"""The theme workbench over HTTP and in headless Chromium: admins sign in (token, name, email) to an
HttpOnly, SameSite=Lax session, every form needs its CSRF token, a coordinator's signed link opens only its
own consultation and allows pinning and notes only; a rename, a merge and a hide made in the workbench
show in the next digest page, its CSV and its PDF (pdftotext finds the labels in English and Welsh); axe
finds no violations in either language."""

import re
import shutil
import subprocess

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.settings import Settings
from engagement.workbench import SESSION_COOKIE, coordinator_link
from storage.db import Database
from storage.models import Theme, ThemeEdit, ThemePin, utcnow
from tests.digest.conftest import ADMIN, SECRET, seed
from tests.engagement_api.conftest import seed_consultation
from tests.web.conftest import browser, page  # noqa: F401  (the browser fixtures)
from tests.web.test_browser import axe_violations


@pytest.fixture
async def bench(sqlite_url):
    db = Database.from_url(sqlite_url)
    await db.create_all()
    seeded = await seed(db, utcnow())
    await seed_consultation(db, "arall")
    settings = Settings(database_url=sqlite_url, scheduler_enabled=False, outbox_enabled=False,
                        analysis_enabled=False, admin_token=ADMIN, secret_key=SECRET)
    app = create_app(settings, db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), db, seeded, settings
    finally:
        await server.close()
        await db.dispose()


def jar():
    return aiohttp.CookieJar(unsafe=True)


async def sign_in(http, base, token=ADMIN):
    async with http.post(f"{base}/admin/sign-in", data={"token": token, "name": "Nia Admin",
                                                        "email": "nia@example.cymru", "next": "/admin/"},
                         allow_redirects=False) as r:
        return r.status, r.headers.getall("Set-Cookie", []), await r.text()


async def page_csrf(http, url):
    async with http.get(url) as r:
        html = await r.text()
        return r.status, html, (re.search(r'name="csrf" value="([^"]+)"', html) or [None, None])[1]


async def test_admins_sign_in_to_a_strict_session_and_forms_need_their_token(bench):
    base, db, seeded, _ = bench
    url = f"{base}/admin/consultations/{seeded.slug}/themes"
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        async with http.get(url, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"].startswith("/admin/sign-in")
        status, _, body = await sign_in(http, base, token="wrong")
        assert status == 400 and "The admin token is not right" in body
        status, cookies, _ = await sign_in(http, base)
        assert status == 303
        cookie = next(c for c in cookies if c.startswith(SESSION_COOKIE))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        status, html, csrf = await page_csrf(http, url)
        assert status == 200 and "Libraries" in html and csrf
        async with db.session() as s:
            library = (await s.exec(select(Theme).where(Theme.key == "libraries"))).one()
        async with http.post(f"{url}/hide", data={"theme": library.id}, allow_redirects=False) as r:
            assert r.status == 400  # no CSRF token: refused, nothing changed
        async with http.post(f"{url}/hide", data={"theme": library.id, "csrf": csrf}, allow_redirects=False) as r:
            assert r.status == 303
        async with http.post(f"{url}/merge", data={"theme": library.id, "csrf": csrf, "into": "999999"},
                             allow_redirects=False) as r:
            assert r.status == 303 and "error-merge_target" in r.headers["Location"]  # a 4xx-free refusal
        async with http.post(f"{url}/nonsense", data={"csrf": csrf}, allow_redirects=False) as r:
            assert r.status == 403
    async with db.session() as s:
        library = (await s.exec(select(Theme).where(Theme.key == "libraries"))).one()
        edits = (await s.exec(select(ThemeEdit))).all()
    assert library.hidden and [(e.action, e.actor_name, e.actor_email) for e in edits] == [
        ("hide", "Nia Admin", "nia@example.cymru")]


async def test_a_coordinators_link_opens_its_own_consultation_only_with_limited_rights(bench):
    base, db, seeded, settings = bench
    link = coordinator_link(settings, SECRET, seeded.slug, "pobl-ifanc").split("://", 1)[1].split("/", 1)[1]
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        async with http.get(f"{base}/{link}", allow_redirects=False) as r:
            assert r.status == 303 and "sig=" not in r.headers["Location"]
        url = f"{base}/admin/consultations/{seeded.slug}/themes"
        status, html, csrf = await page_csrf(http, url)
        assert status == 200 and "pin quotes for your group" in html and "Rename this theme" not in html
        async with http.get(f"{base}/admin/consultations/arall/themes") as r:
            assert r.status == 403
        async with db.session() as s:
            bus = (await s.exec(select(Theme).where(Theme.key == "buses"))).one()
        async with http.post(f"{url}/rename", data={"theme": bus.id, "csrf": csrf, "label_en": "X", "label_cy": "Y"},
                             allow_redirects=False) as r:
            assert r.status == 403
        async with http.post(f"{url}/pin", data={"theme": bus.id, "csrf": csrf, "reference": "REF-r1"},
                             allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"].endswith("done=pin")
        async with http.post(f"{url}/note", data={"theme": bus.id, "csrf": csrf, "note": "Ask the bus company"},
                             allow_redirects=False) as r:
            assert r.status == 303
        forged = link.replace("sig=", "sig=0")
        async with aiohttp.ClientSession(cookie_jar=jar()) as other:
            async with other.get(f"{base}/{forged}", allow_redirects=False) as r:
                assert r.status == 403
    async with db.session() as s:
        pin = (await s.exec(select(ThemePin))).one()
    assert pin.group_id == seeded.groups["ifanc"] and pin.theme_id == bus.id


async def test_rename_merge_and_hide_reach_the_digest_page_csv_and_pdf(bench, page):  # noqa: F811
    base, db, seeded, _ = bench
    await page.goto(f"{base}/admin/consultations/{seeded.slug}/themes?lang=en")
    await page.fill("#name", "Nia Admin")
    await page.fill("#email", "nia@example.cymru")
    await page.fill("#token", ADMIN)
    await page.click("button[type=submit]")
    await page.wait_for_selector("h1")
    assert (await page.inner_text("h1")).startswith("Themes:")
    for lang in ("en", "cy"):
        await page.goto(f"{base}/admin/consultations/{seeded.slug}/themes?lang={lang}")
        assert await axe_violations(page) == [], lang
    async with db.session() as s:
        themes = {t.key: t.id for t in (await s.exec(select(Theme))).all()}
    await page.goto(f"{base}/admin/consultations/{seeded.slug}/themes?lang=en")
    await page.fill(f"#en-{themes['libraries']}", "Library closures")
    await page.fill(f"#cy-{themes['libraries']}", "Cau llyfrgelloedd")
    await page.click(f"section[aria-labelledby=theme-{themes['libraries']}] >> button:text-is('Rename')")
    await page.wait_for_selector(".notice")
    await page.select_option(f"#into-{themes['parking']}", str(themes["buses"]))
    await page.click(f"section[aria-labelledby=theme-{themes['parking']}] >> button:text-is('Merge')")
    await page.wait_for_selector(".notice")
    await page.click(f"section[aria-labelledby=theme-{themes['town_centre']}] >> button:text-is('Hide this theme')")
    await page.wait_for_selector(".notice")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/admin/consultations/{seeded.slug}/digests", json={},
                             headers={"Authorization": f"Bearer {ADMIN}"}) as r:
            built = await r.json()
        path = built["url"].split("://", 1)[1].split("/", 1)[1]
        for lang, label in (("en", "Library closures"), ("cy", "Cau llyfrgelloedd")):
            await page.goto(f"{base}/{path.replace('lang=en', 'lang=' + lang)}")
            headings = await page.locator(".digest-theme h3").all_inner_texts()
            # Renamed; parking merged into the buses; the town centre hidden.
            assert label in headings and not {"Town centre and shops", "Canol y dref a siopau", "Parking",
                                               "Parcio"} & set(headings), headings
            assert await axe_violations(page) == [], lang
            async with http.get(f"{base}/{path.replace('lang=en', 'lang=' + lang)}&format=pdf") as r:
                if r.status == 503:
                    pytest.skip("WeasyPrint's system libraries are missing here")
                pdf = await r.read()
            assert pdf.startswith(b"%PDF")
            if shutil.which("pdftotext"):
                text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, timeout=60).stdout.decode()
                assert label in " ".join(text.split()), lang
        async with http.get(built["csv_url"].replace(built["csv_url"].split("/digests")[0], base)) as r:
            csv_text = await r.text()
        assert "theme,Library closures," in csv_text and "theme,Parking," not in csv_text
