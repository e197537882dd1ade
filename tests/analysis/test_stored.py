"""Stored analysis, over real HTTP on SQLite and PostgreSQL: themes per consultation with each response's
sentiment toward them, names redacted from what admins and digests show, health and child details
held, reanalysis that keeps people's edits, and the reanalyse command."""

import csv
import io
import json
import os
import subprocess
import sys

from sqlmodel import select

from engagement import analysis
from engagement import themes as edits
from engagement.digest.build import build_data
from engagement.worker import ANALYSER, AnalysisWorker
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Consultation, Response, ResponseTheme, Theme, ThemeMention
from tests.engagement_api.conftest import seed_consultation

ADMIN = {"Authorization": "Bearer tok"}
PERSON = ("Gwen Parry", "gwen@example.cymru")
URL = "/api/v1/consultations/bws/responses"


async def _post(api, **body):
    status, created = await api.call("POST", URL, json=body)
    assert status == 201, created
    return created["reference"]


async def _themes(db, reference):
    async with db.session() as s:
        response = (await s.exec(select(Response).where(Response.reference == reference))).one()
        rows = (await s.exec(select(Theme.key, ResponseTheme.sentiment, ResponseTheme.source, ResponseTheme.removed)
                             .join(ResponseTheme, ResponseTheme.theme_id == Theme.id)
                             .where(ResponseTheme.response_id == response.id).order_by(Theme.key))).all()
        return response, [tuple(r) for r in rows]


async def test_themes_are_stored_per_consultation_with_each_responses_sentiment(api, db):
    await seed_consultation(db)
    ref = await _post(api, answers={"q1": "Excellent Welsh-medium school but the school bus takes over an hour",
                                    "welsh-language": "Mae'r ysgol Gymraeg yn wych i'r plant"})
    await api.app[ANALYSER].analyse_pending()
    response, rows = await _themes(db, ref)
    assert rows == [("school_transport", "negative", "analyser", False),
                    ("welsh_medium_education", "positive", "analyser", False)]
    assert response.analyser_version == analysis.ANALYSER_VERSION
    async with db.session() as s:
        labels = {t.key: (t.label("en"), t.label("cy")) for t in (await s.exec(select(Theme))).all()}
        mentions = (await s.exec(select(ThemeMention.question_id).distinct())).all()
    assert labels["school_transport"] == ("School transport", "Cludiant i'r ysgol")
    assert len(set(mentions)) == 2  # named in two answers: the breakdown per question has both


async def test_names_in_free_text_are_redacted_everywhere_they_are_shown(api, db):
    await seed_consultation(db)
    await _post(api, text="My name is Sian Jones and I live at 12 High Street. The buses are excellent, thank you. "
                          "Email sian at example dot com.", anonymous=True)
    await api.app[ANALYSER].analyse_pending()
    _, listing = await api.call("GET", "/api/v1/admin/consultations/bws/responses", headers=ADMIN)
    _, exported = await api.call("GET", "/api/v1/admin/consultations/bws/responses.csv", headers=ADMIN)
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation))).one()
        digest = await build_data(s, consultation, None, analysis_now())
    for shown in (json.dumps(listing), exported, json.dumps(digest)):
        for personal in ("Sian", "Jones", "12 High Street", "example dot com"):
            assert personal not in shown
    assert "[name]" in listing["items"][0]["text"] and "[address]" in listing["items"][0]["text"]
    assert digest["themes"][0]["quotes"]["positive"][0]["text"].startswith("My name is [name]")


def analysis_now():
    from storage.models import utcnow

    return utcnow()


async def test_health_or_child_details_hold_a_response_until_a_person_clears_it(api, db):
    await seed_consultation(db)
    held = await _post(api, text="My son Dylan has autism and the youth club was the only place he was happy.")
    await _post(api, text="The youth club is wonderful and the youth workers are brilliant.")
    await api.app[ANALYSER].analyse_pending()
    response, rows = await _themes(db, held)
    assert response.moderation_state == "held" and response.moderation_reason == "held: child, health"
    # Counted under its themes (autism is an additional learning need), never "Dylan".
    assert sorted(rows) == [("additional_learning_needs", "positive", "analyser", False),
                            ("youth_services", "positive", "analyser", False)]
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation))).one()
        digest = await build_data(s, consultation, None, analysis_now())
    youth = digest["themes"][0]
    assert youth["key"] == "youth_services" and youth["count"] == 2
    assert [q["text"] for q in youth["quotes"]["positive"]] == [
        "The youth club is wonderful and the youth workers are brilliant."]
    assert "autism" not in json.dumps(digest)
    # A person clears it: it may be quoted, and reanalysis does not hold it again.
    status, _ = await api.call("POST", f"/api/v1/admin/responses/{held}/restore", json={"reason": "checked"},
                               headers=ADMIN)
    assert status == 200
    async with db.session() as s:
        await s.exec(Response.__table__.update().values(analyser_version=None))
        await s.commit()
    assert await api.app[ANALYSER].reanalyse_stale() == 2
    response, _ = await _themes(db, held)
    assert response.moderation_state == "visible"


async def test_reanalysis_keeps_peoples_edits_to_themes(api, db):
    await seed_consultation(db)
    ref = await _post(api, text="The buses are late and the library is closing.")
    await api.app[ANALYSER].analyse_pending()
    async with db.session() as s:
        response = (await s.exec(select(Response).where(Response.reference == ref))).one()
        library = (await s.exec(select(Theme).where(Theme.key == "libraries"))).one()
        await edits.rename(s, PERSON, library, "Library closures", "Cau llyfrgelloedd")
        # A person took the buses off this response.
        await edits.reassign(s, PERSON, response, {library.id})
        response.analyser_version = 1  # as if an older analyser had run
        s.add(response)
        await s.commit()
    assert await api.app[ANALYSER].reanalyse_stale() == 1
    response, rows = await _themes(db, ref)
    assert response.analyser_version == analysis.ANALYSER_VERSION
    assert rows == [("buses", "negative", "human", True), ("libraries", "negative", "analyser", False)]
    async with db.session() as s:
        library = (await s.exec(select(Theme).where(Theme.key == "libraries"))).one()
        consultation = (await s.exec(select(Consultation))).one()
        digest = await build_data(s, consultation, None, analysis_now())
    assert library.label("en") == "Library closures" and library.label("cy") == "Cau llyfrgelloedd"
    assert [(t["key"], t["label_en"]) for t in digest["themes"]] == [("libraries", "Library closures")]


async def test_the_worker_reanalyses_older_analysis_in_the_background(api, db):
    await seed_consultation(db)
    for n in range(3):
        await _post(api, text=f"The bus service is awful {n}")
    await api.app[ANALYSER].analyse_pending()
    async with db.session() as s:
        await s.exec(Response.__table__.update().values(analyser_version=None, themes=["bus"]))
        await s.commit()
    assert await api.app[ANALYSER].reanalyse_stale(limit=2) == 2
    assert await api.app[ANALYSER].reanalyse_stale(limit=2) == 1
    assert await api.app[ANALYSER].reanalyse_stale(limit=2) == 0
    async with db.session() as s:
        assert set((await s.exec(select(Response.analyser_version))).all()) == {analysis.ANALYSER_VERSION}


async def test_the_reanalyse_command(sqlite_url, tmp_path):
    upgrade(sqlite_url)
    db = Database.from_url(sqlite_url)
    try:
        await seed_consultation(db)
        async with db.session() as s:
            consultation = (await s.exec(select(Consultation))).one()
            s.add(Response(consultation_id=consultation.id, reference="REF-1", withdrawal_token_hash="x",
                           text="Mae'r bysiau yn ofnadwy"))
            await s.commit()
        await AnalysisWorker(db).analyse_pending()
    finally:
        await db.dispose()
    env = {**os.environ, "CYSWLLT_DATABASE_URL": sqlite_url}
    run = [sys.executable, "-m", "cyswllt.cli", "responses", "reanalyse", "--consultation"]
    proc = subprocess.run(run + ["bws"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("Analysed 1 of 1 responses to bws again")
    proc = subprocess.run(run + ["nope"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 2 and "no consultation “nope”" in proc.stderr
    proc = subprocess.run(run + ["bws", "--queue-only"], capture_output=True, text=True, timeout=120, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 0 and "will be analysed again by the running service" in proc.stdout
    db = Database.from_url(sqlite_url)
    try:
        async with db.session() as s:
            assert (await s.exec(select(Response.analyser_version))).all() == [None]
    finally:
        await db.dispose()


async def test_the_admin_csv_lists_theme_keys(api, db):
    await seed_consultation(db)
    await _post(api, text="Potholes everywhere and no bus on Sundays")
    await api.app[ANALYSER].analyse_pending()
    _, exported = await api.call("GET", "/api/v1/admin/consultations/bws/responses.csv", headers=ADMIN)
    row = next(csv.DictReader(io.StringIO(exported)))
    assert row["themes"] == "roads; buses"
