"""Scrutiny requests: raise one, list them, and the committee's steps.

A request only moves forward: open → acknowledged → scheduled → responded, or it is declined
(with a reason) at any step before it is answered. A committee date is in the future and no later
than the response due date, unless a reason is recorded; scheduling ties the request to the
board's scrutiny meeting on that date, made when there is none. The action's owner hears when a
question is raised on their action; nobody is told about a step they took themselves.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import select

from cyswllt.i18n import babel_locale, normalise_language, t
from handlers.actions import find_action, normalise_ref
from handlers.core import Button, Fact, Form, FormField, Reply, Section
from handlers.forms import scrutiny_form
from handlers.language import looks_welsh
from handlers.notify import to_person
from handlers.paging import Page, footer, page_number
from handlers.turn import Turn
from handlers.words import NAMED_MARKERS, NO_WORDS, SCRUTINY_STEPS, STEP_WORDS, WELSH_STEPS, YES_WORDS
from storage.models import (
    SCRUTINY_ORDER,
    Action,
    Meeting,
    Member,
    Person,
    Priority,
    Role,
    ScrutinyRequest,
    ScrutinyStatus,
)

RESPONSE_DAYS = 28
QUESTION_LIMIT = 2000
REASON_LIMIT = 1000
FINAL = (ScrutinyStatus.responded, ScrutinyStatus.declined)
STEP_TARGET = {"ack": ScrutinyStatus.acknowledged, "schedule": ScrutinyStatus.scheduled,
               "respond": ScrutinyStatus.responded, "decline": ScrutinyStatus.declined}
NAMED = re.compile(r"(?:^|\s)(?:" + "|".join(NAMED_MARKERS) + r")\s*:\s*(\S*)\s*$", re.IGNORECASE)


def scrutiny_ref(request: ScrutinyRequest) -> str:
    return f"S-{request.id}"


def _request_id(word: str) -> int | None:
    match = re.fullmatch(r"[Ss]-?(\d{1,9})", word.strip())
    return int(match.group(1)) if match else None


def _verb(language: str, step: str) -> str:
    english, welsh = STEP_WORDS[step]
    return f"craffu {welsh}" if language == "cy" else f"scrutiny {english}"


async def scrutiny(turn: Turn) -> Reply:
    if not turn.args:
        return turn.reply(turn.t("handlers.scrutiny_usage"))
    step = SCRUTINY_STEPS.get(turn.args[0].lower())
    if step is not None and turn.args[0].lower() in WELSH_STEPS:
        turn.language = "cy"
    if step == "list":
        return await list_requests(turn)
    if step in STEP_TARGET:
        return await committee_step(turn, step)
    return await raise_request(turn)


def _committee_buttons(language: str, ref: str, status: str = ScrutinyStatus.open) -> list[Button]:
    """The steps still open to a request: a step it has passed is not offered."""
    at = SCRUTINY_ORDER.index(status) if status in SCRUTINY_ORDER else len(SCRUTINY_ORDER)
    buttons = []
    if at < 1:
        buttons.append(Button(t(language, "handlers.button_ack"), f"{_verb(language, 'ack')} {ref}", style="primary"))
    if at < 3:
        buttons.append(Button(
            t(language, "handlers.button_reschedule" if at == 2 else "handlers.button_schedule"),
            f"{_verb(language, 'schedule')} {ref}",
            form=Form(title=t(language, "handlers.form_schedule_title", ref=ref),
                      submit_label=t(language, "handlers.form_schedule_submit"),
                      command=f"{_verb(language, 'schedule')} {ref} {{date}} {{reason}}",
                      fields=[FormField(name="date", label=t(language, "handlers.field_date"), kind="date"),
                              FormField(name="reason", label=t(language, "handlers.field_date_reason"),
                                        optional=True)])))
        buttons.append(Button(
            t(language, "handlers.button_respond"), f"{_verb(language, 'respond')} {ref}",
            form=Form(title=t(language, "handlers.form_respond_title", ref=ref),
                      submit_label=t(language, "handlers.form_respond_submit"),
                      command=f"{_verb(language, 'respond')} {ref} {{text}}",
                      fields=[FormField(name="text", label=t(language, "handlers.field_response"), multiline=True)])))
        buttons.append(Button(
            t(language, "handlers.button_decline"), f"{_verb(language, 'decline')} {ref}", style="danger",
            form=Form(title=t(language, "handlers.form_decline_title", ref=ref),
                      submit_label=t(language, "handlers.form_decline_submit"),
                      command=f"{_verb(language, 'decline')} {ref} {{text}}",
                      fields=[FormField(name="text", label=t(language, "handlers.field_decline_reason"),
                                        multiline=True)])))
    return buttons


def split_named(question: str) -> tuple[str, bool | None]:
    """(question, named) from ``QUESTION named:`` (the marker alone agrees to be named, as does
    ``named: yes``; ``named: no`` does not); named is None when what follows is neither yes nor no."""
    match = NAMED.search(question)
    if match is None:
        return question, False
    answer = match.group(1).lower().strip(".,;!")
    named = True if not answer or answer in YES_WORDS else False if answer in NO_WORDS else None
    return question[:match.start()].strip(), named


async def raise_request(turn: Turn) -> Reply:
    subject = turn.args[0]
    action_ref, priority_ref = normalise_ref(subject, "A"), normalise_ref(subject, "P")
    if not (action_ref or priority_ref):
        return turn.reply(turn.t("handlers.scrutiny_usage"))
    words = turn.command.text.split(None, 2)
    question, named = split_named(words[2] if len(words) > 2 else "")
    if named is None:
        return turn.reply(turn.t("handlers.scrutiny_named_usage"))
    if not question:
        # The ref alone: offer the form (the question and the choice to be named).
        text = turn.t("handlers.scrutiny_ask_prompt", ref=action_ref or priority_ref)
        form = scrutiny_form(turn.language, action_ref or priority_ref)
        return turn.reply(text, [Section(text=text, buttons=[
            Button(turn.t("handlers.button_ask_scrutiny"), f"{'craffu' if turn.language == 'cy' else 'scrutiny'} "
                   f"{action_ref or priority_ref}", style="primary", form=form)])])
    if len(question) > QUESTION_LIMIT:
        return turn.reply(turn.t("handlers.update_note_too_long", length=len(question), limit=QUESTION_LIMIT))
    request = ScrutinyRequest(board_id=turn.board.id, requester_id=turn.person.id, question=question,
                              subject_ref=action_ref or priority_ref, created_at=turn.now, updated_at=turn.now,
                              due=turn.today + timedelta(days=RESPONSE_DAYS), requester_named=named)
    action = None
    if action_ref:
        action = await find_action(turn, action_ref)
        if action is None:
            return turn.reply(turn.t("handlers.scrutiny_unknown_subject", ref=action_ref, board=turn.board.name))
        request.action_id, titles = action.id, (action.title, action.title_cy)
    else:
        priority = (await turn.session.exec(select(Priority).where(
            Priority.board_id == turn.board.id, func.upper(Priority.ref) == priority_ref))).first()
        if priority is None:
            return turn.reply(turn.t("handlers.scrutiny_unknown_subject", ref=priority_ref, board=turn.board.name))
        request.priority_id, titles = priority.id, (priority.title, priority.title_cy)
    turn.session.add(request)
    await turn.session.flush()
    ref = scrutiny_ref(request)

    def subject_in(lang: str) -> str:
        """The subject in a reader's language (its Welsh title, or the English marked)."""
        english, welsh = titles
        title = (welsh or f"{english} {t('cy', 'common.fallback_marker')}") if lang == "cy" else english
        return f"{request.subject_ref} “{title}”"

    subject_text = subject_in(turn.language)
    members = [m for m in (await turn.session.exec(
        select(Person).join(Member, Member.person_id == Person.id)
        .where(Member.board_id == turn.board.id, Member.role == Role.scrutiny)
    )).all() if m.id != turn.person.id]
    for member in members:
        lang = normalise_language(member.language)
        text = t(lang, "handlers.scrutiny_new", ref=ref, who=turn.person.name, subject=subject_in(lang), question=question)
        reply = Reply(language=lang, text=text, ephemeral=False,
                      sections=[Section(text=text, ref=ref, buttons=_committee_buttons(lang, ref))])
        await to_person(turn.session, member, reply, f"scrutiny:new:{ref}:{member.id}", kind="scrutiny", settings=turn.ctx.settings)
    owner = await _owner(turn, action)
    told_owner = False
    if owner is not None and owner.id != turn.person.id:
        lang = normalise_language(owner.language)
        text = t(lang, "handlers.scrutiny_on_your_action", ref=ref, subject=subject_in(lang), question=question,
                 due=_date(request.due, lang))
        await to_person(turn.session, owner, Reply(language=lang, text=text, ephemeral=False,
                                                   sections=[Section(text=text, ref=ref)]),
                        f"scrutiny:owner:{ref}:{owner.id}", kind="scrutiny", settings=turn.ctx.settings)
        told_owner = True
    key = "handlers.scrutiny_raised" if members else "handlers.scrutiny_no_members"
    text = turn.t(key, ref=ref, subject=subject_text, board=turn.board.name)
    if told_owner:
        text += " " + turn.t("handlers.scrutiny_owner_told", owner=owner.name)
    text += " " + turn.t("handlers.scrutiny_named_yes" if named else "handlers.scrutiny_named_no")
    return turn.reply(text)


async def _owner(turn: Turn, action: Action | None) -> Person | None:
    if action is None:
        return None
    if action.owner_id:
        return await turn.session.get(Person, action.owner_id)
    if action.owner_email:
        return (await turn.session.exec(select(Person).where(
            func.lower(Person.email) == action.owner_email.lower()))).first()
    return None


def _date(day: date, language: str) -> str:
    from babel.dates import format_date

    return format_date(day, format="long", locale=babel_locale(language))


async def _scrutiny_meeting(turn: Turn, day: date) -> Meeting:
    """The board's scrutiny meeting on ``day``, made when there is none."""
    meeting = (await turn.session.exec(select(Meeting).where(
        Meeting.board_id == turn.board.id, Meeting.held_on == day, Meeting.kind == "scrutiny"))).first()
    if meeting is None:
        meeting = Meeting(board_id=turn.board.id, held_on=day, kind="scrutiny", settings=turn.ctx.settings)
        turn.session.add(meeting)
        await turn.session.flush()
    return meeting


async def committee_step(turn: Turn, step: str) -> Reply:
    if turn.member is None or turn.member.role != Role.scrutiny:
        return turn.reply(turn.t("handlers.scrutiny_only_members"))
    request_id = _request_id(turn.args[1]) if len(turn.args) > 1 else None
    request = await turn.session.get(ScrutinyRequest, request_id) if request_id else None
    if request is None or request.board_id != turn.board.id:
        return turn.reply(turn.t("handlers.scrutiny_unknown", ref=turn.args[1] if len(turn.args) > 1 else "?"))
    ref = scrutiny_ref(request)
    if request.status == ScrutinyStatus.responded:
        # An answered request is closed: a late click must not reopen it or tell the requester again.
        return turn.reply(turn.t("handlers.scrutiny_already_answered", ref=ref))
    if request.status == ScrutinyStatus.declined:
        return turn.reply(turn.t("handlers.scrutiny_already_declined", ref=ref, reason=request.decline_reason or "—"))
    target = STEP_TARGET[step]
    if step == "ack" and request.status != ScrutinyStatus.open:
        # Never backwards: a scheduled request stays scheduled.
        now = turn.t(f"handlers.status_{request.status}")
        if request.committee_date:
            now += f" ({turn.date(request.committee_date)})"
        return turn.reply(turn.t("handlers.scrutiny_no_going_back", ref=ref, status=now))
    words = turn.command.text.split(None, 3)
    extra = words[3].strip() if len(words) > 3 else ""
    requester = await turn.session.get(Person, request.requester_id)
    action = await turn.session.get(Action, request.action_id) if request.action_id else None
    owner = await _owner(turn, action)
    message_key, message_words = "", {}
    if step == "ack":
        request.acknowledged_by_id = turn.person.id
        message_key, message_words = "handlers.scrutiny_acked", {"who": turn.person.name}
    elif step == "schedule":
        day_word, _, reason = extra.partition(" ")
        reason = reason.strip()
        try:
            day = date.fromisoformat(day_word)
        except ValueError:
            return turn.reply(turn.t("handlers.scrutiny_bad_date", word=day_word or "—"))
        if len(reason) > REASON_LIMIT:
            return turn.reply(turn.t("handlers.update_note_too_long", length=len(reason), limit=REASON_LIMIT))
        if not reason and day <= turn.today:
            return turn.reply(turn.t("handlers.scrutiny_date_past", ref=ref, date=turn.date(day), word=day_word,
                                     command=f"{_verb(turn.language, 'schedule')} {ref}"))
        if not reason and request.due and day > request.due:
            return turn.reply(turn.t("handlers.scrutiny_date_after_due", ref=ref, date=turn.date(day),
                                     due=turn.date(request.due), word=day_word,
                                     command=f"{_verb(turn.language, 'schedule')} {ref}"))
        if request.status == ScrutinyStatus.scheduled and request.committee_date == day:
            return turn.reply(turn.t("handlers.scrutiny_already_scheduled", ref=ref, date=turn.date(day)))
        meeting = await _scrutiny_meeting(turn, day)
        request.committee_date, request.meeting_id = day, meeting.id
        request.scheduled_by_id, request.date_reason = turn.person.id, reason or None
        if request.acknowledged_by_id is None:
            request.acknowledged_by_id = turn.person.id
        message_key = "handlers.scrutiny_scheduled"
    elif step == "respond":
        if not extra:
            return turn.reply(turn.t("handlers.scrutiny_respond_usage", command=f"{_verb(turn.language, 'respond')} {ref}"))
        if looks_welsh(extra):
            turn.language = "cy"
        request.response = extra[:QUESTION_LIMIT * 2]
        request.responded_by_id = turn.person.id
        message_key, message_words = "handlers.scrutiny_responded", {"response": request.response}
    else:
        if not extra:
            return turn.reply(turn.t("handlers.scrutiny_decline_usage", command=f"{_verb(turn.language, 'decline')} {ref}"))
        if len(extra) > REASON_LIMIT:
            return turn.reply(turn.t("handlers.update_note_too_long", length=len(extra), limit=REASON_LIMIT))
        request.decline_reason = extra
        request.declined_by_id = turn.person.id
        message_key, message_words = "handlers.scrutiny_declined", {"reason": extra, "who": turn.person.name}
    request.status = target
    request.updated_at = turn.now
    turn.session.add(request)
    await turn.session.flush()
    # The requester hears every step, the action's owner the date, the answer or the decline;
    # nobody hears of a step they took themselves.
    audience = [requester]
    if step != "ack" and owner is not None and owner.id != requester.id:
        audience.append(owner)
    stamp = f"{request.committee_date}" if step == "schedule" else ""
    for person in audience:
        if person.id == turn.person.id:
            continue
        lang = normalise_language(person.language)
        key = message_key if person is requester else message_key.replace("handlers.scrutiny_", "handlers.scrutiny_owner_")
        words_for = dict(message_words)
        if step == "schedule":
            words_for["date"] = _date(request.committee_date, lang)
        message = t(lang, key, ref=ref, subject=request.subject_ref, **words_for)
        tell = Reply(language=lang, text=message, ephemeral=False, sections=[Section(text=message, ref=ref)])
        await to_person(turn.session, person, tell, f"scrutiny:{step}:{ref}:{stamp}:p{person.id}", kind="scrutiny", settings=turn.ctx.settings)
    status = turn.t(f"handlers.status_{request.status}")
    done = turn.t("handlers.scrutiny_step_done", ref=ref, status=status)
    if step == "schedule":
        done += " " + turn.t("handlers.scrutiny_meeting_set", date=turn.date(request.committee_date))
    return turn.reply(done)


async def list_requests(turn: Turn) -> Reply:
    number, _ = page_number(turn.args[1:])
    total = (await turn.session.exec(select(func.count()).select_from(ScrutinyRequest)
                                     .where(ScrutinyRequest.board_id == turn.board.id))).one()
    if not total:
        return turn.reply(turn.t("handlers.scrutiny_list_none", board=turn.board.name))
    page = Page.of(total, number or 1, turn.page_size)
    rows = (await turn.session.exec(
        select(ScrutinyRequest, Person.name).join(Person, Person.id == ScrutinyRequest.requester_id)
        .where(ScrutinyRequest.board_id == turn.board.id).order_by(ScrutinyRequest.id.desc())
        .offset(page.first).limit(page.last - page.first)
    )).all()
    heading = turn.t("handlers.scrutiny_list_heading", board=turn.board.name) + \
        f" ({turn.t('handlers.requests', count=total)})"
    sections, lines = [Section(heading=heading)], [heading]
    committee = turn.member is not None and turn.member.role == Role.scrutiny
    for request, name in rows:
        ref = scrutiny_ref(request)
        line = turn.t("handlers.scrutiny_list_item", subject=request.subject_ref,
                      status=turn.t(f"handlers.status_{request.status}"), who=name, question=request.question)
        facts = []
        if request.due:
            facts.append(Fact(turn.t("handlers.scrutiny_due"), turn.date(request.due)))
        if request.committee_date:
            facts.append(Fact(turn.t("handlers.scrutiny_committee"), turn.date(request.committee_date)))
        if request.date_reason:
            facts.append(Fact(turn.t("handlers.scrutiny_date_reason"), request.date_reason))
        if request.response:
            facts.append(Fact(turn.t("handlers.scrutiny_response"), request.response))
        if request.decline_reason:
            facts.append(Fact(turn.t("handlers.scrutiny_decline_reason"), request.decline_reason))
        facts.append(Fact(turn.t("handlers.scrutiny_public_name"),
                          turn.t("handlers.named_yes_short" if request.requester_named else "handlers.named_no_short")))
        buttons = _committee_buttons(turn.language, ref, request.status) \
            if committee and request.status not in FINAL else []
        sections.append(Section(heading=ref, text=line, facts=facts, buttons=buttons, ref=ref))
        lines.append(f"{ref}: {line}" + "".join(f"\n  {f.label}: {f.value}" for f in facts))
    more = footer(turn, page, _verb(turn.language, "list"))
    if more is not None:
        sections.append(more)
        lines.append(more.text)
    return turn.reply("\n".join(lines), sections)
