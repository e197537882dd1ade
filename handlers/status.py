"""The board's RAG picture."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from handlers.core import Reply, Section
from handlers.turn import Turn
from storage.models import Action, Rag
from storage.queries import ref_number


async def rag_counts(turn: Turn) -> dict[str, int]:
    rows = (await turn.session.exec(
        select(Action.rag, func.count()).where(Action.board_id == turn.board.id).group_by(Action.rag)
    )).all()
    found = {rag or "none": n for rag, n in rows}
    return {k: found.get(k, 0) for k in ("red", "amber", "green", "complete", "none")}


async def status(turn: Turn) -> Reply:
    counts = await rag_counts(turn)
    actions = (await turn.session.exec(select(Action).where(Action.board_id == turn.board.id))).all()
    overdue = sorted((a for a in actions if a.due and a.due < turn.today and a.rag != Rag.complete),
                     key=lambda a: ref_number(a.ref))
    red = sorted((a for a in actions if a.rag == Rag.red), key=lambda a: ref_number(a.ref))
    heading = turn.t("handlers.status_heading", board=turn.board.name)
    summary = turn.t("handlers.status_summary", total=turn.t("common.actions", count=len(actions)),
                     overdue=len(overdue))
    sections = [Section(heading=heading, text=summary)]
    lines = [heading, summary]
    for rag in ("red", "amber", "green", "complete", "none"):
        label = turn.rag(None if rag == "none" else rag)
        sections.append(Section(text=f"{label}: {counts[rag]}", rag=None if rag == "none" else rag))
        lines.append(f"  {label}: {counts[rag]}")
    for key, items in (("status_red_items", red), ("status_overdue_items", overdue)):
        if items:
            title = turn.t(f"handlers.{key}")
            listing = "\n".join(f"{a.ref} · {a.title}" for a in items[:15])
            sections.append(Section(heading=title, text=listing))
            lines += [f"\n{title}:", listing]
    return turn.reply("\n".join(lines), sections)
