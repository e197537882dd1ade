"""Scheduled digests: each stakeholder group's cron schedule (in CYSWLLT_TIMEZONE) decides when its
digest is due; a due digest is built, stored and queued through the outbox to each of the group's
channels (its addresses), the chart as each platform carries one (``cyswllt.platforms``: uploaded,
attached, or from a signed link), in the group's language — Welsh and English where the channel
reads both."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from cyswllt.i18n import t
from cyswllt.platforms import chart_for
from engagement.digest import chart, links, render
from engagement.digest.build import _aware, build_digest, previous_digest
from scheduler.outbox import enqueue, known_keys
from storage.models import Consultation, ConsultationGroup, Digest, StakeholderGroup, YouSaidWeDid
from storage.reach import addresses_of, groups_addresses

log = logging.getLogger("cyswllt.digests")

# A fire time missed by longer than this (the service was down) is skipped, not sent late: the
# next digest's period starts where the last one ended, so nothing is left out.
LOOKBACK = timedelta(days=1)
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _crontab_days(field: str) -> str:
    """Crontab day numbers (0 or 7 = Sunday) as names: APScheduler counts 0 as Monday."""
    return re.sub(r"\d+", lambda m: _DAYS[int(m.group())] if int(m.group()) < 8 else m.group(), field)


def cron_trigger(expression: str, zone: ZoneInfo):
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a digest schedule has five fields, not {len(fields)}: {expression!r}")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_crontab_days(day_of_week),
                       timezone=zone)


def latest_fire(expression: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The last time the schedule fired in (now - LOOKBACK, now], or None."""
    trigger = cron_trigger(expression, zone)
    fire = trigger.get_next_fire_time(None, now - LOOKBACK + timedelta(microseconds=1))
    latest = None
    for _ in range(2000):  # a schedule firing every minute has 1,440 times a day
        if fire is None or fire > now:
            break
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest


def languages_for(group: StakeholderGroup | None, fallback: str = "en") -> list[str]:
    language = (group.language if group else fallback) or fallback
    if language == "both":
        return ["cy", "en"]  # Welsh first, as the Welsh Language Standards ask
    return [language if language in ("cy", "en") else "en"]


def chart_file(data: dict[str, Any], language: str, digest_id: int) -> dict[str, str]:
    png = chart.render_png(data, language)
    return {"filename": f"digest-{digest_id}-{language}.png", "title": t(language, "digest.chart_title"),
            "alt_text": chart.alt_text(data, language), "content_b64": base64.b64encode(png).decode()}


def planned_keys(group: StakeholderGroup, channels: dict[str, str], key: str) -> list[str]:
    return [f"{key}:{platform}:{language}" for platform in channels for language in languages_for(group)]


async def queue_digest(session, settings, digest: Digest, group: StakeholderGroup, key: str, *,
                       now: datetime, working_hours: bool = True) -> int:
    """Queue a stored digest to the group's channels in its language(s); rows added."""
    from engagement.workbench import coordinator_link, workbench_secret

    data, queued = digest.data, 0
    secret = workbench_secret(settings)
    channels = await addresses_of(session, group)
    for language in languages_for(group):
        page = links.signed(settings, digest, language=language, now=now)
        bench = (coordinator_link(settings, secret, data["consultation"]["slug"], group.slug, now=now.timestamp())
                 + f"&lang={language}") if secret else None
        for platform, channel in channels.items():
            # The chart goes the platform's way: a file uploaded or attached, or a signed link.
            if chart_for(platform) == "link":
                image = links.signed(settings, digest, "/chart.png", language=language, now=now)
                reply = render.chat_reply(data, language, timezone_name=settings.timezone, link=page, image_url=image,
                                          image_alt=chart.alt_text(data, language), workbench=bench)
                payload = {"reply": reply.to_dict()}
            else:
                reply = render.chat_reply(data, language, timezone_name=settings.timezone, link=page, workbench=bench)
                payload = {"reply": reply.to_dict(), "files": [await asyncio.to_thread(chart_file, data, language,
                                                                                       digest.id)]}
            queued += await enqueue(session, key=f"{key}:{platform}:{language}", platform=platform, channel=channel,
                                    payload=payload, language=language, kind="digest", working_hours=working_hours)
    return queued


async def _worth_sending(session, consultation: Consultation, group: StakeholderGroup, fire: datetime) -> bool:
    """Open consultations get every digest; a closed one gets one more after it closes, and then
    one only when a "you said, we did" has been added since the last."""
    if _aware(consultation.opens_at) > fire:
        return False
    if _aware(consultation.closes_at) >= fire:
        return True
    before = await previous_digest(session, consultation.id, group.id, fire)
    if before is None or _aware(before.period_end) < _aware(consultation.closes_at):
        return True
    news = (await session.exec(select(func.count()).select_from(YouSaidWeDid).where(
        YouSaidWeDid.consultation_id == consultation.id, YouSaidWeDid.created_at > before.period_end,
        YouSaidWeDid.created_at <= fire))).scalar_one()
    return news > 0


async def enqueue_due_digests(db, settings, now: datetime) -> int:
    """Build and queue every digest whose group schedule has fired since the last sweep; the number
    of outbox rows queued. Running it again for the same fire time queues nothing more."""
    zone = ZoneInfo(settings.timezone)
    queued = 0
    async with db.session() as session:
        groups = (await session.exec(select(StakeholderGroup).where(
            StakeholderGroup.digest_schedule.is_not(None)).order_by(StakeholderGroup.id))).scalars().all()
        channels = await groups_addresses(session, [g.id for g in groups])
    for group in groups:
        if not channels.get(group.id):
            continue
        try:
            fire = latest_fire(group.digest_schedule, zone, now)
        except ValueError as exc:
            log.warning("stakeholder group %s: digest schedule not understood: %s", group.slug, exc)
            continue
        if fire is None:
            continue
        async with db.session() as session:
            consultations = (await session.exec(
                select(Consultation).join(ConsultationGroup, ConsultationGroup.consultation_id == Consultation.id)
                .where(ConsultationGroup.group_id == group.id).order_by(Consultation.id))).scalars().all()
        for consultation in consultations:
            async with db.session() as session:
                built = (await session.exec(select(Digest.id).where(
                    Digest.consultation_id == consultation.id, Digest.group_id == group.id,
                    Digest.period_end == fire))).first()
                if built is not None or not await _worth_sending(session, consultation, group, fire):
                    continue
                key = f"digest:{group.slug}:{consultation.slug}:{fire.astimezone(zone).date().isoformat()}"
                planned = planned_keys(group, channels[group.id], key)
                if set(planned) <= await known_keys(session, planned):
                    continue  # a schedule firing more than once a day: one digest a day is sent
                digest = await build_digest(session, consultation, group, fire, timezone_name=settings.timezone,
                                            trigger="scheduled")
                queued += await queue_digest(session, settings, digest, group, key, now=now)
                await session.commit()
                log.info("digest %s for %s / %s queued", digest.id, group.slug, consultation.slug)
    return queued
