"""The digest's content from the seeded consultation, on SQLite and PostgreSQL."""

import json
from datetime import timedelta

from engagement.digest.build import build_data, build_digest
from engagement.worker import AnalysisWorker
from storage.models import Consultation, Response, StakeholderGroup, YouSaidWeDid

from .conftest import MENTIONS, NOW, PERSONAL, ROWS


async def _analyse(db, now):
    worker = AnalysisWorker(db, now=lambda: now)
    while await worker.analyse_pending():
        pass


async def _data(db, seeded, group_key=None, end=NOW):
    async with db.session() as s:
        consultation = await s.get(Consultation, seeded.consultation_id)
        group = await s.get(StakeholderGroup, seeded.groups[group_key]) if group_key else None
        return await build_data(s, consultation, group, end)


async def test_counts_and_sentiment_split_are_exact(db, seeded):
    data = await _data(db, seeded)
    # 12 rows: one hidden, one withdrawn; one of the other ten awaits analysis.
    assert data["counts"] == {"period": 10, "total": 10, "hidden": 1, "withdrawn": 1, "duplicates": 0, "pending": 1}
    # Each response's own sentiment as the analyser gave it (r8 asks a question: neutral).
    assert data["sentiment"]["total"] == {"positive": 4, "neutral": 1, "negative": 4}
    assert data["by_language"] == {"cy": {"period": 3, "total": 3}, "en": {"period": 7, "total": 7}}
    groups = {g["slug"]: g["total"] for g in data["by_group"]}
    assert groups == {"pobl-ifanc": 4, "pobl-hyn": 3, "busnes": 2, None: 1}


async def test_a_group_digest_counts_its_own_responses_beside_the_whole(db, seeded):
    data = await _data(db, seeded, "hyn")
    assert data["counts"]["total"] == 3 and data["counts"]["hidden"] == 1
    assert data["sentiment"]["total"] == {"positive": 1, "neutral": 0, "negative": 2}
    assert data["overall"]["counts"]["total"] == 10
    # A small group still gets its themes: one raised by one response is shown.
    assert [(t["key"], t["count"]) for t in data["themes"]] == [("libraries", 3), ("buses", 1)]


async def test_themes_are_one_key_across_inflections_mutations_and_languages(db, seeded):
    data = await _data(db, seeded)
    themes = {t["key"]: t for t in data["themes"]}
    bus = themes["buses"]  # 'bus service', 'bus services', 'gwasanaeth bws', 'bysiau'
    assert bus["count"] == 5 and bus["languages"] == ["cy", "en"]
    assert bus["sentiment"] == {"positive": 2, "neutral": 0, "negative": 3}
    assert bus["label_en"] == "Buses" and bus["label_cy"] == "Bysiau"
    assert bus["by_question"] == {"general": 5, "welsh-language": 1}
    library = themes["libraries"]  # 'library' and 'llyfrgell'; the hidden r9 is not counted
    assert library["count"] == 4 and library["sentiment"] == {"positive": 2, "neutral": 0, "negative": 2}
    # r12 is against parking charges and the bus service in one clause; r8 only asks about parking.
    assert themes["parking"]["sentiment"] == {"positive": 0, "neutral": 1, "negative": 1}
    # Themes are topics: no incidental word ("town", "bore", "ysgol" where the bus goes) is one.
    assert set(themes) <= {"buses", "libraries", "parking", "town_centre", "welsh_language"}


async def test_each_theme_quotes_both_sides_where_both_exist(db, seeded):
    data = await _data(db, seeded)
    quoted = []
    for theme in data["themes"]:
        for side in ("positive", "negative"):
            assert len(theme["quotes"][side]) <= 2
            quoted += [q["response_id"] for q in theme["quotes"][side]]
    assert len(quoted) == len(set(quoted))  # no response is quoted twice in one digest
    for key in ("buses", "libraries", "parking"):
        theme = next(t for t in data["themes"] if t["key"] == key)
        for side in ("positive", "negative"):
            assert bool(theme["quotes"][side]) == (theme["sentiment"][side] > 0), (key, side)
    bus = next(t for t in data["themes"] if t["key"] == "buses")
    # One quote in each language on each side, where both languages said it.
    assert {q["language"] for q in bus["quotes"]["positive"]} == {"cy", "en"}
    # The English negative ones were taken (r12 speaks for parking) or unquotable (r4 carries chat markup).
    assert {q["language"] for q in bus["quotes"]["negative"]} == {"cy"}


async def test_no_hidden_withdrawn_personal_data_or_mentions_reach_the_digest(db, seeded):
    text = json.dumps(await _data(db, seeded), ensure_ascii=False)
    assert "HIDDEN-TEXT" not in text
    for value in PERSONAL + MENTIONS + ["Siân", "Ŵyn"]:
        assert value.lower() not in text.lower(), value


async def test_welsh_language_answers_are_summarised_on_their_own(db, seeded):
    welsh = (await _data(db, seeded))["welsh_language"]
    assert welsh["count"] == 3  # the hidden response's answer is left out
    assert welsh["sentiment"] == {"positive": 2, "neutral": 0, "negative": 1}
    # "i'r Gymraeg" beside "y bysiau" gives way to the buses; the other two name the language.
    assert [(t["key"], t["count"]) for t in welsh["themes"]] == [("welsh_language", 2), ("buses", 1)]
    assert [(q["text"], q["language"]) for q in welsh["quotes"]["negative"]] == [
        ("Bydd hyn yn niweidiol i'r Gymraeg yn yr ardal wledig hon.", "cy")]
    assert len(welsh["quotes"]["positive"]) == 2


async def test_the_next_digest_shows_changes_new_themes_and_you_said_we_did(db, seeded):
    async with db.session() as s:
        consultation = await s.get(Consultation, seeded.consultation_id)
        first = await build_digest(s, consultation, None, NOW, trigger="scheduled")
        await s.commit()
    later = NOW + timedelta(days=7)
    async with db.session() as s:
        for n, text in enumerate(["The public toilets are closed and filthy", "Mae'r toiledau cyhoeddus yn fudr",
                                  "The library is great for children"]):
            s.add(Response(consultation_id=seeded.consultation_id, reference=f"NEW-{n}", withdrawal_token_hash="x",
                           text=text, received_at=NOW + timedelta(days=2)))
        s.add(YouSaidWeDid(consultation_id=seeded.consultation_id, theme="library", you_said_en="Keep the library",
                           you_said_cy="Cadw'r llyfrgell", we_did_en="It stays open", we_did_cy="Mae'n aros ar agor",
                           created_at=NOW + timedelta(days=3)))
        await s.commit()
    worker = AnalysisWorker(db, now=lambda: later)
    while await worker.analyse_pending():
        pass
    async with db.session() as s:
        consultation = await s.get(Consultation, seeded.consultation_id)
        second = await build_digest(s, consultation, None, later, trigger="scheduled")
        await s.commit()
    data = second.data
    assert data["period"]["start"] == first.data["period"]["end"]
    assert data["counts"]["period"] == 3 and data["counts"]["total"] == 13
    changes = data["changes"]
    assert changes["previous_id"] == first.id and changes["total"] == 3
    assert changes["sentiment"] == {"positive": 1, "neutral": 0, "negative": 2}
    assert [t["key"] for t in changes["new_themes"]] == ["public_toilets"]
    assert [(i["theme"], i["new"]) for i in data["you_said_we_did"]] == [("library", True)]


async def test_quotes_come_from_recent_responses_first_but_no_side_goes_missing(db, seeded, monkeypatch):
    from engagement.digest import build

    monkeypatch.setattr(build, "QUOTE_RECENT", 3)  # only the last three responses are looked at first
    data = await _data(db, seeded)
    library = next(t for t in data["themes"] if t["key"] == "libraries")
    # Both library sides lie outside the recent three: they are found in the rest.
    assert library["quotes"]["positive"] and library["quotes"]["negative"]
    bus = next(t for t in data["themes"] if t["key"] == "buses")
    assert len(bus["quotes"]["positive"]) == 2 and bus["quotes"]["negative"]


async def test_an_on_demand_digest_leaves_the_scheduled_period_alone(db, seeded):
    async with db.session() as s:
        consultation = await s.get(Consultation, seeded.consultation_id)
        group = await s.get(StakeholderGroup, seeded.groups["ifanc"])
        monday = await build_digest(s, consultation, group, NOW, trigger="scheduled")
        await s.commit()
    async with db.session() as s:  # a coordinator asks on Wednesday, and again on Thursday
        s.add(Response(consultation_id=seeded.consultation_id, reference="WED-1", withdrawal_token_hash="x",
                       text="The youth bus is late", language="en", group_id=seeded.groups["ifanc"],
                       received_at=NOW + timedelta(days=1)))
        await s.commit()
    await _analyse(db, NOW + timedelta(days=1))
    async with db.session() as s:
        consultation = await s.get(Consultation, seeded.consultation_id)
        group = await s.get(StakeholderGroup, seeded.groups["ifanc"])
        wednesday = await build_digest(s, consultation, group, NOW + timedelta(days=2))
        thursday = await build_digest(s, consultation, group, NOW + timedelta(days=3))
        await s.commit()
    for asked in (wednesday, thursday):  # each covers the week so far, against Monday's digest
        assert asked.data["period"]["start"] == monday.data["period"]["end"]
        assert asked.data["counts"]["period"] == 1 and asked.data["changes"]["previous_id"] == monday.id
        assert not asked.scheduled
    async with db.session() as s:  # and next Monday's scheduled digest still starts where Monday's ended
        consultation = await s.get(Consultation, seeded.consultation_id)
        group = await s.get(StakeholderGroup, seeded.groups["ifanc"])
        next_monday = await build_digest(s, consultation, group, NOW + timedelta(days=7), trigger="scheduled")
        await s.commit()
    assert next_monday.data["period"]["start"] == monday.data["period"]["end"]
    assert next_monday.data["counts"]["period"] == 1 and next_monday.data["changes"]["previous_id"] == monday.id
    assert next_monday.scheduled


async def test_repeated_words_are_counted_apart_not_in_the_totals(db, seeded):
    before = await _data(db, seeded)
    async with db.session() as s:
        original = Response(consultation_id=seeded.consultation_id, reference="ORIG-1", withdrawal_token_hash="x",
                            text="Save the library", language="en", received_at=NOW - timedelta(hours=2))
        s.add(original)
        await s.flush()
        for n in range(3):  # the same words sent again from other forms
            s.add(Response(consultation_id=seeded.consultation_id, reference=f"COPY-{n}", withdrawal_token_hash="x",
                           text="Save the library", language="en", received_at=NOW - timedelta(hours=1),
                           duplicate_of_id=original.id))
        await s.commit()
    await _analyse(db, NOW)
    data = await _data(db, seeded)
    assert data["counts"]["total"] == before["counts"]["total"] + 1 and data["counts"]["duplicates"] == 3
    library = next(t for t in data["themes"] if t["key"] == "libraries")
    was = next(t for t in before["themes"] if t["key"] == "libraries")
    assert library["count"] == was["count"] + 1
    assert sum(day["count"] for day in data["timeline"]) == sum(day["count"] for day in before["timeline"]) + 1


async def test_a_pinned_quote_wins_and_you_said_we_did_shows_the_label(db, seeded):
    from sqlmodel import select

    from engagement.digest.render import chat_reply
    from storage.models import Theme, ThemePin

    async with db.session() as s:
        library = (await s.exec(select(Theme).where(Theme.key == "libraries"))).one()
        r6 = (await s.exec(select(Response).where(Response.reference == "REF-r6"))).one()
        s.add(ThemePin(theme_id=library.id, response_id=r6.id, pinned_by="nia@example.cymru"))
        library.custom_label_en, library.custom_label_cy = "Library closures", "Cau llyfrgelloedd"
        s.add(library)
        s.add(YouSaidWeDid(consultation_id=seeded.consultation_id, theme="libraries", you_said_en="Keep it",
                           you_said_cy="Cadwch hi", we_did_en="Kept", we_did_cy="Cadwyd", created_at=NOW))
        await s.commit()
    data = await _data(db, seeded)
    library = next(t for t in data["themes"] if t["key"] == "libraries")
    assert library["quotes"]["negative"][0]["text"].startswith("Mae cau'r llyfrgell") and library["quotes"][
        "negative"][0]["pinned"]
    assert [(i["label_en"], i["label_cy"]) for i in data["you_said_we_did"]] == [("Library closures",
                                                                                   "Cau llyfrgelloedd")]
    reply = chat_reply(data, "cy")
    text = repr(reply)  # the text, every section and every fact
    assert "Cau llyfrgelloedd — dywedoch chi" in text and "Drafft: heb eu cymeradwyo" in text


async def test_digests_say_draft_until_the_themes_are_signed_off(db, seeded):
    from storage.models import ThemeEdit

    assert (await _data(db, seeded))["theme_set"]["signed_off"] is False
    async with db.session() as s:
        s.add(ThemeEdit(consultation_id=seeded.consultation_id, action="sign-off", actor_name="Nia"))
        await s.commit()
    state = (await _data(db, seeded))["theme_set"]
    assert state["signed_off"] is True and state["updated_since"] is False


async def test_each_theme_has_an_extractive_summary_with_references_in_each_language(db, seeded):
    data = await _data(db, seeded)
    bus = next(t for t in data["themes"] if t["key"] == "buses")
    texts = {r[0]: r[6] for r in ROWS if r[6]}
    assert set(bus["summary"]) == {"cy", "en"}
    for sentences in bus["summary"].values():
        assert 1 <= len(sentences) <= 3
        assert len({s["reference"] for s in sentences}) == len(sentences)  # each from another response
        for sentence in sentences:
            key = sentence["reference"].removeprefix("REF-")
            assert sentence["text"] in texts[key]  # drawn from what was written, nothing added
        sides = {s["side"] for s in sentences}
        assert "positive" in sides and "negative" in sides  # balanced across sides
    assert "HIDDEN-TEXT" not in json.dumps(data["themes"])
