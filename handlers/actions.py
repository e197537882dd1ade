"""Actions: lists, the update form, posting an update (authorised), history, the home view."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import select

from handlers.core import Button, Choice, Fact, Form, FormField, Reply, Section
from handlers.notify import to_board
from handlers.turn import Turn
from handlers.words import ACTION_FILTERS, RAG_WORDS, WELSH_FILTERS, WELSH_RAG
from storage.models import Action, ActionLead, ActionUpdate, Person, Rag, Role
from storage.queries import leads_for, ref_number

ACTION_REF = re.compile(r"^[Aa]-?(\d{1,6})$")
NOTE_LIMIT = 2000
LIST_LIMIT = 20
RAG_ORDER = ("red", "amber", "green", "complete")


def normalise_ref(word: str, prefix: str = "A") -> str | None:
    match = re.fullmatch(rf"[{prefix}{prefix.lower()}]-?(\d{{1,6}})", word.strip())
    return f"{prefix}-{int(match.group(1))}" if match else None


async def find_action(turn: Turn, ref: str) -> Action | None:
    return (await turn.session.exec(
        select(Action).where(Action.board_id == turn.board.id, func.upper(Action.ref) == ref.upper())
    )).first()


def update_form(turn: Turn, ref: str) -> Form:
    return Form(
        title=turn.t("handlers.form_update_title", ref=ref),
        submit_label=turn.t("handlers.form_submit"),
        command=f"{'diweddaru' if turn.language == 'cy' else 'update'} {ref} {{rag}} {{note}}",
        fields=[
            FormField(name="rag", label=turn.t("handlers.field_rag"), kind="choice",
                      choices=[Choice(label=turn.rag(r), value=r) for r in RAG_ORDER]),
            FormField(name="note", label=turn.t("handlers.field_note"), kind="text", multiline=True),
        ],
    )


async def action_sections(turn: Turn, actions: list[Action]) -> list[Section]:
    ids = [a.id for a in actions]
    leads = await leads_for(turn.session, ids)
    owners = {p.id: p for p in (await turn.session.exec(
        select(Person).where(Person.id.in_([a.owner_id for a in actions if a.owner_id]))
    )).all()} if ids else {}
    latest: dict[int, ActionUpdate] = {}
    if ids:
        newest = (select(ActionUpdate.action_id, func.max(ActionUpdate.id).label("id"))
                  .where(ActionUpdate.action_id.in_(ids)).group_by(ActionUpdate.action_id).subquery())
        rows = await turn.session.exec(select(ActionUpdate).join(newest, newest.c.id == ActionUpdate.id))
        latest = {u.action_id: u for u in rows.all()}
    authors = {p.id: p.name for p in (await turn.session.exec(
        select(Person).where(Person.id.in_([u.author_id for u in latest.values() if u.author_id]))
    )).all()} if latest else {}

    cy = turn.language == "cy"
    sections = []
    for action in actions:
        owner = owners.get(action.owner_id)
        if action.due:
            due = turn.t("handlers.due_value", date=turn.date(action.due), words=action.due_text) \
                if action.due_text else turn.date(action.due)
        else:
            due = turn.t("handlers.due_none", words=action.due_text) if action.due_text \
                else turn.t("handlers.due_none_plain")
        update = latest.get(action.id)
        last = turn.t("handlers.last_update_value", when=turn.when(update.created_at),
                      who=authors.get(update.author_id, turn.t("handlers.someone")),
                      note=update.note or "—") if update else turn.t("handlers.no_updates")
        overdue = action.due is not None and action.due < turn.today and action.rag != Rag.complete
        status = turn.rag(action.rag) + (f" ({turn.t('common.overdue')})" if overdue else "")
        sections.append(Section(
            heading=f"{action.ref} · {action.title}",
            ref=action.ref,
            rag=action.rag,
            facts=[
                Fact(turn.t("handlers.fact_lead"), ", ".join(leads.get(action.id, [])) or "—"),
                Fact(turn.t("handlers.fact_owner"), owner.name if owner else (action.owner_email or turn.t("handlers.owner_unknown"))),
                Fact(turn.t("handlers.fact_due"), due),
                Fact(turn.t("handlers.fact_status"), status),
                Fact(turn.t("handlers.fact_last_update"), last),
            ],
            # Welsh buttons carry Welsh words, so a click keeps the conversation in Welsh.
            buttons=[
                Button(turn.t("handlers.button_update"), f"{'diweddaru' if cy else 'update'} {action.ref}",
                       style="primary", form=update_form(turn, action.ref)),
                Button(turn.t("handlers.button_history"), f"{'hanes' if cy else 'history'} {action.ref}"),
            ],
        ))
    return sections


def as_text(heading: str, sections: list[Section], footer: str = "") -> str:
    lines = [heading]
    for s in sections:
        lines.append(f"\n{s.heading}")
        lines.extend(f"  {f.label}: {f.value}" for f in s.facts)
    if footer:
        lines.append(f"\n{footer}")
    return "\n".join(lines)


async def my_action_ids_query(turn: Turn):
    """Actions the person owns, or that their organisation leads."""
    owned = (Action.owner_id == turn.person.id) | (func.lower(Action.owner_email) == turn.person.email.lower())
    if turn.member and turn.member.organisation_id:
        led = Action.id.in_(select(ActionLead.action_id).where(ActionLead.organisation_id == turn.member.organisation_id))
        return owned | led
    return owned


async def list_actions(turn: Turn) -> Reply:
    which = "mine"
    if turn.args:
        which = ACTION_FILTERS.get(turn.args[0].lower())
        if which is None:
            return turn.reply(turn.t("handlers.actions_usage"))
        if turn.args[0].lower() in WELSH_FILTERS:
            turn.language = "cy"
    query = select(Action).where(Action.board_id == turn.board.id)
    if which == "mine":
        query = query.where(await my_action_ids_query(turn))
    elif which == "overdue":
        query = query.where(Action.due < turn.today, (Action.rag.is_(None)) | (Action.rag != Rag.complete))
    actions = sorted((await turn.session.exec(query)).all(), key=lambda a: ref_number(a.ref))
    board = turn.board.name
    if not actions:
        return turn.reply(turn.t(f"handlers.actions_none_{which}", board=board))
    heading = turn.t(f"handlers.actions_heading_{which}", board=board) + f" ({turn.t('common.actions', count=len(actions))})"
    shown = actions[:LIST_LIMIT]
    sections = await action_sections(turn, shown)
    footer = turn.t("handlers.actions_more", more=len(actions) - len(shown)) if len(actions) > len(shown) else ""
    if footer:
        sections.append(Section(text=footer))
    return turn.reply(as_text(heading, sections[: len(shown)], footer), [Section(heading=heading)] + sections)


async def may_update(turn: Turn, action: Action) -> bool:
    if turn.member and turn.member.role in (Role.chair, Role.secretariat):
        return True
    if action.owner_id == turn.person.id or (action.owner_email or "").lower() == turn.person.email.lower():
        return True
    if turn.member and turn.member.organisation_id:
        lead = (await turn.session.exec(select(ActionLead).where(
            ActionLead.action_id == action.id, ActionLead.organisation_id == turn.member.organisation_id))).first()
        return lead is not None
    return False


async def refusal(turn: Turn, action: Action) -> Reply:
    parts = []
    owner = await turn.session.get(Person, action.owner_id) if action.owner_id else None
    if owner or action.owner_email:
        parts.append(turn.t("handlers.update_refused_owner", owner=owner.name if owner else action.owner_email))
    leads = (await leads_for(turn.session, [action.id])).get(action.id)
    if leads:
        parts.append(turn.t("handlers.update_refused_leads", leads=", ".join(leads)))
    parts.append(turn.t("handlers.update_refused_chair"))
    joiner = " neu " if turn.language == "cy" else " or "
    return turn.reply(turn.t("handlers.update_refused", who=joiner.join(parts), ref=action.ref))


async def update(turn: Turn) -> Reply:
    if len(turn.args) < 2:
        return turn.reply(turn.t("handlers.update_usage"))
    ref = normalise_ref(turn.args[0])
    if ref is None:
        return turn.reply(turn.t("handlers.update_usage"))
    rag_word = turn.args[1].lower()
    rag = RAG_WORDS.get(rag_word)
    if rag is None:
        return turn.reply(turn.t("handlers.update_bad_rag", word=turn.args[1]) + "\n" + turn.t("handlers.update_usage"))
    if rag_word in WELSH_RAG:
        turn.language = "cy"
    note = " ".join(turn.args[2:]).strip()
    if len(note) > NOTE_LIMIT:
        return turn.reply(turn.t("handlers.update_note_too_long", length=len(note), limit=NOTE_LIMIT))
    action = await find_action(turn, ref)
    if action is None:
        return turn.reply(turn.t("handlers.update_unknown_ref", ref=ref, board=turn.board.name))
    if not await may_update(turn, action):
        return await refusal(turn, action)
    previous = action.rag
    entry = ActionUpdate(action_id=action.id, author_id=turn.person.id, rag=rag, note=note,
                         source=turn.command.platform, created_at=turn.now)
    turn.session.add(entry)
    action.rag = rag
    action.updated_at = turn.now
    turn.session.add(action)
    await turn.session.flush()
    if rag in (Rag.red, Rag.complete) and previous != rag:
        notice_text = turn.t(f"handlers.notice_{rag}", ref=action.ref, title=action.title,
                             who=turn.person.name, note=note or "—")
        notice = Reply(language=turn.language, text=notice_text, ephemeral=False,
                       sections=[Section(text=notice_text, rag=rag, ref=action.ref)])
        await to_board(turn.session, turn.board, notice, f"notice:{rag}:{action.ref}:{entry.id}")
    done = turn.t("handlers.update_done", ref=action.ref, rag=turn.rag(rag))
    sections = await action_sections(turn, [action])
    return turn.reply(done, [Section(text=done)] + sections)


async def history(turn: Turn) -> Reply:
    ref = normalise_ref(turn.args[0]) if turn.args else None
    if ref is None:
        return turn.reply(turn.t("handlers.history_usage"))
    action = await find_action(turn, ref)
    if action is None:
        return turn.reply(turn.t("handlers.update_unknown_ref", ref=ref, board=turn.board.name))
    rows = (await turn.session.exec(
        select(ActionUpdate, Person.name).join(Person, Person.id == ActionUpdate.author_id, isouter=True)
        .where(ActionUpdate.action_id == action.id).order_by(ActionUpdate.id.desc()).limit(50)
    )).all()
    heading = turn.t("handlers.history_heading", ref=action.ref)
    if not rows:
        return turn.reply(turn.t("handlers.history_none", ref=action.ref))
    items = [turn.t("handlers.history_item", when=turn.when(u.created_at), rag=turn.rag(u.rag),
                    who=name or turn.t("handlers.someone"), note=u.note or "—") for u, name in rows]
    sections = [Section(heading=heading, ref=action.ref)] + [Section(text=i, rag=u.rag) for i, (u, _) in zip(items, rows)]
    return turn.reply("\n".join([heading, *items]), sections)


async def home(turn: Turn) -> Reply:
    from handlers.status import rag_counts

    mine = sorted((await turn.session.exec(
        select(Action).where(Action.board_id == turn.board.id, await my_action_ids_query(turn))
    )).all(), key=lambda a: ref_number(a.ref))
    counts = await rag_counts(turn)
    picture = turn.t("handlers.home_board", board=turn.board.name)
    count_line = " · ".join(f"{turn.rag(k if k != 'none' else None)}: {v}" for k, v in counts.items())
    heading = turn.t("handlers.home_heading") + f" ({turn.t('common.actions', count=len(mine))})"
    sections = [Section(heading=picture, text=count_line), Section(heading=heading)]
    sections += await action_sections(turn, mine[:LIST_LIMIT])
    return turn.reply(f"{picture}\n{count_line}\n\n" + as_text(heading, sections[2:]), sections)
