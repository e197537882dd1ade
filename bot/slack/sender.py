"""Delivers outbox rows to Slack, and finds a row's message again after a crash."""

from __future__ import annotations

import base64

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import fallback_text, render
from handlers.core import Reply
from scheduler.messages import payload_reply
from scheduler.outbox import PermanentFailure, RetryAfter
from storage.models import OutboxMessage

METADATA_EVENT = "cyswllt_outbox"
PERMANENT = {"channel_not_found", "not_in_channel", "invalid_auth", "account_inactive", "is_archived",
             "user_not_found", "token_revoked", "missing_scope", "invalid_blocks", "msg_too_long",
             "no_permission", "restricted_action", "cannot_dm_bot", "user_disabled"}


def _retry_after(exc: SlackApiError, default: float = 30.0) -> float:
    value = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
    try:
        return float(value[0] if isinstance(value, list) else value)
    except (TypeError, ValueError):
        return default


def translate(exc: SlackApiError) -> Exception:
    error = (exc.response.data or {}).get("error", "") if isinstance(exc.response.data, dict) else ""
    if exc.response.status_code == 429 or error == "ratelimited":
        return RetryAfter(_retry_after(exc), reason=f"Slack {error or 'HTTP 429'}")
    if error in PERMANENT:
        return PermanentFailure(f"Slack refused: {error}")
    return exc


def _keys(message: OutboxMessage) -> dict:
    """The message's metadata: the outbox key, and the keys of the rows bundled with it."""
    keys = {"key": message.idempotency_key}
    if (message.payload or {}).get("keys"):
        keys["also"] = list(message.payload["keys"])
    return keys


class SlackSender:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, message: OutboxMessage) -> str | None:
        payload = message.payload or {}
        try:
            reply = payload_reply(payload, message.language)
        except (KeyError, TypeError) as exc:
            raise PermanentFailure(f"not a chat message payload: {exc}") from exc
        files = payload.get("files") or []
        try:
            # A message with files is two calls; after a failed upload the retry must not post it again.
            posted = await self._find(message) if files else None
            if posted is None:
                response = await self.client.chat_postMessage(
                    channel=message.channel, text=fallback_text(reply), blocks=render(reply),
                    metadata={"event_type": METADATA_EVENT, "event_payload": _keys(message)},
                    unfurl_links=False, unfurl_media=False, parse="none", link_names=False, mrkdwn=False,
                )
                posted = (response["channel"], response["ts"])
            channel, ts = posted
            if files and not await self._has_files(channel, ts):
                await self.client.files_upload_v2(
                    channel=channel, thread_ts=ts,
                    initial_comment=fallback_text(Reply(reply.language, " ".join(
                        f.get("alt_text") or f.get("title") or f["filename"] for f in files))),
                    file_uploads=[{"content": base64.b64decode(f["content_b64"]), "filename": f["filename"],
                                   "title": f.get("title") or f["filename"], "alt_txt": f.get("alt_text")}
                                  for f in files],
                )
        except SlackApiError as exc:
            raise translate(exc) from exc
        return f"{channel}:{ts}"

    async def find_sent(self, message: OutboxMessage) -> str | None:
        try:
            posted = await self._find(message)
            if posted is None:
                return None
            # A message whose files never arrived is not delivered yet: send() adds only the files.
            if (message.payload or {}).get("files") and not await self._has_files(*posted):
                return None
        except SlackApiError as exc:
            raise translate(exc) from exc
        return f"{posted[0]}:{posted[1]}"

    async def _find(self, message: OutboxMessage) -> tuple[str, str] | None:
        channel = message.channel
        if channel.startswith(("U", "W")):
            # A DM is addressed by user id; its history lives in the IM channel.
            channel = (await self.client.conversations_open(users=channel))["channel"]["id"]
        history = await self.client.conversations_history(channel=channel, limit=100, include_all_metadata=True)
        for found in history.get("messages", []):
            meta = found.get("metadata") or {}
            if meta.get("event_type") != METADATA_EVENT:
                continue
            keys = meta.get("event_payload") or {}
            if message.idempotency_key in (keys.get("key"), *(keys.get("also") or ())):
                return channel, found["ts"]
        return None

    async def _has_files(self, channel: str, ts: str) -> bool:
        replies = await self.client.conversations_replies(channel=channel, ts=ts, limit=50)
        return any(m.get("files") for m in replies.get("messages", []))
