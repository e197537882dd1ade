"""Emergent themes in storage, over real HTTP on SQLite and PostgreSQL: a phrase outside the glossary
that several responses raise becomes a theme of the consultation, counted in digests (with a summary that
quotes the sentences naming it), on the closed consultation's outcome page and in its open data, and
edited in the workbench and the admin API like any other, the edits kept across reanalysis; incidental
nouns and people's names never do; a withdrawn response's phrases go with its words and stop counting."""

import csv
import io
import re

import aiohttp
from sqlmodel import select

from engagement import analysis
from engagement.digest.build import build_data
from engagement.worker import ANALYSER
from storage import tallies
from storage.models import (
    Consultation,
    Response,
    ResponseTheme,
    Theme,
    ThemeCandidate,
    ThemeCandidateKey,
    ThemeMention,
    ThemeOrigin,
    utcnow,
)
from tests.engagement_api.conftest import seed_consultation

ADMIN = {"Authorization": "Bearer tok", "X-Cyswllt-Actor-Name": "Nia Admin",
         "X-Cyswllt-Actor-Email": "nia@example.cymru"}
URL = "/api/v1/consultations/bws/responses"
BRIDGE = ["Since the bridge closed my journey to work takes forty minutes longer.",
          "Please reopen the bridge before the summer.",
          "The buses go the long way round because of the bridge.",
          "Nobody will tell us when the bridge will be repaired.",
          "An ambulance took twice as long because the bridge is shut."]
PONT = ["Ers i'r bont gau mae'r daith i'r gwaith yn hirach.",
        "Ailagorwch y bont cyn yr haf, plîs.",
        "Mae angen pont newydd dros yr afon."]


async def _post(api, **body):
    status, created = await api.call("POST", URL, json=body)
    assert status == 201, created
    return created


async def _emergent(db):
    async with db.session() as s:
        themes = (await s.exec(select(Theme).where(Theme.origin == ThemeOrigin.emergent))).all()
        out = {}
        for theme in themes:
            refs = (await s.exec(select(Response.reference).join(ResponseTheme, ResponseTheme.response_id == Response.id)
                                 .where(ResponseTheme.theme_id == theme.id, ResponseTheme.removed.is_(False)))).all()
            out[theme.key] = (theme, set(refs))
        return out


async def _kept_counts_agree(db):
    """The kept count of responses per key is what counting the stored phrases gives."""
    async with db.session() as s:
        kept = {k: n for k, n in (await s.exec(select(ThemeCandidateKey.key, ThemeCandidateKey.responses))).all() if n}
        rows = (await s.exec(select(ThemeCandidate.key, ThemeCandidate.response_id).distinct())).all()
    counted: dict[str, int] = {}
    for key, _ in rows:
        counted[key] = counted.get(key, 0) + 1
    assert kept == counted and kept


async def _tallies_agree(db):
    """The digest's kept totals are what counting the responses again gives (promotion links earlier ones)."""
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation))).one()
        assert not await tallies.check(s, consultation.id)


async def _digest(db):
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation))).one()
        return await build_data(s, consultation, None, utcnow())


async def test_a_closed_bridge_raised_by_five_responses_is_a_theme_of_the_consultation(api, db):
    await seed_consultation(db)
    refs = []
    for n, text in enumerate(BRIDGE):
        refs.append((await _post(api, text=text))["reference"])
        await api.app[ANALYSER].analyse_pending()
        if n == 1:  # two responses are not several
            assert await _emergent(db) == {}
    for text in PONT:
        await _post(api, answers={"q1": text})
    await api.app[ANALYSER].analyse_pending()
    found = await _emergent(db)
    bridge, linked = found["~bridge"]
    assert linked == set(refs)  # the first two were linked when the third made it a theme
    assert (bridge.label("en"), bridge.label("cy")) == ("Bridge", "Bridge")  # raised in English only
    pont, linked = found["~pont"]
    assert pont.label("cy") == "Pont" and len(linked) == 3
    async with db.session() as s:
        first = (await s.exec(select(Response).where(Response.reference == refs[0]))).one()
        assert "~bridge" in first.themes
        questions = set((await s.exec(select(ThemeMention.question_id).join(
            ResponseTheme, ResponseTheme.id == ThemeMention.response_theme_id).where(
            ResponseTheme.theme_id == pont.id))).all())
        assert len(questions) == 1 and None not in questions  # named in the answer to q1
    data = await _digest(db)
    counts = {t["key"]: (t["label_en"], t["label_cy"], t["count"]) for t in data["themes"]}
    assert counts["~bridge"] == ("Bridge", "Bridge", 5) and counts["~pont"] == ("Pont", "Pont", 3)
    await _tallies_agree(db)
    assert counts["buses"][2] == 1  # the glossary's topics beside them
    _, listing = await api.call("GET", "/api/v1/admin/consultations/bws/themes", headers=ADMIN)
    assert {i["key"]: i["origin"] for i in listing["items"]}["~bridge"] == "emergent"


async def test_incidental_nouns_and_peoples_names_raised_by_many_are_not_themes(api, db):
    await seed_consultation(db)
    for text in ["It takes a long time to get anything done in this town.",
                 "The staff did a fantastic job with very little money.",
                 "My family have lived here for years.",
                 "Mrs Bethan Hughes at the council was so helpful.",
                 "Ask Mrs Hughes, she knows everything.",
                 "Bethan Hughes sorted it in a day.",
                 "Councillor Dafydd Roberts promised us a meeting.",
                 "Dafydd Roberts never answered my letter."] * 2:
        await _post(api, text=text)
    await api.app[ANALYSER].analyse_pending()
    assert await _emergent(db) == {}
    async with db.session() as s:
        stored = " ".join((await s.exec(select(ThemeCandidate.wording))).all()).casefold()
    for person in ("bethan", "hughes", "dafydd", "roberts"):
        assert person not in stored


async def test_people_edit_emergent_themes_like_any_other_and_reanalysis_keeps_their_edits(api, db):
    await seed_consultation(db)
    for text in BRIDGE + PONT:
        await _post(api, text=text)
    await api.app[ANALYSER].analyse_pending()
    found = await _emergent(db)
    bridge, pont = found["~bridge"][0], found["~pont"][0]
    status, _ = await api.call("PATCH", f"/api/v1/admin/themes/{bridge.id}",
                               json={"label": {"en": "The closed bridge", "cy": "Y bont ar gau"}}, headers=ADMIN)
    assert status == 200
    status, _ = await api.call("POST", f"/api/v1/admin/themes/{pont.id}/merge", json={"into": bridge.id},
                               headers=ADMIN)
    assert status == 200
    async with db.session() as s:
        await s.exec(Response.__table__.update().values(analyser_version=1))
        await s.commit()
    while await api.app[ANALYSER].reanalyse_stale():
        pass
    await _kept_counts_agree(db)
    await _tallies_agree(db)
    data = await _digest(db)
    shown = {t["key"]: (t["label_en"], t["label_cy"], t["count"]) for t in data["themes"]}
    assert shown["~bridge"] == ("The closed bridge", "Y bont ar gau", 8) and "~pont" not in shown
    async with db.session() as s:
        assert (await s.exec(select(Response.analyser_version).distinct())).all() == [analysis.ANALYSER_VERSION]


async def test_a_withdrawn_responses_phrases_go_with_its_words(api, db):
    await seed_consultation(db)
    await _post(api, text="The pier is rusting and nobody paints it.")
    created = await _post(api, text="The pier at Aberheli is falling into the sea.")
    await api.app[ANALYSER].analyse_pending()
    async with db.session() as s:
        withdrawn = (await s.exec(select(Response.id).where(Response.reference == created["reference"]))).one()
        assert "pier" in (await s.exec(select(ThemeCandidate.wording).where(
            ThemeCandidate.response_id == withdrawn))).all()
    await _kept_counts_agree(db)
    status, _ = await api.call("DELETE", f"/api/v1/responses/{created['reference']}",
                               headers={"X-Withdrawal-Token": created["withdrawal_token"]})
    assert status == 204
    async with db.session() as s:
        assert (await s.exec(select(ThemeCandidate).where(ThemeCandidate.response_id == withdrawn))).all() == []
        assert (await s.exec(select(ThemeCandidateKey.responses).where(ThemeCandidateKey.key == "~pier"))).one() == 1
    await _kept_counts_agree(db)
    await _post(api, text="Save the pier before it is too late.")  # two responses now: not several
    await api.app[ANALYSER].analyse_pending()
    assert await _emergent(db) == {}


async def test_an_emergent_themes_summary_quotes_the_sentences_that_name_it(api, db):
    await seed_consultation(db)
    for text in ["I have lived in this town all my life. Since the bridge closed my journey takes forty minutes longer.",
                 "We moved here in the spring. Please reopen the bridge before the summer holidays.",
                 "My mother is ninety this year. Nobody will tell us when the bridge will be repaired."]:
        await _post(api, text=text)
    await api.app[ANALYSER].analyse_pending()
    data = await _digest(db)
    bridge = next(t for t in data["themes"] if t["key"] == "~bridge")
    sentences = [s["text"] for s in bridge["summary"]["en"]]
    assert sentences and all("bridge" in s for s in sentences), sentences


async def test_a_closed_consultations_outcome_and_open_data_show_its_emergent_themes(api, db):
    from datetime import timedelta

    from engagement import outcomes, service

    await seed_consultation(db)
    for text in BRIDGE:
        await _post(api, text=text)
    await api.app[ANALYSER].analyse_pending()
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation).where(Consultation.slug == "bws"))).one()
        consultation.closes_at = utcnow() - timedelta(hours=1)
        s.add(consultation)
        await s.commit()
        service.forget(s)
    outcomes.forget()
    try:
        for lang in ("en", "cy"):
            status, html = await api.call("GET", f"/consultations/bws?lang={lang}")
            assert status == 200 and "Bridge" in html.split('id="outcome"')[1], lang
        status, body = await api.call("GET", "/consultations/bws/results.csv")
        assert status == 200
        rows = list(csv.DictReader(io.StringIO(body)))
        bridge = [r for r in rows if r["dimension"] == "theme" and r["key"] == "~bridge"]
        assert [(r["label_en"], r["label_cy"], r["responses"]) for r in bridge] == [("Bridge", "Bridge", "5")]
    finally:
        outcomes.forget()


async def test_the_workbench_lists_emergent_themes_and_its_edits_apply_to_them(api, db):
    await seed_consultation(db)
    for text in BRIDGE:
        await _post(api, text=text)
    await api.app[ANALYSER].analyse_pending()
    bridge = (await _emergent(db))["~bridge"][0]
    url = f"{api.base}/admin/consultations/bws/themes"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{api.base}/admin/sign-in", data={"token": "tok", "name": "Nia Admin",
                                                                 "email": "nia@example.cymru", "next": "/admin/"},
                             allow_redirects=False) as r:
            assert r.status == 303
        async with http.get(f"{url}?lang=en") as r:
            html = await r.text()
        assert f'id="theme-{bridge.id}"' in html and "Bridge" in html
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)[1]
        async with http.post(f"{url}/rename", data={"theme": bridge.id, "label_en": "The closed bridge",
                                                    "label_cy": "Y bont ar gau", "csrf": csrf}) as r:
            assert r.status == 200
        async with http.get(f"{url}?lang=cy") as r:
            assert "Y bont ar gau" in await r.text()
    await _post(api, text="The bridge closure has cut the town in two.")  # a later response joins it
    await api.app[ANALYSER].analyse_pending()
    data = await _digest(db)
    shown = {t["key"]: (t["label_en"], t["label_cy"], t["count"]) for t in data["themes"]}
    assert shown["~bridge"] == ("The closed bridge", "Y bont ar gau", 6)
