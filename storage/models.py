"""The domain's tables: boards and their members, priorities and actions, scrutiny,
meetings, consultations and their responses, stakeholder groups, digests and the outbox.

Personal data is declared in ``PERSONAL_DATA`` at the foot of this module, next to the
tables that hold it, so export and erasure have one list to work from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, DateTime, Index, Text, UniqueConstraint, false
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage.slugs import MAX_SLUG, board_slug_default


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _ts(**kw: Any) -> Any:
    """A timezone-aware timestamp column (TIMESTAMPTZ on PostgreSQL)."""
    nullable = kw.pop("nullable", False)
    index = kw.pop("index", False)
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index), **kw)


class Role(StrEnum):
    chair = "chair"
    secretariat = "secretariat"
    core = "core"
    wider = "wider"
    officer = "officer"
    scrutiny = "scrutiny"
    coordinator = "coordinator"


class Rag(StrEnum):
    red = "red"
    amber = "amber"
    green = "green"
    complete = "complete"


class PriorityScope(StrEnum):
    local = "local"
    national = "national"


class ScrutinyStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    scheduled = "scheduled"
    responded = "responded"
    declined = "declined"


# The order a scrutiny request moves through; ``declined`` may follow any step but the last.
SCRUTINY_ORDER = (ScrutinyStatus.open, ScrutinyStatus.acknowledged, ScrutinyStatus.scheduled,
                  ScrutinyStatus.responded)


class AnalysisState(StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"


class ModerationState(StrEnum):
    visible = "visible"
    hidden = "hidden"
    # Health or child details: counted, but kept out of quotes and summaries until a person clears
    # (visible) or hides it.
    held = "held"


class OutboxState(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"


# --- boards and people -------------------------------------------------------------


class Board(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    # The board's name in Welsh, when it has one (Welsh readers see it in chat and on its pages).
    name_cy: str | None = Field(default=None, max_length=200)
    # The board's public address, /boards/{slug}: made from the name when the board is added.
    slug: str | None = Field(default=None, max_length=MAX_SLUG,
                             sa_column_kwargs={"unique": True, "nullable": False, "default": board_slug_default})
    # Whether the board's pages, reports and open data are public (the board's choice; off by default).
    published: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The board's chat channels (commands there use this board; notices are posted there) are its
    # ``Address`` rows.
    created_at: datetime = _ts(default_factory=utcnow)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    sector: str | None = Field(default=None, max_length=100)


class Person(SQLModel, table=True):
    """Someone who uses the bot; may sit on several boards (see ``Member``)."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=200)
    language: str = Field(default="en", max_length=2)
    # The platform the person asked to be reached on (members CSV ``preferred_platform``), honoured
    # before CYSWLLT_PLATFORM_ORDER when it is set up here and they have an address on it. Their chat
    # ids are their ``Address`` rows; their email address is their address for mail.
    preferred_platform: str | None = Field(default=None, max_length=16)
    current_board_id: int | None = Field(default=None, foreign_key="board.id")
    # The random part of the person's own calendar link (``calendar`` command); made on first use.
    calendar_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts(default_factory=utcnow)


class Member(SQLModel, table=True):
    """A person's seat on one board."""

    __table_args__ = (UniqueConstraint("board_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    sector: str | None = Field(default=None, max_length=100)
    role: str = Field(default=Role.core, max_length=20)


# --- the agreement: priorities and actions ----------------------------------------


class Priority(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("board_id", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    ref: str = Field(max_length=20)  # "P-2"
    title: str = Field(max_length=500)
    title_cy: str | None = Field(default=None, max_length=500)
    scope: str = Field(default=PriorityScope.local, max_length=10)


class Action(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("board_id", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    ref: str = Field(max_length=20)  # "A-12"
    title: str = Field(sa_column=Column(Text, nullable=False))
    title_cy: str | None = Field(default=None, sa_column=Column(Text))  # the action in Welsh, when given
    owner_email: str | None = Field(default=None, max_length=320)
    owner_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    due: date | None = Field(default=None, index=True)
    due_text: str | None = Field(default=None, max_length=500)  # the original "by when" words
    rag: str | None = Field(default=None, max_length=10)
    updated_at: datetime = _ts(default_factory=utcnow)
    created_at: datetime = _ts(default_factory=utcnow)


class ActionLead(SQLModel, table=True):
    """An action's lead organisations ("by whom"), in the order given."""

    action_id: int = Field(foreign_key="action.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    position: int = 0


class ActionUpdate(SQLModel, table=True):
    """Append-only: an update is never edited or deleted."""

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="person.id")
    rag: str = Field(max_length=10)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # What the public may read about this update (the note stays internal); none when not given.
    public_summary: str | None = Field(default=None, sa_column=Column(Text))
    source: str = Field(default="console", max_length=20)
    created_at: datetime = _ts(default_factory=utcnow, index=True)


class ScrutinyRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    requester_id: int = Field(foreign_key="person.id")
    action_id: int | None = Field(default=None, foreign_key="action.id")
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    subject_ref: str = Field(max_length=20)  # the ref as asked: "A-12" or "P-2"
    question: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=ScrutinyStatus.open, max_length=20, index=True)
    due: date | None = None  # when a response is expected
    committee_date: date | None = None
    response: str | None = Field(default=None, sa_column=Column(Text))
    acknowledged_by_id: int | None = Field(default=None, foreign_key="person.id")
    responded_by_id: int | None = Field(default=None, foreign_key="person.id")
    # The scrutiny meeting the request is taken at (scheduling creates it when none is on that date).
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    scheduled_by_id: int | None = Field(default=None, foreign_key="person.id")
    # Why the committee date is after the response due date, when it is.
    date_reason: str | None = Field(default=None, sa_column=Column(Text))
    declined_by_id: int | None = Field(default=None, foreign_key="person.id")
    decline_reason: str | None = Field(default=None, sa_column=Column(Text))
    # The requester agreed to be named in the public scrutiny register; otherwise "a board member".
    requester_named: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class Meeting(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("board_id", "held_on", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    held_on: date
    kind: str = Field(default="board", max_length=20)  # board | scrutiny


class MeetingPack(SQLModel, table=True):
    """A board meeting's pack as sent to one person (the chair or secretariat): its signed link is
    theirs alone, keyed by ``link_key``, so one copy can be withdrawn without touching the others."""

    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    language: str = Field(default="en", max_length=2)
    link_key: str = Field(max_length=64)
    created_at: datetime = _ts(default_factory=utcnow)


class AnnualReport(SQLModel, table=True):
    """A board's annual report for the financial year starting 1 April ``year_start``: the
    secretariat's commentary while it is a draft; once published, ``snapshot`` holds the report as it
    was (facts and commentary), and it never changes again."""

    __table_args__ = (UniqueConstraint("board_id", "year_start"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    year_start: int
    commentary: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    snapshot: dict | None = Field(default=None, sa_column=Column(JSON))
    published_at: datetime | None = _ts(default=None, nullable=True)
    updated_at: datetime = _ts(default_factory=utcnow)

    @property
    def year_label(self) -> str:
        return f"{self.year_start}-{(self.year_start + 1) % 100:02d}"


class Snooze(SQLModel, table=True):
    """A member asked not to be reminded about an action until a date."""

    __table_args__ = (UniqueConstraint("action_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id")
    person_id: int = Field(foreign_key="person.id")
    until: datetime = _ts()


class ConversationReference(SQLModel, table=True):
    """Teams conversation references kept for proactive messages."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    scope: str = Field(default="personal", max_length=20)  # personal | channel | groupChat
    # The Teams user (AAD object id) of a personal chat, so a member added later is still reachable.
    teams_user_id: str | None = Field(default=None, max_length=128, index=True)
    reference: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(default_factory=utcnow)


# --- consultations -------------------------------------------------------------------


class StakeholderGroup(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, sa_column_kwargs={"unique": True})
    name_en: str = Field(max_length=200)
    name_cy: str = Field(max_length=200)
    # The group's channels (where its digests go) are its ``Address`` rows.
    # The language(s) the group's channel reads: en, cy or both.
    language: str = Field(default="both", max_length=4)
    # Five-field cron expression in CYSWLLT_TIMEZONE, e.g. "0 9 * * mon".
    digest_schedule: str | None = Field(default="0 9 * * mon", max_length=100)


class Address(SQLModel, table=True):
    """Where someone or something is reached on one chat platform: a person's user id there, or a
    board's or stakeholder group's channel. Exactly one owner; one address per owner and platform.
    ``storage.reach`` is the one place that reads and writes these rows."""

    __table_args__ = (
        UniqueConstraint("person_id", "platform"),
        UniqueConstraint("board_id", "platform"),
        UniqueConstraint("group_id", "platform"),
        CheckConstraint("(CASE WHEN person_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN board_id IS NULL THEN 0 ELSE 1 END)"
                        " + (CASE WHEN group_id IS NULL THEN 0 ELSE 1 END) = 1", name="address_one_owner"),
        Index("ix_address_platform_address", "platform", "address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    address: str = Field(max_length=300)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    board_id: int | None = Field(default=None, foreign_key="board.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="stakeholdergroup.id", index=True)
    created_at: datetime = _ts(default_factory=utcnow)


class GroupCoordinator(SQLModel, table=True):
    group_id: int = Field(foreign_key="stakeholdergroup.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)


class Consultation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, sa_column_kwargs={"unique": True})
    board_id: int | None = Field(default=None, foreign_key="board.id")
    title_en: str = Field(max_length=300)
    title_cy: str = Field(max_length=300)
    summary_en: str = Field(sa_column=Column(Text, nullable=False))
    summary_cy: str = Field(sa_column=Column(Text, nullable=False))
    executive_summary_en: str | None = Field(default=None, sa_column=Column(Text))
    executive_summary_cy: str | None = Field(default=None, sa_column=Column(Text))
    opens_at: datetime = _ts()
    closes_at: datetime = _ts()
    # Why a consultation runs for under the normal 12 weeks (required under 8).
    short_period_reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _ts(default_factory=utcnow)


class ConsultationGroup(SQLModel, table=True):
    consultation_id: int = Field(foreign_key="consultation.id", primary_key=True)
    group_id: int = Field(foreign_key="stakeholdergroup.id", primary_key=True)


class Question(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("consultation_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    key: str = Field(max_length=40)  # stable public id, e.g. "q1", "welsh-language"
    position: int = 0
    text_en: str = Field(sa_column=Column(Text, nullable=False))
    text_cy: str = Field(sa_column=Column(Text, nullable=False))
    hint_en: str | None = Field(default=None, sa_column=Column(Text))
    hint_cy: str | None = Field(default=None, sa_column=Column(Text))
    # "welsh_language" marks the always-present question on effects on the Welsh language.
    kind: str = Field(default="open", max_length=20)


class Response(SQLModel, table=True):
    __table_args__ = (
        Index("ix_response_consultation_received", "consultation_id", "received_at"),
        Index("ix_response_analysis_state", "analysis_state"),
        # A group's digest finds its latest responses (and those of one day) without reading the others'.
        Index("ix_response_consultation_group_received", "consultation_id", "group_id", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    reference: str = Field(max_length=20, sa_column_kwargs={"unique": True})
    withdrawal_token_hash: str = Field(max_length=128)
    text: str | None = Field(default=None, sa_column=Column(Text))  # the general response
    language: str | None = Field(default=None, max_length=2)  # given or detected
    language_given: bool = False
    group_id: int | None = Field(default=None, foreign_key="stakeholdergroup.id", index=True)
    anonymous: bool = True
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    contact_consent: bool = False
    # The respondent agreed that their words may be quoted, anonymously, in what is published or printed
    # (the consultation's results, reports, board papers). Off unless they tick it.
    quote_consent: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    channel: str = Field(default="web", max_length=20)  # web | api | paper | email | event
    client_hash: str | None = Field(default=None, max_length=64)
    text_hash: str | None = Field(default=None, max_length=64, index=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="response.id")
    # The form a web response came from (its signed start stamp) with its words: the same form sent
    # twice (a refreshed thank-you page, a double click) is stored once.
    form_key: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    received_at: datetime = _ts(default_factory=utcnow)
    # Analysis, filled in after the response is stored.
    analysis_state: str = Field(default=AnalysisState.pending, max_length=10)
    analysis_attempts: int = 0
    analysis_error: str | None = Field(default=None, sa_column=Column(Text))
    analysed_at: datetime | None = _ts(default=None, nullable=True)
    sentiment: str | None = Field(default=None, max_length=10)
    polarity: float | None = None
    confidence: float | None = None
    themes: list | None = Field(default=None, sa_column=Column(JSON))
    redacted_text: str | None = Field(default=None, sa_column=Column(Text))
    # Moderation and withdrawal.
    moderation_state: str = Field(default=ModerationState.visible, max_length=10)
    moderation_reason: str | None = Field(default=None, sa_column=Column(Text))
    # When a person last decided its moderation state: reanalysis never holds or releases it after that.
    reviewed_at: datetime | None = _ts(default=None, nullable=True)
    withdrawn_at: datetime | None = _ts(default=None, nullable=True)
    # The analyser that produced the stored analysis (engagement.analysis.ANALYSER_VERSION); None or older
    # means it is analysed again in the background.
    analyser_version: int | None = Field(default=None, index=True)


class Answer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    text: str | None = Field(default=None, sa_column=Column(Text))
    language: str | None = Field(default=None, max_length=2)
    sentiment: str | None = Field(default=None, max_length=10)
    polarity: float | None = None
    confidence: float | None = None
    themes: list | None = Field(default=None, sa_column=Column(JSON))
    redacted_text: str | None = Field(default=None, sa_column=Column(Text))


class Digest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="stakeholdergroup.id")
    period_start: datetime = _ts()
    period_end: datetime = _ts()
    # Built on the group's schedule (it owns a period: the next scheduled digest starts where it ends),
    # or on demand (covers the period so far, and moves nothing).
    scheduled: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(default_factory=utcnow)


class YouSaidWeDid(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme: str = Field(max_length=200)
    you_said_en: str = Field(sa_column=Column(Text, nullable=False))
    you_said_cy: str = Field(sa_column=Column(Text, nullable=False))
    we_did_en: str = Field(sa_column=Column(Text, nullable=False))
    we_did_cy: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = _ts(default_factory=utcnow)


# --- themes (the analysis work owns these tables; the workbench adds its edits) ------------------------


class ThemeOrigin(StrEnum):
    analyser = "analyser"  # a topic of the glossary, found by the analyser
    emergent = "emergent"  # a phrase outside the glossary that several responses raised (key "~<lemmas>")
    split = "split"  # made by a person, from some of another theme's responses


class Theme(SQLModel, table=True):
    """A theme of one consultation. The analyser's topics get one row each the first time a response
    raises them; a person's edits (labels, hidden, merged into another, sign-off) live on the row and
    survive reanalysis, which only ever adds rows and replaces the analyser's ``ResponseTheme`` rows."""

    __table_args__ = (UniqueConstraint("consultation_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    key: str = Field(max_length=80)  # the glossary's topic key, "~<lemmas>" (emergent) or "split-<n>"
    origin: str = Field(default=ThemeOrigin.analyser, max_length=10)
    # The analyser's labels (refreshed on reanalysis) and a person's, which win when set.
    label_en: str = Field(max_length=200)
    label_cy: str = Field(max_length=200)
    custom_label_en: str | None = Field(default=None, max_length=200)
    custom_label_cy: str | None = Field(default=None, max_length=200)
    hidden: bool = False
    # Merged: its responses count under that theme (one level: merging re-points earlier merges).
    merged_into_id: int | None = Field(default=None, foreign_key="theme.id")
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)

    def label(self, language: str) -> str:
        if language == "cy":
            return self.custom_label_cy or self.label_cy
        return self.custom_label_en or self.label_en


class ResponseTheme(SQLModel, table=True):
    """A response raises a theme, with its sentiment toward that theme. ``source`` analyser rows are
    replaced on reanalysis; ``human`` rows (a person added the theme, or ``removed`` it) are kept and win."""

    __table_args__ = (UniqueConstraint("response_id", "theme_id"),
                      Index("ix_responsetheme_consultation_theme", "consultation_id", "theme_id"),
                      # "analysed since the theme set was signed off" finds the first such row, not all.
                      Index("ix_responsetheme_consultation_created", "consultation_id", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    sentiment: str = Field(default="neutral", max_length=10)
    polarity: float = 0.0
    source: str = Field(default="analyser", max_length=10)  # analyser | human
    removed: bool = False  # a person took this theme off this response
    analyser_version: int | None = None
    created_at: datetime = _ts(default_factory=utcnow)


class ThemeMention(SQLModel, table=True):
    """Where a response names a theme: its general text (``question_id`` null) or an answer, with the
    sentiment of the clause, for the breakdown per question and for quoting the right words."""

    id: int | None = Field(default=None, primary_key=True)
    response_theme_id: int = Field(foreign_key="responsetheme.id", index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id")
    sentiment: str = Field(default="neutral", max_length=10)
    polarity: float = 0.0
    start: int = 0  # character offsets in the (redacted) text
    end: int = 0


class ThemeCandidate(SQLModel, table=True):
    """A phrase a response raises that no glossary topic names (``engagement.analysis.emergent``), one row
    per mention. Once enough responses of a consultation share a key it becomes an emergent ``Theme``
    (``engagement.theme_candidates``), whose links, mentions and labels come from these rows. Replaced
    whenever the response is analysed again; gone when it is withdrawn."""

    __table_args__ = (Index("ix_themecandidate_consultation_key", "consultation_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    response_id: int = Field(foreign_key="response.id", index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id")  # null: the general text
    key: str = Field(max_length=80)  # "~pier", "~swyddfa post": lemmas, mutations undone
    language: str = Field(default="en", max_length=4)
    wording: str = Field(max_length=200)  # as written, without its article
    sentiment: str = Field(default="neutral", max_length=10)
    polarity: float = 0.0
    start: int = 0  # character offsets in the (redacted) text
    end: int = 0


class ThemeCandidateKey(SQLModel, table=True):
    """How many responses of a consultation raise a candidate key, kept as their candidate phrases are
    stored, replaced and forgotten, so deciding whether a key is a theme yet never counts them again."""

    __table_args__ = (UniqueConstraint("consultation_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    key: str = Field(max_length=80)
    responses: int = 0


class ThemeEdit(SQLModel, table=True):
    """Every change a person makes to a consultation's themes, with who and when (append-only)."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int | None = Field(default=None, foreign_key="theme.id")
    action: str = Field(max_length=20)  # rename | hide | show | merge | split | pin | unpin | reassign | sign-off | note
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    actor_name: str | None = Field(default=None, max_length=200)
    actor_email: str | None = Field(default=None, max_length=320)
    created_at: datetime = _ts(default_factory=utcnow)


class ThemePin(SQLModel, table=True):
    """A quote a person chose for a theme (for one group's digest, or for all when ``group_id`` is null)."""

    __table_args__ = (UniqueConstraint("theme_id", "response_id", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    response_id: int = Field(foreign_key="response.id")
    group_id: int | None = Field(default=None, foreign_key="stakeholdergroup.id")
    pinned_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = _ts(default_factory=utcnow)


# --- what digests add up instead of counting (storage/tallies.py keeps them right) -------------------


class DigestTally(SQLModel, table=True):
    """Totals over a consultation's analysed responses, kept up to date in the same transaction as every
    change that moves them, so a digest adds up a few thousand rows instead of counting responses. One
    row per ``kind`` and key: ``count`` (group, UTC day, language, sentiment, state), ``hour`` (group, UTC
    hour: shown responses), ``theme`` (group, UTC day, theme after merges), ``question`` (group, theme
    after merges, question; 0 the general text, -1 any Welsh-language question) and ``answer`` (group,
    question, the answer's language and sentiment). ``n`` counts responses; ``positive``, ``negative``
    and ``welsh`` those among them that were positive or negative toward the theme, or wrote in Welsh.
    Empty keys are 0 or ''."""

    consultation_id: int = Field(foreign_key="consultation.id", primary_key=True)
    kind: str = Field(max_length=10, primary_key=True)
    group_id: int = Field(default=0, primary_key=True, sa_column_kwargs={"autoincrement": False})
    bucket: int = Field(default=0, primary_key=True, sa_column_kwargs={"autoincrement": False})
    theme_id: int = Field(default=0, primary_key=True, sa_column_kwargs={"autoincrement": False})
    question_id: int = Field(default=0, primary_key=True, sa_column_kwargs={"autoincrement": False})
    language: str = Field(default="", max_length=2, primary_key=True)
    sentiment: str = Field(default="", max_length=10, primary_key=True)
    state: str = Field(default="", max_length=10, primary_key=True)
    n: int = 0
    positive: int = 0
    negative: int = 0
    welsh: int = 0


class DigestTallyState(SQLModel, table=True):
    """Per consultation: its row is locked by every change to the tallies (so they are changed one at a
    time), counts those changes, and says whether the tallies must be counted again from the responses
    (``stale``: data stored before they existed; ``cyswllt db upgrade`` and ``cyswllt db recount`` do it)."""

    consultation_id: int = Field(foreign_key="consultation.id", primary_key=True,
                                 sa_column_kwargs={"autoincrement": False})
    changes: int = 0
    stale: bool = False
    counted_at: datetime | None = _ts(default=None, nullable=True)


class QuoteCandidate(SQLModel, table=True):
    """A text a digest may quote or summarise, with what it is ranked by, so the best few of a theme and
    side are read in order from an index instead of ranking every response. One per analysed link of a
    quotable response (``theme_id``; ``question_id`` is where it first named the theme, 0 its general
    text) and per answer to a Welsh-language question (``theme_id`` 0). No text is kept here."""

    response_id: int = Field(foreign_key="response.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    theme_id: int = Field(default=0, primary_key=True, sa_column_kwargs={"autoincrement": False})
    question_id: int = Field(default=0, primary_key=True, sa_column_kwargs={"autoincrement": False})
    consultation_id: int = Field(foreign_key="consultation.id")
    group_id: int | None = None
    received_at: datetime = _ts()
    side: str = Field(max_length=10)
    language: str | None = Field(default=None, max_length=2)
    confidence: float | None = None
    # The quote order (0: 40–300 characters, 1: longer, 2: shorter; then the length, shortest first
    # among the informative and longest first among the short ones) and the summary order (long last).
    informative: int = 0
    size_order: int = 0
    long: bool = False


Index("ix_quotecandidate_quote", QuoteCandidate.consultation_id, QuoteCandidate.theme_id, QuoteCandidate.side,
      QuoteCandidate.informative, QuoteCandidate.size_order, QuoteCandidate.confidence.desc(),
      QuoteCandidate.response_id)
Index("ix_quotecandidate_summary", QuoteCandidate.consultation_id, QuoteCandidate.theme_id, QuoteCandidate.side,
      QuoteCandidate.language, QuoteCandidate.long, QuoteCandidate.confidence.desc(), QuoteCandidate.response_id)


# --- outbound messages -------------------------------------------------------------


class OutboxMessage(SQLModel, table=True):
    """Every outbound chat message or mail. The idempotency key makes enqueueing the same
    message twice a no-op; the delivery worker moves rows pending → sending → sent."""

    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    platform: str = Field(max_length=20)  # slack | teams | console | email
    channel: str = Field(max_length=300)  # channel / conversation / user id / address
    recipient_id: int | None = Field(default=None, foreign_key="person.id")
    language: str = Field(default="en", max_length=4)
    kind: str = Field(default="message", max_length=40)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=OutboxState.pending, max_length=10)
    attempts: int = 0
    # Not before this time; working hours are applied by moving this forward.
    next_attempt_at: datetime = _ts(default_factory=utcnow)
    respect_working_hours: bool = False
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    external_id: str | None = Field(default=None, max_length=200)  # the platform's message id
    created_at: datetime = _ts(default_factory=utcnow)
    claimed_at: datetime | None = _ts(default=None, nullable=True)
    sent_at: datetime | None = _ts(default=None, nullable=True)
    # When sending it first failed (a rate limit or an error); it is given up on a day after that.
    failing_since: datetime | None = _ts(default=None, nullable=True)


class OutboxHold(SQLModel, table=True):
    """A channel the outbox waits for — or, with ``channel`` empty, a whole platform: the platform
    asked us to wait (Retry-After), or sends there keep failing (backoff). A channel's messages
    wait behind its held head, in order; other channels go on. Shared by every replica."""

    platform: str = Field(max_length=20, primary_key=True)
    channel: str = Field(default="", max_length=300, primary_key=True)
    until: datetime = _ts()
    failures: int = 0  # failures in a row, for the backoff; a success forgets the hold
    reason: str | None = Field(default=None, sa_column=Column(Text))
    since: datetime = _ts(default_factory=utcnow)


# --- the service's own state ----------------------------------------------------------


class ServiceSecret(SQLModel, table=True):
    """A secret the service made for itself because none was configured (``CYSWLLT_SECRET_KEY``
    unset): made once by whichever process starts first, then read by every process and replica,
    so forms, signed values and client-address hashes survive restarts and work across replicas."""

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
    created_at: datetime = _ts(default_factory=utcnow)


class RateCount(SQLModel, table=True):
    """Requests counted per client, shared by every process that serves (rate limits when more than
    one process or replica counts). A client's window starts at its first request, as in memory."""

    __table_args__ = (Index("ix_ratecount_expires", "expires"),)

    bucket: str = Field(primary_key=True, max_length=20)  # what is limited: submit | withdraw
    client: str = Field(primary_key=True, max_length=64)  # a salted hash of the client address
    window_start: int = Field(sa_column=Column(BigInteger, nullable=False))  # epoch milliseconds
    expires: int = Field(sa_column=Column(BigInteger, nullable=False))  # epoch milliseconds: the window's end
    count: int = 0


class InboundRequest(SQLModel, table=True):
    """A chat request a platform delivered, written before it is acknowledged (``storage.inbound``):
    a retry or replay with the same key is not run again, on any replica or after a restart, and
    work cut off by a crash after the acknowledgement is run again, once."""

    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    key: str = Field(max_length=300)  # event:Ev…, trigger:…, view:V…:hash, signature:v0=…, activity:…
    received_at: datetime = _ts(default_factory=utcnow, index=True)
    claimed_at: datetime = _ts(default_factory=utcnow)
    attempts: int = 1
    state: str = Field(default="received", max_length=10)  # received | done | expired
    # What to run again if the work never finished: who, the words, where to answer.
    work: dict | None = Field(default=None, sa_column=Column(JSON))


class JobRun(SQLModel, table=True):
    """When each scheduled job last ran to the end, on whichever replica ran it (``/metrics``,
    ``/healthz``): a scheduler that stopped running is seen, not guessed at."""

    name: str = Field(max_length=40, primary_key=True)
    last_succeeded_at: datetime | None = _ts(default=None, nullable=True)
    last_queued: int = 0
    last_failed_at: datetime | None = _ts(default=None, nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text))


# Personal data by table: what export and erasure must cover, and what is redacted from
# anything shown to others.
PERSONAL_DATA: dict[str, tuple[str, ...]] = {
    "person": ("email", "name"),
    "address": ("address",),
    "action": ("owner_email",),
    "response": ("text", "name", "email", "client_hash", "redacted_text"),
    "answer": ("text", "redacted_text"),
    "conversationreference": ("reference", "teams_user_id"),
    "outboxmessage": ("channel", "payload"),
    "outboxhold": ("channel",),
    "inboundrequest": ("work",),
    "yousaidwedid": ("created_by",),
    "ratecount": ("client",),
}
