"""A consultation on local buses and libraries with known responses in English and Welsh, analysed by
the real analysis worker (one is left waiting), and three stakeholder groups (Welsh, both, English)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from engagement.worker import MAX_ATTEMPTS, AnalysisWorker
from storage.models import (
    Answer,
    Board,
    Consultation,
    ConsultationGroup,
    GroupCoordinator,
    Member,
    Person,
    Question,
    Response,
    StakeholderGroup,
)
from tests.addresses import chat

# Monday 23 November 2026, 09:00 in London (UTC in winter).
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = "digest-test-secret"
ADMIN = "admin-token"

PERSONAL = ["jo@example.com", "07700 900123", "CF10 1AA", "Jo Bloggs", "Bloggs"]
MENTIONS = ["<!channel>", "<@U999>", "<!here>"]


@dataclass
class Seeded:
    consultation_id: int
    slug: str
    groups: dict[str, int]
    board_id: int
    people: dict[str, int]


# (key, group, language, sentiment and confidence and themes as a reader would judge them, text, name, extra)
ROWS = [
    ("r1", "ifanc", "en", "positive", 0.9, ["bus service"],
     "The bus service is excellent and reliable, thank you for listening to us.", None, {}),
    ("r2", "ifanc", "cy", "negative", 0.9, ["wasanaeth bws"],
     "Mae'r gwasanaeth bws yn wael iawn ac yn hwyr bob bore i'r ysgol.", None, {}),
    ("r3", "ifanc", "cy", "positive", 0.8, ["gwasanaeth bws"],
     "Mae'r gwasanaeth bws newydd yn ardderchog, diolch yn fawr iawn.", None, {}),
    ("r4", "hyn", "en", "negative", 0.85, ["bus services", "library"],
     "Bus services are terrible and the library is closing. Email me at jo@example.com or call 07700 900123, "
     "CF10 1AA. <!channel> <@U999> Jo Bloggs", "Jo Bloggs", {"email": "jo@example.com", "contact_consent": True}),
    ("r5", "hyn", "en", "positive", 0.2, ["library"], "The library is ok I suppose, it could be better.", None, {}),
    ("r6", "hyn", "cy", "negative", 0.9, ["llyfrgell"],
     "Mae cau'r llyfrgell yn ofnadwy i bobl hŷn yn y dref, dydyn ni ddim yn hapus.", None,
     {"email": "sian@example.org", "contact_consent": True, "name": "Siân Ŵyn"}),
    ("r7", None, "en", "positive", 0.9, ["library"],
     "The library is wonderful, a real lifeline for families in town.", None, {}),
    ("r8", "busnes", "en", "neutral", 0.5, ["parking"], "Parking in town is the question for us.", None, {}),
    ("r9", "hyn", "en", "negative", 0.9, ["library"], "HIDDEN-TEXT the library staff are rubbish",
     None, {"moderation_state": "hidden"}),
    ("r10", "ifanc", "en", None, None, None, None, None, {"withdrawn": True}),
    ("r11", "ifanc", "en", None, None, None, "Not analysed yet about the bus service", None, {"pending": True}),
    ("r12", "busnes", "en", "negative", 0.7, ["parking", "bus service"],
     "Parking charges and the poor bus service are driving customers away from the high street.", None,
     {"email": "no-consent@example.com", "contact_consent": False}),
]

# Answers to the Welsh-language question: (response key, language, sentiment, confidence, themes, text)
WELSH_ANSWERS = [
    ("r2", "cy", "negative", 0.8, ["gymraeg", "ardal"], "Bydd hyn yn niweidiol i'r Gymraeg yn yr ardal wledig hon."),
    ("r3", "cy", "positive", 0.8, ["gymraeg"], "Mae gwybodaeth ddwyieithog ar y bysiau yn dda i'r Gymraeg."),
    ("r1", "en", "positive", 0.9, ["welsh language"], "Bilingual timetables are good for the Welsh language."),
    ("r9", "en", "negative", 0.9, ["welsh language"], "HIDDEN-TEXT Welsh is a waste of money"),
]


async def seed(db, now: datetime = NOW) -> Seeded:
    async with db.session() as s:
        board = Board(name="Bwrdd Gwasanaethau Cyhoeddus Môn")
        s.add(board)
        await s.flush()
        c = Consultation(slug="bysiau-a-llyfrgelloedd", board_id=board.id, title_en="Buses and libraries",
                         title_cy="Bysiau a llyfrgelloedd", summary_en="Buses and libraries in the county.",
                         summary_cy="Bysiau a llyfrgelloedd yn y sir.", opens_at=now - timedelta(days=30),
                         closes_at=now + timedelta(days=54))
        groups = {
            "ifanc": StakeholderGroup(slug="pobl-ifanc", name_en="Young people", name_cy="Pobl ifanc", language="cy",
                                      digest_schedule="0 9 * * mon"),
            "hyn": StakeholderGroup(slug="pobl-hyn", name_en="Older people", name_cy="Pobl hŷn", language="both",
                                    digest_schedule="0 9 * * mon"),
            "busnes": StakeholderGroup(slug="busnes", name_en="Business", name_cy="Busnes", language="en",
                                       digest_schedule="0 9 1 * *"),
        }
        s.add(c)
        s.add_all(groups.values())
        await s.flush()
        for g in groups.values():
            s.add(ConsultationGroup(consultation_id=c.id, group_id=g.id))
        s.add_all([*chat(groups["ifanc"], slack="CIFANC", teams="19:ifanc@thread.tacv2"),
                   *chat(groups["hyn"], slack="CHYN"), *chat(groups["busnes"], teams="19:busnes@thread.tacv2")])
        q1 = Question(consultation_id=c.id, key="q1", position=0, text_en="What do you think?",
                      text_cy="Beth yw eich barn?")
        qw = Question(consultation_id=c.id, key="welsh-language", position=9, kind="welsh_language",
                      text_en="Effects on the Welsh language?", text_cy="Effaith ar y Gymraeg?")
        s.add_all([q1, qw])
        coordinator = Person(email="cydlynydd@example.cymru", name="Cydlynydd", language="cy")
        officer = Person(email="officer@example.cymru", name="Officer", language="en")
        stranger = Person(email="member@example.cymru", name="Member", language="en")
        s.add_all([coordinator, officer, stranger])
        await s.flush()
        s.add_all([*chat(coordinator, slack="UCYD"), *chat(officer, slack="UOFF"), *chat(stranger, slack="UMEM")])
        s.add(GroupCoordinator(group_id=groups["ifanc"].id, person_id=coordinator.id))
        s.add(Member(board_id=board.id, person_id=coordinator.id, role="coordinator"))
        s.add(Member(board_id=board.id, person_id=officer.id, role="secretariat"))
        s.add(Member(board_id=board.id, person_id=stranger.id, role="wider"))
        ids: dict[str, Response] = {}
        for n, (key, group, lang, _sent, _conf, _themes, text, name, extra) in enumerate(ROWS):
            r = Response(consultation_id=c.id, reference=f"REF-{key}", withdrawal_token_hash="x", text=text,
                         language=lang, language_given=lang is not None,
                         group_id=groups[group].id if group else None, name=name or extra.get("name"),
                         email=extra.get("email"), contact_consent=extra.get("contact_consent", False),
                         anonymous=not (name or extra.get("name")),
                         received_at=now - timedelta(days=10) + timedelta(hours=n * 5),
                         # One response waits for analysis: the worker has given up on it for now.
                         analysis_attempts=MAX_ATTEMPTS if extra.get("pending") else 0,
                         moderation_state=extra.get("moderation_state", "visible"),
                         withdrawn_at=now - timedelta(days=1) if extra.get("withdrawn") else None)
            s.add(r)
            ids[key] = r
        await s.flush()
        for key, _lang, _sent, _conf, _themes, text in WELSH_ANSWERS:
            s.add(Answer(response_id=ids[key].id, question_id=qw.id, text=text))
        await s.commit()
    worker = AnalysisWorker(db, now=lambda: now)
    while await worker.analyse_pending():
        pass
    async with db.session() as s:
        return Seeded(c.id, c.slug, {k: g.id for k, g in groups.items()}, board.id,
                      {"coordinator": coordinator.id, "officer": officer.id, "stranger": stranger.id})


@pytest.fixture
async def seeded(db) -> Seeded:
    return await seed(db)
