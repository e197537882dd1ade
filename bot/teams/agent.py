"""The Teams bot: messages and card submissions become neutral ``Command``s for the handlers;
installs and first contact keep a conversation reference for proactive messages."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

from aiohttp import ClientResponseError
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import ActivityHandler, TurnContext

from bot.teams import references
from bot.teams.cards import card_activity, command_from_submit
from cyswllt.i18n import t
from cyswllt.settings import Settings
from handlers.core import Command, Context, Reply
from storage import inbound
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger("cyswllt.teams")
# Teams refuses a bot message over about 28 KB; an action with its update form is about 2.5 KB as a
# card, so a list comes ten at a time (the "more" button brings the next ten).
CARD_PAGE_SIZE = 10

# Teams resends an activity not answered in 15 seconds; one still unanswered after this was dropped by
# a process that died, and the resend is handled.
TAKE_OVER_AFTER = timedelta(seconds=40)
_MENTION = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?(?:p|div|span|br)\b[^>]*>", re.IGNORECASE)


def command_words(activity: Activity) -> str:
    """The typed words without the bot's @mention, other mentions kept as plain names."""
    text = activity.remove_recipient_mention() if activity.is_recipient_mentioned() else (activity.text or "")
    text = _MENTION.sub(lambda m: m.group(1), text)
    text = html.unescape(_TAG.sub(" ", text)).replace("\u00a0", " ")
    return text.strip()


def error_reply() -> Reply:
    # The person's language is unknown when something fails, so both are given, Welsh first.
    words = f"{t('cy', 'teams.error')}\n\n{t('en', 'teams.error')}"
    return Reply(language="cy", text=words)


class CyswlltAgent(ActivityHandler):
    """Messages, card submissions, installs and first contact. (The deprecated Teams package's
    ``TeamsActivityHandler`` added nothing used here; the SDK's own handler routes the same types.)"""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        request_id = None
        if activity.id:
            # Teams sends an activity again when the bot took over 15 seconds: it is handled once — unless
            # the process that took it died before answering, which a later resend finds and takes over.
            key = f"activity:{activity.id}"
            request_id = await inbound.remember(self.db, "teams", key, {"activity": activity.id})
            if request_id is None:
                request_id = await inbound.take_over(self.db, "teams", key, now=utcnow(), older_than=TAKE_OVER_AFTER)
            if request_id is None:
                log.info("Teams activity %s seen before: not handled again", activity.id)
                return
        try:
            await self._on_message(turn_context)
        finally:
            if request_id is not None:
                await inbound.mark_done(self.db, request_id)

    async def _on_message(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        scope = references.scope_of(activity)
        submitted = command_from_submit(activity.value)
        if submitted is None:
            # In a channel or group chat the bot speaks only when spoken to.
            if scope != references.PERSONAL and not activity.is_recipient_mentioned():
                return
            words, source = command_words(activity), "command"
        else:
            words, source = submitted
        await references.remember(self.db, activity)
        command = Command(
            platform="teams",
            user_id=references.teams_user_id(activity) or "",
            text=words or "help",
            channel_id=references.conversation_id(activity) if scope != references.PERSONAL else None,
            source=source,
            page_size=CARD_PAGE_SIZE,
        )
        from handlers.dispatch import handle  # the handlers are the one place commands are understood

        reply = await handle(Context(self.db, self.settings), command)
        outgoing = card_activity(reply)
        if source == "form" and activity.reply_to_id:
            outgoing.id = activity.reply_to_id
            try:
                await turn_context.update_activity(outgoing)
                return
            except ClientResponseError as exc:  # too old or deleted: say it in a new message instead
                log.info("could not refresh card %s in place (%s); sending a new message", activity.reply_to_id, exc.status)
                outgoing = card_activity(reply)
        await turn_context.send_activity(outgoing)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        # The base class would look members up over the network; only the bot's own arrival matters here.
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if any(m.id == bot_id for m in activity.members_added or []):
            await references.remember(self.db, activity)
        elif any(m.id == bot_id for m in activity.members_removed or []):
            await references.forget(self.db, activity)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        action = (turn_context.activity.action or "").lower()
        if action.startswith("add"):
            await references.remember(self.db, turn_context.activity)
        elif action.startswith("remove"):
            await references.forget(self.db, turn_context.activity)


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """Log the failure; tell the person plainly, never with internals."""
    log.error("Teams turn failed", exc_info=error)
    if turn_context.activity.type != ActivityTypes.message:
        return
    try:
        await turn_context.send_activity(card_activity(error_reply()))
    except Exception:  # the connector itself may be what failed
        log.warning("could not tell the user about the failure", exc_info=True)
