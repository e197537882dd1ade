"""``cyswllt demo``: a demo board from a real action plan, and an open bilingual consultation.

The board's actions are every row of the action tables in the Welsh Assembly Government's
2007 policy statement "A shared responsibility" (``demo_data/actions.csv``, rebuilt by
``demo_data/build.py``). The plan is from 2007–08, so its years are moved to fall around today:
every year in an action's "by when" words moves by the same number of years (``year_shift``), so
the words keep their shape and still give their dates under the brief's rules ("Spring 2008"
becomes a spring near today, "2007-08" a financial year). Red and completed actions, and a few
others, fall in the year just gone (overdue, or done); the rest in the year to come — the nearest
due within weeks, most on track. Loading is idempotent: running it twice on one day changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from importlib import resources

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.imports import add_meeting, board_named, import_actions, import_members
from storage.models import (
    Consultation,
    ConsultationGroup,
    GroupCoordinator,
    Meeting,
    Person,
    Question,
    StakeholderGroup,
    utcnow,
)

BOARD = "Ynys Môn Local Service Board"
CONSULTATION = "draft-local-service-agreement"

GROUPS = [
    dict(slug="young-people", name_en="Young people", name_cy="Pobl ifanc", language="both",
         digest_schedule="0 9 * * mon"),
    dict(slug="welsh-speakers", name_en="Welsh speakers", name_cy="Siaradwyr Cymraeg", language="cy",
         digest_schedule="0 9 * * mon"),
    dict(slug="older-people", name_en="Older people", name_cy="Pobl hŷn", language="both",
         digest_schedule="0 9 * * mon"),
    dict(slug="local-businesses", name_en="Local businesses", name_cy="Busnesau lleol", language="both",
         digest_schedule="0 9 1 * *"),
]
_FOUR_DIGITS = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_TWO_DIGITS = re.compile(r"(?<![\w/])(\d{2})(?![\w%/])")
# Actions the plan has as red or complete are placed in the year just gone (red ones are overdue,
# and escalate); so is every seventh unrated one. The rest fall due in the year to come.
OVERDUE_EVERY = 7


def shift_years(words: str, years: int) -> str:
    """The "by when" words with every year moved by ``years``, written as it was (2008 → 2027, the
    two-digit "07" → "26")."""
    if not years:
        return words
    words = _FOUR_DIGITS.sub(lambda m: str(int(m.group(1)) + years), words)
    return _TWO_DIGITS.sub(lambda m: f"{(int(m.group(1)) + years) % 100:02d}", words)


def year_shift(words: str, rag: str, position: int, today: date) -> int:
    """How many years to move one action's words: so that its date is the next one from today
    (within the coming year), or the last one before today for an action placed in the past."""
    from storage.duedates import parse_due

    due = parse_due(words)
    if due is None:
        return today.year - 2007  # no date to place: the words move with the plan (an event's year)
    years = today.year - due.year - 1
    while parse_due(shift_years(words, years)) < today:
        years += 1
    past = rag in ("red", "complete") or (not rag and position % OVERDUE_EVERY == 0)
    return years - 1 if past else years


def plan_near(today: date) -> str:
    """The seed action plan with its years moved to fall around ``today``, as CSV."""
    rows = list(csv.DictReader(io.StringIO(_data("actions.csv"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for position, row in enumerate(rows, start=1):
        years = year_shift(row["due"], row["rag"], position, today)
        writer.writerow({**row, "due": shift_years(row["due"], years)})
    return out.getvalue()


QUESTIONS = [
    dict(key="priorities", kind="open",
         text_en="Are these the right priorities for the Local Service Agreement? Tell us what you would change.",
         text_cy="Ai'r rhain yw'r blaenoriaethau cywir i'r Cytundeb Gwasanaethau Lleol? Dywedwch wrthym beth y byddech chi'n ei newid.",
         hint_en="For example, health, community safety, transport or jobs.",
         hint_cy="Er enghraifft, iechyd, diogelwch cymunedol, trafnidiaeth neu swyddi."),
    dict(key="services", kind="open",
         text_en="How could public services in your area work better together for you?",
         text_cy="Sut gallai gwasanaethau cyhoeddus yn eich ardal chi gydweithio'n well i chi?",
         hint_en="Think about a time you dealt with more than one service.",
         hint_cy="Meddyliwch am adeg pan fu'n rhaid i chi ddelio â mwy nag un gwasanaeth."),
    dict(key="welsh-language", kind="welsh_language",
         text_en="What effects do you think the proposals would have on the Welsh language, and on opportunities "
                 "for people to use Welsh? How could they be more positive, or less adverse?",
         text_cy="Pa effeithiau ydych chi'n meddwl y byddai'r cynigion yn eu cael ar y Gymraeg, ac ar gyfleoedd i "
                 "bobl ddefnyddio'r Gymraeg? Sut gellid eu gwneud yn fwy cadarnhaol, neu'n llai andwyol?",
         hint_en="We ask this in every consultation, as the Welsh Language Standards require.",
         hint_cy="Rydym yn gofyn hyn ym mhob ymgynghoriad, fel y mae Safonau'r Gymraeg yn ei ofyn."),
]


def _data(name: str) -> str:
    return (resources.files("storage") / "demo_data" / name).read_text(encoding="utf-8")


async def load_consultation(session: AsyncSession, board_id: int) -> tuple[Consultation, bool]:
    existing = (await session.exec(select(Consultation).where(Consultation.slug == CONSULTATION))).first()
    if existing is not None:
        return existing, False
    now = utcnow()
    consultation = Consultation(
        slug=CONSULTATION, board_id=board_id,
        title_en="Our draft Local Service Agreement: have your say",
        title_cy="Ein Cytundeb Gwasanaethau Lleol drafft: dweud eich dweud",
        summary_en="The Local Service Board brings together the council, the health board, the police, the fire "
                   "and rescue service, the voluntary sector and the Welsh Government. We have agreed a small "
                   "number of joint priorities for the next three years. Before we sign the agreement, we want "
                   "to hear from the people who use our services.",
        summary_cy="Mae'r Bwrdd Gwasanaethau Lleol yn dod â'r cyngor, y bwrdd iechyd, yr heddlu, y gwasanaeth tân "
                   "ac achub, y sector gwirfoddol a Llywodraeth Cymru ynghyd. Rydym wedi cytuno ar nifer bach o "
                   "flaenoriaethau ar y cyd ar gyfer y tair blynedd nesaf. Cyn i ni lofnodi'r cytundeb, rydym am "
                   "glywed gan y bobl sy'n defnyddio ein gwasanaethau.",
        executive_summary_en="Three priorities: healthier communities, safer streets and better joined-up services "
                             "for older people. Each has named actions, owners and dates, and the board will "
                             "report on them every quarter.",
        executive_summary_cy="Tair blaenoriaeth: cymunedau iachach, strydoedd mwy diogel a gwasanaethau mwy cydgysylltiedig "
                             "i bobl hŷn. Mae gan bob un gamau, perchnogion a dyddiadau penodol, a bydd y bwrdd "
                             "yn adrodd arnynt bob chwarter.",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(weeks=12),
    )
    session.add(consultation)
    await session.flush()
    for position, question in enumerate(QUESTIONS):
        session.add(Question(consultation_id=consultation.id, position=position, **question))
    coordinator = (await session.exec(select(Person).where(Person.email == "alys.morgan@demo.cyswllt.cymru"))).first()
    for spec in GROUPS:
        group = (await session.exec(select(StakeholderGroup).where(StakeholderGroup.slug == spec["slug"]))).first()
        if group is None:
            group = StakeholderGroup(**spec)
            session.add(group)
            await session.flush()
        session.add(ConsultationGroup(consultation_id=consultation.id, group_id=group.id))
        if coordinator is not None:
            linked = await session.get(GroupCoordinator, (group.id, coordinator.id))
            if linked is None:
                session.add(GroupCoordinator(group_id=group.id, person_id=coordinator.id))
    await session.flush()
    return consultation, True


async def load(session: AsyncSession) -> list[str]:
    """Load the demo into ``session`` (not committed); what was done, line by line."""
    report = []
    members = await import_members(session, BOARD, _data("members.csv"))
    report.append(f"board “{members.board}”: {members.total} members ({members.created} new)")
    today = utcnow().date()
    actions = await import_actions(session, BOARD, plan_near(today))
    report.append(f"{actions.total} actions from the seed action plan, their years moved to fall around today "
                  f"({actions.created} new, {actions.updated} updated)")
    board, _ = await board_named(session, BOARD, create=False)
    if not board.published:  # the demo shows the public pages; a real board chooses to publish
        board.published = True
        report.append(f"board pages published at /boards/{board.slug}")
    if (await session.exec(select(Meeting).where(Meeting.board_id == board.id))).first() is None:
        today = utcnow().date()
        for weeks in (2, 10):
            await add_meeting(session, BOARD, today + timedelta(weeks=weeks))
        report.append("two board meetings in the coming weeks")
    consultation, created = await load_consultation(session, board.id)
    report.append(f"consultation /consultations/{consultation.slug} ({'new' if created else 'already there'}), "
                  f"open until {consultation.closes_at:%d %B %Y}")
    return report
