"""The outbox's Slack sender against the fake Web API: errors mapped, files once, DMs found again."""

import base64

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.slack.sender import SlackSender
from scheduler.outbox import PermanentFailure, RetryAfter, enqueue
from storage.models import OutboxMessage
from tests.fakes.slack_api import FakeSlackAPI

PNG = b"\x89PNG\r\n\x1a\nchart"


async def queued(db, key: str, channel: str, files: bool = False) -> OutboxMessage:
    payload = {"reply": {"language": "cy", "text": "Crynodeb <!channel>", "sections": []}}
    if files:
        payload["files"] = [{"filename": "siart.png", "title": "Siart", "alt_text": "Siart bar o'r teimlad fesul thema",
                             "content_b64": base64.b64encode(PNG).decode()}]
    async with db.session() as s:
        await enqueue(s, key=key, platform="slack", channel=channel, payload=payload, language="cy")
        await s.commit()
        return (await s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))).one()


@pytest.fixture
async def fake():
    async with FakeSlackAPI() as api:
        yield api


def sender_for(fake) -> SlackSender:
    return SlackSender(AsyncWebClient(token="xoxb-test", base_url=fake.base_url))


async def test_a_failed_upload_is_retried_without_posting_the_message_twice(db, fake):
    message = await queued(db, "digest:1", "CCOORD", files=True)
    sender = sender_for(fake)
    fake.fail_next("files.getUploadURLExternal", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as raised:
        await sender.send(message)
    assert raised.value.seconds == 3
    # The message is there but its chart is not: not delivered yet.
    assert await sender.find_sent(message) is None
    external = await sender.send(message)
    assert len(fake.calls_to("chat.postMessage")) == 1
    complete = fake.calls_to("files.completeUploadExternal")
    assert len(complete) == 1 and complete[0].args["thread_ts"] == external.split(":")[1]
    assert "&lt;!channel&gt;" in fake.calls_to("chat.postMessage")[0].args["text"]
    stored = [u for u in fake.uploads.values() if u.get("bytes")]
    assert [u["bytes"] for u in stored] == [PNG] and stored[0]["alt_text"] == "Siart bar o'r teimlad fesul thema"
    assert await sender.find_sent(message) == external
    # Sending again after a crash finds everything in place and adds nothing.
    await sender.send(message)
    assert len(fake.calls_to("chat.postMessage")) == 1 and len(fake.calls_to("files.completeUploadExternal")) == 1


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth", "account_inactive",
                                   "is_archived"])
async def test_hopeless_errors_are_permanent(db, fake, error):
    message = await queued(db, f"k:{error}", "CGONE")
    fake.fail_next("chat.postMessage", error=error)
    with pytest.raises(PermanentFailure):
        await sender_for(fake).send(message)


async def test_ratelimited_error_without_a_header_waits_thirty_seconds(db, fake):
    message = await queued(db, "k:rl", "CBOARD")
    fake.fail_next("chat.postMessage", error="ratelimited")
    with pytest.raises(RetryAfter) as raised:
        await sender_for(fake).send(message)
    assert raised.value.seconds == 30


async def test_a_direct_message_is_found_again_in_the_im_channel(db, fake):
    message = await queued(db, "dm:1", "UOWNER")
    sender = sender_for(fake)
    assert await sender.find_sent(message) is None
    external = await sender.send(message)
    assert external.startswith("DOWNER:")
    assert await sender.find_sent(message) == external
    history = fake.calls_to("conversations.history")[-1].args
    assert history["channel"] == "DOWNER" and str(history["include_all_metadata"]).lower() in ("1", "true")
