"""The digest's content from the seeded consultation, on SQLite and PostgreSQL."""

import json
from datetime import timedelta

from engagement.digest.build import build_data, build_digest
from storage.models import Consultation, Response, StakeholderGroup, YouSaidWeDid

from .conftest import MENTIONS, NOW, PERSONAL


async def _data(db, seeded, group_key=None, end=NOW):
    async with db.session() as s:
        consultation = await s.get(Consultation, seeded.consultation_id)
        group = await s.get(StakeholderGroup, seeded.groups[group_key]) if group_key else None
        return await build_data(s, consultation, group, end)


async def test_counts_and_sentiment_split_are_exact(db, seeded):
    data = await _data(db, seeded)
    # 12 rows: one hidden, one withdrawn; one of the other ten awaits analysis.
    assert data["counts"] == {"period": 10, "total": 10, "hidden": 1, "withdrawn": 1, "duplicates": 0, "pending": 1}
    # r5 is positive at confidence 0.2: counted as neutral.
    assert data["sentiment"]["total"] == {"positive": 3, "neutral": 2, "negative": 4}
    assert data["by_language"] == {"cy": {"period": 3, "total": 3}, "en": {"period": 7, "total": 7}}
    groups = {g["slug"]: g["total"] for g in data["by_group"]}
    assert groups == {"pobl-ifanc": 4, "pobl-hyn": 3, "busnes": 2, None: 1}


async def test_a_group_digest_counts_its_own_responses_beside_the_whole(db, seeded):
    data = await _data(db, seeded, "hyn")
    assert data["counts"]["total"] == 3 and data["counts"]["hidden"] == 1
    assert data["sentiment"]["total"] == {"positive": 0, "neutral": 1, "negative": 2}
    assert data["overall"]["counts"]["total"] == 10
    assert [t["key"] for t in data["themes"]] == ["library"]


async def test_themes_merge_inflections_mutations_and_languages(db, seeded):
    data = await _data(db, seeded)
    themes = {t["key"]: t for t in data["themes"]}
    bus = themes["bus service"]  # 'bus service', 'bus services', 'gwasanaeth bws', 'wasanaeth bws'
    assert bus["count"] == 5 and bus["languages"] == ["cy", "en"]
    assert bus["sentiment"] == {"positive": 2, "neutral": 0, "negative": 3}
    assert bus["label_en"] == "bus service" and bus["label_cy"] == "gwasanaeth bws"
    library = themes["library"]  # 'library' and 'llyfrgell'; the hidden r9 is not counted
    assert library["count"] == 4 and library["sentiment"] == {"positive": 1, "neutral": 1, "negative": 2}


async def test_each_theme_quotes_both_sides_where_both_exist(db, seeded):
    data = await _data(db, seeded)
    for theme in data["themes"]:
        for side in ("positive", "negative"):
            assert bool(theme["quotes"][side]) == (theme["sentiment"][side] > 0), (theme["key"], side)
            assert len(theme["quotes"][side]) <= 2
    bus = next(t for t in data["themes"] if t["key"] == "bus service")
    # One quote in each language on each side, where both languages said it.
    assert {q["language"] for q in bus["quotes"]["positive"]} == {"cy", "en"}
    assert {q["language"] for q in bus["quotes"]["negative"]} == {"cy", "en"}


async def test_no_hidden_withdrawn_personal_data_or_mentions_reach_the_digest(db, seeded):
    text = json.dumps(await _data(db, seeded), ensure_ascii=False)
    assert "HIDDEN-TEXT" not in text
    for value in PERSONAL + MENTIONS + ["Siân", "Ŵyn"]:
        assert value.lower() not in text.lower(), value


async def test_welsh_language_answers_are_summarised_on_their_own(db, seeded):
    welsh = (await _data(db, seeded))["welsh_language"]
    assert welsh["count"] == 3  # the hidden response's answer is left out
    assert welsh["sentiment"] == {"positive": 2, "neutral": 0, "negative": 1}
    assert welsh["themes"][0]["key"] == "language welsh" and welsh["themes"][0]["count"] == 3
    assert welsh["quotes"]["negative"] == [
        {"text": "Bydd hyn yn niweidiol i'r Gymraeg yn yr ardal wledig hon.", "language": "cy"}]
    assert len(welsh["quotes"]["positive"]) == 2


async def test_the_next_digest_shows_changes_new_themes_and_you_said_we_did(db, seeded):
    async with db.session() as s:
        consultation = await s.get(Consultation, seeded.consultation_id)
        first = await build_digest(s, consultation, None, NOW, trigger="scheduled")
        await s.commit()
    later = NOW + timedelta(days=7)
    async with db.session() as s:
        for n, (sentiment, lang, themes) in enumerate([("negative", "en", ["toilets"]), ("negative", "cy", ["toiledau"]),
                                                        ("positive", "en", ["library"])]):
            s.add(Response(consultation_id=seeded.consultation_id, reference=f"NEW-{n}", withdrawal_token_hash="x",
                           text="Public toilets are closed" if n < 2 else "The library is great for children",
                           language=lang, received_at=NOW + timedelta(days=2), analysis_state="done",
                           sentiment=sentiment, confidence=0.9, themes=themes, redacted_text="Public toilets are closed"))
        s.add(YouSaidWeDid(consultation_id=seeded.consultation_id, theme="library", you_said_en="Keep the library",
                           you_said_cy="Cadw'r llyfrgell", we_did_en="It stays open", we_did_cy="Mae'n aros ar agor",
                           created_at=NOW + timedelta(days=3)))
        await s.commit()
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
    assert [t["key"] for t in changes["new_themes"]] == ["toilet"]
    assert [(i["theme"], i["new"]) for i in data["you_said_we_did"]] == [("library", True)]


async def test_quotes_come_from_recent_responses_first_but_no_side_goes_missing(db, seeded, monkeypatch):
    from engagement.digest import build

    monkeypatch.setattr(build, "QUOTE_RECENT", 3)  # only the last three responses are looked at first
    data = await _data(db, seeded)
    library = next(t for t in data["themes"] if t["key"] == "library")
    # Both library sides lie outside the recent three: they are found in the rest.
    assert library["quotes"]["positive"] and len(library["quotes"]["negative"]) == 2
    bus = next(t for t in data["themes"] if t["key"] == "bus service")
    assert len(bus["quotes"]["positive"]) == 2 and len(bus["quotes"]["negative"]) == 2


async def test_an_on_demand_digest_leaves_the_scheduled_period_alone(db, seeded):
    async with db.session() as s:
        consultation = await s.get(Consultation, seeded.consultation_id)
        group = await s.get(StakeholderGroup, seeded.groups["ifanc"])
        monday = await build_digest(s, consultation, group, NOW, trigger="scheduled")
        await s.commit()
    async with db.session() as s:  # a coordinator asks on Wednesday, and again on Thursday
        s.add(Response(consultation_id=seeded.consultation_id, reference="WED-1", withdrawal_token_hash="x",
                       text="The youth bus is late", language="en", group_id=seeded.groups["ifanc"],
                       received_at=NOW + timedelta(days=1), analysis_state="done", sentiment="negative",
                       confidence=0.9, themes=["bus service"], redacted_text="The youth bus is late"))
        await s.commit()
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
                            text="Save the library", language="en", received_at=NOW - timedelta(hours=2),
                            analysis_state="done", sentiment="positive", confidence=0.9, themes=["library"],
                            redacted_text="Save the library")
        s.add(original)
        await s.flush()
        for n in range(3):  # the same words sent again from other forms
            s.add(Response(consultation_id=seeded.consultation_id, reference=f"COPY-{n}", withdrawal_token_hash="x",
                           text="Save the library", language="en", received_at=NOW - timedelta(hours=1),
                           duplicate_of_id=original.id, analysis_state="done", sentiment="positive",
                           confidence=0.9, themes=["library"], redacted_text="Save the library"))
        await s.commit()
    data = await _data(db, seeded)
    assert data["counts"]["total"] == before["counts"]["total"] + 1 and data["counts"]["duplicates"] == 3
    library = next(t for t in data["themes"] if t["key"] == "library")
    was = next(t for t in before["themes"] if t["key"] == "library")
    assert library["count"] == was["count"] + 1
    assert sum(day["count"] for day in data["timeline"]) == sum(day["count"] for day in before["timeline"]) + 1
