"""``calendar`` / ``calendr``: the member's own calendar link (their boards' meetings and their
actions' due dates), and their board's public meetings calendar when the board is published."""

from __future__ import annotations

from handlers.core import Reply, Section
from handlers.turn import Turn
from storage.calendars import personal_link


async def calendar(turn: Turn) -> Reply:
    settings = turn.ctx.settings
    link = personal_link(settings, turn.person)  # made on first use, committed with the turn
    turn.session.add(turn.person)
    intro = turn.t("calendar.reply")
    sections = [Section(text=f"{intro}\n{link}")]
    board = turn.board
    if board is not None and getattr(board, "published", False):
        public = f"{settings.public_base_url}/boards/{board.slug}/meetings.ics"
        if turn.language == "cy":
            public += "?lang=cy"
        sections.append(Section(text=f"{turn.t('calendar.board_link', board=turn.board_name)}\n{public}"))
    return turn.reply("\n\n".join(s.text for s in sections), sections)
