"""``digest GROUP`` / ``crynodeb GRŴP``: a stakeholder group's consultation digest, built now.

The reply carries the summary and a signed link to the digest's web page; the chart goes to the
channel the command came from, through the outbox, as that platform carries a chart (an uploaded or
attached file, or an image from a signed link: ``cyswllt.platforms``)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, or_, select

from cyswllt.platforms import chart_for
from handlers.core import Reply
from handlers.turn import Turn
from scheduler.outbox import enqueue
from storage.models import Consultation, ConsultationGroup, GroupCoordinator, Role, StakeholderGroup

MAX_CONSULTATIONS = 2
# Besides a group's coordinators, who may see its digest.
ROLES = {Role.chair, Role.secretariat}


async def _find_group(turn: Turn, words: str) -> StakeholderGroup | None:
    wanted = words.strip().lower()
    return (await turn.session.exec(select(StakeholderGroup).where(or_(
        func.lower(StakeholderGroup.slug) == wanted, func.lower(StakeholderGroup.name_en) == wanted,
        func.lower(StakeholderGroup.name_cy) == wanted)))).scalars().first()


async def _allowed(turn: Turn, group: StakeholderGroup) -> bool:
    if turn.member is not None and turn.member.role in ROLES:
        return True
    coordinator = (await turn.session.exec(select(GroupCoordinator).where(
        GroupCoordinator.group_id == group.id, GroupCoordinator.person_id == turn.person.id))).first()
    return coordinator is not None


async def coordinates_a_group(turn: Turn) -> bool:
    """Whether the person coordinates a stakeholder group (and so may ask for its digest, board or not)."""
    found = (await turn.session.exec(select(GroupCoordinator.group_id).where(
        GroupCoordinator.person_id == turn.person.id))).first()
    return found is not None


async def _consultations(turn: Turn, group: StakeholderGroup) -> list[Consultation]:
    """The group's open consultations, else the one that closed last."""
    linked = (await turn.session.exec(
        select(Consultation).join(ConsultationGroup, ConsultationGroup.consultation_id == Consultation.id)
        .where(ConsultationGroup.group_id == group.id).order_by(Consultation.closes_at.desc()))).scalars().all()
    from engagement.digest.build import _aware

    now = turn.now
    open_now = [c for c in linked if _aware(c.opens_at) <= now <= _aware(c.closes_at)]
    return (open_now or linked[:1])[:MAX_CONSULTATIONS]


async def digest(turn: Turn) -> Reply:
    from engagement.digest import chart, links, render
    from engagement.digest.build import build_digest
    from engagement.digest.schedule import chart_file
    from engagement.workbench import coordinator_link, workbench_secret

    words = " ".join(turn.args).strip()
    if not words:
        return turn.reply(turn.t("handlers.digest_usage"))
    group = await _find_group(turn, words)
    language = turn.language
    if group is None:
        names = (await turn.session.exec(select(StakeholderGroup.slug, StakeholderGroup.name_en,
                                                   StakeholderGroup.name_cy).order_by(StakeholderGroup.slug))).all()
        if not names:
            return turn.reply(turn.t("digest.chat.no_groups"))
        listed = ", ".join(f"{name_cy if language == 'cy' else name_en} ({slug})" for slug, name_en, name_cy in names)
        return turn.reply(turn.t("digest.chat.unknown_group", group=words[:80], groups=listed))
    name = group.name_cy if language == "cy" else group.name_en
    if not await _allowed(turn, group):
        return turn.reply(turn.t("digest.chat.not_allowed", group=name))
    consultations = await _consultations(turn, group)
    if not consultations:
        return turn.reply(turn.t("digest.chat.no_consultation", group=name))
    settings, command = turn.ctx.settings, turn.command
    replies: list[Reply] = []
    for consultation in consultations:
        built = await build_digest(turn.session, consultation, group, turn.now, timezone_name=settings.timezone)
        page = links.signed(settings, built, language=language, now=turn.now, days=7)
        secret = workbench_secret(settings)
        bench = (coordinator_link(settings, secret, consultation.slug, group.slug, now=turn.now.timestamp())
                 + f"&lang={language}") if secret else None
        replies.append(render.chat_reply(built.data, language, timezone_name=settings.timezone, link=page,
                                         workbench=bench))
        if command.channel_id:
            # The chart goes the platform's way: a file uploaded or attached, or a signed link.
            heading = render.title(built.data, language)
            note = f"{heading}\n{turn.t('digest.chat.chart_posted')}"
            if chart_for(command.platform) == "link":
                image = links.signed(settings, built, "/chart.png", language=language, now=turn.now, days=7)
                payload = {"reply": Reply(language, heading, ephemeral=False, image_url=image,
                                          image_alt=chart.alt_text(built.data, language)).to_dict()}
            else:
                payload = {"reply": Reply(language, note, ephemeral=False).to_dict(),
                           "files": [await asyncio.to_thread(chart_file, built.data, language, built.id)]}
            await enqueue(turn.session, key=f"digest-chart:{built.id}:{command.platform}", platform=command.platform,
                          channel=command.channel_id, payload=payload, language=language, kind="digest")
    first = replies[0]
    for more in replies[1:]:
        first.sections += more.sections
        first.text += "\n\n" + more.text
    first.ephemeral = True  # the summary is for the one who asked; the chart is in the channel
    return first
