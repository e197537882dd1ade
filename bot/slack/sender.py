"""Delivers outbox rows to Slack, and finds a row's message again after a crash."""

from __future__ import annotations

import base64

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import fallback_text, render
from handlers.core import Reply
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


class SlackSender:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, message: OutboxMessage) -> str | None:
        payload = message.payload or {}
        try:
            reply = Reply.from_dict(payload["reply"])
        except (KeyError, TypeError) as exc:
            raise PermanentFailure(f"not a chat message payload: {exc}") from exc
        try:
            response = await self.client.chat_postMessage(
                channel=message.channel, text=fallback_text(reply), blocks=render(reply),
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": message.idempotency_key}},
                unfurl_links=False, unfurl_media=False, parse="none", link_names=False,
            )
            if payload.get("files"):
                channel = response["channel"]
                await self.client.files_upload_v2(
                    channel=channel, thread_ts=response["ts"],
                    file_uploads=[{"content": base64.b64decode(f["content_b64"]), "filename": f["filename"],
                                   "title": f.get("title") or f["filename"], "alt_txt": f.get("alt_text")}
                                  for f in payload["files"]],
                )
        except SlackApiError as exc:
            raise translate(exc) from exc
        return f"{response['channel']}:{response['ts']}"

    async def find_sent(self, message: OutboxMessage) -> str | None:
        channel = message.channel
        try:
            if channel.startswith(("U", "W")):
                channel = (await self.client.conversations_open(users=channel))["channel"]["id"]
            history = await self.client.conversations_history(channel=channel, limit=100, include_all_metadata=True)
        except SlackApiError as exc:
            raise translate(exc) from exc
        for found in history.get("messages", []):
            meta = found.get("metadata") or {}
            if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("key") == message.idempotency_key:
                return f"{channel}:{found['ts']}"
        return None
