"""A published board's public pages and open data: what is public is shown in the reader's language
(Welsh first, English marked where there is no Welsh), what is internal never is, and an unpublished
board is not there at all."""

from __future__ import annotations

import csv
import io
import json

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.models import Action
from tests.web.seed15 import INTERNAL, OWNER_EMAIL, OWNER_NAME, SLUG, seed


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


async def fetch(server, path: str, **headers) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url(path), headers=headers) as response:
            return response.status, dict(response.headers), await response.text()


def never_private(body: str) -> None:
    for secret in (OWNER_NAME, OWNER_EMAIL, INTERNAL, "Quentin Quiet", "PRIVATE RESPONSE TEXT"):
        assert secret not in body, f"{secret!r} is public"


async def test_the_board_page_in_english(served):
    status, headers, body = await fetch(served, f"/boards/{SLUG}?lang=en")
    assert status == 200 and '<html lang="en">' in body
    never_private(body)
    assert "Ynys Môn Public Services Board" in body
    for ref in ("A-1", "A-2", "A-3", "A-4", "A-5"):
        assert f'<th scope="row">{ref}</th>' in body
    assert "Local priorities" in body and "National priorities" in body and "Other actions" in body
    assert "Healthy communities" in body and "Cyngor Sir Ynys Môn" in body and "Betsi Cadwaladr" in body
    assert "30 September 2026" in body and "Plan: “Autumn 2026”" in body  # due date beside its words
    assert "New funding agreed; the campaign starts in October." in body  # the latest public summary
    assert "Funding for the campaign was withdrawn" not in body  # only the latest
    assert "Progress over time" in body and '<svg class="rag-chart"' in body and "<desc id=\"rag-chart-desc\">" in body
    assert "8 October 2026 — board meeting" in body and "10 February 2027 — scrutiny committee" in body
    assert "Content-Security-Policy" in headers and "<script" not in body


async def test_the_board_page_in_welsh_with_english_marked(served):
    status, _, body = await fetch(served, f"/boards/{SLUG}?lang=cy")
    assert status == 200 and '<html lang="cy">' in body
    never_private(body)
    assert "Bwrdd Gwasanaethau Cyhoeddus Ynys Môn" in body and "Cymunedau iach" in body
    assert '<span lang="cy">Ymgyrch ailgylchu ar y cyd</span>' in body
    assert '<span lang="en">Shared procurement</span> <span class="fallback">(yn Saesneg)</span>' in body
    assert '<span lang="en">Open data</span> <span class="fallback">(yn Saesneg)</span>' in body
    assert "Blaenoriaethau lleol" in body and "Cynnydd dros amser" in body


async def test_the_history_ends_with_the_counts_the_database_holds(served, db):
    _, _, body = await fetch(served, f"/boards/{SLUG}?lang=en")
    async with db.session() as s:
        counts = dict((await s.exec(select(Action.rag, func.count()).where(Action.board_id == 1)
                                    .group_by(Action.rag))).all())
    table = body.split("Actions by status at the end of each month</caption>")[1].split("</table>")[0]
    last_row = table.strip().split("<tr>")[-1]
    cells = [c.split("</td>")[0] for c in last_row.split("<td>")[1:]]
    expected = [counts.get(r, 0) for r in ("red", "amber", "green", "complete", None)]
    assert [int(c) for c in cells] == expected + [sum(expected)]


@pytest.mark.parametrize("path", ["/boards/hidden", "/boards/hidden/scrutiny", "/boards/hidden/actions.csv",
                                  "/boards/nowhere", "/boards/nowhere/scrutiny", "/boards/hidden/reports/2026-27"])
async def test_an_unpublished_or_unknown_board_is_not_there(served, path):
    status, _, body = await fetch(served, path + "?lang=en")
    assert status == 404 and "There is no published board at this address." in body
    status, _, body = await fetch(served, "/boards/hidden/actions.json")
    assert status == 404 and json.loads(body)["error"]


async def test_the_scrutiny_register_names_only_those_who_agreed(served):
    status, _, body = await fetch(served, f"/boards/{SLUG}/scrutiny?lang=en")
    assert status == 200
    never_private(body)
    assert "Nia Named" in body and body.count("a board member") == 2
    assert "The grant scheme closed early; a new source was found." in body
    assert "A matter for the council&#39;s own committee." in body
    programme = body.split('id="programme"')[1].split('id="requests"')[0]
    assert "10 February 2027" in programme and "What happens to the portal now?" in programme
    assert "Why was the funding withdrawn?" not in programme
    welsh = (await fetch(served, f"/boards/{SLUG}/scrutiny?lang=cy"))[2]
    assert "aelod o&#39;r bwrdd" in welsh and "Rhaglen waith i&#39;r dyfodol" in welsh


async def test_open_data_has_public_fields_only_under_the_ogl(served):
    status, headers, body = await fetch(served, f"/boards/{SLUG}/actions.csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "open-government-licence/version/3" in headers["Link"]
    never_private(body)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["ref"] for r in rows] == ["A-1", "A-2", "A-3", "A-4", "A-5"]
    assert list(rows[0]) == ["ref", "priority_ref", "title", "title_cy", "lead", "due", "due_text", "rag",
                             "last_update", "public_summary", "public_summary_date"]
    assert rows[0]["title_cy"] == "Ymgyrch ailgylchu ar y cyd" and rows[0]["rag"] == "green"
    assert rows[1]["title"].startswith("'=HYPERLINK")  # a spreadsheet never runs it
    status, headers, body = await fetch(served, f"/boards/{SLUG}/actions.json")
    data = json.loads(body)
    never_private(body)
    assert data["licence"]["name"] == "Open Government Licence v3.0" and len(data["items"]) == 5
    assert data["items"][2]["public_summary"] == "The supplier has gone into administration."
    page = (await fetch(served, f"/boards/{SLUG}?lang=en"))[2]
    for column in rows[0]:
        assert f"<code>{column}</code>" in page  # every column is documented on the page
