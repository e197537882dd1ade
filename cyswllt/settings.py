"""Settings from the environment; the names are part of the interface contract."""

from __future__ import annotations

import logging

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///cyswllt.db", alias="CYSWLLT_DATABASE_URL")
    host: str = Field("127.0.0.1", alias="CYSWLLT_HOST")
    port: int = Field(8080, alias="CYSWLLT_PORT")
    base_url: str | None = Field(None, alias="CYSWLLT_BASE_URL")
    admin_token: str | None = Field(None, alias="CYSWLLT_ADMIN_TOKEN")
    timezone: str = Field("Europe/London", alias="CYSWLLT_TIMEZONE")
    rate_limit: str = Field("20/minute", alias="CYSWLLT_RATE_LIMIT")
    # Withdrawal attempts per client (right or wrong), so that withdrawal codes cannot be guessed in bulk.
    withdrawal_rate_limit: str = Field("10/minute", alias="CYSWLLT_WITHDRAWAL_RATE_LIMIT")
    smtp_url: str | None = Field(None, alias="CYSWLLT_SMTP_URL")
    # The sender of mail to members and respondents (unset: CYSWLLT_SMTP_URL's ?from=, else no-reply@host).
    mail_from: str | None = Field(None, alias="CYSWLLT_MAIL_FROM")
    # Secret for CSRF tokens, form stamps and the client-address hash salt; unset: made once and kept
    # in the database (cyswllt.secret), shared by every process and replica.
    secret_key: str | None = Field(None, alias="CYSWLLT_SECRET_KEY")
    # Who runs the site and how to reach them: named in every footer, the privacy notice, the
    # accessibility statement and the terms.
    publisher_name: str | None = Field(None, alias="CYSWLLT_PUBLISHER_NAME")
    contact_email: str | None = Field(None, alias="CYSWLLT_CONTACT_EMAIL")
    # Bearer token for GET /metrics; unset: /metrics answers clients on this host only.
    metrics_token: str | None = Field(None, alias="CYSWLLT_METRICS_TOKEN")
    # Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR ranges.
    trusted_proxies: str = Field("", alias="CYSWLLT_TRUSTED_PROXIES")
    # Processes serving on one port (cyswllt serve --workers N sets it for its workers).
    workers: int = Field(1, ge=1, le=64, alias="CYSWLLT_WORKERS")

    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")

    teams_app_id: str | None = Field(None, alias="TEAMS_APP_ID")
    teams_app_password: str | None = Field(None, alias="TEAMS_APP_PASSWORD")
    teams_tenant_id: str | None = Field(None, alias="TEAMS_TENANT_ID")
    teams_anonymous: bool = Field(False, alias="CYSWLLT_TEAMS_ANONYMOUS")

    # Operational knobs (not in the contract's list, but named the same way).
    scheduler_enabled: bool = Field(True, alias="CYSWLLT_SCHEDULER")
    outbox_enabled: bool = Field(True, alias="CYSWLLT_OUTBOX")
    # With the outbox off here, still send the answers to commands this process took, at once (instead of
    # when the process running the outbox next looks): serve --workers sets it for its other workers.
    outbox_answers: bool = Field(False, alias="CYSWLLT_OUTBOX_ANSWERS")
    outbox_poll_seconds: float = Field(1.0, alias="CYSWLLT_OUTBOX_POLL_SECONDS")
    # A message that has been failing this long (platform down, rate-limited) is given up ("dead").
    outbox_give_up_hours: float = Field(24.0, gt=0, alias="CYSWLLT_OUTBOX_GIVE_UP_HOURS")
    # Messages in flight at once, each to a different channel (a channel gets one a second).
    outbox_concurrency: int = Field(8, ge=1, le=64, alias="CYSWLLT_OUTBOX_CONCURRENCY")
    working_hours: str = Field("09:00-17:30", alias="CYSWLLT_WORKING_HOURS")
    working_days: str = Field("mon-fri", alias="CYSWLLT_WORKING_DAYS")
    # How long a row may stay "sending" before another worker checks whether it was delivered.
    outbox_lease_seconds: float = Field(60.0, alias="CYSWLLT_OUTBOX_LEASE_SECONDS")
    analysis_enabled: bool = Field(True, alias="CYSWLLT_ANALYSIS")
    # Escalation: a red action due within this many days goes to the chair and secretariat at once;
    # otherwise an action is escalated once it has been red, or overdue, for the grace period.
    escalate_red_within_days: int = Field(7, ge=0, alias="CYSWLLT_ESCALATE_RED_WITHIN_DAYS")
    escalation_grace_days: int = Field(14, ge=1, alias="CYSWLLT_ESCALATION_GRACE_DAYS")
    # The chair and secretariat get the meeting pack this many days before each board meeting.
    meeting_pack_days: int = Field(5, ge=0, alias="CYSWLLT_MEETING_PACK_DAYS")
    # The HTML form refuses submissions made faster than a person could fill it in.
    form_min_seconds: float = Field(3.0, alias="CYSWLLT_FORM_MIN_SECONDS")

    # Which platform reaches a person first, when they have an address on several (and each is set
    # up here); anyone none of them reaches gets their messages on the local console.
    platform_order: str = Field("slack,teams,email", alias="CYSWLLT_PLATFORM_ORDER")

    @property
    def usable_platforms(self) -> list[str]:
        """The platforms this service can send on now, in ``CYSWLLT_PLATFORM_ORDER`` (each platform's
        registration says when it is set up)."""
        from cyswllt.platforms import usable

        return usable(self, self.platform_order)

    @field_validator("rate_limit", "withdrawal_rate_limit")
    @classmethod
    def _limit(cls, value: str) -> str:
        from engagement.ratelimit import parse

        parse(value, "the limit")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        from cyswllt.clients import parse_proxies

        parse_proxies(value)
        return value

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_signing_secret)

    @property
    def teams_credentials(self) -> bool:
        return bool(self.teams_app_id)

    @property
    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def slack_api_base(self) -> str:
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        url = self.slack_api_url
        return url if url.endswith("/") else url + "/"


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
