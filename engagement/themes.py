"""A consultation's themes in storage: the analyser's topics as ``Theme`` rows, each response's themes
with its sentiment toward them (``ResponseTheme``) and where it named them (``ThemeMention``); phrases
outside the glossary become emergent themes when several responses raise them (``theme_candidates``).

Reanalysis replaces only the analyser's own ``ResponseTheme`` rows. A person's edits stay: labels,
hidden and merged themes live on the ``Theme`` row; a theme a person added to a response, or took off it,
is a ``human`` row that the analyser never overwrites (a removed theme is not added back).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from engagement import analysis, theme_candidates
from engagement.analysis.sentiment import label
from storage import tallies
from storage.models import Response, ResponseTheme, Theme, ThemeEdit, ThemeMention, ThemePin, utcnow


async def theme_rows(session: AsyncSession, consultation_id: int, keys: Sequence[str]) -> dict[str, Theme]:
    """The consultation's ``Theme`` rows for these topic keys, made the first time a topic is raised
    (labels from the glossary; a person's own labels, on ``custom_label_*``, are never touched)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    found = {t.key: t for t in (await session.exec(select(Theme).where(
        Theme.consultation_id == consultation_id, Theme.key.in_(wanted)))).all()}
    topics = analysis.topics()
    for key in wanted:
        topic = topics.get(key)
        if topic is None:
            continue
        row = found.get(key)
        if row is None:
            row = found[key] = await theme_candidates.add_theme(session, Theme(
                consultation_id=consultation_id, key=key, label_en=topic.label_en, label_cy=topic.label_cy))
        elif (row.label_en, row.label_cy) != (topic.label_en, topic.label_cy):
            row.label_en, row.label_cy, row.updated_at = topic.label_en, topic.label_cy, utcnow()
            session.add(row)
    return found


async def store(session: AsyncSession, response: Response, parts: Sequence[tuple[int | None, analysis.Analysis]],
                kept: Collection[int] = ()) -> list[str]:
    """Replace the analyser's themes of ``response`` with those of ``parts`` — (question id or None for
    the general text, its analysis) — keeping a person's. Returns the response's theme keys.
    ``kept``: responses whose digest totals the caller keeps (``tallies.start``) in this transaction.
    Where each theme was named is stored by ``finish``, once for all the responses of a transaction."""
    by_key: dict[str, list[tuple[int | None, analysis.Theme]]] = {}
    for question_id, result in parts:
        for theme in result.themes:
            by_key.setdefault(theme.key, []).append((question_id, theme))
    rows = await theme_rows(session, response.consultation_id, list(by_key))
    existing = (await session.exec(select(ResponseTheme).where(ResponseTheme.response_id == response.id))).all()
    human = {rt.theme_id for rt in existing if rt.source == "human"}
    analysers = [rt.id for rt in existing if rt.source != "human"]
    if analysers:
        await session.exec(delete(ThemeMention).where(ThemeMention.response_theme_id.in_(analysers)))
        await session.exec(delete(ResponseTheme).where(ResponseTheme.id.in_(analysers)))
    keys = []
    links: list[tuple[ResponseTheme, list[tuple[int | None, analysis.Theme]]]] = []
    for key, found in by_key.items():
        row = rows.get(key)
        if row is None:
            continue
        keys.append(key)
        if row.id in human:
            continue  # a person decided this response's link to this theme
        polarity = round(sum(t.polarity for _, t in found) / len(found), 4)
        links.append((ResponseTheme(response_id=response.id, theme_id=row.id, consultation_id=response.consultation_id,
                                    sentiment=label(polarity), polarity=polarity, source="analyser",
                                    analyser_version=analysis.ANALYSER_VERSION), found))
    for link, found in links:
        session.add(link)
        theme_candidates.mention_later(session, link, [
            SimpleNamespace(question_id=question_id, sentiment=theme.sentiment, polarity=theme.polarity, start=start,
                            end=end) for question_id, theme in found for start, end in theme.spans])
    # Phrases outside the glossary: emergent themes once several responses raise them.
    return keys + await theme_candidates.store(session, response, parts, human, kept)


async def finish(session: AsyncSession) -> None:
    """Store the mentions of the links ``store`` made, for every response it stored in this transaction,
    in one statement: after the last ``store`` and before the digest's upkeep counts them."""
    await theme_candidates.write_mentions(session)


def discard(session: AsyncSession) -> None:
    """Forget mentions waiting for ``finish`` (their transaction was rolled back)."""
    theme_candidates.forget_pending(session)


async def forget(session: AsyncSession, response_id: int) -> None:
    """Take every theme link of a response away (it was withdrawn: its words are gone)."""
    await theme_candidates.forget(session, response_id)
    links = list((await session.exec(select(ResponseTheme.id).where(ResponseTheme.response_id == response_id))).all())
    if links:
        await session.exec(delete(ThemeMention).where(ThemeMention.response_theme_id.in_(links)))
        await session.exec(delete(ResponseTheme).where(ResponseTheme.id.in_(links)))


async def mark_for_reanalysis(session: AsyncSession, consultation_id: int) -> int:
    """Have every analysed response of a consultation analysed again (by the worker, in the background,
    or by ``reanalyse``). Returns how many."""
    result = await session.exec(update(Response).where(
        Response.consultation_id == consultation_id, Response.withdrawn_at.is_(None),
        Response.analysis_state == "done").values(analyser_version=None))
    return result.rowcount or 0


async def sign_off_state(session: AsyncSession, consultation_id: int) -> dict[str, Any]:
    """Signed off, and whether anything changed since: an edit, or a response analysed after it."""
    signed = (await session.exec(select(ThemeEdit).where(ThemeEdit.consultation_id == consultation_id,
                                                         ThemeEdit.action == "sign-off")
                                 .order_by(ThemeEdit.created_at.desc(), ThemeEdit.id.desc()).limit(1))).first()
    if signed is None:
        return {"signed_off": False, "signed_off_at": None, "updated_since": False}
    # Whether any exists: the first found is enough (an index finds it, however many responses there are).
    edited = (await session.exec(select(ThemeEdit.id).where(
        ThemeEdit.consultation_id == consultation_id, ThemeEdit.id > signed.id,
        ThemeEdit.action != "note").limit(1))).first()
    analysed = (await session.exec(select(ResponseTheme.id).where(
        ResponseTheme.consultation_id == consultation_id, ResponseTheme.created_at > signed.created_at)
        .limit(1))).first()
    updated = edited is not None or analysed is not None
    return {"signed_off": not updated, "signed_off_at": signed.created_at.isoformat(), "updated_since": updated,
            "signed_off_by": signed.actor_name or signed.actor_email}


# --- a person's edits (the admin API and the workbench both call these) ---------------------------------


class EditRefused(Exception):
    """An edit that cannot be made; ``key`` names the reason in the catalogues (consultation.admin_<key>)."""

    def __init__(self, key: str, status: int = 422, **params: str) -> None:
        super().__init__(key)
        self.key, self.status, self.params = key, status, params


def record(session: AsyncSession, actor: tuple[str | None, str | None], consultation_id: int, theme_id: int | None,
           action: str, detail: dict) -> None:
    session.add(ThemeEdit(consultation_id=consultation_id, theme_id=theme_id, action=action, detail=detail,
                          actor_name=actor[0], actor_email=actor[1], created_at=utcnow()))


async def links_of(session: AsyncSession, response_id: int) -> list[tuple[ResponseTheme, Theme]]:
    return [(link, theme) for link, theme in (await session.exec(
        select(ResponseTheme, Theme).join(Theme, Theme.id == ResponseTheme.theme_id)
        .where(ResponseTheme.response_id == response_id))).all()]


def _raises(theme: Theme, links: list[tuple[ResponseTheme, Theme]]) -> ResponseTheme | None:
    return next((link for link, t in links if not link.removed and theme.id in (t.id, t.merged_into_id)), None)


async def rename(session: AsyncSession, actor, theme: Theme, en: str, cy: str) -> None:
    before = {"en": theme.label("en"), "cy": theme.label("cy")}
    theme.custom_label_en, theme.custom_label_cy, theme.updated_at = en, cy, utcnow()
    session.add(theme)
    record(session, actor, theme.consultation_id, theme.id, "rename", {"from": before, "to": {"en": en, "cy": cy}})


async def set_hidden(session: AsyncSession, actor, theme: Theme, hidden: bool) -> None:
    if theme.hidden != hidden:
        theme.hidden, theme.updated_at = hidden, utcnow()
        session.add(theme)
        record(session, actor, theme.consultation_id, theme.id, "hide" if hidden else "show", {})


async def merge(session: AsyncSession, actor, theme: Theme, into_id: int) -> Theme:
    target = await session.get(Theme, into_id) if 0 < into_id < 2**31 else None
    if target is None or target.consultation_id != theme.consultation_id:
        raise EditRefused("merge_target")
    if target.merged_into_id is not None:
        target = await session.get(Theme, target.merged_into_id)
    if target.id == theme.id or theme.merged_into_id is not None:
        raise EditRefused("merge_same", 409)
    # Every theme whose responses count as this one or the target: the digest's totals move between them.
    moved = (await session.exec(select(Theme.id).where(or_(
        Theme.id.in_((theme.id, target.id)), Theme.merged_into_id.in_((theme.id, target.id)))))).all()
    async with tallies.keeping(session, theme.consultation_id, themes=moved):
        theme.merged_into_id, theme.updated_at = target.id, utcnow()
        session.add(theme)
        for earlier in (await session.exec(select(Theme).where(Theme.merged_into_id == theme.id))).all():
            earlier.merged_into_id = target.id  # one level of merge: what was merged into this follows it
            session.add(earlier)
    record(session, actor, theme.consultation_id, theme.id, "merge", {"into": target.id})
    return target


async def split(session: AsyncSession, actor, theme: Theme, references: list[str], en: str, cy: str) -> Theme:
    wanted = sorted({r.strip().upper()[:20] for r in references if r.strip()})
    if not wanted:
        raise EditRefused("split_responses", references="—")
    responses = (await session.exec(select(Response).where(func.upper(Response.reference).in_(wanted),
                                                           Response.consultation_id == theme.consultation_id))).all()
    moved = [(r, link) for r in responses if (link := _raises(theme, await links_of(session, r.id))) is not None]
    if len(moved) != len(wanted):
        found = {r.reference.upper() for r, _ in moved}
        raise EditRefused("split_responses", references=", ".join(r for r in wanted if r not in found))
    count = (await session.exec(select(func.count()).select_from(Theme).where(
        Theme.consultation_id == theme.consultation_id, Theme.origin == "split"))).one()
    async with tallies.keeping(session, theme.consultation_id, [r.id for r, _ in moved]):
        new = Theme(consultation_id=theme.consultation_id, key=f"split-{count + 1}", origin="split", label_en=en,
                    label_cy=cy, custom_label_en=en, custom_label_cy=cy)
        session.add(new)
        await session.flush()
        for response, link in moved:
            link.source, link.removed = "human", True
            session.add(link)
            session.add(ResponseTheme(response_id=response.id, theme_id=new.id,
                                      consultation_id=response.consultation_id, sentiment=link.sentiment,
                                      polarity=link.polarity, source="human"))
    record(session, actor, theme.consultation_id, theme.id, "split",
           {"new_theme": new.id, "responses": wanted, "label": {"en": en, "cy": cy}})
    return new


async def pin(session: AsyncSession, actor, theme: Theme, reference: str, group_id: int | None = None) -> Response:
    response = (await session.exec(select(Response).where(func.upper(Response.reference) == reference.strip().upper()[:20],
                                                           Response.consultation_id == theme.consultation_id))).first()
    if response is None:
        raise EditRefused("no_response", 404)
    if _raises(theme, await links_of(session, response.id)) is None:
        raise EditRefused("pin_not_in_theme")
    exists = (await session.exec(select(ThemePin).where(
        ThemePin.theme_id == theme.id, ThemePin.response_id == response.id,
        ThemePin.group_id.is_(None) if group_id is None else ThemePin.group_id == group_id))).first()
    if exists is None:
        session.add(ThemePin(theme_id=theme.id, response_id=response.id, group_id=group_id,
                             pinned_by=actor[1] or actor[0]))
        record(session, actor, theme.consultation_id, theme.id, "pin",
               {"reference": response.reference, "group": group_id})
    return response


async def reassign(session: AsyncSession, actor, response: Response, theme_ids: set[int]) -> None:
    themes = {t.id: t for t in (await session.exec(select(Theme).where(Theme.id.in_(theme_ids or {-1})))).all()}
    if set(themes) != theme_ids or any(t.consultation_id != response.consultation_id for t in themes.values()):
        raise EditRefused("unknown_themes")
    before = []
    async with tallies.keeping(session, response.consultation_id, [response.id]):
        for link, theme in await links_of(session, response.id):
            if not link.removed:
                before.append(theme.id)
            keep = theme.id in theme_ids
            if keep != (not link.removed) or (not keep and link.source != "human"):
                link.source, link.removed = "human", not keep
                session.add(link)
        linked = {link.theme_id for link, _ in await links_of(session, response.id)}
        for theme_id in theme_ids - linked:
            session.add(ResponseTheme(response_id=response.id, theme_id=theme_id,
                                      consultation_id=response.consultation_id, sentiment=response.sentiment or "neutral",
                                      polarity=response.polarity or 0.0, source="human"))
    record(session, actor, response.consultation_id, None, "reassign",
           {"reference": response.reference, "from": sorted(before), "to": sorted(theme_ids)})


async def note(session: AsyncSession, actor, theme: Theme, text: str, group_id: int | None = None) -> None:
    record(session, actor, theme.consultation_id, theme.id, "note", {"text": text, "group": group_id})


async def sign_off(session: AsyncSession, actor, consultation_id: int) -> None:
    record(session, actor, consultation_id, None, "sign-off", {})
