"""A stakeholder group whose channel is a mailing list: the scheduled digest goes by mail (aiosmtpd),
in the group's language, with its chart attached as a PNG (mail's way of carrying a chart), through
the same outbox as Slack and Teams — no change to the digest code, only an address on ``email``."""

import asyncio
import email
import socket
from datetime import timedelta
from email.policy import default as default_policy

from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from cyswllt.app import create_app
from cyswllt.appkeys import SENDERS
from engagement.digest.schedule import enqueue_due_digests
from scheduler.worker import OutboxWorker
from storage.models import OutboxMessage, StakeholderGroup
from storage.reach import set_address

from .conftest import NOW
from .test_delivery import AFTER_NINE, settings_for


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_group_on_a_mailing_list_gets_its_digest_with_the_chart_attached(db, seeded, database_url):
    async with db.session() as s:
        group = (await s.exec(select(StakeholderGroup).where(StakeholderGroup.slug == "pobl-ifanc"))).scalars().one()
        await set_address(s, group, "email", "pobl-ifanc@rhestr.example.cymru")
        await s.commit()
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(smtp.start)
    try:
        settings = settings_for(database_url, CYSWLLT_SMTP_URL=f"smtp://127.0.0.1:{port}",
                                CYSWLLT_MAIL_FROM="cyswllt@bwrdd.example.cymru", CYSWLLT_WORKING_HOURS="always")
        await enqueue_due_digests(db, settings, AFTER_NINE)
        async with db.session() as s:
            await s.exec(update(OutboxMessage).values(next_attempt_at=NOW))
            await s.commit()
            mailed = (await s.exec(select(OutboxMessage).where(OutboxMessage.platform == "email"))).scalars().all()
        # Young people read Welsh: one mail, beside the group's Slack and Teams digests.
        assert [(r.channel, r.language, r.kind) for r in mailed] == [("pobl-ifanc@rhestr.example.cymru", "cy", "digest")]
        app = create_app(settings, db=db)
        worker = OutboxWorker(db, {"email": app[SENDERS]["email"]}, settings, now=lambda: AFTER_NINE + timedelta(1))
        await worker.deliver_due()
        (recipients, mail), = inbox.messages
        assert recipients == ["pobl-ifanc@rhestr.example.cymru"] and mail["Content-Language"] == "cy"
        assert mail["Subject"].startswith("Cyswllt: Crynodeb ymgynghoriad: Bysiau a llyfrgelloedd — Pobl ifanc")
        plain = mail.get_body(("plain",)).get_content()
        assert "Effeithiau ar y Gymraeg" in plain and "Consultation digest" not in plain
        (chart,) = list(mail.iter_attachments())
        assert chart.get_content_type() == "image/png" and chart.get_filename().endswith("-cy.png")
        assert chart.get_content().startswith(b"\x89PNG")
    finally:
        await asyncio.to_thread(smtp.stop)
