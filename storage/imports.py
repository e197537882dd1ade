"""Importing an action plan and a member list from CSV: all or nothing, idempotent.

Every row is checked before anything is written; any problem is reported with its line,
column and reason and nothing is imported. Re-importing the same file changes nothing
(actions are matched by ref within the board, members by email).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, insert
from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.duedates import parse_due
from storage.models import (
    Action,
    ActionLead,
    ActionUpdate,
    Board,
    Meeting,
    Member,
    Organisation,
    Person,
    Priority,
    Role,
    utcnow,
)
from storage.reach import EMAIL, MAIL, addresses_of, is_address, person_addresses, set_address

ACTION_COLUMNS = ("ref", "priority", "title", "lead", "owner_email", "due", "rag", "title_cy", "priority_cy")
ACTION_REQUIRED = ("ref", "title")
MEMBER_COLUMNS = ("name", "email", "organisation", "sector", "role", "language", "slack_user_id", "teams_user_id",
                  "preferred_platform")
# The members CSV's chat id columns (contract names) and the platform each is an address on.
MEMBER_ADDRESSES = {"slack_user_id": "slack", "teams_user_id": "teams"}
# What ``preferred_platform`` may say: a chat platform with an id column, or mail (their email).
PLATFORMS = (*MEMBER_ADDRESSES.values(), "email")
MEMBER_REQUIRED = ("name", "email")

RAG_WORDS = {"red": "red", "amber": "amber", "green": "green", "complete": "complete", "completed": "complete",
             "coch": "red", "ambr": "amber", "gwyrdd": "green", "cwblhawyd": "complete"}
# Roles in English or Welsh.
ROLES = {**{r.value: r.value for r in Role}, "cadeirydd": "chair", "ysgrifenyddiaeth": "secretariat",
         "craidd": "core", "ehangach": "wider", "swyddog": "officer", "craffu": "scrutiny", "cydlynydd": "coordinator"}
LANGUAGES = {"en": "en", "english": "en", "saesneg": "en", "cy": "cy", "welsh": "cy", "cymraeg": "cy"}
ACTION_REF = re.compile(r"^[Aa]-?(\d{1,6})$")
PRIORITY_REF = re.compile(r"^[Pp]-?(\d{1,6})$")
SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


@dataclass
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class ImportRefused(Exception):
    """Nothing was imported; ``errors`` says why, row by row."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        self.errors = errors or []
        detail = "".join(f"\n  {e}" for e in self.errors)
        super().__init__(f"{message}{detail}")


@dataclass
class ImportResult:
    board: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    board_created: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def read_rows(text: str, columns: tuple[str, ...], required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; refuses unknown, missing and repeated columns."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ImportRefused("the file is empty: it needs a header row (" + ",".join(columns) + ")")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
        nameless = [str(i + 1) for i, h in enumerate(header) if not h]
        if nameless:
            raise ImportRefused(f"column {', '.join(nameless)} of the header row has no name; "
                                f"the columns are: {','.join(columns)}")
        unknown = [h for h in header if h not in columns]
        if unknown:
            raise ImportRefused(f"unknown column(s) {', '.join(repr(h) for h in unknown)}; "
                                f"the columns are: {','.join(columns)}")
        missing = [c for c in required if c not in header]
        if missing:
            raise ImportRefused(f"missing required column(s): {', '.join(missing)}")
        repeated = {h for h in header if header.count(h) > 1}
        if repeated:
            raise ImportRefused(f"column(s) named twice: {', '.join(sorted(repeated))}")
        rows = []
        line = reader.line_num + 1  # a quoted value may span lines: a row is named by its first line
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                rows.append((start, {"__error__": f"{len(values)} values but the header has {len(header)} columns"}))
                continue
            row = {c: "" for c in columns}
            row.update({h: v.strip() for h, v in zip(header, values)})
            rows.append((start, row))
    except csv.Error as exc:
        raise ImportRefused(f"line {reader.line_num} is not valid CSV: {exc}") from exc
    return rows


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"the file is not UTF-8 (byte {exc.start}): save it as CSV UTF-8") from exc


async def board_named(session: AsyncSession, name: str, *, create: bool) -> tuple[Board | None, bool]:
    name = " ".join(name.split())
    board = (await session.exec(select(Board).where(func.lower(Board.name) == name.lower()))).first()
    if board is None and create:
        board = Board(name=name)
        session.add(board)
        await session.flush()
        return board, True
    return board, False


# --- actions --------------------------------------------------------------------------


def check_action_rows(rows) -> list[RowError]:
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if "__error__" in row:
            errors.append(RowError(line, "-", row["__error__"]))
            continue
        match = ACTION_REF.match(row["ref"])
        if not match:
            errors.append(RowError(line, "ref", f"“{row['ref']}” is not an action ref like A-12"))
        else:
            ref = f"A-{int(match.group(1))}"
            if ref in seen:
                errors.append(RowError(line, "ref", f"{ref} is already on line {seen[ref]}"))
            seen[ref] = line
        if not row["title"]:
            errors.append(RowError(line, "title", "an action needs a title"))
        elif len(row["title"]) > 2000:
            errors.append(RowError(line, "title", "the title is over 2,000 characters"))
        if len(row["title_cy"]) > 2000:
            errors.append(RowError(line, "title_cy", "the Welsh title is over 2,000 characters"))
        if len(row["priority_cy"]) > 500:
            errors.append(RowError(line, "priority_cy", "the Welsh priority title is over 500 characters"))
        if row["priority_cy"] and not row["priority"]:
            errors.append(RowError(line, "priority_cy", "a Welsh priority title needs the priority it translates"))
        if row["owner_email"] and not EMAIL.match(row["owner_email"]):
            errors.append(RowError(line, "owner_email", f"“{row['owner_email']}” is not an email address"))
        if row["rag"] and row["rag"].lower() not in RAG_WORDS:
            errors.append(RowError(line, "rag", f"“{row['rag']}” is not red, amber, green or complete"))
        if len(row["due"]) > 500:
            errors.append(RowError(line, "due", "the “by when” words are over 500 characters"))
        if len(row["priority"]) > 500:
            errors.append(RowError(line, "priority", "the priority title is over 500 characters"))
        if any(len(org) > 300 for org in row["lead"].split(";")):
            errors.append(RowError(line, "lead", "an organisation name is over 300 characters"))
    return errors


class _Priorities:
    """A board's priorities, found by ref ("P-2") or title; new ones are made as the file names them."""

    def __init__(self, session: AsyncSession, board: Board, existing: list[Priority]) -> None:
        self.session, self.board = session, board
        self.by_ref = {p.ref: p for p in existing}
        self.by_title = {p.title.lower(): p for p in existing}

    def get(self, value: str) -> Priority | None:
        if not value:
            return None
        match = PRIORITY_REF.match(value)
        if match:
            ref = f"P-{int(match.group(1))}"
            if ref not in self.by_ref:
                self._add(Priority(board_id=self.board.id, ref=ref, title=ref))
            return self.by_ref[ref]
        if value.lower() not in self.by_title:
            number = max((int(r.split("-")[1]) for r in self.by_ref if r.split("-")[-1].isdigit()), default=0) + 1
            self._add(Priority(board_id=self.board.id, ref=f"P-{number}", title=value))
        return self.by_title[value.lower()]

    def _add(self, priority: Priority) -> None:
        self.session.add(priority)
        self.by_ref[priority.ref] = priority
        self.by_title.setdefault(priority.title.lower(), priority)


async def _organisations(session: AsyncSession, names: set[str]) -> dict[str, Organisation]:
    """Organisations by lower-cased name, made if new (one flush for all)."""
    found = {o.name.lower(): o for o in (await session.exec(select(Organisation))).all()}
    for name in sorted(names):
        if name.lower() not in found:
            found[name.lower()] = Organisation(name=name)
            session.add(found[name.lower()])
    await session.flush()
    return found


async def import_actions(session: AsyncSession, board_name: str, text: str) -> ImportResult:
    rows = read_rows(text, ACTION_COLUMNS, ACTION_REQUIRED)
    errors = check_action_rows(rows)
    if errors:
        raise ImportRefused(f"nothing was imported: {len(errors)} problem(s) in the file", errors)
    board, created_board = await board_named(session, board_name, create=True)
    result = ImportResult(board=board.name, board_created=created_board)
    # Everything the file may touch is read once up front, so a long plan costs a handful of queries.
    people = {p.email.lower(): p for p in (await session.exec(select(Person))).all()}
    actions = {a.ref: a for a in (await session.exec(select(Action).where(Action.board_id == board.id))).all()}
    priorities = _Priorities(session, board, list((await session.exec(
        select(Priority).where(Priority.board_id == board.id))).all()))
    leads_of = {_leads(row) for _, row in rows}
    organisations = await _organisations(session, {name for names in leads_of for name in names})
    current_leads: dict[int, list[int]] = {}
    for lead in (await session.exec(select(ActionLead).join(Action).where(Action.board_id == board.id)
                                    .order_by(ActionLead.action_id, ActionLead.position))).all():
        current_leads.setdefault(lead.action_id, []).append(lead.organisation_id)

    plan = []
    with session.no_autoflush:
        for _, row in rows:
            ref = f"A-{int(ACTION_REF.match(row['ref']).group(1))}"
            priority = priorities.get(row["priority"])
            if priority is not None and row["priority_cy"] and priority.title_cy != row["priority_cy"]:
                priority.title_cy = row["priority_cy"]
                session.add(priority)
            plan.append((ref, row, priority))
        await session.flush()  # new priorities get their ids

    # Everything is written in bulk: an insert for new actions, one for leads, one for ratings.
    now = utcnow()
    new_actions: list[dict] = []
    new_leads: list[dict] = []
    new_updates: list[dict] = []
    leads_by_ref: dict[str, list[int]] = {}
    for ref, row, priority in plan:
        owner = people.get(row["owner_email"].lower()) if row["owner_email"] else None
        values = dict(
            title=row["title"], title_cy=row["title_cy"] or None, priority_id=priority.id if priority else None,
            owner_email=row["owner_email"].lower() or None, owner_id=owner.id if owner else None,
            due_text=row["due"] or None, due=parse_due(row["due"]),
        )
        rag = RAG_WORDS[row["rag"].lower()] if row["rag"] else None
        org_ids = list(dict.fromkeys(organisations[name.lower()].id for name in _leads(row)))
        leads_by_ref[ref] = org_ids
        action = actions.get(ref)
        if action is None:
            new_actions.append({**values, "board_id": board.id, "ref": ref, "rag": rag,
                                "created_at": now, "updated_at": now})
            result.created += 1
            continue
        changed = False
        for k, v in values.items():
            if getattr(action, k) != v:
                setattr(action, k, v)
                changed = True
        if current_leads.get(action.id, []) != org_ids:
            changed = True
            await session.exec(delete(ActionLead).where(ActionLead.action_id == action.id))
            new_leads += [{"action_id": action.id, "organisation_id": org_id, "position": position}
                          for position, org_id in enumerate(org_ids)]
        if rag and rag != action.rag:
            # Ratings are history: an imported rating is an update like any other.
            new_updates.append({"action_id": action.id, "rag": rag, "note": "", "source": "import", "created_at": now})
            action.rag = rag
            changed = True
        if changed:
            action.updated_at = now
            session.add(action)
            result.updated += 1
        else:
            result.unchanged += 1
    await session.flush()
    connection = await session.connection()
    if new_actions:
        await connection.execute(insert(Action.__table__), new_actions)
        ids = dict((await connection.execute(select(Action.ref, Action.id).where(Action.board_id == board.id))).all())
        for made in new_actions:
            action_id = ids[made["ref"]]
            new_leads += [{"action_id": action_id, "organisation_id": org_id, "position": position}
                          for position, org_id in enumerate(leads_by_ref[made["ref"]])]
            if made["rag"]:
                new_updates.append({"action_id": action_id, "rag": made["rag"], "note": "", "source": "import",
                                    "created_at": now})
    if new_leads:
        await connection.execute(insert(ActionLead.__table__), new_leads)
    if new_updates:
        await connection.execute(insert(ActionUpdate.__table__), new_updates)
    return result


def _leads(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(name.strip() for name in row["lead"].split(";") if name.strip())


# --- members --------------------------------------------------------------------------


def check_member_rows(rows, existing_slack: dict[str, str], existing_teams: dict[str, str]) -> list[RowError]:
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if "__error__" in row:
            errors.append(RowError(line, "-", row["__error__"]))
            continue
        email = row["email"].lower()
        if not row["name"]:
            errors.append(RowError(line, "name", "a member needs a name"))
        if not EMAIL.match(email):
            errors.append(RowError(line, "email", f"“{row['email']}” is not an email address"))
        elif email in seen:
            errors.append(RowError(line, "email", f"{email} is already on line {seen[email]}"))
        seen.setdefault(email, line)
        if row["role"] and row["role"].lower() not in ROLES:
            errors.append(RowError(line, "role", f"“{row['role']}” is not one of {', '.join(Role.__members__)}"))
        if row["language"] and row["language"].lower() not in LANGUAGES:
            errors.append(RowError(line, "language", f"“{row['language']}” is not en or cy"))
        slack = row["slack_user_id"]
        if slack and not SLACK_ID.match(slack):
            errors.append(RowError(line, "slack_user_id", f"“{slack}” is not a Slack user id like U012AB3CD"))
        elif slack and existing_slack.get(slack, email) != email:
            errors.append(RowError(line, "slack_user_id", f"{slack} already belongs to {existing_slack[slack]}"))
        teams = row["teams_user_id"]
        if len(teams) > 128:
            errors.append(RowError(line, "teams_user_id", "the Teams user id is over 128 characters"))
        elif teams and existing_teams.get(teams, email) != email:
            errors.append(RowError(line, "teams_user_id", f"{teams} already belongs to {existing_teams[teams]}"))
        preferred = row.get("preferred_platform", "").lower()
        if preferred and preferred not in PLATFORMS:
            errors.append(RowError(line, "preferred_platform", f"“{row['preferred_platform']}” is not one of "
                                                               f"{', '.join(PLATFORMS)}"))
        if len(row["name"]) > 200 or len(row["organisation"]) > 300:
            errors.append(RowError(line, "name" if len(row["name"]) > 200 else "organisation", "the value is too long"))
    return errors


async def import_members(session: AsyncSession, board_name: str, text: str) -> ImportResult:
    rows = read_rows(text, MEMBER_COLUMNS, MEMBER_REQUIRED)
    people = (await session.exec(select(Person))).all()
    in_file_slack = {r["slack_user_id"]: r["email"].lower() for _, r in rows if r.get("slack_user_id")}
    email_of = {p.id: p.email for p in people}
    existing_slack = {a: email_of[pid] for a, pid in (await person_addresses(session, "slack")).items()}
    existing_teams = {a: email_of[pid] for a, pid in (await person_addresses(session, "teams")).items()}
    errors = check_member_rows(rows, existing_slack, existing_teams)
    clashes = {}
    for line, r in rows:
        slack = r.get("slack_user_id")
        if slack and in_file_slack.get(slack) != r.get("email", "").lower():
            clashes.setdefault(line, RowError(line, "slack_user_id", f"{slack} is given to two members in the file"))
    errors += list(clashes.values())
    if errors:
        raise ImportRefused(f"nothing was imported: {len(errors)} problem(s) in the file",
                            sorted(errors, key=lambda e: e.line))
    board, created_board = await board_named(session, board_name, create=True)
    result = ImportResult(board=board.name, board_created=created_board)
    by_email = {p.email.lower(): p for p in people}
    organisations = await _organisations(session, {r["organisation"] for _, r in rows if r["organisation"]})
    outcome: dict[str, str] = {}
    with session.no_autoflush:
        for _, row in rows:
            email = row["email"].lower()
            person = by_email.get(email)
            language = LANGUAGES[row["language"].lower()] if row["language"] else None
            if person is None:
                person = by_email[email] = Person(email=email, name=row["name"], language=language or "en")
                outcome[email] = "created"
            before = (person.name, person.language, person.preferred_platform)
            person.name = row["name"]
            if language:
                person.language = language
            person.preferred_platform = row.get("preferred_platform", "").lower() or person.preferred_platform
            if before != (person.name, person.language, person.preferred_platform):
                outcome.setdefault(email, "updated")
            session.add(person)
        await session.flush()  # new people get their ids
    # A chat id given is the person's address there; an empty cell leaves the one they have.
    for _, row in rows:
        person = by_email[row["email"].lower()]
        known = await addresses_of(session, person)
        for column, platform in MEMBER_ADDRESSES.items():
            if row[column] and known.get(platform) != row[column]:
                await set_address(session, person, platform, row[column])
                outcome.setdefault(person.email.lower(), "updated")
    seats = {m.person_id: m for m in (await session.exec(select(Member).where(Member.board_id == board.id))).all()}
    for _, row in rows:
        email = row["email"].lower()
        person = by_email[email]
        org = organisations[row["organisation"].lower()] if row["organisation"] else None
        if org is not None and row["sector"] and not org.sector:
            org.sector = row["sector"]
            session.add(org)
        member = seats.get(person.id)
        role = ROLES[row["role"].lower()] if row["role"] else (member.role if member else Role.core)
        seat = (org.id if org else None, row["sector"] or None, role)
        if member is None:
            seats[person.id] = Member(board_id=board.id, person_id=person.id, organisation_id=seat[0],
                                      sector=seat[1], role=role)
            session.add(seats[person.id])
            outcome.setdefault(email, "updated")
        elif (member.organisation_id, member.sector, member.role) != seat:
            member.organisation_id, member.sector, member.role = seat
            session.add(member)
            outcome.setdefault(email, "updated")
        state = outcome.get(email, "unchanged")
        result.created += state == "created"
        result.updated += state == "updated"
        result.unchanged += state == "unchanged"
    # Actions that named these people as owners before they were known now point at them.
    emails = {row["email"].lower() for _, row in rows}
    for action in (await session.exec(select(Action).where(Action.owner_id.is_(None),
                                                            Action.owner_email.in_(emails)))).all():
        action.owner_id = by_email[action.owner_email.lower()].id
        session.add(action)
    await session.flush()
    return result


async def add_meeting(session: AsyncSession, board_name: str, held_on: date, kind: str = "board") -> bool:
    board, _ = await board_named(session, board_name, create=False)
    if board is None:
        raise ImportRefused(f"there is no board called “{board_name}”")
    exists = (await session.exec(select(Meeting).where(
        Meeting.board_id == board.id, Meeting.held_on == held_on, Meeting.kind == kind))).first()
    if exists:
        return False
    session.add(Meeting(board_id=board.id, held_on=held_on, kind=kind))
    await session.flush()
    return True


# --- the command line -----------------------------------------------------------------


def _run(settings, work) -> object:
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from cyswllt.cli import CommandError
    from storage.db import run_in_session

    try:
        return run_in_session(settings.database_url, work)
    except IntegrityError as exc:
        raise CommandError("another change to the same rows was made at the same time; nothing was "
                           "imported from this file: run the command again") from exc
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise CommandError(f"the database is not ready ({reason}); check CYSWLLT_DATABASE_URL "
                           "and run `cyswllt db upgrade`") from exc


def _import_file(settings, args, importer, noun: str) -> int:
    from cyswllt.cli import CommandError

    try:
        with open(args.file, "rb") as handle:
            text = decode(handle.read())
    except FileNotFoundError:
        raise CommandError(f"no such file: {args.file}")
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}")
    except ImportRefused as exc:
        raise CommandError(str(exc))
    try:
        result = _run(settings, lambda s: importer(s, args.board, text))
    except ImportRefused as exc:
        raise CommandError(str(exc))
    made = ", a new board" if result.board_created else ""
    print(f"Imported {result.total} {noun} into board {result.board} ({result.created} new, "
          f"{result.updated} updated, {result.unchanged} unchanged{made})")
    return 0


def run_import_actions(settings, args) -> int:
    return _import_file(settings, args, import_actions, "actions")


def run_import_members(settings, args) -> int:
    return _import_file(settings, args, import_members, "members")


def run_add_meeting(settings, args) -> int:
    from cyswllt.cli import CommandError

    try:
        held_on = date.fromisoformat(args.date)
    except ValueError:
        raise CommandError(f"“{args.date}” is not a date in the form YYYY-MM-DD")
    try:
        added = _run(settings, lambda s: add_meeting(s, args.board, held_on, args.kind))
    except ImportRefused as exc:
        raise CommandError(str(exc))
    print(f"{'Added' if added else 'Already there:'} {args.kind} meeting on {held_on.isoformat()} for {args.board}.")
    return 0


def run_list_boards(settings, args) -> int:
    """``cyswllt boards list``: each board's name, Welsh name, public address and publish setting."""

    async def work(session: AsyncSession):
        return (await session.exec(select(Board).order_by(Board.name))).all()

    for board in _run_boards(settings, work):
        state = "published" if board.published else "not published"
        welsh = f" / {board.name_cy}" if board.name_cy else ""
        print(f"{board.name}{welsh}  /boards/{board.slug}  {state}")
    return 0


def _run_boards(settings, work):
    from storage.db import run_in_session

    return run_in_session(settings.database_url, work)


def run_set_board(settings, args) -> int:
    """``cyswllt boards set --board NAME [--name-cy ENW] [--publish|--unpublish] [--email ADDRESS]``."""
    from cyswllt.cli import CommandError

    email = getattr(args, "email", None)
    if args.name_cy is None and args.published is None and email is None:
        raise CommandError("nothing to change: give --name-cy, --publish, --unpublish or --email")
    if args.name_cy is not None and len(args.name_cy.strip()) > 200:
        raise CommandError("the Welsh name is over 200 characters")
    if email is not None and email.strip() and not is_address(email.strip()):
        raise CommandError(f"“{email}” is not an email address (an empty string removes the board's)")

    async def work(session: AsyncSession):
        board, _ = await board_named(session, args.board, create=False)
        if board is None:
            return None
        if args.name_cy is not None:
            board.name_cy = " ".join(args.name_cy.split()) or None
        if args.published is not None:
            board.published = args.published
        session.add(board)
        if email is not None:
            await set_address(session, board, MAIL, email.strip() or None)
        return board.name, board.name_cy, board.slug, board.published

    done = _run_boards(settings, work)
    if done is None:
        raise CommandError(f"no board called “{args.board}”")
    name, name_cy, slug, published = done
    print(f"{name}: Welsh name {name_cy or '(none)'}; public pages at /boards/{slug} "
          f"{'published' if published else 'not published'}.")
    if email is not None:
        print(f"Its notices go by email to {email.strip()}." if email.strip() else "It has no email address now.")
    return 0
