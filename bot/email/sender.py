"""Delivers outbox rows by mail: chat messages (reminders, escalations, notices, digests) as
multipart mail — plain text and HTML — in the row's language, each button a signed link; and the
plain mails other parts queue (``{"to", "subject", "body"}``). The row's idempotency key makes the
Message-ID, so a resend after a crash carries the same one (decision 0017)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from bot.email import links
from cyswllt.i18n import normalise_language, t
from handlers.core import Reply
from scheduler.messages import payload_reply
from scheduler.outbox import PermanentFailure
from storage.models import OutboxMessage

TIMEOUT = 30.0


class EmailSender:
    def __init__(self, settings, secret) -> None:
        parts = urlsplit(settings.smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("CYSWLLT_SMTP_URL must look like smtp://host:port")
        self.settings = settings
        self.secret = secret  # () -> the service secret (it may be loaded after start-up)
        self.secure = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        host = urlsplit(settings.public_base_url).hostname or "localhost"
        self.sender = settings.mail_from or parse_qs(parts.query).get("from", [f"no-reply@{host}"])[0]
        self.domain = self.sender.rpartition("@")[2] or host

    def can_find(self, message: OutboxMessage) -> bool:
        return False  # SMTP cannot be asked what it accepted; a resend has the same Message-ID

    async def find_sent(self, message: OutboxMessage) -> str | None:
        return None

    def message_id(self, row: OutboxMessage) -> str:
        return f"<cyswllt.{hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:32]}@{self.domain}>"

    def build(self, row: OutboxMessage) -> EmailMessage:
        payload = row.payload or {}
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = self.message_id(row)
        mail["Auto-Submitted"] = "auto-generated"
        if "to" in payload and "subject" in payload:  # a plain mail (e.g. "you said, we did")
            mail["To"] = payload["to"]
            mail["Subject"] = payload["subject"]
            mail.set_content(payload.get("body", ""))
            mail["Content-Language"] = normalise_language(row.language)  # after the content, which resets it
            return mail
        try:
            reply = payload_reply(payload, row.language)
        except (KeyError, TypeError) as exc:
            raise PermanentFailure(f"not a message payload: {exc}") from exc
        mail["To"] = row.channel
        mail["Subject"] = self.subject(reply)
        text, page = self.render(reply, row)
        mail.set_content(text)
        mail.add_alternative(page, subtype="html")
        for file in payload.get("files") or []:  # a digest's chart: mail carries it as an attachment
            mail.add_attachment(base64.b64decode(file["content_b64"]), maintype="image", subtype="png",
                                filename=file["filename"])
        mail["Content-Language"] = normalise_language(row.language)
        return mail

    def subject(self, reply: Reply) -> str:
        first = next((line.strip() for line in (reply.text or "").splitlines() if line.strip()), "")
        return f"Cyswllt: {first[:110]}" if first else "Cyswllt"

    def _link(self, row: OutboxMessage, button) -> str:
        form = None
        if button.form is not None:
            form = {"command": button.form.command, "title": button.form.title}
        token = links.make(self.secret(), row.recipient_id or 0, button.command, form=form)
        return f"{self.settings.public_base_url}/email/actions/{token}"

    def render(self, reply: Reply, row: OutboxMessage) -> tuple[str, str]:
        """(plain text, HTML): every section's words; every button as a link to a page that asks the
        member to confirm (mail scanners open links, so opening one changes nothing)."""
        language = normalise_language(reply.language)
        lines: list[str] = []
        blocks: list[str] = []
        for section in reply.sections or []:
            part_text = [s for s in (section.heading, section.text) if s]
            lines.extend(part_text)
            lines.extend(f"{f.label}: {f.value}" for f in section.facts)
            htmlish = "".join(f"<p>{'<strong>' if s is section.heading else ''}{html.escape(s)}"
                              f"{'</strong>' if s is section.heading else ''}</p>".replace("\n", "<br>")
                              for s in part_text)
            htmlish += "".join(f"<p>{html.escape(f.label)}: {html.escape(f.value)}</p>" for f in section.facts)
            buttons = [b for b in section.buttons if row.recipient_id]
            for button in buttons:
                url = self._link(row, button)
                lines.append(f"{button.label}: {url}")
            if buttons:
                htmlish += "<p>" + " · ".join(f'<a href="{html.escape(self._link(row, b))}">{html.escape(b.label)}</a>'
                                             for b in buttons) + "</p>"
            lines.append("")
            blocks.append(htmlish)
        if not reply.sections:
            lines.append(reply.text)
            blocks.append(f"<p>{html.escape(reply.text)}</p>".replace("\n", "<br>"))
        footer = t(language, "email.footer", days=links.LINK_DAYS)
        lines.append(footer)
        page = (f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8"><title>Cyswllt</title></head>'
                f'<body>{"".join(blocks)}<hr><p><small>{html.escape(footer)}</small></p></body></html>')
        return "\n".join(lines).strip() + "\n", page

    def _send(self, mail: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self.secure else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=TIMEOUT) as smtp:
            if not self.secure and self.user:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            refused = smtp.send_message(mail)
            if refused:
                raise PermanentFailure(f"the mail server refused {', '.join(refused)}")

    async def send(self, message: OutboxMessage) -> str | None:
        mail = self.build(message)
        try:
            await asyncio.to_thread(self._send, mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"the mail server refused the address: {exc.recipients}") from exc
        return mail["Message-ID"]
