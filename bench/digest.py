"""Time a digest over 100,000 stored responses with 1,000 edits people made to the themes (renames, hidden
and merged themes, themes taken off or added to responses, pinned quotes, notes, a sign-off), built from the
totals and quote candidates kept as analysis lands (storage.tallies), beside two baselines in the same run:
the same digest counted the way it was before the totals were kept (every response and response × theme row
joined and grouped again: tests/digest/reference.py — checked to give the identical digest), and the plain
way (every row loaded and counted in Python; counts and themes only). Also a group's weekly digest, counting
the totals from the responses (what ``cyswllt db upgrade`` does once for data stored before them), what
keeping them costs per change, the chart, and peak memory (tracemalloc).

    .venv/bin/python bench/digest.py [--responses 100000] [--runs 5] [--postgres URL] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select
from sqlalchemy import text as sql

from engagement import themes as edits
from engagement.analysis import topics
from engagement.digest.build import build_data
from engagement.digest.chart import alt_text, render_png
from storage import tallies
from storage.db import Database
from storage.models import (
    Answer,
    Consultation,
    ConsultationGroup,
    Digest,
    Question,
    Response,
    ResponseTheme,
    StakeholderGroup,
    Theme,
    ThemeEdit,
    ThemeMention,
    ThemePin,
    utcnow,
)
from tests.digest.reference import counted_as_before

SENTIMENTS = ["positive", "neutral", "negative"]
WORDS_EN = "the service is very good but the times are late and we need more help in the town for families".split()
WORDS_CY = "mae'r gwasanaeth yn dda iawn ond mae'r amserau yn hwyr ac mae angen mwy o help yn y dref".split()


def sentence(rng: random.Random, words: list[str]) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(5, 60))).capitalize() + "."


async def seed(db: Database, n: int) -> tuple[int, int]:
    rng = random.Random(7)
    now = utcnow()
    async with db.session() as s:
        c = Consultation(slug="bench", title_en="Bench", title_cy="Mainc", summary_en="x", summary_cy="x",
                         opens_at=now - timedelta(weeks=12), closes_at=now + timedelta(days=1))
        s.add(c)
        groups = [StakeholderGroup(slug=f"grwp-{i}", name_en=f"Group {i}", name_cy=f"Grŵp {i}") for i in range(6)]
        s.add_all(groups)
        await s.flush()
        s.add_all([ConsultationGroup(consultation_id=c.id, group_id=g.id) for g in groups])
        welsh_q = Question(consultation_id=c.id, key="welsh-language", kind="welsh_language", text_en="W", text_cy="C")
        s.add(welsh_q)
        await s.commit()
        cid, gids, qid = c.id, [g.id for g in groups], welsh_q.id
    keys = sorted(topics())
    async with db.engine.begin() as conn:
        await conn.execute(insert(Theme), [dict(id=i + 1, consultation_id=cid, key=k, origin="analyser",
                                                label_en=topics()[k].label_en, label_cy=topics()[k].label_cy,
                                                hidden=False, created_at=now, updated_at=now)
                                           for i, k in enumerate(keys)])
    responses, answers, links, mentions = [], [], [], []
    for i in range(n):
        cy = rng.random() < 0.3
        text = sentence(rng, WORDS_CY if cy else WORDS_EN)
        chosen = rng.sample(range(1, len(keys) + 1), rng.randint(1, 4))
        responses.append(dict(
            id=i + 1, consultation_id=cid, reference=f"B{i:07d}", withdrawal_token_hash="x", text=text, redacted_text=text,
            language="cy" if cy else "en", group_id=rng.choice(gids + [None]), channel="web",
            received_at=now - timedelta(minutes=rng.randint(0, 12 * 7 * 24 * 60)), analysis_state="done",
            sentiment=rng.choice(SENTIMENTS), polarity=rng.uniform(-1, 1), confidence=rng.random(),
            themes=[keys[t - 1] for t in chosen], analyser_version=2,
            moderation_state="hidden" if rng.random() < 0.01 else "visible", anonymous=True, contact_consent=False,
            language_given=False, analysis_attempts=1))
        for theme_id in chosen:
            links.append(dict(id=len(links) + 1, response_id=i + 1, theme_id=theme_id, consultation_id=cid,
                              sentiment=rng.choice(SENTIMENTS), polarity=0.0, source="analyser", removed=False,
                              analyser_version=2, created_at=now))
            mentions.append(dict(response_theme_id=len(links), question_id=None, sentiment=links[-1]["sentiment"],
                                 polarity=0.0, start=0, end=5))
        if rng.random() < 0.4:
            answers.append(dict(response_id=i + 1, question_id=qid, text=text, redacted_text=text,
                                language="cy" if cy else "en", sentiment=rng.choice(SENTIMENTS),
                                confidence=rng.random(), themes=["welsh_language"]))
    async with db.engine.begin() as conn:
        for start in range(0, len(responses), 5000):
            await conn.execute(insert(Response), responses[start:start + 5000])
        for start in range(0, len(answers), 5000):
            await conn.execute(insert(Answer), answers[start:start + 5000])
        for start in range(0, len(links), 5000):
            await conn.execute(insert(ResponseTheme), links[start:start + 5000])
        for start in range(0, len(mentions), 5000):
            await conn.execute(insert(ThemeMention), mentions[start:start + 5000])
        if db.is_postgres:  # rows were given their ids: move the sequences past them for the rows added later
            for table in ("theme", "response", "responsetheme"):
                await conn.execute(sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT max(id) FROM {table}))"))
    await human_edits(db, cid, len(keys), n, rng)
    if db.is_postgres:  # as autovacuum would after a bulk load: the planner needs the tables' statistics
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sql("ANALYZE"))
    return cid, len(answers)


EDITS = 1000


async def human_edits(db: Database, cid: int, themes: int, n: int, rng: random.Random) -> None:
    """1,000 edits as the workbench leaves them: 20 renames, 3 hidden and 3 merged themes, 600 themes
    taken off or added to responses, 250 pinned quotes, 123 notes and a sign-off, each with its log row
    (written straight to the tables; the totals are counted from them afterwards)."""
    now = utcnow()
    edits, links, pins = [], [], []
    async with db.engine.begin() as conn:
        for theme_id in range(1, 21):
            await conn.execute(sql("UPDATE theme SET custom_label_en = :en, custom_label_cy = :cy WHERE id = :id"),
                               {"en": f"Renamed {theme_id}", "cy": f"Ailenwyd {theme_id}", "id": theme_id})
            edits.append(("rename", theme_id))
        for theme_id in (21, 22, 23):
            await conn.execute(sql("UPDATE theme SET hidden = :t WHERE id = :id"), {"t": True, "id": theme_id})
            edits.append(("hide", theme_id))
        for theme_id in (24, 25, 26):
            await conn.execute(sql("UPDATE theme SET merged_into_id = 1 WHERE id = :id"), {"id": theme_id})
            edits.append(("merge", theme_id))
        taken = rng.sample(range(1, n + 1), 600)
        for k, response_id in enumerate(taken):
            theme_id = rng.randint(1, themes)
            if k % 2:  # taken off: the analyser's row becomes a person's "removed"
                await conn.execute(sql("UPDATE responsetheme SET source = 'human', removed = :t WHERE response_id = :r"
                                       " AND theme_id = :th"), {"t": True, "r": response_id, "th": theme_id})
            else:  # added, unless the analyser had it already
                links.append(dict(response_id=response_id, theme_id=theme_id, consultation_id=cid, sentiment="neutral",
                                  polarity=0.0, source="human", removed=False, created_at=now))
            edits.append(("reassign", None))
        existing = set()
        if links:
            wanted = [link["response_id"] for link in links]
            existing = {(r, t) for r, t in (await conn.execute(
                select(ResponseTheme.response_id, ResponseTheme.theme_id).where(
                    ResponseTheme.response_id.in_(wanted)))).all()}
        links = [link for link in links if (link["response_id"], link["theme_id"]) not in existing]
        if links:
            await conn.execute(insert(ResponseTheme), list({(x["response_id"], x["theme_id"]): x for x in links}.values()))
        for response_id in rng.sample(range(1, n + 1), 250):
            theme = (await conn.execute(sql("SELECT theme_id FROM responsetheme WHERE response_id = :r LIMIT 1"),
                                        {"r": response_id})).scalar()
            if theme:
                pins.append(dict(theme_id=theme, response_id=response_id, group_id=None, pinned_by="bench@example.cymru",
                                 created_at=now))
            edits.append(("pin", theme))
        if pins:
            await conn.execute(insert(ThemePin), pins)
        while len(edits) < EDITS - 1:
            edits.append(("note", rng.randint(1, themes)))
        edits.append(("sign-off", None))  # the coordinator signed the theme set off
        await conn.execute(insert(ThemeEdit), [dict(consultation_id=cid, theme_id=theme_id, action=action, detail={},
                                                    actor_name="Bench", actor_email="bench@example.cymru",
                                                    created_at=now) for action, theme_id in edits])


async def baseline(db: Database, cid: int) -> tuple[Counter, Counter]:
    """Every response's sentiment and theme links loaded into Python and counted there."""
    split, themes = Counter(), Counter()
    async with db.session() as s:
        rows = (await s.exec(select(Response.sentiment).where(
            Response.consultation_id == cid, Response.moderation_state != "hidden",
            Response.withdrawn_at.is_(None)))).all()
        links = (await s.exec(select(ResponseTheme.theme_id, ResponseTheme.sentiment)
                              .join(Response, Response.id == ResponseTheme.response_id)
                              .where(ResponseTheme.consultation_id == cid, Response.moderation_state != "hidden",
                                     Response.withdrawn_at.is_(None)))).all()
    for (sentiment,) in rows:
        split[sentiment] += 1
    for theme_id, sentiment in links:
        themes[(theme_id, sentiment)] += 1
    return split, themes


async def digest_once(db: Database, cid: int, end: datetime, group_id: int | None = None) -> dict:
    async with db.session() as s:
        consultation = await s.get(Consultation, cid)
        group = await s.get(StakeholderGroup, group_id) if group_id else None
        return await build_data(s, consultation, group, end)


async def timed(runs: int, work) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    return times, result


def spread(times: list[float]) -> str:
    return f"{min(times):.3f} s (best of {len(times)}; runs {', '.join(f'{t:.3f}' for t in times)})"


async def upkeep_costs(db: Database, cid: int, n: int, rng: random.Random) -> dict[str, float]:
    """Seconds per change for keeping the totals right: what the analysis worker adds to each response it
    analyses (count before, count after, add the difference, replace its quote candidates), and edits made
    through the workbench's own service: a response's themes reassigned, a split, a merge."""
    actor = ("Bench", "bench@example.cymru")
    out = {}
    ids = rng.sample(range(1, n + 1), 100)
    started = time.perf_counter()
    for response_id in ids:
        async with db.session() as s:
            upkeep = await tallies.start(s, cid, [response_id])
            await upkeep.finish(s)
            await s.commit()
    out["per response analysed (the upkeep alone)"] = (time.perf_counter() - started) / len(ids)
    started = time.perf_counter()
    for response_id in ids[:20]:
        async with db.session() as s:
            response = await s.get(Response, response_id)
            await edits.reassign(s, actor, response, set(rng.sample(range(2, 20), 2)))
            await s.commit()
    out["per reassignment"] = (time.perf_counter() - started) / 20
    async with db.session() as s:
        theme = await s.get(Theme, 2)
        linked = (await s.exec(select(Response.reference).join(ResponseTheme, ResponseTheme.response_id == Response.id)
                               .where(ResponseTheme.theme_id == 2, ResponseTheme.removed.is_(False)).limit(5))).all()
        started = time.perf_counter()
        await edits.split(s, actor, theme, [r for (r,) in linked], "Split", "Hollt")
        await s.commit()
        out["per split of 5 responses"] = time.perf_counter() - started
    async with db.session() as s:
        theme = await s.get(Theme, 27)
        started = time.perf_counter()
        await edits.merge(s, actor, theme, 2)
        await s.commit()
        out["per merge of two themes"] = time.perf_counter() - started
    return out


def same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", help="a PostgreSQL URL to an empty database, instead of a temporary SQLite file")
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    args = parser.parse_args()
    if args.smoke:
        args.responses, args.runs = 2_000, 2
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{folder}/bench.db"
        db = Database.from_url(url)
        await db.create_all()
        started = time.perf_counter()
        cid, answered = await seed(db, args.responses)
        print(f"database: {'PostgreSQL' if db.is_postgres else 'SQLite'}; {args.responses:,} responses, "
              f"{answered:,} Welsh-language answers stored in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        async with db.session() as s:
            await tallies.recount(s, cid)
            await s.commit()
        recount = time.perf_counter() - started
        upkeep = await upkeep_costs(db, cid, args.responses, random.Random(11))
        async with db.session() as s:  # a group's weekly digest: its last scheduled one ended a week ago
            group_id = (await s.exec(select(StakeholderGroup.id).order_by(StakeholderGroup.id))).first()[0]
            ended = utcnow() - timedelta(days=7, hours=-3, minutes=17)
            s.add(Digest(consultation_id=cid, group_id=group_id, period_start=ended - timedelta(days=7),
                         period_end=ended, data={}, scheduled=True))
            await s.commit()
            drift = await tallies.check(s, cid)
        if db.is_postgres:  # the planner's statistics, as autovacuum would keep them
            async with db.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(sql("ANALYZE"))

        end = utcnow()  # every digest here ends then, so the two ways of counting can be compared
        await digest_once(db, cid, end)  # warm: caches, first-statement costs
        await digest_once(db, cid, end, group_id)
        runs, data = await timed(args.runs, lambda: digest_once(db, cid, end))
        weekly, group_data = await timed(args.runs, lambda: digest_once(db, cid, end, group_id))
        with counted_as_before():
            before, old_data = await timed(max(2, args.runs // 2), lambda: digest_once(db, cid, end))
            old_group = await digest_once(db, cid, end, group_id)
        identical = same(data, old_data) and same(group_data, old_group)
        plain, _ = await timed(1, lambda: baseline(db, cid))
        render_png(data, "cy")  # fonts load once per process
        started = time.perf_counter()
        png = render_png(data, "cy")
        alt_text(data, "cy")
        charting = time.perf_counter() - started

        tracemalloc.start()
        await digest_once(db, cid, end)
        render_png(data, "en")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await db.dispose()

    aggregation = min(runs)
    print(f"digest totals: {data['counts']['total']:,} responses, {len(data['themes'])} themes shown, "
          f"sentiment {data['sentiment']['total']}; theme set signed off: {data['theme_set']['signed_off']}")
    print(f"aggregation from the kept totals (counts, themes with {EDITS:,} edits applied, per question, "
          f"Welsh-language answers, timeline, quotes, summaries): {spread(runs)} — target < 0.3 s")
    print(f"  a group's weekly digest: {spread(weekly)}")
    print(f"baseline, the same digest counted as before (every row joined and grouped per digest): {spread(before)}"
          f" — ratio {min(before) / aggregation:.1f}x; identical digests: {'yes' if identical else 'NO'}")
    print(f"baseline, load every row and count in Python (counts and themes only): {min(plain):.3f} s — "
          f"ratio {min(plain) / aggregation:.1f}x")
    print(f"counting the totals from the responses (once, on upgrade or repair): {recount:.1f} s; "
          f"checked afterwards: {'no drift' if not drift else 'DRIFT'}")
    print("keeping them right: " + "; ".join(f"{k} {v * 1000:.1f} ms" for k, v in upkeep.items()))
    print(f"chart (PNG {len(png) / 1024:.0f} KB + alt text): {charting:.3f} s")
    print(f"peak memory (tracemalloc, one aggregation + one chart): {peak / 1024 / 1024:.1f} MB")
    if not identical or drift:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
