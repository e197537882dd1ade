"""``cyswllt responses import FILE.csv --consultation SLUG``: responses that came on paper, by
email or at events, stored like web responses — all or nothing, with row-level errors."""

from __future__ import annotations

from datetime import UTC, datetime

from engagement.schemas import ResponseIn
from engagement.service import add_response, get_view, validate
from storage.imports import ImportRefused, RowError, decode, read_rows
from storage.models import utcnow

COLUMNS = ("text", "language", "group", "received_at", "channel")
CHANNELS = {"paper", "email", "event", "phone", "web"}


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def import_responses(session, slug: str, text: str) -> int:
    view = await get_view(session, slug, utcnow())
    rows = read_rows(text, COLUMNS, ("text",))
    errors: list[RowError] = []
    ready = []
    for line, row in rows:
        if "__error__" in row:
            errors.append(RowError(line, "-", row["__error__"]))
            continue
        language = row["language"].lower() or None
        if language not in (None, "en", "cy"):
            errors.append(RowError(line, "language", f"“{row['language']}” is not en or cy (or blank, to detect it)"))
            language = None
        channel = (row["channel"] or "paper").lower()
        if channel not in CHANNELS:
            errors.append(RowError(line, "channel", f"“{row['channel']}” is not one of {', '.join(sorted(CHANNELS))}"))
        received = utcnow()
        if row["received_at"]:
            try:
                received = _when(row["received_at"])
            except ValueError:
                errors.append(RowError(line, "received_at", f"“{row['received_at']}” is not a date like 2026-11-23"))
        data = ResponseIn(text=row["text"], language=language, group=row["group"] or None)
        for problem in validate(view, data):
            errors.append(RowError(line, problem.field, problem.code.replace("_", " ")))
        ready.append((data, channel, received))
    if errors:
        raise ImportRefused(f"nothing was imported: {len(errors)} problem(s) in the file", errors)
    for data, channel, received in ready:
        await add_response(session, view, data, channel=channel, client_hash=None, received_at=received)
    return len(ready)


def run_import(settings, args) -> int:
    from cyswllt.cli import CommandError
    from engagement.service import ConsultationNotFound
    from storage.db import run_in_session

    try:
        with open(args.file, "rb") as handle:
            text = decode(handle.read())
        count = run_in_session(settings.database_url,
                               lambda session: import_responses(session, args.consultation, text))
    except FileNotFoundError:
        raise CommandError(f"no such file: {args.file}")
    except ConsultationNotFound:
        raise CommandError(f"there is no consultation “{args.consultation}”")
    except ImportRefused as exc:
        raise CommandError(str(exc))
    print(f"Imported {count} responses into {args.consultation}; they will be analysed by the running service.")
    return 0
