"""Email, the third platform: for members in neither Slack nor Teams (``CYSWLLT_SMTP_URL``, from
``CYSWLLT_MAIL_FROM``). Reminders, escalations, scrutiny notices and digests go as multipart mail in
the member's language through the outbox; each button is a signed, expiring link to a page where
the member confirms."""

from aiohttp import web


def setup(app: web.Application) -> None:
    from bot.email.pages import setup_routes
    from bot.email.sender import EmailSender
    from cyswllt.appkeys import SECRET, SENDERS, SETTINGS

    setup_routes(app)
    settings = app[SETTINGS]
    if settings.smtp_url:
        app[SENDERS]["email"] = EmailSender(settings, lambda: app[SECRET])
