"""Email, the third platform, against a real SMTP server (aiosmtpd) on 127.0.0.1: a member in
neither Slack nor Teams gets their reminder by mail in Welsh; its link shows a page (opening it
changes nothing) and confirming posts the update, which appears in the action's history; a crash
during the send and a restart do not send it twice (and the copy a crash can cause carries the same
Message-ID)."""

import asyncio
import email
import html
import re
import socket
from datetime import timedelta
from email.policy import default as default_policy

import aiohttp
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.appkeys import SENDERS
from cyswllt.settings import Settings
from handlers.core import Command, Context
from handlers.dispatch import handle
from scheduler.jobs import run_job
from scheduler.worker import OutboxWorker
from storage.models import Action, ActionUpdate, Board, Member, OutboxMessage, Person, utcnow


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


async def seed(db):
    async with db.session() as s:
        board = Board(name="Bwrdd Gwasanaethau Cyhoeddus Môn")
        s.add(board)
        await s.flush()
        # A town council member: in neither the council's Slack nor its Teams.
        ffion = Person(email="ffion@cyngor-tref.cymru", name="Ffion Hughes", language="cy")
        s.add(ffion)
        await s.flush()
        s.add(Member(board_id=board.id, person_id=ffion.id, role="officer"))
        s.add(Action(board_id=board.id, ref="A-4", title="Town centre plan", title_cy="Cynllun canol y dref",
                     owner_id=ffion.id, owner_email=ffion.email, due=(utcnow() + timedelta(days=7)).date(),
                     due_text="next week"))
        await s.commit()
        return ffion.id


async def test_a_member_with_no_chat_id_is_reminded_by_mail_and_updates_from_its_link(db, database_url):
    await seed(db)
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(smtp.start)
    settings = Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                        analysis_enabled=False, secret_key="s3cret", base_url="https://cyswllt.example.cymru",
                        CYSWLLT_SMTP_URL=f"smtp://127.0.0.1:{port}", CYSWLLT_MAIL_FROM="cyswllt@bwrdd.example.cymru",
                        CYSWLLT_WORKING_HOURS="always")
    app = create_app(settings, db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        assert await run_job("action-reminders", db, settings) == 1
        async with db.session() as s:
            row = (await s.exec(select(OutboxMessage))).one()
        assert (row.platform, row.channel) == ("email", "ffion@cyngor-tref.cymru")
        worker = OutboxWorker(db, app[SENDERS], settings)
        await worker.deliver_due()
        (recipients, mail), = inbox.messages
        assert recipients == ["ffion@cyngor-tref.cymru"] and mail["From"] == "cyswllt@bwrdd.example.cymru"
        assert mail["Content-Language"] == "cy" and mail["Subject"].startswith("Cyswllt: Mae A-4")
        assert mail["Message-ID"] == app[SENDERS]["email"].message_id(row)
        plain = mail.get_body(("plain",)).get_content()
        page = mail.get_body(("html",)).get_content()
        assert "Cynllun canol y dref" in plain and "Diweddaru nawr:" in plain and "<a href=" in page
        update_link = re.search(r"Diweddaru nawr: (\S+)", plain).group(1)
        assert update_link.startswith("https://cyswllt.example.cymru/email/actions/")
        path = update_link.removeprefix("https://cyswllt.example.cymru")

        async with aiohttp.ClientSession() as http:
            # Opening the link (as a mail scanner would) only shows the form.
            async with http.get(base + path) as response:
                shown = html.unescape(await response.text())
                assert response.status == 200 and 'lang="cy"' in shown and "Sut mae'r cam yn mynd?" in shown
            async with db.session() as s:
                assert (await s.exec(select(ActionUpdate))).all() == []
            # Confirming without a rating is refused with the GOV.UK error summary, the note kept.
            async with http.post(base + path, data={"note": "Cyfarfod {rag} da"}) as response:
                refused = html.unescape(await response.text())
                assert response.status == 400 and "Mae problem wedi codi" in refused and "Cyfarfod {rag} da" in refused
            async with http.post(base + path, data={"rag": "green", "note": "Cyfarfod {rag} da gyda'r siopau"}) as response:
                done = html.unescape(await response.text())
                assert response.status == 200 and "A-4" in done
            # A link that was changed, or someone else's, does nothing.
            async with http.get(base + path[:-3] + "abc") as response:
                assert response.status == 410 and "wedi dod i ben" in html.unescape(await response.text())
        async with db.session() as s:
            (update,) = (await s.exec(select(ActionUpdate))).all()
            assert (update.rag, update.note, update.source) == ("green", "Cyfarfod {rag} da gyda'r siopau", "email")
        history = await handle(Context(db, settings), Command("email", "ffion@cyngor-tref.cymru", "hanes A-4"))
        assert "Cyfarfod {rag} da gyda'r siopau" in history.text
    finally:
        await server.close()
        await asyncio.to_thread(smtp.stop)


async def test_a_crash_during_the_send_and_a_restart_do_not_send_it_twice(db, database_url):
    await seed(db)
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(smtp.start)
    settings = Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                        analysis_enabled=False, secret_key="s3cret", CYSWLLT_SMTP_URL=f"smtp://127.0.0.1:{port}",
                        CYSWLLT_WORKING_HOURS="always")
    app = create_app(settings, db=db)
    try:
        await run_job("action-reminders", db, settings)
        sender = app[SENDERS]["email"]
        # Claimed, then the process died before the mail server had it: a restart sends it once.
        claimed = await OutboxWorker(db, app[SENDERS], settings).claim(10)
        assert len(claimed) == 1 and inbox.messages == []
        restarted = OutboxWorker(db, app[SENDERS], settings)
        assert await restarted.recover(stale_only=False) == 1
        await restarted.deliver_due()
        assert len(inbox.messages) == 1
        async with db.session() as s:
            row = (await s.exec(select(OutboxMessage))).one()
        assert row.state == "sent"
        # Sent, and the process died before recording it: the mail server cannot be asked, so the
        # restart sends it again — once, with the same Message-ID, and the row says so.
        async with db.session() as s:
            row.state, row.claimed_at = "sending", utcnow()
            s.add(row)
            await s.commit()
        again = OutboxWorker(db, app[SENDERS], settings)
        await again.recover(stale_only=False)
        await again.deliver_due()
        assert len(inbox.messages) == 2
        assert inbox.messages[0][1]["Message-ID"] == inbox.messages[1][1]["Message-ID"] == sender.message_id(row)
        async with db.session() as s:
            row = (await s.exec(select(OutboxMessage))).one()
        assert row.state == "sent" and "may arrive twice" in row.last_error
    finally:
        await asyncio.to_thread(smtp.stop)
