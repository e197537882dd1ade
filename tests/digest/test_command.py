"""`/lsb digest GROUP` and `crynodeb GRŴP`: the digest built now, its chart to the channel by the outbox."""

import base64

from sqlalchemy import select

from cyswllt.i18n import t
from cyswllt.settings import Settings
from handlers.core import Command, Context
from handlers.dispatch import handle
from storage.models import Digest, OutboxMessage
from tests.addresses import chat

from .conftest import ADMIN, MENTIONS, NOW, PERSONAL, SECRET


def context(db, database_url):
    settings = Settings(database_url=database_url, admin_token=ADMIN, secret_key=SECRET,
                        base_url="https://cyswllt.example.cymru")
    return Context(db, settings, now=lambda: NOW)


async def outbox(db):
    async with db.session() as s:
        return (await s.exec(select(OutboxMessage))).scalars().all()


async def test_a_coordinator_asks_in_welsh_and_gets_a_welsh_digest_and_the_chart_in_the_channel(db, seeded, database_url):
    reply = await handle(context(db, database_url), Command("slack", "UCYD", "crynodeb pobl-ifanc", channel_id="CIFANC"))
    assert reply.language == "cy"
    assert reply.sections[0].heading == "Crynodeb ymgynghoriad: Bysiau a llyfrgelloedd — Pobl ifanc"
    assert "https://cyswllt.example.cymru/digests/" in reply.text and "sig=" in reply.text
    # and their own link to check and pin the themes, for this consultation and group
    assert ("Gwirio a phinio themâu'r crynodeb hwn: https://cyswllt.example.cymru/admin/consultations/"
            "bysiau-a-llyfrgelloedd/themes?group=pobl-ifanc&exp=") in reply.text
    for value in PERSONAL + MENTIONS:
        assert value.lower() not in reply.text.lower()
    rows = await outbox(db)
    assert len(rows) == 1 and rows[0].platform == "slack" and rows[0].channel == "CIFANC"
    files = rows[0].payload["files"]
    assert base64.b64decode(files[0]["content_b64"]).startswith(b"\x89PNG")
    assert files[0]["alt_text"].startswith("Siart o deimlad")
    async with db.session() as s:
        assert len((await s.exec(select(Digest))).scalars().all()) == 1


async def test_the_secretariat_may_ask_by_name_in_english_from_teams(db, seeded, database_url):
    from storage.models import Person

    async with db.session() as s:
        officer = await s.get(Person, seeded.people["officer"])
        s.add_all(chat(officer, teams="aad-officer"))
        await s.commit()
    reply = await handle(context(db, database_url),
                         Command("teams", "aad-officer", "digest Young people", channel_id="19:ifanc@thread.tacv2"))
    assert reply.language == "en" and reply.sections[0].heading.startswith("Consultation digest: Buses and libraries")
    rows = await outbox(db)
    assert rows[0].platform == "teams" and "/chart.png?exp=" in rows[0].payload["reply"]["image_url"]


async def test_others_and_unknown_groups_are_refused_politely(db, seeded, database_url):
    ctx = context(db, database_url)
    reply = await handle(ctx, Command("slack", "UMEM", "digest pobl-ifanc", channel_id="CX"))
    assert "Only the coordinators of Young people" in reply.text
    reply = await handle(ctx, Command("slack", "UCYD", "crynodeb neb"))
    assert "Alla i ddim dod o hyd i grŵp" in reply.text and "Pobl ifanc (pobl-ifanc)" in reply.text
    reply = await handle(ctx, Command("slack", "UCYD", "crynodeb"))
    assert reply.text == "I weld crynodeb: crynodeb GRŴP"
    assert await outbox(db) == []


async def test_a_coordinator_on_no_board_may_still_ask_for_their_groups_digest(db, seeded, database_url):
    from storage.models import GroupCoordinator, Member, Person, StakeholderGroup

    async with db.session() as s:
        local = Person(email="cydlynydd-lleol@example.cymru", name="Cydlynydd Lleol", language="cy")
        s.add(local)
        await s.flush()
        s.add_all(chat(local, slack="ULLEOL"))
        await s.commit()
    ctx = context(db, database_url)
    # Not on a board and coordinating nothing: told there is no board, as before.
    refused = await handle(ctx, Command("slack", "ULLEOL", "crynodeb pobl-ifanc"))
    assert refused.text == t("cy", "handlers.no_board")
    async with db.session() as s:
        person = (await s.exec(select(Person).where(Person.email == "cydlynydd-lleol@example.cymru"))).scalars().one()
        group = (await s.exec(select(StakeholderGroup).where(StakeholderGroup.slug == "pobl-ifanc"))).scalars().one()
        s.add(GroupCoordinator(group_id=group.id, person_id=person.id))
        await s.commit()
        assert (await s.exec(select(Member).where(Member.person_id == person.id))).scalars().all() == []
    reply = await handle(ctx, Command("slack", "ULLEOL", "crynodeb pobl-ifanc"))
    assert reply.sections[0].heading == "Crynodeb ymgynghoriad: Bysiau a llyfrgelloedd — Pobl ifanc"
    # ...but only their own group's.
    other = await handle(ctx, Command("slack", "ULLEOL", "crynodeb pobl-hyn"))
    assert other.text == t("cy", "digest.chat.not_allowed", group="Pobl hŷn")
