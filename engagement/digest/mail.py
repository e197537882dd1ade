"""Telling respondents about a "you said, we did": a mail to each who consented and left an email,
in the language they responded in, queued through the outbox (platform "email") and sent by SMTP
to ``CYSWLLT_SMTP_URL``. With no SMTP URL nothing is queued and nothing is sent."""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

from cyswllt.i18n import normalise_language, t
from scheduler.outbox import PermanentFailure, enqueue
from storage.models import Consultation, OutboxMessage, Response, YouSaidWeDid

TIMEOUT = 30.0


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


class MailSender:
    """Sends outbox rows of platform "email" over SMTP (``smtp://host:port``, ``smtps://…``,
    optional ``user:password@`` and ``?from=address``), one connection per mail, in a thread."""

    def __init__(self, settings) -> None:
        parts = urlsplit(settings.smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("CYSWLLT_SMTP_URL must look like smtp://host:port")
        self.secure = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.secure else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        host = urlsplit(settings.public_base_url).hostname or "localhost"
        self.sender = parse_qs(parts.query).get("from", [f"no-reply@{host}"])[0]
        self.domain = self.sender.rpartition("@")[2] or host

    def _message(self, row: OutboxMessage) -> EmailMessage:
        payload = row.payload or {}
        if not payload.get("to") or not payload.get("subject"):
            raise PermanentFailure("not a mail payload")
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = payload["to"]
        message["Subject"] = payload["subject"]
        message["Content-Language"] = row.language
        # The same Message-ID on a resend after a crash lets mail servers and clients drop the copy.
        digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:24]
        message["Message-ID"] = f"<cyswllt.{row.id}.{digest}@{self.domain}>"
        message.set_content(payload.get("body", ""))
        return message

    def _send(self, message: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self.secure else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=TIMEOUT) as smtp:
            if not self.secure and self.user:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            refused = smtp.send_message(message)
            if refused:
                raise PermanentFailure(f"the mail server refused {', '.join(refused)}")

    async def send(self, message: OutboxMessage) -> str | None:
        mail = self._message(message)
        try:
            await asyncio.to_thread(self._send, mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"the mail server refused the address: {exc.recipients}") from exc
        return mail["Message-ID"]

    async def find_sent(self, message: OutboxMessage) -> str | None:
        return None  # SMTP cannot be asked what it accepted; a resend carries the same Message-ID
