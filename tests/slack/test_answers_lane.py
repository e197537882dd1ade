"""A process that does not run the outbox (one of ``serve --workers N``'s other workers) still sends the
answers to the commands it takes, through the answers lane, while nothing else is sent from it."""

from sqlmodel import select

from storage.models import OutboxMessage
from tests.slack.conftest import running, seed


async def test_without_the_outbox_a_process_still_sends_its_answers(db, database_url):
    await seed(db)
    async with running(db, database_url, outbox_enabled=False, outbox_answers=True,
                       CYSWLLT_WORKING_HOURS="always") as slack:
        status, _ = await slack.command("help")
        assert status == 200
        (answer,) = await slack.replies(1)  # no process runs the outbox here: only the lane can send it
        assert "actions" in str(answer)
        assert slack.fake.calls_to("chat.postMessage") == []
    async with db.session() as s:
        rows = (await s.exec(select(OutboxMessage))).all()
    answers = [r for r in rows if r.kind == "answer"]
    assert len(answers) == 1 and answers[0].state == "sent"
