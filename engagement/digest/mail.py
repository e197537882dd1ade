"""Telling respondents about a "you said, we did": a mail to each who consented and left an email,
in the language they responded in, queued through the outbox (platform "email"; the email platform,
``bot/email``, sends it). With no SMTP URL nothing is queued and nothing is sent."""

from __future__ import annotations

from sqlalchemy import select

from cyswllt.i18n import normalise_language, t
from scheduler.outbox import enqueue
from storage.models import Consultation, Response, YouSaidWeDid


async def tell_respondents(session, settings, consultation: Consultation, entry: YouSaidWeDid) -> int:
    """Queue one mail per consenting respondent with an email address; the number queued."""
    if not settings.smtp_url:
        return 0
    rows = (await session.exec(
        select(Response.id, Response.email, Response.language).where(
            Response.consultation_id == consultation.id, Response.contact_consent.is_(True),
            Response.email.is_not(None), Response.email != "", Response.withdrawn_at.is_(None))
        .order_by(Response.id))).all()
    url = f"{settings.public_base_url}/consultations/{consultation.slug}"
    queued, seen = 0, set()
    for response_id, email, language in rows:
        address = email.strip()
        if address.lower() in seen:
            continue  # one mail per address, however many times they responded
        seen.add(address.lower())
        lang = normalise_language(language)
        title = consultation.title_cy if lang == "cy" else consultation.title_en
        payload = {"to": address, "subject": t(lang, "digest.mail.subject", consultation=title),
                   "body": t(lang, "digest.mail.body", consultation=title,
                             you_said=entry.you_said_cy if lang == "cy" else entry.you_said_en,
                             we_did=entry.we_did_cy if lang == "cy" else entry.we_did_en, url=f"{url}?lang={lang}")}
        queued += await enqueue(session, key=f"you-said:{entry.id}:{response_id}", platform="email", channel=address,
                                payload=payload, language=lang, kind="you-said-we-did")
    return queued
