"""Time the analysis of consultation responses: ``analyse()`` alone (language, sentiment per clause and
theme, themes, redaction spans, the held check) per response, median and 95th percentile; then the
analysis worker end to end over stored responses in a temporary SQLite database (answers redacted,
themes stored, a short transaction for each ten), as responses per second and the time 50,000 would take.
Texts: the committed evaluation texts (Welsh and English responses and sentences), in the mix of lengths
a consultation gets (one sentence to several paragraphs). Target: median ≤ 5 ms a response, and 50,000
responses analysed in under five minutes.

    .venv/bin/python bench/analysis.py [--responses 50000] [--stored 5000] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from engagement.analysis import analyse, warm_up  # noqa: E402
from engagement.worker import BATCH, AnalysisWorker  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Consultation, Response, utcnow  # noqa: E402


def corpus() -> list[str]:
    texts = []
    for name, column in (("themes/responses.tsv", 3), ("welsh_uci.tsv", 2), ("language.tsv", 3)):
        for line in (ROOT / "eval" / "data" / name).read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split("\t")
            if not line.startswith("#") and len(parts) > column and parts[column] not in ("text", "cy"):
                texts.append(parts[column])
    return texts


def responses(n: int, rng: random.Random) -> list[str]:
    """Responses of one to eight sentences, mostly short, as consultations get them."""
    pool = corpus()
    return [" ".join(rng.sample(pool, min(len(pool), rng.choice([1, 1, 1, 2, 2, 3, 4, 8])))) for _ in range(n)]


async def stored(texts: list[str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database.from_url(f"sqlite:///{folder}/bench.db")
        await db.create_all()
        now = utcnow()
        async with db.session() as s:
            c = Consultation(slug="bench", title_en="Bench", title_cy="Mainc", summary_en="x", summary_cy="x",
                             opens_at=now, closes_at=now)
            s.add(c)
            await s.flush()
            s.add_all([Response(consultation_id=c.id, reference=f"B{i:07d}", withdrawal_token_hash="x", text=text,
                                name="Sian Jones" if i % 10 == 0 else None) for i, text in enumerate(texts)])
            await s.commit()
        worker = AnalysisWorker(db)
        started = time.perf_counter()
        done = 0
        while count := await worker.analyse_pending(limit=200):
            done += count
        elapsed = time.perf_counter() - started
        async with db.session() as s:  # a failed analysis is counted as done by the loop, not here
            analysed = len((await s.exec(select(Response.id).where(Response.analysis_state == "done"))).all())
        await db.dispose()
        if analysed != done:
            raise SystemExit(f"only {analysed:,} of {done:,} responses were analysed: see the log")
        return elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=50_000, help="texts timed through analyse()")
    parser.add_argument("--stored", type=int, default=5_000, help="responses analysed by the worker end to end")
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    args = parser.parse_args()
    if args.smoke:
        args.responses, args.stored = 300, 100
    rng = random.Random(12)
    texts = responses(args.responses, rng)
    started = time.perf_counter()
    warm_up()
    for text in texts[:200]:  # simplemma and the caches fill on first sight of each word
        analyse(text)
    print(f"first call (reads the lexicons and models): {time.perf_counter() - started:.2f} s")
    timings = []
    started = time.perf_counter()
    for text in texts:
        begun = time.perf_counter()
        analyse(text)
        timings.append((time.perf_counter() - begun) * 1000)
    total = time.perf_counter() - started
    timings.sort()
    words = statistics.mean(len(t.split()) for t in texts)
    print(f"analyse(): {len(texts):,} responses (mean {words:.0f} words) in {total:.1f} s; median "
          f"{statistics.median(timings):.2f} ms, 95th percentile {timings[int(len(timings) * 0.95)]:.2f} ms, "
          f"max {timings[-1]:.1f} ms — target median ≤ 5 ms")
    elapsed, done = asyncio.run(stored(texts[:args.stored]))
    rate = done / elapsed if elapsed else 0
    print(f"worker end to end (SQLite, {BATCH} responses a transaction): {done:,} responses in {elapsed:.1f} s, "
          f"{rate:.0f} a second; 50,000 would take {50_000 / rate / 60:.1f} min — target < 5 min")


if __name__ == "__main__":
    main()
