"""Email, the third platform: for members in neither Slack nor Teams (``CYSWLLT_SMTP_URL``, from
``CYSWLLT_MAIL_FROM``). Reminders, escalations, scrutiny notices and digests go as multipart mail in
the member's language through the outbox; each button is a signed, expiring link to a page where
the member confirms."""

from aiohttp import web

from cyswllt.platforms import Platform, register


def setup(app: web.Application) -> None:
    from bot.email.pages import setup_routes
    from bot.email.sender import EmailSender
    from cyswllt.appkeys import SECRET, SENDERS, SETTINGS

    setup_routes(app)
    settings = app[SETTINGS]
    if settings.smtp_url:
        app[SENDERS]["email"] = EmailSender(settings, lambda: app[SECRET])


PLATFORM = register(Platform(
    "email", setup,
    ready=lambda settings: bool(settings.smtp_url),
    chart="attach",  # the chart goes with the mail as a PNG attachment
    people_by_email=True,  # a link is bound to the person, whose address is their email
    position=30))
