"""``cyswllt demo``: a demo board from a real action plan, and an open bilingual consultation.

The board's actions are every row of the action tables in the Welsh Assembly Government's
2007 policy statement "A shared responsibility" (``demo_data/actions.csv``, rebuilt by
``demo_data/build.py``). Loading is idempotent: running it twice changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
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
]

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
    actions = await import_actions(session, BOARD, _data("actions.csv"))
    report.append(f"{actions.total} actions from the seed action plan ({actions.created} new, "
                  f"{actions.updated} updated)")
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


def run(settings, args=None) -> int:
    from storage.db import run_in_session
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    for line in run_in_session(settings.database_url, load, upgrade_sqlite=False):
        print(f"demo: {line}")
    print("demo: try `cyswllt chat --as chair@demo.cyswllt.cymru`, then `cyswllt serve` and open "
          f"{settings.public_base_url}/consultations")
    return 0
