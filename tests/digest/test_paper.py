"""The digest as a board paper: the page names its publisher and prints well; ``?format=pdf`` is a real
PDF of the same page in the reader's language (read back with pdftotext); the chart is an SVG that
reads at 390 px, each day once, legend above the bars, citizens' words escaped."""

from __future__ import annotations

import shutil
import subprocess
from xml.etree import ElementTree

import pytest

from engagement.digest import svg
from storage.models import utcnow

from .conftest import PERSONAL
from .test_web import AUTH, local, site  # noqa: F401 (the fixture)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext reads the PDFs back")
SVG = "{http://www.w3.org/2000/svg}"


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "paper.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


async def build(client, slug: str, group: str) -> dict:
    status, body = await client.post(f"/api/v1/admin/consultations/{slug}/digests", {"group": group}, headers=AUTH)
    assert status == 201
    return body


async def test_the_digest_prints_as_a_board_paper_in_each_language(site, tmp_path):  # noqa: F811
    seeded, client = site
    body = await build(client, seeded.slug, "pobl-hyn")
    page = local(body["url"]).replace("&lang=en", "").replace("&lang=cy", "")
    status, html, _ = await client.get(page + "&lang=en")
    text = html.decode()
    assert status == 200 and "Published by Bwrdd Gwasanaethau Cyhoeddus Môn on" in text
    assert "format=pdf" in text and 'href="/privacy?lang=en"' in text
    status, data, headers = await client.get(page + "&lang=en&format=pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf" and data.startswith(b"%PDF-")
    assert "no-store" in headers["Cache-Control"]
    english = pdf_text(data, tmp_path)
    assert "Consultation digest" in english and "Bwrdd Gwasanaethau Cyhoeddus Môn" in english
    assert "library" in english and "Responses per day" in english  # the group's theme and the chart's own text
    status, data, _ = await client.get(page + "&lang=cy&format=pdf")
    welsh = pdf_text(data, tmp_path)
    assert status == 200 and "Crynodeb ymgynghoriad" in welsh and "Cyhoeddwyd gan Fwrdd Gwasanaethau Cyhoeddus Môn" in welsh
    assert "Ymatebion y dydd" in welsh
    for value in PERSONAL:
        assert value.lower() not in english.lower() and value.lower() not in welsh.lower()
    # Without a token or signature the PDF is refused like the page.
    assert (await client.get(f"/digests/{body['id']}?format=pdf"))[0] == 403


async def test_the_page_draws_its_chart_as_svg_with_its_alt_text(site):  # noqa: F811
    seeded, client = site
    body = await build(client, seeded.slug, "pobl-ifanc")
    status, html, _ = await client.get(local(body["url"]))
    text = html.decode()
    chart_path = text.split('class="digest-chart" src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert chart_path.startswith(f"/digests/{body['id']}/chart.svg?")
    status, drawing, headers = await client.get(chart_path)
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(drawing)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text
    assert root.find(f"{SVG}desc").text in text.replace("&#39;", "'")  # the img's alt is the SVG's description
    assert (await client.get(f"/digests/{body['id']}/chart.svg"))[0] == 403


def chart_data(days: list[tuple[str, int]], labels=("school bus",)) -> dict:
    themes = [{"key": f"k{i}", "label_en": label, "label_cy": label, "count": 5,
               "sentiment": {"positive": 1, "neutral": 1, "negative": 3}} for i, label in enumerate(labels)]
    return {"themes": themes, "timeline": [{"day": d, "count": n} for d, n in days]}


def texts(drawing: str) -> list[str]:
    return [node.text for node in ElementTree.fromstring(drawing).iter(f"{SVG}text")]


def test_each_day_is_labelled_once_and_quiet_days_are_drawn():
    drawing = svg.render_svg(chart_data([("2026-11-30", 3), ("2026-12-01", 4)]), "en", title="t", description="d")
    labels = texts(drawing)
    assert labels.count("30 Nov") == 1 and labels.count("1 Dec") == 1
    drawing = svg.render_svg(chart_data([("2026-11-01", 3), ("2026-11-28", 4)]), "cy", title="t", description="d")
    days = [label for label in texts(drawing) if label.split()[-1:] in (["Tach"], ["Rhag"])]
    assert 3 <= len(days) <= svg.MAX_DAY_LABELS and len(set(days)) == len(days)  # 28 days, a label each week or so


def test_gridlines_are_whole_numbers():
    drawing = svg.render_svg(chart_data([("2026-12-01", 37)]), "en", title="t", description="d")
    numbers = [int(label) for label in texts(drawing) if label.isdigit()]
    assert 0 in numbers and max(numbers) >= 37 and len([n for n in numbers if n != 37]) <= 6


def test_citizens_words_are_text_not_markup_and_the_legend_sits_above_the_bars():
    drawing = svg.render_svg(chart_data([("2026-12-01", 1)], labels=("<script>alert(1)</script> & co",)), "en",
                             title="Chart", description="What it shows")
    assert "<script>" not in drawing and "&lt;script&gt;" in drawing
    root = ElementTree.fromstring(drawing)
    legend = [float(n.get("y")) for n in root.iter(f"{SVG}text") if n.text == "Negative"]
    bars = [float(n.get("y")) for n in root.iter(f"{SVG}rect") if (n.get("fill") or "").startswith("url(#p-")
            and n.find(f"{SVG}title") is not None]
    assert legend and bars and max(legend) < min(bars)
    assert float(root.get("width")) <= 400  # drawn for a phone's width; it only ever scales up


def test_no_themes_and_no_responses_still_draw_something_honest():
    drawing = svg.render_svg({"themes": [], "timeline": []}, "cy", title="Siart", description="Dim")
    assert any("thema" in (text or "").lower() for text in texts(drawing))
    assert utcnow()  # the module needs no clock
