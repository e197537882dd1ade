"""The pages over plain HTTP: Welsh plurals and dates, 'you said, we did', the response language,
friendly refusals (413, 429, unreadable bodies, file uploads), security headers, 404 and not-yet-open."""

import asyncio
import html as markup
import re
from datetime import timedelta

import aiohttp
from sqlmodel import select

from cyswllt.appkeys import SETTINGS
from engagement.ratelimit import LIMITER
from storage.models import Consultation, Response, YouSaidWeDid, utcnow
from tests.engagement_api.conftest import seed_consultation


def jar() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # keep cookies for 127.0.0.1


async def shown(r) -> str:
    """The page as a reader sees its text (the markup escapes apostrophes)."""
    return markup.unescape(await r.text())


async def form_fields(http, base, lang="en", slug="bws"):
    async with http.get(f"{base}/consultations/{slug}/respond?lang={lang}") as r:
        assert r.status == 200
        html = await r.text()
    return dict(re.findall(r'name="(csrf|started)" value="([^"]+)"', html))


async def test_welsh_plural_days_left_and_local_dates(site):
    base, db, _ = site
    async with db.session() as s:
        (c,) = (await s.exec(select(Consultation))).all()
        c.closes_at = utcnow() + timedelta(days=2, hours=1)
        s.add(c)
        await s.commit()
    async with jar() as http:
        async with http.get(f"{base}/consultations?lang=cy") as r:
            welsh = await shown(r)
        async with http.get(f"{base}/consultations?lang=en") as r:
            english = await r.text()
    assert re.search(r"2 ddiwrnod ar ôl|3 diwrnod ar ôl", welsh), welsh  # "dau ddiwrnod": soft mutation after 2
    assert re.search(r"[23] days left", english)
    assert "Yn cau ar" in welsh and "Bysiau lleol" in welsh and "Local buses" not in welsh


async def test_consultation_page_shows_you_said_we_did_in_the_page_language(site):
    base, db, _ = site
    async with db.session() as s:
        (c,) = (await s.exec(select(Consultation))).all()
        s.add(YouSaidWeDid(consultation_id=c.id, theme="Amserlen / Timetable", you_said_en="Buses stop too early",
                           you_said_cy="Mae'r bysiau'n gorffen yn rhy gynnar", we_did_en="A later bus at 22:30",
                           we_did_cy="Bws hwyrach am 22:30"))
        await s.commit()
    async with jar() as http:
        async with http.get(f"{base}/consultations/bws?lang=cy") as r:
            html = await shown(r)
    assert "Dywedoch chi, gwnaethom ni" in html and "Bws hwyrach am 22:30" in html
    assert "A later bus" not in html and 'lang="cy"' in html
    assert "Effaith ar y Gymraeg?" in html  # the Welsh-language question is always there


async def test_the_respondent_may_say_which_language_they_wrote_in(site):
    base, db, _ = site
    async with jar() as http:
        for choice, text in (("en", "Written in English on the Welsh page"), ("", "Both: diolch, thanks")):
            fields = await form_fields(http, base, lang="cy")
            async with http.post(f"{base}/consultations/bws/respond?lang=cy",
                                 data={**fields, "answer-q1": text, "language": choice}) as r:
                assert r.status == 200 and "Ymateb wedi dod i law" in await r.text()
    async with db.session() as s:
        stored = [(r.language, r.language_given) for r in (await s.exec(select(Response).order_by(Response.id))).all()]
    assert stored == [("en", True), (None, False)]  # no choice: the analyser works it out


async def test_refusals_are_friendly_pages_never_errors(site):
    base, db, app = site
    async with jar() as http:
        fields = await form_fields(http, base)
        url = f"{base}/consultations/bws/respond?lang=cy"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        async with http.post(url, data=b"x" * 70_000, headers=form) as r:
            assert r.status == 413 and r.content_type == "text/html"
            assert "Mae eich ymateb yn rhy hir i'w anfon" in await shown(r)
        async with http.post(url, data=b"answer-q1=\xff\xfe", headers=form) as r:
            assert r.status == 400 and "Doedden ni ddim yn gallu darllen y ffurflen" in await shown(r)
        upload = aiohttp.FormData({**fields})
        upload.add_field("answer-q1", b"not a file we take", filename="answer.txt")
        async with http.post(url, data=upload) as r:
            assert r.status == 400
        async with http.post(f"{base}/consultations/withdraw", data=b"x" * 70_000, headers=form) as r:
            assert r.status == 413 and "<html" in await r.text()
        await app[LIMITER].reset(submit="1/minute")  # the refusals above counted too
        async with http.post(url, data={**fields, "answer-q1": "First"}) as r:
            assert r.status == 200
        async with http.post(url, data={**fields, "answer-q1": "Second"}) as r:
            body = await shown(r)
            assert r.status == 429 and int(r.headers["Retry-After"]) > 0
            assert "Rydych chi wedi anfon llawer o ymatebion mewn amser byr" in body and '<html lang="cy">' in body
            assert ">Second</textarea>" in body  # the words are kept for the second try
    async with db.session() as s:
        assert len((await s.exec(select(Response))).all()) == 1  # only the one accepted


async def test_security_headers_and_no_store_thank_you(site):
    base, db, _ = site
    async with jar() as http:
        async with http.get(f"{base}/consultations") as r:
            assert "script-src 'self'" in r.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        fields = await form_fields(http, base)
        async with http.post(f"{base}/consultations/bws/respond", data={**fields, "answer-q1": "Fine"}) as r:
            html = await r.text()
            assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
            code = re.search(r'class="code">([^<]+)<', html).group(1)
            assert str(r.url).endswith("/consultations/bws/respond") and code not in str(r.url)


async def test_unknown_paths_and_a_consultation_not_yet_open(site):
    base, db, _ = site
    await seed_consultation(db, "soon", opens=utcnow() + timedelta(days=3), closes=utcnow() + timedelta(weeks=13))
    async with jar() as http:
        async with http.get(f"{base}/consultations/bws/nonsense?lang=cy") as r:
            assert r.status == 404 and "Heb ddod o hyd i'r dudalen" in await shown(r)
        async with http.get(f"{base}/consultations/soon?lang=en") as r:
            html = await r.text()
            assert r.status == 200 and "This consultation opens on" in html and "Respond to this" not in html
        async with http.get(f"{base}/consultations/soon/respond") as r:
            assert r.status == 409 and "has not opened yet" in await r.text()
        async with http.get(f"{base}/consultations") as r:
            assert "soon" not in await r.text()


async def test_withdraw_page_failures_are_explained(site):
    base, db, app = site
    async with jar() as http:
        async with http.get(f"{base}/consultations/withdraw?lang=en") as r:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)
        async with http.post(f"{base}/consultations/withdraw", data={"csrf": csrf, "reference": "", "code": ""}) as r:
            html = await r.text()
            assert r.status == 400 and "Enter your reference and withdrawal code" in html and 'href="#reference"' in html
        async with http.post(f"{base}/consultations/withdraw",
                             data={"csrf": csrf, "reference": "CY-AAAA-BBBB", "code": "wrong"}) as r:
            html = await r.text()
            assert r.status == 404 and "<title>Error: " in html and "CY-AAAA-BBBB" in html
        async with http.post(f"{base}/consultations/withdraw", data={"csrf": "forged", "reference": "x", "code": "y"}) as r:
            assert r.status == 400
    assert app[SETTINGS].form_min_seconds == 0


async def test_posting_to_a_closed_consultation_is_409_and_nothing_is_stored(site):
    base, db, _ = site
    await seed_consultation(db, "old", opens=utcnow() - timedelta(weeks=20), closes=utcnow() - timedelta(weeks=1))
    async with jar() as http:
        fields = await form_fields(http, base)  # a real token from an open form
        async with http.post(f"{base}/consultations/old/respond?lang=cy", data={**fields, "answer-q1": "Hwyr"}) as r:
            assert r.status == 409 and "Mae'r ymgynghoriad hwn wedi cau" in await shown(r)
    async with db.session() as s:
        assert (await s.exec(select(Response))).all() == []


async def test_language_from_the_browser_then_the_cookie_then_the_query(site):
    base, _, _ = site
    async with jar() as http:
        async with http.get(f"{base}/consultations", headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}) as r:
            assert '<html lang="cy">' in await r.text()
        async with http.get(f"{base}/consultations?lang=en") as r:
            html = await r.text()
            assert '<html lang="en">' in html and 'href="/consultations?lang=cy"' in html
        async with http.get(f"{base}/consultations", headers={"Accept-Language": "cy"}) as r:
            assert '<html lang="en">' in await r.text()  # the remembered choice wins over the browser's


async def test_correcting_a_mistake_keeps_the_first_fill_time(site):
    base, _, app = site
    async with jar() as http:
        fields = await form_fields(http, base)
        async with http.post(f"{base}/consultations/bws/respond", data={**fields, "email": "not-an-address"}) as r:
            html = await r.text()
            assert r.status == 400 and 'href="#answer-q1"' in html and 'href="#email"' in html
            assert 'value="not-an-address"' in html
        again = dict(re.findall(r'name="(csrf|started)" value="([^"]+)"', html))
        assert again["started"] == fields["started"]
        app[SETTINGS].form_min_seconds = 0.5  # the second try is quick, but the form was first shown long ago
        try:
            await asyncio.sleep(0.6)
            async with http.post(f"{base}/consultations/bws/respond", data={**again, "answer-q1": "Now"}) as r:
                assert r.status == 200
        finally:
            app[SETTINGS].form_min_seconds = 0
