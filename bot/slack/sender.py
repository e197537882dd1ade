"""Delivers outbox rows to Slack, and finds a row's message again after a crash."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import PLATFORM
from bot.slack.blocks import fallback_text, render, response_payload
from handlers.core import Reply
from scheduler.messages import payload_reply
from scheduler.outbox import PermanentFailure, RetryAfter
from storage.models import OutboxMessage

METADATA_EVENT = "cyswllt_outbox"
PERMANENT = {"channel_not_found", "not_in_channel", "invalid_auth", "account_inactive", "is_archived",
             "user_not_found", "token_revoked", "missing_scope", "invalid_blocks", "msg_too_long",
             "no_permission", "restricted_action", "cannot_dm_bot", "user_disabled"}


def _seconds(value, default: float = 30.0) -> float:
    try:
        return max(0.0, float(value[0] if isinstance(value, list) else value))
    except (TypeError, ValueError):
        return default


def _retry_after(exc: SlackApiError, default: float = 30.0) -> float:
    return _seconds(exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after"), default)


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


# Answers Slack cannot show to anyone but the member: they cannot be looked up after a crash.
UNFINDABLE = ("response_url", "ephemeral")
# chat.postEphemeral refusals that mean "not here": the answer goes to the member's DM instead.
NOT_HERE = {"channel_not_found", "not_in_channel", "user_not_in_channel", "is_archived"}


def _answer(message: OutboxMessage) -> dict[str, Any] | None:
    to = (message.payload or {}).get("answer")
    return to if isinstance(to, dict) else None


class SlackSender:
    per_channel_per_second = PLATFORM.per_channel_per_second

    def __init__(self, client: AsyncWebClient, *, web_api: bool = True) -> None:
        self.client = client
        self.web_api = web_api  # False without SLACK_BOT_TOKEN: only answers through response_url go

    def can_find(self, message: OutboxMessage) -> bool:
        """Whether ``find_sent`` can tell if this row reached Slack: posted messages carry their key
        in metadata; answers through response_url and ephemeral messages cannot be read back."""
        to = _answer(message)
        return not (to and any(to.get(k) for k in UNFINDABLE))

    async def send(self, message: OutboxMessage) -> str | None:
        payload = message.payload or {}
        try:
            reply = payload_reply(payload, message.language)
        except (KeyError, TypeError) as exc:
            raise PermanentFailure(f"not a chat message payload: {exc}") from exc
        to = _answer(message)
        if to is not None and (self.web_api or to.get("response_url")):
            try:
                return await self._answer(message, reply, to)
            except SlackApiError as exc:
                raise translate(exc) from exc
        if not self.web_api:
            raise RetryAfter(600, "SLACK_BOT_TOKEN is not set")
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

    # --- answers to a member's own request ----------------------------------------------------

    async def _answer(self, message: OutboxMessage, reply: Reply, to: dict[str, Any]) -> str:
        user = to.get("user") or ""
        if to.get("response_url"):
            if await self._respond(to["response_url"], reply):
                return "response_url"
            if not user:
                raise PermanentFailure("the request's response_url has expired")
            # Expired (30 minutes) or used up (5 answers): the member gets it as a direct message.
            return await self._post(message, reply, user)
        if to.get("thread_ts"):
            return await self._post(message, reply, to["channel"], thread_ts=to["thread_ts"])
        if to.get("ephemeral"):
            try:
                response = await self.client.chat_postEphemeral(
                    channel=to["ephemeral"], user=user, text=fallback_text(reply), blocks=render(reply),
                    parse="none", link_names=False, mrkdwn=False)
                return f"ephemeral:{to['ephemeral']}:{response.get('message_ts', '')}"
            except SlackApiError as exc:
                if (exc.response.data or {}).get("error") not in NOT_HERE:
                    raise
        return await self._post(message, reply, to.get("dm") or user)

    async def _respond(self, url: str, reply: Reply) -> bool:
        """Answer through the request's response_url; False when Slack no longer takes it."""
        if not url.startswith(("https://", "http://")):
            return False
        session = self.client.session
        own = session is None or session.closed
        if own:
            session = aiohttp.ClientSession()
        try:
            async with session.post(url, json=response_payload(reply),
                                    timeout=aiohttp.ClientTimeout(total=10)) as response:
                if response.status == 429:
                    raise RetryAfter(_seconds(response.headers.get("Retry-After")), "Slack response_url HTTP 429")
                if response.status in (404, 410):
                    return False
                if response.status >= 300:
                    raise RuntimeError(f"response_url answered {response.status}: {(await response.text())[:200]}")
                return True
        finally:
            if own:
                await session.close()

    async def _post(self, message: OutboxMessage, reply: Reply, channel: str, *, thread_ts: str | None = None) -> str:
        response = await self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=fallback_text(reply), blocks=render(reply),
            metadata={"event_type": METADATA_EVENT, "event_payload": _keys(message)},
            unfurl_links=False, unfurl_media=False, parse="none", link_names=False, mrkdwn=False)
        return f"{response['channel']}:{response['ts']}"

    # --- after a crash ---------------------------------------------------------------------------

    async def find_sent(self, message: OutboxMessage) -> str | None:
        to = _answer(message)
        if to is not None and not self.can_find(message):
            return None
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
        to = _answer(message) or {}
        channel = to.get("channel") or to.get("dm") or to.get("user") or message.channel
        if channel.startswith(("U", "W")):
            # A DM is addressed by user id; its history lives in the IM channel.
            channel = (await self.client.conversations_open(users=channel))["channel"]["id"]
        if to.get("thread_ts"):
            history = await self.client.conversations_replies(channel=channel, ts=to["thread_ts"], limit=200,
                                                              include_all_metadata=True)
        else:
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
