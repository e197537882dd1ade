import os
import subprocess
import sys

from sqlmodel import select

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Response
from tests.engagement_api.conftest import seed_consultation

CLI = [sys.executable, "-m", "cyswllt.cli"]


def run(url, *args):
    env = {**os.environ, "CYSWLLT_DATABASE_URL": url}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


async def test_paper_responses_import_all_or_nothing(sqlite_url, tmp_path):
    upgrade(sqlite_url)
    db = Database.from_url(sqlite_url)
    try:
        await seed_consultation(db)
        bad = tmp_path / "bad.csv"
        bad.write_text("text,language,group,received_at,channel\nGood point,en,,2026-11-20,paper\n"
                       ",xx,,yesterday,pigeon\n", encoding="utf-8")
        refused = run(sqlite_url, "responses", "import", str(bad), "--consultation", "bws")
        assert refused.returncode == 2
        for part in ("line 3, column language", "line 3, column received_at", "line 3, column channel",
                     "line 3, column text"):
            assert part in refused.stderr
        async with db.session() as s:
            assert (await s.exec(select(Response))).all() == []
        good = tmp_path / "good.csv"
        good.write_text("text,language,group,received_at,channel\nMae angen mwy o fysiau,,bws-young,2026-11-20,event\n"
                        "Buses are fine,en,,,email\n", encoding="utf-8")
        done = run(sqlite_url, "responses", "import", str(good), "--consultation", "bws")
        assert done.returncode == 0, done.stderr
        async with db.session() as s:
            rows = (await s.exec(select(Response).order_by(Response.id))).all()
        assert [(r.channel, r.language, r.analysis_state) for r in rows] == [("event", None, "pending"),
                                                                              ("email", "en", "pending")]
        assert rows[0].received_at.date().isoformat() == "2026-11-20"
        unknown = run(sqlite_url, "responses", "import", str(good), "--consultation", "nope")
        assert unknown.returncode == 2 and "no consultation" in unknown.stderr
    finally:
        await db.dispose()


def test_analyse_cli_writes_csv_and_stores_nothing(tmp_path, sqlite_url):
    source = tmp_path / "in.csv"
    source.write_text("text\nThe library is a lifeline\nMae'r bws yn ofnadwy\n", encoding="utf-8")
    done = run(sqlite_url, "analyse", str(source))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "text,language,sentiment,polarity,confidence,themes,theme_sentiments"
    assert lines[1].startswith("The library is a lifeline,en,positive,") and lines[1].endswith(",Libraries,libraries:positive")
    assert lines[2].startswith("Mae'r bws yn ofnadwy,cy,negative,") and lines[2].endswith(",Bysiau,buses:negative")
    assert not os.path.exists(sqlite_url.removeprefix("sqlite:///"))
    (tmp_path / "notext.csv").write_text("body\nx\n", encoding="utf-8")
    refused = run(sqlite_url, "analyse", str(tmp_path / "notext.csv"))
    assert refused.returncode == 2 and "'text' column" in refused.stderr
