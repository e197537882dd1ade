"""Teams conversation references: kept on first contact and on install, so reminders and
digests can be sent later to a member's personal chat or to a channel."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity
from microsoft_agents.activity import ConversationReference as SdkReference
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import Address, ConversationReference, OutboxMessage, utcnow
from storage.reach import owner_of

PERSONAL = "personal"


def conversation_id(activity: Activity) -> str:
    """The conversation to address: a channel's own id, not the thread a message was in."""
    raw = activity.conversation.id if activity.conversation else ""
    return raw.split(";messageid=", 1)[0]


def scope_of(activity: Activity) -> str:
    kind = getattr(activity.conversation, "conversation_type", None) if activity.conversation else None
    return kind if kind in ("channel", "groupChat") else PERSONAL


def teams_user_id(activity: Activity) -> str | None:
    sender = activity.from_property
    if sender is None:
        return None
    return sender.aad_object_id or sender.id


def reference_json(activity: Activity) -> dict[str, Any]:
    ref = activity.get_conversation_reference()
    ref.activity_id = None  # a proactive message starts afresh rather than replying
    if ref.conversation is not None:
        ref.conversation = ref.conversation.model_copy(update={"id": conversation_id(activity)})
    return ref.model_dump(by_alias=True, exclude_none=True, mode="json")


async def remember(db: Database, activity: Activity, *, user_id: str | None = None) -> ConversationReference:
    """Store or refresh the reference for the activity's conversation (one row per conversation)."""
    scope = scope_of(activity)
    key = conversation_id(activity)
    user = (user_id or teams_user_id(activity)) if scope == PERSONAL else None
    data = reference_json(activity)
    for attempt in range(2):
        async with db.session() as session:
            person_id = None
            if user:
                person_id = await owner_of(session, "person", "teams", user)
            row = (await session.exec(select(ConversationReference).where(ConversationReference.conversation_id == key))).first()
            if row is None:
                row = ConversationReference(conversation_id=key)
            elif (row.reference == data and row.scope == scope and (not user or row.teams_user_id == user)
                  and (person_id is None or row.person_id == person_id)):
                return row  # nothing new: most messages come from conversations already known
            row.scope = scope
            row.reference = data
            row.updated_at = utcnow()
            if user:
                row.teams_user_id = user
            if person_id is not None:
                row.person_id = person_id
            session.add(row)
            try:
                await session.commit()
                return row
            except IntegrityError:
                # Another request stored the same conversation first: update that row instead.
                await session.rollback()
                if attempt:
                    raise
    raise AssertionError("unreachable")


async def forget(db: Database, activity: Activity) -> None:
    """The app was uninstalled: proactive messages there can no longer be delivered."""
    async with db.session() as session:
        row = (await session.exec(select(ConversationReference)
                                  .where(ConversationReference.conversation_id == conversation_id(activity)))).first()
        if row is not None:
            await session.delete(row)
            await session.commit()


async def find(session, message: OutboxMessage) -> ConversationReference | None:
    """The reference an outbox row is addressed to: its conversation id, its recipient's personal
    chat, or the personal chat of the Teams user id it names."""
    channel = message.channel
    row = (await session.exec(select(ConversationReference).where(ConversationReference.conversation_id == channel))).first()
    if row is not None:
        return row
    personal = select(ConversationReference).where(ConversationReference.scope == PERSONAL) \
        .order_by(col(ConversationReference.updated_at).desc())
    if message.recipient_id is not None:
        row = (await session.exec(personal.where(ConversationReference.person_id == message.recipient_id))).first()
        if row is not None:
            return row
        teams_id = (await session.exec(select(Address.address).where(
            Address.person_id == message.recipient_id, Address.platform == "teams"))).first()
        if teams_id:
            row = (await session.exec(personal.where(ConversationReference.teams_user_id == teams_id))).first()
            if row is not None:
                return row
    return (await session.exec(personal.where(ConversationReference.teams_user_id == channel))).first()


def to_sdk(row: ConversationReference) -> SdkReference:
    return SdkReference.model_validate(row.reference)
