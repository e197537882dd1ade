"""The form pre-ticks no language: Welsh typed on the English page is stored and analysed as Welsh,
and a language the respondent chose is kept."""

import re

import aiohttp
from sqlmodel import select

from engagement.worker import ANALYSER
from storage.models import Response
from tests.web.test_form_http import form_fields, post


async def test_no_language_is_pre_ticked_and_detection_decides(site):
    base, db, app = site
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for lang in ("en", "cy"):
            async with http.get(f"{base}/consultations/bws/respond?lang={lang}") as r:
                html = await r.text()
            radios = re.findall(r'<input type="radio" id="language-[^"]+" name="language"[^>]*>', html)
            assert len(radios) == 3 and not any("checked" in radio for radio in radios)
        fields = await form_fields(http, base)
        status, _ = await post(http, base, {**fields, "answer-q1": "Mae'r gwasanaeth bws yn wych, diolch yn fawr"})
        assert status == 200
        status, _ = await post(http, base, {**fields, "answer-q1": "Mae'r bws yn wych", "language": "en"})
        assert status == 200
    await app[ANALYSER].analyse_pending()
    async with db.session() as s:
        detected, chosen = (await s.exec(select(Response).order_by(Response.id))).all()
    assert (detected.language, detected.language_given, detected.sentiment) == ("cy", False, "positive")
    assert (chosen.language, chosen.language_given) == ("en", True)  # the respondent's own choice stands
