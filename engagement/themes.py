"""A consultation's themes in storage: the analyser's topics as ``Theme`` rows, each response's themes
with its sentiment toward them (``ResponseTheme``) and where it named them (``ThemeMention``).

Reanalysis replaces only the analyser's own ``ResponseTheme`` rows. A person's edits stay: labels,
hidden and merged themes live on the ``Theme`` row; a theme a person added to a response, or took off it,
is a ``human`` row that the analyser never overwrites (a removed theme is not added back).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from engagement import analysis
from engagement.analysis.sentiment import label
from storage.models import Response, ResponseTheme, Theme, ThemeMention, utcnow


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
            row = Theme(consultation_id=consultation_id, key=key, label_en=topic.label_en, label_cy=topic.label_cy)
            try:
                async with session.begin_nested():  # another worker may add the same theme at once
                    session.add(row)
                    await session.flush()
            except IntegrityError:
                row = (await session.exec(select(Theme).where(Theme.consultation_id == consultation_id,
                                                              Theme.key == key))).one()
            found[key] = row
        elif (row.label_en, row.label_cy) != (topic.label_en, topic.label_cy):
            row.label_en, row.label_cy, row.updated_at = topic.label_en, topic.label_cy, utcnow()
            session.add(row)
    return found


async def store(session: AsyncSession, response: Response,
                parts: Sequence[tuple[int | None, analysis.Analysis]]) -> list[str]:
    """Replace the analyser's themes of ``response`` with those of ``parts`` — (question id or None for
    the general text, its analysis) — keeping a person's. Returns the response's theme keys."""
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
    if links:
        session.add_all([link for link, _ in links])
        await session.flush()
        session.add_all([ThemeMention(response_theme_id=link.id, question_id=question_id, sentiment=theme.sentiment,
                                      polarity=theme.polarity, start=start, end=end)
                         for link, found in links for question_id, theme in found for start, end in theme.spans])
    return keys


async def forget(session: AsyncSession, response_id: int) -> None:
    """Take every theme link of a response away (it was withdrawn: its words are gone)."""
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
