""""Remind me tomorrow" / "next week": when a snooze ends, the member is reminded once more —
unless the action is complete or someone posted an update after the reminder they snoozed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from cyswllt.i18n import normalise_language
from storage.models import Action, ActionUpdate, OutboxMessage, OutboxState, Rag, Snooze

# A snooze that ended longer ago than this (the service was down, say) is let go rather than chased.
LOOKBACK = timedelta(days=7)


async def snoozed_reminders(db, settings, now: datetime) -> int:
    """Snoozes that have ended: the member is reminded again, once per snooze."""
    from scheduler.jobs import Batch, Recipients

    async with db.session() as session:
        ended = (await session.exec(
            select(Snooze.person_id, Snooze.until, Action)
            .join(Action, Action.id == Snooze.action_id)
            .where(Snooze.until <= now, Snooze.until > now - LOOKBACK,
                   (Action.rag.is_(None)) | (Action.rag != Rag.complete)))).all()
        if not ended:
            return 0
        action_ids = {action.id for _, _, action in ended}
        people = {person_id for person_id, _, _ in ended}
        updated = dict((await session.exec(
            select(ActionUpdate.action_id, func.max(ActionUpdate.created_at))
            .where(ActionUpdate.action_id.in_(action_ids)).group_by(ActionUpdate.action_id))).all())
        # The reminders delivered to these members: the snoozed one is the latest about the action.
        delivered: dict[int, list[tuple[str, datetime]]] = {}
        for person_id, key, sent_at in (await session.exec(
                select(OutboxMessage.recipient_id, OutboxMessage.idempotency_key, OutboxMessage.sent_at)
                .where(OutboxMessage.recipient_id.in_(people), OutboxMessage.state == OutboxState.sent,
                       OutboxMessage.kind.in_(["reminder", "escalation"])))).all():
            if sent_at is not None:
                delivered.setdefault(person_id, []).append((key, sent_at))
        recipients = await Recipients.load(session, settings)
        batch = Batch(recipients)
        for person_id, until, action in ended:
            person = recipients.people.get(person_id)
            if person is None:
                continue
            last_update = updated.get(action.id)
            marker = f":{action.board_id}:{action.ref}:"
            last_reminder = max((sent for key, sent in delivered.get(person_id, []) if marker in key), default=None)
            if last_update is not None and last_reminder is not None and last_update > last_reminder:
                continue  # already answered after the reminder that was snoozed
            batch.remind(person_id, normalise_language(person.language), action, "reminder:snoozed",
                         f"{until:%Y-%m-%dT%H%M}", "reminders.snoozed")
        added = await batch.queue(session)
        await session.commit()
    return added
