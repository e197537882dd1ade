"""Actions: lists, the update form, posting an update (authorised), history, the home view."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import select

from cyswllt.i18n import overdue_phrase
from handlers.core import Button, Fact, Form, Reply, Section
from handlers.notify import to_board
from handlers.paging import PAGE_SIZE, Page, footer, page_number
from handlers.turn import Turn
from handlers.words import ACTION_FILTERS, FILTER_WORDS, PUBLIC_MARKERS, RAG_WORDS, WELSH_FILTERS, WELSH_RAG
from storage.models import Action, ActionLead, ActionUpdate, Organisation, Person, Rag, Role
from storage.queries import leads_for, ref_number

ACTION_REF = re.compile(r"^[Aa]-?(\d{1,6})$")
NOTE_LIMIT = 2000
SUMMARY_LIMIT = 1000
LIST_LIMIT = PAGE_SIZE
RAG_ORDER = ("red", "amber", "green", "complete")
# "public:" or "cyhoeddus:" starts the public summary of an update; the words before it are the note.
PUBLIC_SPLIT = re.compile(r"(?:^|\s)(" + "|".join(PUBLIC_MARKERS) + r")\s*:", re.IGNORECASE)


def normalise_ref(word: str, prefix: str = "A") -> str | None:
    match = re.fullmatch(rf"[{prefix}{prefix.lower()}]-?(\d{{1,6}})", word.strip())
    return f"{prefix}-{int(match.group(1))}" if match else None


async def find_action(turn: Turn, ref: str) -> Action | None:
    return (await turn.session.exec(
        select(Action).where(Action.board_id == turn.board.id, func.upper(Action.ref) == ref.upper())
    )).first()


def update_form(turn: Turn, ref: str) -> Form:
    from handlers.forms import update_form as form

    return form(turn.language, ref)


def split_public(words: str) -> tuple[str, str | None]:
    """(note, public summary) from the words after the RAG: ``NOTE public: SUMMARY``."""
    match = PUBLIC_SPLIT.search(words)
    if match is None:
        return words.strip(), None
    summary = words[match.end():].strip()
    return words[:match.start()].strip(), summary or None


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
        last = update_words(turn, update, authors.get(update.author_id) if update else None) \
            if update else turn.t("handlers.no_updates")
        overdue = action.due is not None and action.due < turn.today and action.rag != Rag.complete
        status = turn.rag(action.rag) + (f" ({overdue_phrase(turn.language, action.due, turn.today)})" if overdue else "")
        sections.append(Section(
            heading=f"{action.ref} · {turn.title(action.title, action.title_cy)}",
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


def update_words(turn: Turn, update: ActionUpdate, author: str | None) -> str:
    """An update in one line: "1 Dec 2026 12:54, Tom Jones: note"; a rating the plan came with is
    "from the plan, 1 December 2026" (nobody wrote it, and it has no note)."""
    if update.source == "import":
        return turn.t("common.from_the_plan", date=turn.date(turn.local_date(update.created_at)))
    text = turn.t("handlers.last_update_value", when=turn.when(update.created_at),
                  who=author or turn.t("handlers.someone"), note=update.note or "—")
    if update.public_summary:
        text += " " + turn.t("handlers.public_summary_value", summary=update.public_summary)
    return text


def as_text(heading: str, sections: list[Section], footer: str = "") -> str:
    lines = [heading]
    for s in sections:
        lines.append(f"\n{s.heading}")
        lines.extend(f"  {f.label}: {f.value}" for f in s.facts)
    if footer:
        lines.append(f"\n{footer}")
    return "\n".join(lines)


def owned_by(turn: Turn):
    """Actions the person owns: "mine"."""
    return (Action.owner_id == turn.person.id) | (func.lower(Action.owner_email) == turn.person.email.lower())


async def my_action_ids_query(turn: Turn):
    """Actions the person owns (their organisation's are ``actions org``)."""
    return owned_by(turn)


def led_by_organisation(organisation_id: int):
    return Action.id.in_(select(ActionLead.action_id).where(ActionLead.organisation_id == organisation_id))


def filter_command(turn: Turn, which: str) -> str:
    english, welsh = FILTER_WORDS[which]
    cy = turn.language == "cy"
    verb = "camau" if cy else "actions"
    return verb if which == "mine" else f"{verb} {welsh if cy else english}"


async def list_actions(turn: Turn) -> Reply:
    number, words = page_number(turn.args)
    which = "mine"
    if words:
        which = ACTION_FILTERS.get(words[0].lower())
        if which is None or len(words) > 1:
            return turn.reply(turn.t("handlers.actions_usage"))
        if words[0].lower() in WELSH_FILTERS:
            turn.language = "cy"
    query = select(Action).where(Action.board_id == turn.board.id)
    organisation = None
    if which == "mine":
        query = query.where(owned_by(turn))
    elif which == "org":
        if turn.member is None or turn.member.organisation_id is None:
            return turn.reply(turn.t("handlers.actions_no_organisation", board=turn.board.name))
        organisation = await turn.session.get(Organisation, turn.member.organisation_id)
        query = query.where(led_by_organisation(organisation.id))
    elif which == "overdue":
        query = query.where(Action.due < turn.today, (Action.rag.is_(None)) | (Action.rag != Rag.complete))
    elif which == "none":
        query = query.where(Action.rag.is_(None))
    elif which in RAG_ORDER:
        query = query.where(Action.rag == which)
    actions = sorted((await turn.session.exec(query)).all(), key=lambda a: ref_number(a.ref))
    board = turn.board_name
    words_for = {"board": board, "organisation": organisation.name if organisation else "",
                 "rag": turn.rag(None if which == "none" else which) if which in (*RAG_ORDER, "none") else ""}
    if not actions:
        text = turn.t(f"handlers.actions_none_{which}" if which in ("mine", "org", "overdue", "all")
                      else "handlers.actions_none_rag", **words_for)
        if which == "mine" and turn.member and turn.member.organisation_id:
            led = (await turn.session.exec(select(func.count()).select_from(Action).where(
                Action.board_id == turn.board.id, led_by_organisation(turn.member.organisation_id)))).one()
            if led:
                organisation = await turn.session.get(Organisation, turn.member.organisation_id)
                text += " " + turn.t("handlers.actions_org_hint", organisation=organisation.name,
                                     count=led, command=filter_command(turn, "org"))
        return turn.reply(text)
    key = f"handlers.actions_heading_{which}" if which in ("mine", "org", "overdue", "all") \
        else "handlers.actions_heading_rag"
    heading = turn.t(key, **words_for) + f" ({turn.t('common.actions', count=len(actions))})"
    page = Page.of(len(actions), number or 1, turn.page_size)
    if number is not None and number > page.pages:
        return turn.reply(turn.t("handlers.page_beyond", count=page.pages, command=filter_command(turn, which)))
    shown = page.slice(actions)
    sections = await action_sections(turn, shown)
    more = footer(turn, page, filter_command(turn, which))
    if more is not None:
        sections.append(more)
    return turn.reply(as_text(heading, sections[: len(shown)], more.text if more else ""),
                      [Section(heading=heading)] + sections)


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
    # After "neu" Welsh softens the next word: "neu gadeirydd".
    parts.append(turn.t("handlers.update_refused_chair_or" if parts else "handlers.update_refused_chair"))
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
    # Line breaks are kept: the words are re-split on spaces only.
    raw = turn.command.text.split(None, 3)[3] if len(turn.command.text.split(None, 3)) > 3 else ""
    note, summary = split_public(raw)
    if len(note) > NOTE_LIMIT:
        return turn.reply(turn.t("handlers.update_note_too_long", length=len(note), limit=NOTE_LIMIT))
    if summary is not None and len(summary) > SUMMARY_LIMIT:
        return turn.reply(turn.t("handlers.update_summary_too_long", length=len(summary), limit=SUMMARY_LIMIT))
    action = await find_action(turn, ref)
    if action is None:
        from handlers.suggest import unknown_ref

        return await unknown_ref(turn, ref)
    if not await may_update(turn, action):
        return await refusal(turn, action)
    if rag == Rag.red and not note:
        return turn.reply(turn.t("handlers.update_red_needs_note", ref=action.ref,
                                 example=turn.t("handlers.update_red_example", ref=action.ref)),
                          [Section(text=turn.t("handlers.update_red_needs_note", ref=action.ref,
                                               example=turn.t("handlers.update_red_example", ref=action.ref)),
                                   buttons=[Button(turn.t("handlers.button_update"),
                                                   f"{'diweddaru' if turn.language == 'cy' else 'update'} {action.ref}",
                                                   style="primary", form=update_form(turn, action.ref))])])
    previous = action.rag
    entry = ActionUpdate(action_id=action.id, author_id=turn.person.id, rag=rag, note=note, public_summary=summary,
                         source=turn.command.platform, created_at=turn.now)
    turn.session.add(entry)
    action.rag = rag
    action.updated_at = turn.now
    turn.session.add(action)
    await turn.session.flush()
    if rag in (Rag.red, Rag.complete) and previous != rag:
        notice_text = turn.t(f"handlers.notice_{rag}" if note else f"handlers.notice_{rag}_plain",
                             ref=action.ref, title=turn.title(action.title, action.title_cy), who=turn.person.name,
                             note=note)
        notice = Reply(language=turn.language, text=notice_text, ephemeral=False,
                       sections=[Section(text=notice_text, rag=rag, ref=action.ref)])
        await to_board(turn.session, turn.board, notice, f"notice:{rag}:{action.ref}:{entry.id}")
    done = turn.t("handlers.update_done", ref=action.ref, rag=turn.rag(rag))
    if summary:
        done += " " + turn.t("handlers.update_done_public", summary=summary)
    sections = await action_sections(turn, [action])
    return turn.reply(done, [Section(text=done)] + sections)


async def history(turn: Turn) -> Reply:
    number, words = page_number(turn.args[1:])
    ref = normalise_ref(turn.args[0]) if turn.args else None
    if ref is None or words:
        return turn.reply(turn.t("handlers.history_usage"))
    action = await find_action(turn, ref)
    if action is None:
        from handlers.suggest import unknown_ref

        return await unknown_ref(turn, ref)
    total = (await turn.session.exec(select(func.count()).select_from(ActionUpdate)
                                     .where(ActionUpdate.action_id == action.id))).one()
    cy = turn.language == "cy"
    ask = Button(turn.t("handlers.button_ask_scrutiny"), f"{'craffu' if cy else 'scrutiny'} {action.ref}",
                 form=_scrutiny_form(turn, action.ref))
    if not total:
        text = turn.t("handlers.history_none", ref=action.ref)
        return turn.reply(text, [Section(text=text, ref=action.ref, buttons=[ask])])
    page = Page.of(total, number or 1, turn.page_size)
    rows = (await turn.session.exec(
        select(ActionUpdate, Person.name).join(Person, Person.id == ActionUpdate.author_id, isouter=True)
        .where(ActionUpdate.action_id == action.id).order_by(ActionUpdate.id.desc())
        .offset(page.first).limit(page.last - page.first)
    )).all()
    heading = turn.t("handlers.history_heading", ref=action.ref) + f" ({turn.t('handlers.updates', count=total)})"
    items = []
    for u, name in rows:
        if u.source == "import":
            items.append(f"{turn.t('common.from_the_plan', date=turn.date(turn.local_date(u.created_at)))} — {turn.rag(u.rag)}")
        else:
            item = turn.t("handlers.history_item", when=turn.when(u.created_at), rag=turn.rag(u.rag),
                          who=name or turn.t("handlers.someone"), note=u.note or "—")
            if u.public_summary:
                item += " " + turn.t("handlers.public_summary_value", summary=u.public_summary)
            items.append(item)
    sections = [Section(heading=heading, ref=action.ref, buttons=[ask])]
    sections += [Section(text=i, rag=u.rag) for i, (u, _) in zip(items, rows)]
    more = footer(turn, page, f"{'hanes' if cy else 'history'} {action.ref}")
    lines = [heading, *items]
    if more is not None:
        sections.append(more)
        lines.append(more.text)
    return turn.reply("\n".join(lines), sections)


def _scrutiny_form(turn: Turn, ref: str) -> Form:
    from handlers.forms import scrutiny_form

    return scrutiny_form(turn.language, ref)


async def home(turn: Turn) -> Reply:
    from handlers.status import rag_counts

    number, _ = page_number(turn.args)
    mine = sorted((await turn.session.exec(
        select(Action).where(Action.board_id == turn.board.id, owned_by(turn))
    )).all(), key=lambda a: ref_number(a.ref))
    counts = await rag_counts(turn)
    picture = turn.t("handlers.home_board", board=turn.board_name)
    count_line = " · ".join(f"{turn.rag(k if k != 'none' else None)}: {v}" for k, v in counts.items())
    heading = turn.t("handlers.home_heading") + f" ({turn.t('common.actions', count=len(mine))})"
    page = Page.of(len(mine), number or 1, turn.page_size)
    sections = [Section(heading=picture, text=count_line,
                        buttons=[Button(f"{turn.rag(k if k != 'none' else None)}: {v}", filter_command(turn, k))
                                 for k, v in counts.items() if v][:5]),
                Section(heading=heading)]
    sections += await action_sections(turn, page.slice(mine))
    more = footer(turn, page, "cartref" if turn.language == "cy" else "home")
    if more is not None:
        sections.append(more)
    return turn.reply(f"{picture}\n{count_line}\n\n" + as_text(heading, sections[2:len(sections) - (1 if more else 0)],
                                                               more.text if more else ""), sections)
