"""Delivers outbox rows to Teams: a card posted to a stored conversation reference."""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime

from aiohttp import ClientResponseError
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase

from bot.teams import PLATFORM, references
from bot.teams.cards import card_activity
from bot.teams.runtime import TeamsRuntime
from scheduler.messages import payload_reply
from scheduler.outbox import PermanentFailure, RetryAfter
from storage.db import Database
from storage.models import OutboxMessage, utcnow

log = logging.getLogger("cyswllt.teams")

DEFAULT_RETRY_SECONDS = 1.0


def retry_after_seconds(value: str | None) -> float:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return DEFAULT_RETRY_SECONDS
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return DEFAULT_RETRY_SECONDS


class TeamsSender:
    per_channel_per_second = PLATFORM.per_channel_per_second

    def __init__(self, runtime: TeamsRuntime, db: Database) -> None:
        self.runtime = runtime
        self.db = db

    async def send(self, message: OutboxMessage) -> str | None:
        try:
            reply = payload_reply(message.payload, message.language)
        except (KeyError, TypeError) as exc:
            raise PermanentFailure(f"not a chat message payload: {exc}") from exc
        async with self.db.session() as session:
            row = await references.find(session, message)
        if row is None:
            raise PermanentFailure("no Teams conversation for this recipient yet: they must open a chat with the bot "
                                   "or install it in the channel first")
        reference = references.to_sdk(row)
        # In a personal chat the message also alerts the member's activity feed; channels are not pinged.
        activity = card_activity(reply, alert=row.scope == references.PERSONAL)
        outcome: dict[str, object] = {}

        async def deliver(turn_context: TurnContext) -> None:
            connector = turn_context.services.get(ConnectorClientBase)
            activity.apply_conversation_reference(reference)
            try:
                sent = await connector.conversations.send_to_conversation(reference.conversation.id, activity)
                outcome["id"] = sent.id
            except Exception as exc:  # the SDK would swallow it into its turn-error handler
                outcome["error"] = exc

        await self.runtime.continue_conversation(reference, deliver)
        error = outcome.get("error")
        if isinstance(error, ClientResponseError):
            if error.status == 429:
                raise RetryAfter(retry_after_seconds(error.headers.get("Retry-After") if error.headers else None),
                                 "Teams rate limit") from error
            if error.status in (400, 403, 404):
                raise PermanentFailure(f"Teams refused the message ({error.status})") from error
            raise error
        if isinstance(error, Exception):
            raise error
        return str(outcome.get("id") or "") or None

    def can_find(self, message: OutboxMessage) -> bool:
        # The Bot Connector cannot list what a bot sent and takes no id of ours (decision 0017).
        return False

    async def find_sent(self, message: OutboxMessage) -> str | None:
        return None
