"""Scrutiny requests: raise one, list them, and the committee's steps (ack, schedule, respond)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import select

from cyswllt.i18n import babel_locale, normalise_language, t
from handlers.actions import find_action, normalise_ref
from handlers.core import Button, Fact, Form, FormField, Reply, Section
from handlers.language import looks_welsh
from handlers.notify import to_person
from handlers.turn import Turn
from handlers.words import SCRUTINY_STEPS, WELSH_STEPS
from storage.models import Member, Person, Priority, Role, ScrutinyRequest, ScrutinyStatus

RESPONSE_DAYS = 28
QUESTION_LIMIT = 2000


def scrutiny_ref(request: ScrutinyRequest) -> str:
    return f"S-{request.id}"


def _request_id(word: str) -> int | None:
    match = re.fullmatch(r"[Ss]-?(\d{1,9})", word.strip())
    return int(match.group(1)) if match else None


async def scrutiny(turn: Turn) -> Reply:
    if not turn.args:
        return turn.reply(turn.t("handlers.scrutiny_usage"))
    step = SCRUTINY_STEPS.get(turn.args[0].lower())
    if step is not None and turn.args[0].lower() in WELSH_STEPS:
        turn.language = "cy"
    if step == "list":
        return await list_requests(turn)
    if step in ("ack", "schedule", "respond"):
        return await committee_step(turn, step)
    return await raise_request(turn)


def _committee_buttons(language: str, ref: str) -> list[Button]:
    cy = language == "cy"
    verb = "craffu" if cy else "scrutiny"
    return [
        Button(t(language, "handlers.button_ack"), f"{verb} {'cydnabod' if cy else 'ack'} {ref}", style="primary"),
        Button(t(language, "handlers.button_schedule"), f"{verb} {'amserlennu' if cy else 'schedule'} {ref}",
               form=Form(title=t(language, "handlers.form_schedule_title", ref=ref),
                         submit_label=t(language, "handlers.form_schedule_submit"),
                         command=f"{verb} {'amserlennu' if cy else 'schedule'} {ref} {{date}}",
                         fields=[FormField(name="date", label=t(language, "handlers.field_date"), kind="date")])),
        Button(t(language, "handlers.button_respond"), f"{verb} {'ymateb' if cy else 'respond'} {ref}",
               form=Form(title=t(language, "handlers.form_respond_title", ref=ref),
                         submit_label=t(language, "handlers.form_respond_submit"),
                         command=f"{verb} {'ymateb' if cy else 'respond'} {ref} {{text}}",
                         fields=[FormField(name="text", label=t(language, "handlers.field_response"),
                                           multiline=True)])),
    ]


async def raise_request(turn: Turn) -> Reply:
    subject = turn.args[0]
    question = " ".join(turn.args[1:]).strip()
    action_ref, priority_ref = normalise_ref(subject, "A"), normalise_ref(subject, "P")
    if not question or not (action_ref or priority_ref):
        return turn.reply(turn.t("handlers.scrutiny_usage"))
    if len(question) > QUESTION_LIMIT:
        return turn.reply(turn.t("handlers.update_note_too_long", length=len(question), limit=QUESTION_LIMIT))
    request = ScrutinyRequest(board_id=turn.board.id, requester_id=turn.person.id, question=question,
                              subject_ref=action_ref or priority_ref, created_at=turn.now, updated_at=turn.now,
                              due=turn.today + timedelta(days=RESPONSE_DAYS))
    if action_ref:
        action = await find_action(turn, action_ref)
        if action is None:
            return turn.reply(turn.t("handlers.scrutiny_unknown_subject", ref=action_ref, board=turn.board.name))
        request.action_id, title = action.id, action.title
    else:
        priority = (await turn.session.exec(select(Priority).where(
            Priority.board_id == turn.board.id, func.upper(Priority.ref) == priority_ref))).first()
        if priority is None:
            return turn.reply(turn.t("handlers.scrutiny_unknown_subject", ref=priority_ref, board=turn.board.name))
        request.priority_id, title = priority.id, priority.title
    turn.session.add(request)
    await turn.session.flush()
    ref = scrutiny_ref(request)
    subject_text = f"{request.subject_ref} “{title}”"
    members = (await turn.session.exec(
        select(Person).join(Member, Member.person_id == Person.id)
        .where(Member.board_id == turn.board.id, Member.role == Role.scrutiny)
    )).all()
    for member in members:
        lang = normalise_language(member.language)
        text = t(lang, "handlers.scrutiny_new", ref=ref, who=turn.person.name, subject=subject_text, question=question)
        reply = Reply(language=lang, text=text, ephemeral=False,
                      sections=[Section(text=text, ref=ref, buttons=_committee_buttons(lang, ref))])
        await to_person(turn.session, member, reply, f"scrutiny:new:{ref}:{member.id}", kind="scrutiny")
    key = "handlers.scrutiny_raised" if members else "handlers.scrutiny_no_members"
    return turn.reply(turn.t(key, ref=ref, subject=subject_text, board=turn.board.name))


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
    requester = await turn.session.get(Person, request.requester_id)
    lang = normalise_language(requester.language)
    extra = " ".join(turn.args[2:]).strip()
    if step == "ack":
        request.status = ScrutinyStatus.acknowledged
        request.acknowledged_by_id = turn.person.id
        message = t(lang, "handlers.scrutiny_acked", ref=ref, who=turn.person.name)
    elif step == "schedule":
        try:
            request.committee_date = date.fromisoformat(extra)
        except ValueError:
            return turn.reply(turn.t("handlers.scrutiny_bad_date", word=extra or "—"))
        request.status = ScrutinyStatus.scheduled
        from babel.dates import format_date

        message = t(lang, "handlers.scrutiny_scheduled", ref=ref,
                    date=format_date(request.committee_date, format="long", locale=babel_locale(lang)))
    else:
        if not extra:
            return turn.reply(turn.t("handlers.scrutiny_usage"))
        if looks_welsh(extra):
            turn.language = "cy"
        request.response = extra[:QUESTION_LIMIT * 2]
        request.status = ScrutinyStatus.responded
        request.responded_by_id = turn.person.id
        message = t(lang, "handlers.scrutiny_responded", ref=ref, response=request.response)
    request.updated_at = turn.now
    turn.session.add(request)
    await turn.session.flush()
    tell = Reply(language=lang, text=message, ephemeral=False, sections=[Section(text=message, ref=ref)])
    stamp = f"{request.committee_date}" if step == "schedule" else ""
    await to_person(turn.session, requester, tell, f"scrutiny:{step}:{ref}:{stamp}", kind="scrutiny")
    status = turn.t(f"handlers.status_{request.status}")
    return turn.reply(turn.t("handlers.scrutiny_step_done", ref=ref, status=status))


async def list_requests(turn: Turn) -> Reply:
    rows = (await turn.session.exec(
        select(ScrutinyRequest, Person.name).join(Person, Person.id == ScrutinyRequest.requester_id)
        .where(ScrutinyRequest.board_id == turn.board.id).order_by(ScrutinyRequest.id.desc()).limit(20)
    )).all()
    heading = turn.t("handlers.scrutiny_list_heading", board=turn.board.name)
    if not rows:
        return turn.reply(turn.t("handlers.scrutiny_list_none", board=turn.board.name))
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
        if request.response:
            facts.append(Fact(turn.t("handlers.scrutiny_response"), request.response))
        buttons = _committee_buttons(turn.language, ref) if committee and request.status != ScrutinyStatus.responded else []
        sections.append(Section(heading=ref, text=line, facts=facts, buttons=buttons, ref=ref))
        lines.append(f"{ref}: {line}" + "".join(f"\n  {f.label}: {f.value}" for f in facts))
    return turn.reply("\n".join(lines), sections)
