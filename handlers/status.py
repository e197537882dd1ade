"""The board's RAG picture."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from handlers.core import Button, Reply, Section
from handlers.turn import Turn
from storage.models import Action, Rag
from storage.queries import ref_number


async def rag_counts(turn: Turn) -> dict[str, int]:
    rows = (await turn.session.exec(
        select(Action.rag, func.count()).where(Action.board_id == turn.board.id).group_by(Action.rag)
    )).all()
    found = {rag or "none": n for rag, n in rows}
    return {k: found.get(k, 0) for k in ("red", "amber", "green", "complete", "none")}


STATUS_LIST = 15


async def status(turn: Turn) -> Reply:
    """The RAG counts, each a button to the actions it counted; the red and the overdue actions
    listed, with "…and N more" and a button to the whole list when there are more than fit."""
    from handlers.actions import filter_command

    counts = await rag_counts(turn)
    actions = (await turn.session.exec(select(Action).where(Action.board_id == turn.board.id))).all()
    overdue = sorted((a for a in actions if a.due and a.due < turn.today and a.rag != Rag.complete),
                     key=lambda a: ref_number(a.ref))
    red = sorted((a for a in actions if a.rag == Rag.red), key=lambda a: ref_number(a.ref))
    heading = turn.t("handlers.status_heading", board=turn.board_name)
    summary = turn.t("handlers.status_summary", total=turn.t("common.actions", count=len(actions)),
                     overdue=len(overdue))
    buttons = [Button(turn.t("handlers.button_all_actions"), filter_command(turn, "all"))]
    if overdue:
        buttons.append(Button(turn.t("handlers.button_overdue_actions"), filter_command(turn, "overdue")))
    sections = [Section(heading=heading, text=summary, buttons=buttons)]
    lines = [heading, summary]
    for rag in ("red", "amber", "green", "complete", "none"):
        label = turn.rag(None if rag == "none" else rag)
        count_buttons = [Button(turn.t("handlers.button_see", label=label), filter_command(turn, rag))] \
            if counts[rag] else []
        sections.append(Section(text=f"{label}: {counts[rag]}", rag=None if rag == "none" else rag,
                                buttons=count_buttons))
        lines.append(f"  {label}: {counts[rag]}")
    for key, which, items in (("status_red_items", "red", red), ("status_overdue_items", "overdue", overdue)):
        if items:
            title = f"{turn.t(f'handlers.{key}')} ({turn.t('common.actions', count=len(items))})"
            listing = "\n".join(f"{a.ref} · {turn.title(a.title, a.title_cy)}" for a in items[:STATUS_LIST])
            section = Section(heading=title, text=listing)
            if len(items) > STATUS_LIST:
                more = turn.t("handlers.status_more", count=len(items) - STATUS_LIST,
                              command=filter_command(turn, which))
                section.text += "\n" + more
                section.buttons = [Button(turn.t("handlers.button_see_all", count=len(items)),
                                          filter_command(turn, which), style="primary")]
            sections.append(section)
            lines += [f"\n{title}:", section.text]
    return turn.reply("\n".join(lines), sections)
