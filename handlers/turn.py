"""One command being handled: who asked, on which board, in which language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from sqlmodel.ext.asyncio.session import AsyncSession

from cyswllt.i18n import babel_locale, t
from handlers.core import Command, Context, Reply, Section
from storage.models import Board, Member, Person


@dataclass
class Turn:
    ctx: Context
    session: AsyncSession
    command: Command
    person: Person
    language: str
    board: Board | None = None
    member: Member | None = None
    args: list[str] = field(default_factory=list)

    @property
    def page_size(self) -> int:
        from handlers.paging import PAGE_SIZE

        return self.command.page_size or PAGE_SIZE

    def t(self, key: str, /, count: int | None = None, **kw: Any) -> str:
        return t(self.language, key, count=count, **kw)

    def reply(self, text: str, sections: list[Section] | None = None, *, ephemeral: bool = True) -> Reply:
        return Reply(language=self.language, text=text, sections=sections or [], ephemeral=ephemeral)

    @property
    def now(self) -> datetime:
        return self.ctx.now()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.ctx.settings.timezone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    @property
    def locale(self) -> str:
        return babel_locale(self.language)

    def date(self, d: date) -> str:
        return format_date(d, format="long", locale=self.locale)

    def local_date(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz).date()

    def when(self, moment: datetime) -> str:
        if moment.tzinfo is None:

            moment = moment.replace(tzinfo=UTC)
        return format_datetime(moment.astimezone(self.tz), format="d MMM y HH:mm", locale=self.locale)

    def title(self, english: str, welsh: str | None) -> str:
        """An action's or priority's title in the reader's language; a Welsh reader of a title with no
        Welsh gets the English, marked "(yn Saesneg)"."""
        if self.language == "cy":
            return welsh or f"{english} {t('cy', 'common.fallback_marker')}"
        return english

    @property
    def board_name(self) -> str:
        """The board's name in the reader's language, where it has a Welsh one."""
        if self.board is None:
            return ""
        return self.board.name_cy if self.language == "cy" and self.board.name_cy else self.board.name

    def rag(self, rag: str | None) -> str:
        return t(self.language, f"common.rag_{rag}" if rag else "common.rag_none")
