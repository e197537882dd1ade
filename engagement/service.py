"""Consultations and responses: one validation path for the form and the API, and the response
stored and committed before anyone is thanked. Analysis comes later (``engagement.worker``)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from engagement import ratelimit, theme_candidates
from engagement.schemas import ResponseIn
from engagement.writer import writer_for
from storage import tallies
from storage.db import Database
from storage.models import (
    Answer,
    Consultation,
    ConsultationGroup,
    ModerationState,
    Question,
    Response,
    StakeholderGroup,
    utcnow,
)
from storage.reach import is_address

TEXT_LIMIT = 5000  # characters per answer
NAME_LIMIT = 200
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # nothing to confuse: no 0/O, 1/I
WELSH_LANGUAGE_KEY = "welsh-language"


@dataclass
class FieldError:
    field: str  # "text", "answers.<question key>", "email", "name", "group", "contact_consent"
    code: str
    message_key: str  # in consultation.toml
    params: dict = field(default_factory=dict)


class InvalidResponse(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(e.code for e in errors))
        self.errors = errors


class AlreadyReceived(Exception):
    """The same form was sent again (a refreshed thank-you page, a second click): one copy is kept."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


class ConsultationNotFound(Exception):
    pass


class ConsultationClosed(Exception):
    def __init__(self, consultation: Consultation, not_yet_open: bool = False) -> None:
        super().__init__(consultation.slug)
        self.consultation = consultation
        self.not_yet_open = not_yet_open


@dataclass
class ConsultationView:
    consultation: Consultation
    questions: list[Question]
    groups: list[StakeholderGroup]
    is_open: bool

    def __post_init__(self) -> None:
        self._by_key = {q.key: q for q in self.questions}

    def question(self, key: str) -> Question | None:
        return self._by_key.get(key)


@dataclass
class Submitted:
    reference: str
    withdrawal_token: str
    response_id: int


def _aware(moment: datetime) -> datetime:

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_open(consultation: Consultation, now: datetime) -> bool:
    return _aware(consultation.opens_at) <= now < _aware(consultation.closes_at)


async def _view(session: AsyncSession, consultation: Consultation, now: datetime) -> ConsultationView:
    questions = (await session.exec(select(Question).where(Question.consultation_id == consultation.id)
                                    .order_by(Question.position, Question.id))).all()
    # The Welsh-language question is always asked, and always last.
    questions = sorted(questions, key=lambda q: (q.kind == "welsh_language", q.position, q.id))
    groups = (await session.exec(select(StakeholderGroup).join(
        ConsultationGroup, ConsultationGroup.group_id == StakeholderGroup.id)
        .where(ConsultationGroup.consultation_id == consultation.id).order_by(StakeholderGroup.name_en))).all()
    return ConsultationView(consultation, list(questions), list(groups), is_open(consultation, now))


async def list_open(session: AsyncSession, now: datetime) -> list[ConsultationView]:
    rows = (await session.exec(select(Consultation).where(Consultation.opens_at <= now, Consultation.closes_at > now)
                               .order_by(Consultation.closes_at))).all()
    return [await _view(session, c, now) for c in rows]


# Consultations change rarely and are read on every submission: keep each one's texts, questions and
# groups for a few seconds per database. Admin edits here forget them at once; other replicas see an
# edit within VIEW_TTL seconds.
VIEW_TTL = 5.0
# engine -> slug -> (expires, the view when open, the view when closed): both made once, so that a
# submission builds nothing to answer either way.
_views: weakref.WeakKeyDictionary[object, dict[str, tuple[float, ConsultationView, ConsultationView]]] = \
    weakref.WeakKeyDictionary()
# engine -> slug -> the read under way: requests that find the consultation forgotten at the same moment
# (every VIEW_TTL seconds, under load: all of them) wait for one read instead of each reading it.
_reading: weakref.WeakKeyDictionary[object, dict[str, asyncio.Future]] = weakref.WeakKeyDictionary()


def forget(session: AsyncSession, slug: str | None = None) -> None:
    """Drop remembered consultations (one, or all of them) after an edit."""
    remembered = _views.get(session.bind)
    if remembered is not None:
        remembered.pop(slug, None) if slug else remembered.clear()


def _pick(hit: tuple[float, ConsultationView, ConsultationView], now: datetime) -> ConsultationView:
    return hit[1] if is_open(hit[1].consultation, now) else hit[2]


def cached_view(engine, slug: str, now: datetime) -> ConsultationView | None:
    """The consultation as read less than VIEW_TTL seconds ago, if it was: no database needed."""
    remembered = _views.get(engine)
    hit = remembered.get(slug) if remembered is not None else None
    if hit is None or hit[0] <= time.monotonic():
        return None
    return _pick(hit, now)


async def get_view(session: AsyncSession, slug: str, now: datetime) -> ConsultationView:
    if len(slug) > 120:
        raise ConsultationNotFound(slug)
    engine = session.bind
    if (view := cached_view(engine, slug, now)) is not None:
        return view
    reading = _reading.setdefault(engine, {})
    if (under_way := reading.get(slug)) is not None:
        await asyncio.wait([under_way])  # this request's own cancellation still goes through
        if not under_way.cancelled() and under_way.exception() is None:
            return _pick(under_way.result(), now)
        # That read failed (or was given up): read it here, and meet the same outcome first-hand.
    future = reading[slug] = asyncio.get_running_loop().create_future()
    try:
        consultation = (await session.exec(select(Consultation).where(Consultation.slug == slug))).first()
        if consultation is None:
            raise ConsultationNotFound(slug)
        view = await _view(session, consultation, now)
        # Detached, so that no session's rollback can expire what other requests read.
        for row in (view.consultation, *view.questions, *view.groups):
            session.expunge(row)
        hit = (time.monotonic() + VIEW_TTL, ConsultationView(view.consultation, view.questions, view.groups, True),
               ConsultationView(view.consultation, view.questions, view.groups, False))
        _views.setdefault(engine, {})[slug] = hit
        future.set_result(hit)
        return view
    except BaseException as exc:
        future.set_exception(exc) if not isinstance(exc, asyncio.CancelledError) else future.cancel()
        if not future.cancelled():
            future.exception()  # seen here: those waiting read again for themselves
        raise
    finally:
        if reading.get(slug) is future:
            del reading[slug]


def remembered(db_or_engine, slug: str) -> ConsultationView | None:
    """The consultation as last read, however long ago (for a page shown while the database is down)."""
    engine = getattr(db_or_engine, "engine", db_or_engine)
    hit = _views.get(engine, {}).get(slug)
    return _pick(hit, datetime.now(UTC)) if hit is not None else None


def _length_error(field_name: str, value: str, limit: int, key: str = "too_long") -> FieldError | None:
    if len(value) > limit:
        return FieldError(field_name, "too_long", key, {"limit": f"{limit:,}", "length": f"{len(value):,}",
                                                         "over": f"{len(value) - limit:,}"})
    return None


def validate(view: ConsultationView, data: ResponseIn) -> list[FieldError]:
    errors: list[FieldError] = []
    text = (data.text or "").strip()
    answers = {k: v for k, v in data.answers.items() if v and v.strip()}
    if not text and not answers:
        errors.append(FieldError("text", "empty", "empty"))
    if text and (e := _length_error("text", data.text, TEXT_LIMIT)):
        errors.append(e)
    for key, value in data.answers.items():
        if view.question(key) is None:
            errors.append(FieldError(f"answers.{key[:40]}", "unknown_question", "unknown_question",
                                     {"question": key[:40]}))
        elif e := _length_error(f"answers.{key}", value, TEXT_LIMIT):
            errors.append(e)
    if data.group and data.group not in {g.slug for g in view.groups}:
        errors.append(FieldError("group", "unknown_group", "unknown_group"))
    if data.name and len(data.name) > NAME_LIMIT:
        errors.append(FieldError("name", "too_long", "name_too_long"))
    email = (data.email or "").strip()
    if email and not is_address(email):
        errors.append(FieldError("email", "invalid", "email_invalid"))
    elif email and not data.contact_consent:
        errors.append(FieldError("contact_consent", "consent_required", "email_needs_consent"))
    if data.contact_consent and not email:
        errors.append(FieldError("email", "email_required", "consent_needs_email"))
    return errors


# Base 32's letters, one for one onto the reference alphabet's (both have 32).
_TO_REFERENCE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", REFERENCE_ALPHABET)


def _reference(random: bytes | None = None) -> str:
    """CY-XXXX-XXXX: 40 random bits, five to a character of the 32-letter alphabet."""
    code = base64.b32encode(random or os.urandom(5)).decode().translate(_TO_REFERENCE)
    return f"CY-{code[:4]}-{code[4:]}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=4096)
def client_hash(secret: str, ip: str) -> str:
    """A salted hash of the client address: enough to rate-limit and spot floods, never the address.
    (Kept for the clients seen lately: the same client sends many requests.)"""
    return hmac.digest(secret.encode(), ip.encode(), "sha256").hex()[:32]


def _text_hash(consultation_id: int, text: str) -> str:
    normal = " ".join(text.casefold().split())
    return hashlib.sha256(f"{consultation_id}:{normal}".encode()).hexdigest()


@asynccontextmanager
async def _session(source: AsyncSession | Database) -> AsyncIterator[AsyncSession]:
    """The session given, or a new one of the database given (opened only when it is needed)."""
    if isinstance(source, AsyncSession):
        yield source
    else:
        async with source.session() as session:
            yield session


async def submit(source: AsyncSession | Database, slug: str, data: ResponseIn, *, channel: str,
                 client_hash: str | None, now: datetime, received_at: datetime | None = None,
                 check_open: bool = True, form_token: str | None = None,
                 rate: ratelimit.WithWrite | None = None) -> Submitted:
    """Validate and store a response, committed before this returns. ``form_token`` names the web form
    it came from: the same form with the same words is stored once (``AlreadyReceived`` the next time).
    ``rate`` is the submission's count, taken with the response (``ratelimit.WithWrite``).

    Given the Database rather than a session, a submission to a consultation read in the last few
    seconds opens no session at all: it is validated against the remembered consultation and handed
    straight to the writer."""
    engine = source.bind if isinstance(source, AsyncSession) else source.engine
    view = cached_view(engine, slug, now) if len(slug) <= 120 else None
    if view is None:
        async with _session(source) as session:
            view = await get_view(session, slug, now)
            await session.commit()  # end the read transaction: its connection goes back to the pool
    if check_open and not view.is_open:
        raise ConsultationClosed(view.consultation, not_yet_open=_aware(view.consultation.opens_at) > now)
    errors = validate(view, data)
    if errors:
        raise InvalidResponse(errors)
    token, reference_bits = new_codes()
    values, answers = response_rows(view, data, token=token, channel=channel, client_hash=client_hash,
                                    received_at=received_at or now, reference_bits=reference_bits)
    if form_token:
        values["form_key"] = hashlib.sha256(f"{form_token}:{values['text_hash']}".encode()).hexdigest()
        async with _session(source) as session:
            await _refuse_repeat(session, values["form_key"])
            await session.commit()  # end the read transaction before the writer takes a connection
    try:
        response_id = await writer_for(engine).write(values, answers, rate)
    except IntegrityError:
        if form_token:  # the same form sent twice at once: the other copy won
            async with _session(source) as session:
                await _refuse_repeat(session, values["form_key"])
        raise
    return Submitted(values["reference"], token, response_id)


async def _refuse_repeat(session: AsyncSession, form_key: str) -> None:
    reference = (await session.exec(select(Response.reference).where(Response.form_key == form_key))).first()
    if reference is not None:
        await session.commit()
        raise AlreadyReceived(reference)


def new_codes() -> tuple[str, bytes]:
    """A withdrawal token (192 random bits) and 40 more bits for the reference, from one system call."""
    random = os.urandom(29)
    return base64.urlsafe_b64encode(random[:24]).decode(), random[24:]


def response_rows(view: ConsultationView, data: ResponseIn, *, token: str, channel: str, client_hash: str | None,
                  received_at: datetime, reference_bits: bytes | None = None) -> tuple[dict, list[dict]]:
    """The column values of a validated response and of its answers (without response_id)."""
    consultation = view.consultation
    group = next((g for g in view.groups if g.slug == data.group), None)
    text = (data.text or "").strip() or None
    written = [v for v in (v.strip() for v in data.answers.values()) if v]
    combined = " ".join([text, *written] if text else written)
    anonymous = data.anonymous and not data.email
    response = dict(
        consultation_id=consultation.id, reference=_reference(reference_bits),
        withdrawal_token_hash=token_hash(token),
        text=text, language=data.language, language_given=data.language is not None,
        group_id=group.id if group else None, anonymous=anonymous,
        name=None if anonymous else (data.name or "").strip() or None,
        email=(data.email or "").strip() or None, contact_consent=data.contact_consent,
        quote_consent=data.quote_consent, channel=channel, client_hash=client_hash, text_hash=_text_hash(consultation.id, combined),
        received_at=received_at,
    )
    answers = [dict(question_id=view.question(key).id, text=value.strip())
               for key, value in data.answers.items() if value.strip()]
    return response, answers


async def add_response(session: AsyncSession, view: ConsultationView, data: ResponseIn, *, channel: str,
                       client_hash: str | None, received_at: datetime) -> Submitted:
    """Add a validated response (and its answers) to the session; the caller commits (imports: all or
    nothing). Repeated text is flagged as the web's writer does."""
    token = secrets.token_urlsafe(24)
    values, answers = response_rows(view, data, token=token, channel=channel, client_hash=client_hash,
                                    received_at=received_at)
    values["duplicate_of_id"] = (await session.exec(select(Response.id).where(
        Response.consultation_id == values["consultation_id"], Response.text_hash == values["text_hash"],
        Response.withdrawn_at.is_(None)).order_by(Response.id).limit(1))).first()
    response = Response(**values)
    session.add(response)
    await session.flush()
    for answer in answers:
        session.add(Answer(response_id=response.id, **answer))
    return Submitted(response.reference, token, response.id)


async def withdraw(session: AsyncSession, reference: str, token: str) -> bool:
    """Delete a response's words and personal data; keep a tombstone so counts stay honest."""
    reference = (reference or "").strip().upper()
    if not reference or not token or len(reference) > 20 or len(token) > 200:
        return False
    response = (await session.exec(select(Response).where(Response.reference == reference))).first()
    if response is None or response.withdrawn_at is not None:
        return False
    if not hmac.compare_digest(response.withdrawal_token_hash, token_hash(token.strip())):
        return False
    async with tallies.keeping(session, response.consultation_id, [response.id]):  # the digest's totals follow
        response.withdrawn_at = utcnow()
        for column in ("text", "name", "email", "redacted_text", "client_hash", "themes", "analysis_error"):
            setattr(response, column, None)
        response.contact_consent = response.quote_consent = False
        session.add(response)
        for answer in (await session.exec(select(Answer).where(Answer.response_id == response.id))).all():
            answer.text = answer.redacted_text = answer.themes = None
            session.add(answer)
        await theme_candidates.forget(session, response.id)  # its phrases are its words too
    await session.commit()
    return True


async def public_counts(session: AsyncSession, consultation_id: int) -> dict[str, int]:
    """Responses received, shown and hidden; withdrawn ones are counted but never shown."""
    rows = (await session.exec(select(Response.moderation_state, Response.withdrawn_at.is_(None), func.count())
                               .where(Response.consultation_id == consultation_id)
                               .group_by(Response.moderation_state, Response.withdrawn_at.is_(None)))).all()
    counts = {"received": 0, "visible": 0, "hidden": 0, "withdrawn": 0}
    for state, live, n in rows:
        counts["received"] += n
        if not live:
            counts["withdrawn"] += n
        elif state == ModerationState.hidden:
            counts["hidden"] += n
        else:
            counts["visible"] += n
    return counts
