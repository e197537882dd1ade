"""Reads shared by the admin API, the chat handlers and the scheduler."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Action, ActionLead, Organisation


async def leads_for(session: AsyncSession, action_ids: Iterable[int]) -> dict[int, list[str]]:
    """Lead organisation names per action id, in their given order."""
    ids = list(action_ids)
    if not ids:
        return {}
    rows = await session.exec(
        select(ActionLead.action_id, Organisation.name)
        .join(Organisation, Organisation.id == ActionLead.organisation_id)
        .where(ActionLead.action_id.in_(ids))
        .order_by(ActionLead.action_id, ActionLead.position)
    )
    leads: dict[int, list[str]] = defaultdict(list)
    for action_id, name in rows.all():
        leads[action_id].append(name)
    return leads


def ref_number(ref: str) -> tuple[str, int]:
    """Sort key so A-2 comes before A-10."""
    prefix, _, num = ref.partition("-")
    return (prefix, int(num) if num.isdigit() else 0)


def action_json(action: Action, leads: list[str]) -> dict:
    return {
        "ref": action.ref,
        "title": action.title,
        "lead": leads,
        "owner_email": action.owner_email,
        "due": action.due.isoformat() if action.due else None,
        "due_text": action.due_text,
        "rag": action.rag,
        "updated_at": action.updated_at.isoformat() if action.updated_at else None,
    }
