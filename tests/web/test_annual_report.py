"""The annual report (seed 004 §4.3): every red and every overdue action of the year with its latest
public summary, counts equal to the database's, what was done where things went wrong, engagement and
scrutiny undertaken and planned; commentary through the admin API; published reports frozen; a real
PDF whose text holds the headings in the chosen language; the command line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.models import Action, ActionUpdate, Board, Response
from storage.reports import gather, parse_year, year_label
from tests.web.seed15 import INTERNAL, NOW, OWNER_EMAIL, OWNER_NAME, RED_OR_OVERDUE, SLUG, seed

AUTH = {"Authorization": "Bearer admin-token"}


@pytest.mark.parametrize("text, start", [("2026-27", 2026), ("2026", 2026), ("2026-2027", 2026), ("1999-00", 1999),
                                         ("2026-28", None), ("26-27", None), ("next year", None), ("", None)])
def test_financial_years(text, start):
    assert parse_year(text) == start
    if start:
        assert year_label(start) == f"{start}-{(start + 1) % 100:02d}"


async def test_the_report_holds_every_red_and_overdue_action_and_the_databases_counts(db):
    await seed(db)
    async with db.session() as s:
        board = await s.get(Board, 1)
        data = await gather(s, board, 2026, NOW, "Europe/London")
        stored = dict((await s.exec(select(Action.rag, func.count()).where(Action.board_id == 1)
                                    .group_by(Action.rag))).all())
        responses = (await s.exec(select(func.count()).select_from(Response).where(Response.withdrawn_at.is_(None)))).one()
        updates = (await s.exec(select(func.count()).select_from(ActionUpdate).where(
            ActionUpdate.created_at >= datetime(2026, 3, 31, 23, 0, tzinfo=UTC)))).one()  # 1 April, London
    flagged = sorted(a["ref"] for a in data["progress"] if a["red"] or a["overdue"])
    assert flagged == RED_OR_OVERDUE
    assert {r or "none": n for r, n in stored.items()} == {k: v for k, v in data["counts"].items() if v}
    assert data["total"] == 5 and data["responses"] == responses == 7 and data["updates"] == updates
    assert [(w["ref"], w["red_on"], w["back_on"], w["back_to"]) for w in data["wrong"]] == [
        ("A-1", "2026-06-01", "2026-09-01", "green"), ("A-3", "2026-11-01", None, None)]
    a3 = next(a for a in data["progress"] if a["ref"] == "A-3")
    assert a3["summary"] == "The supplier has gone into administration."
    assert [s["ref"] for s in data["scrutiny"]["undertaken"]] == ["S-1", "S-2", "S-3"]
    assert [s["ref"] for s in data["scrutiny"]["planned"]] == ["S-1"]
    assert data["engagement"][0]["changes"][0]["we_did"] == "A new timetable from January"
    text = str(data)
    assert OWNER_NAME not in text and OWNER_EMAIL not in text and INTERNAL not in text


@pytest.fixture
async def served(db, database_url):
    await seed(db)
    app = create_app(Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                              analysis_enabled=False, admin_token="admin-token"), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def call(server, method, path, body=None, headers=None):
    async with aiohttp.ClientSession() as http:
        async with http.request(method, server.make_url(path), json=body, headers=headers or {}) as response:
            raw = await response.read()
            kind = response.headers.get("Content-Type", "")
            return response.status, kind, raw


def pdf_text(raw: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(raw)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


async def test_commentary_publish_and_frozen(served, db, tmp_path):
    page = f"/boards/{SLUG}/reports/2026-27"
    api = f"/api/v1/boards/{SLUG}/reports/2026-27"
    assert (await call(served, "GET", page + "?lang=en"))[0] == 404  # a draft is not public
    status, _, draft = await call(served, "GET", page + "?lang=en", headers=AUTH)
    assert status == 200 and b"A draft" in draft
    body = {"intro": {"en": "A year of recovery.", "cy": "Blwyddyn o adfer."},
            "wrong": {"en": "We changed supplier."}}
    status, _, raw = await call(served, "PUT", api, body, AUTH)
    assert status == 200
    assert (await call(served, "PUT", api, {"colour": {"en": "x"}}, AUTH))[0] == 400
    assert (await call(served, "PUT", api, {"intro": "text"}, AUTH))[0] == 400
    assert (await call(served, "PUT", api, body, {"Authorization": "Bearer nope"}))[0] == 401
    assert (await call(served, "PUT", "/api/v1/boards/nowhere/reports/2026-27", body, AUTH))[0] == 404
    assert (await call(served, "PUT", f"/api/v1/boards/{SLUG}/reports/someday", body, AUTH))[0] == 400
    status, _, raw = await call(served, "POST", api + "/publish", None, AUTH)
    assert status == 201
    assert (await call(served, "POST", api + "/publish", None, AUTH))[0] == 409
    assert (await call(served, "PUT", api, body, AUTH))[0] == 409

    status, _, english = await call(served, "GET", page + "?lang=en")
    english = english.decode()
    assert status == 200 and "A year of recovery." in english and "We changed supplier." in english
    for ref in RED_OR_OVERDUE:
        assert f"<strong>{ref}</strong>" in english
    for secret in (OWNER_NAME, OWNER_EMAIL, INTERNAL, "PRIVATE RESPONSE TEXT", "Quentin Quiet"):
        assert secret not in english
    welsh = (await call(served, "GET", page + "?lang=cy"))[2].decode()
    assert "Blwyddyn o adfer." in welsh and "We changed supplier." in welsh and "(yn Saesneg)" in welsh
    board_page = (await call(served, "GET", f"/boards/{SLUG}?lang=en"))[2].decode()
    assert f'href="/boards/{SLUG}/reports/2026-27?lang=en"' in board_page

    # Later updates change the data, not the published report.
    async with db.session() as s:
        a4 = (await s.exec(select(Action).where(Action.ref == "A-4"))).one()
        s.add(ActionUpdate(action_id=a4.id, rag="red", note="x", public_summary="A brand new problem"))
        a4.rag = "red"
        s.add(a4)
        await s.commit()
    again = (await call(served, "GET", page + "?lang=en"))[2].decode()
    assert again == english and "A brand new problem" not in again

    status, kind, raw = await call(served, "GET", page + "?format=pdf&lang=en")
    assert status == 200 and kind == "application/pdf"
    text = pdf_text(raw, tmp_path)
    for heading in ("Our aims and priorities", "Progress on every action", "Where things went wrong, and what we did",
                    "Engagement and scrutiny, this year and next"):
        assert heading in text
    for ref in RED_OR_OVERDUE:
        assert ref in text
    welsh_pdf = pdf_text((await call(served, "GET", page + "?format=pdf&lang=cy"))[2], tmp_path)
    for heading in ("Ein nodau a'n blaenoriaethau", "Cynnydd ar bob cam", "Lle aeth pethau o chwith"):
        assert heading in welsh_pdf


async def test_requests_at_once_agree_on_one_report(served, db):
    """Commentary and publishes sent together, before any row exists: one publish freezes the report,
    every other is refused with 409 (never a 500 on the unique rule), and the frozen report keeps the
    commentary that was accepted before it."""
    api = f"/api/v1/boards/{SLUG}/reports/2025-26"
    statuses = await asyncio.gather(*[
        call(served, "PUT", api, {"intro": {"en": f"Intro {n}", "cy": f"Cyflwyniad {n}"}}, AUTH) if n % 2 else
        call(served, "POST", api + "/publish", None, AUTH) for n in range(8)])
    published = [s for s, _, _ in statuses[0::2]]
    assert sorted(published) == [201, 409, 409, 409]
    assert {s for s, _, _ in statuses[1::2]} <= {200, 409}
    status, _, raw = await call(served, "GET", f"/boards/{SLUG}/reports/2025-26?lang=en")
    assert status == 200
    kept = [n for n in range(1, 8, 2) if statuses[n][0] == 200]
    if kept:  # the last commentary accepted before the publish is the one frozen
        assert any(f"Intro {n}".encode() in raw for n in kept)
    async with db.session() as s:
        from storage.models import AnnualReport
        rows = (await s.exec(select(AnnualReport).where(AnnualReport.year_start == 2025))).all()
    assert len(rows) == 1 and rows[0].published_at is not None


async def test_the_command_line(sqlite_url, tmp_path):
    from storage.db import Database
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, sqlite_url)
    db = Database.from_url(sqlite_url)
    await seed(db)
    await db.dispose()
    cyswllt = str(Path(sys.executable).with_name("cyswllt"))
    env = {**os.environ, "CYSWLLT_DATABASE_URL": sqlite_url}

    def run(*words):
        return subprocess.run([cyswllt, "report", "annual", *words], env=env, capture_output=True, text=True,
                              timeout=180)

    done = await asyncio.to_thread(run, "--board", "Ynys Môn Public Services Board", "--year", "2026")
    assert done.returncode == 0, done.stderr
    assert "Ynys Môn Public Services Board: annual report 2026-27" in done.stdout
    for ref in RED_OR_OVERDUE:
        assert f"{ref} · " in done.stdout
    pdf = tmp_path / "adroddiad.pdf"
    done = await asyncio.to_thread(run, "--board", "Ynys Môn Public Services Board", "--year", "2026-27",
                                   "--lang", "cy", "--pdf", str(pdf))
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Bwrdd Gwasanaethau Cyhoeddus Ynys Môn: adroddiad blynyddol 2026-27" in text.replace("\n", " ")
    bad = await asyncio.to_thread(run, "--board", "Ynys Môn Public Services Board", "--year", "soon")
    assert bad.returncode == 2 and "is not a financial year" in bad.stderr
