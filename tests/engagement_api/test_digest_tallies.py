"""The digest's totals and quote candidates kept as analysis lands, over real HTTP on SQLite and PostgreSQL:
after every kind of change that moves them — analysis, duplicates, moderation (hide, held, cleared),
withdrawal, a person's theme edits (rename, hide, merge, a merge into a merged theme, split, reassign, pin),
reanalysis that changes themes and sentiment, an analysis that fails for good, responses still waiting —
they equal a recount from the responses, and a digest built from them is the digest counted from scratch
and the digest counted the way it was before totals were kept (tests/digest/reference.py), field for field,
for everyone and for a group, over periods that start and end in the middle of a day."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from engagement import analysis
from engagement import themes as edits
from engagement.digest.build import build_data
from engagement.worker import ANALYSER, MAX_ATTEMPTS, AnalysisWorker
from storage import tallies
from storage.models import (
    Consultation,
    Digest,
    DigestTally,
    DigestTallyState,
    QuoteCandidate,
    Response,
    StakeholderGroup,
    Theme,
    utcnow,
)
from tests.digest import reference
from tests.engagement_api.conftest import seed_consultation

ADMIN = {"Authorization": "Bearer tok", "X-Cyswllt-Actor-Name": "Nia Admin",
         "X-Cyswllt-Actor-Email": "nia@example.cymru"}
PERSON = ("Nia Admin", "nia@example.cymru")
URL = "/api/v1/consultations/bws/responses"

# (body, hours before now it was received)
RESPONSES = [
    ({"text": "The buses are late every single morning and the timetable is confusing."}, 200),
    ({"text": "Mae'r bysiau yn wych ac mae'r gyrwyr yn garedig iawn, diolch.", "group": "bws-young"}, 190),
    ({"text": "The library is a lifeline for older people, please keep the library open."}, 170),
    ({"text": "Potholes on the main road are dangerous and the buses are always late because of them."}, 150),
    ({"text": "The buses are late every single morning and the timetable is confusing."}, 140),  # a repeat
    ({"text": "The bus service to school is brilliant and the drivers are kind.",
      "answers": {"q1": "Parking in town is far too expensive and the car park is always full.",
                  "welsh-language": "Mae'r Gymraeg yn bwysig iawn i'r ardal ac mae'r ysgolion Cymraeg yn wych."},
      "group": "bws-young"}, 120),
    ({"text": "My son Dylan has autism and the youth club was the only place he was happy."}, 100),  # held
    ({"text": "Mae'r llyfrgell yn cau ac mae hynny'n ofnadwy i bobl hŷn yn y dref.",
      "answers": {"welsh-language": "Bydd cau'r llyfrgell yn niweidiol i'r Gymraeg yn y dref."}}, 75),
    ({"text": "The roads are terrible, the library is wonderful and the buses are fine.", "group": "bws-young"}, 50),
    ({"text": "Parking charges on the high street are driving shoppers away from the town centre."}, 30),
    ({"answers": {"q1": "The buses never turn up on Sundays and the library closes too early.",
                  "welsh-language": "Mae gwasanaethau Cymraeg yn dda ond mae angen mwy o staff sy'n siarad Cymraeg."},
      "group": "bws-young"}, 10),
]


async def _submit(api, body) -> tuple[str, str]:
    status, created = await api.call("POST", URL, json=body)
    assert status == 201, created
    return created["reference"], created["withdrawal_token"]


async def _spread(db, references: list[str], hours: list[float]) -> None:
    """Received over the last nine days (the API stamps them now); still waiting for analysis, so in no
    total yet."""
    now = utcnow()
    async with db.session() as s:
        for reference, before in zip(references, hours, strict=True):
            response = (await s.exec(select(Response).where(Response.reference == reference))).one()
            assert response.analysis_state == "pending"
            response.received_at = now - timedelta(hours=before, minutes=17)
            s.add(response)
        await s.commit()


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


async def _agree(db, step: str) -> dict:
    """No drift, and the same digests three ways, for several groups and ends."""
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation).where(Consultation.slug == "bws"))).one()
        drift = await tallies.check(s, consultation.id)
        assert not drift, f"{step}: {drift}"
        group = (await s.exec(select(StakeholderGroup).where(StakeholderGroup.slug == "bws-young"))).one()
    now = utcnow()
    # Now (a period from a scheduled digest 40 h 6 min ago), and 61 h 30 min ago (responses after it
    # must be taken away, and its period starts when the consultation opened).
    ends = [now, now - timedelta(hours=61, minutes=30)]
    cid = consultation.id
    built = {}
    for end in ends:
        for who in (None, group):
            async with db.session() as s:
                kept = await build_data(s, await s.get(Consultation, cid), who, end)
            async with db.session() as s:
                await s.exec(DigestTallyState.__table__.update().where(
                    DigestTallyState.consultation_id == cid).values(stale=True))
                scratch = await build_data(s, await s.get(Consultation, cid), who, end)
                await s.rollback()
            with reference.counted_as_before():
                async with db.session() as s:
                    before = await build_data(s, await s.get(Consultation, cid), who, end)
            label = f"{step}, {'everyone' if who is None else who.slug}, end {end.isoformat()}"
            assert _same(kept, scratch), f"{label}: kept totals and a count from scratch differ"
            assert _same(kept, before), f"{label}: kept totals and the digest as it was counted before differ"
            built[(end == now, who is None)] = kept
    return built[(True, True)]


@pytest.fixture
async def scene(api, db):
    await seed_consultation(db, opens=utcnow() - timedelta(days=10))
    submitted = [await _submit(api, body) for body, _ in RESPONSES]
    await _spread(db, [ref for ref, _ in submitted], [hours for _, hours in RESPONSES])
    async with db.session() as s:  # a scheduled digest ended 40 h 6 min ago: the next period starts there
        consultation = (await s.exec(select(Consultation).where(Consultation.slug == "bws"))).one()
        moment = utcnow() - timedelta(hours=40, minutes=6)
        s.add(Digest(consultation_id=consultation.id, group_id=None, period_start=moment - timedelta(days=7),
                     period_end=moment, data={}, scheduled=True))
        await s.commit()
    return submitted


async def test_every_change_keeps_the_totals_equal_to_a_recount(api, db, scene):
    refs = [ref for ref, _ in scene]
    tokens = dict(scene)
    worker = api.app[ANALYSER]
    # Nothing analysed yet: everything is counted by the digest itself.
    await _agree(db, "all waiting")
    assert await worker.analyse_pending() == len(RESPONSES)
    data = await _agree(db, "analysed")
    assert data["counts"]["duplicates"] == 1 and data["counts"]["total"] == len(RESPONSES) - 1
    assert data["welsh_language"]["count"] == 3
    async with db.session() as s:
        held = (await s.exec(select(Response).where(Response.reference == refs[6]))).one()
        assert held.moderation_state == "held"
        themes = {t.key: t for t in (await s.exec(select(Theme))).all()}
        assert (await s.exec(select(QuoteCandidate))).all() and (await s.exec(select(DigestTally))).all()
    assert {"buses", "libraries", "roads", "parking"} <= set(themes)

    # Moderation: hidden, shown again, and the held one cleared.
    status, _ = await api.call("POST", f"/api/v1/admin/responses/{refs[0]}/hide", json={"reason": "abuse"},
                               headers=ADMIN)
    assert status == 200
    await _agree(db, "hidden")
    await api.call("POST", f"/api/v1/admin/responses/{refs[0]}/restore", json={"reason": "fine"}, headers=ADMIN)
    await api.call("POST", f"/api/v1/admin/responses/{refs[6]}/restore", json={"reason": "checked"}, headers=ADMIN)
    await _agree(db, "restored and cleared")

    # Withdrawn by the respondent.
    status, _ = await api.call("DELETE", f"/api/v1/responses/{refs[2]}",
                               headers={"X-Withdrawal-Token": tokens[refs[2]]})
    assert status == 204
    await _agree(db, "withdrawn")

    # A person's edits: rename and hide move nothing; merges, a split and reassignments move responses.
    buses, library, roads, parking = (themes[k].id for k in ("buses", "libraries", "roads", "parking"))
    await api.call("PATCH", f"/api/v1/admin/themes/{library}",
                   json={"label": {"en": "Library closures", "cy": "Cau llyfrgelloedd"}}, headers=ADMIN)
    await api.call("PATCH", f"/api/v1/admin/themes/{parking}", json={"hidden": True}, headers=ADMIN)
    await _agree(db, "renamed and hidden")
    status, _ = await api.call("POST", f"/api/v1/admin/themes/{roads}/merge", json={"into": buses}, headers=ADMIN)
    assert status == 200
    data = await _agree(db, "roads merged into buses")
    assert "roads" not in {t["key"] for t in data["themes"]}
    status, _ = await api.call("POST", f"/api/v1/admin/themes/{buses}/merge", json={"into": library}, headers=ADMIN)
    assert status == 200  # roads follows buses into the library theme
    await _agree(db, "buses (with roads) merged into libraries")
    status, split = await api.call("POST", f"/api/v1/admin/themes/{library}/split",
                                   json={"responses": [refs[8]], "label": {"en": "Mixed", "cy": "Cymysg"}},
                                   headers=ADMIN)
    assert status == 201, split
    await _agree(db, "split")
    status, _ = await api.call("PUT", f"/api/v1/admin/responses/{refs[9]}/themes",
                               json={"themes": [library, parking]}, headers=ADMIN)
    assert status == 200
    status, _ = await api.call("PUT", f"/api/v1/admin/responses/{refs[5]}/themes", json={"themes": []},
                               headers=ADMIN)
    assert status == 200
    await api.call("POST", f"/api/v1/admin/themes/{library}/pin", json={"reference": refs[7]}, headers=ADMIN)
    await api.call("PATCH", f"/api/v1/admin/themes/{parking}", json={"hidden": False}, headers=ADMIN)
    await _agree(db, "reassigned, pinned, shown again")

    # Reanalysis by an analyser that reads every text differently (more themes, other sentiment).
    def changed(text, language=None, names=()):
        return analysis.analyse((text or "") + " But parking is awful and the buses are dreadful.", language, names)

    async with db.session() as s:
        consultation = (await s.exec(select(Consultation).where(Consultation.slug == "bws"))).one()
        await edits.mark_for_reanalysis(s, consultation.id)
        await s.commit()
    again = AnalysisWorker(db, analyse=changed)
    while await again.reanalyse_stale():
        pass
    await _agree(db, "reanalysed")

    # One response's analysis fails for good on reanalysis: it leaves what is counted as analysed.
    def broken(text, language=None, names=()):
        raise RuntimeError("analyser down")

    async with db.session() as s:
        response = (await s.exec(select(Response).where(Response.reference == refs[3]))).one()
        response.analyser_version = None
        s.add(response)
        await s.commit()
    failing = AnalysisWorker(db, analyse=broken)
    for _ in range(MAX_ATTEMPTS):
        await failing.reanalyse_stale()
    async with db.session() as s:
        assert (await s.exec(select(Response.analysis_state).where(Response.reference == refs[3]))).one() == "failed"
    await _agree(db, "failed for good")

    # New responses waiting for analysis (the submission path keeps no totals), then analysed.
    late = [await _submit(api, {"text": "The library café is lovely and the buses stop right outside."}),
            await _submit(api, {"text": "The library café is lovely and the buses stop right outside."})]
    data = await _agree(db, "waiting")
    assert data["counts"]["pending"] == 2 and data["counts"]["duplicates"] == 2  # the failed one waits too
    await worker.analyse_pending()
    await _agree(db, "analysed at last")
    assert late


async def test_recount_repairs_the_totals_and_check_finds_what_drifted(api, db, scene):
    await api.app[ANALYSER].analyse_pending()
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation).where(Consultation.slug == "bws"))).one()
        assert not await tallies.check(s, consultation.id)
        # Changed behind the upkeep's back: a stored total and a quote candidate go wrong.
        row = (await s.exec(select(DigestTally).where(DigestTally.consultation_id == consultation.id,
                                                      DigestTally.kind == "theme"))).first()
        row.n += 5
        s.add(row)
        candidate = (await s.exec(select(QuoteCandidate))).first()
        await s.delete(candidate)
        await s.commit()
    async with db.session() as s:
        drift = await tallies.check(s, consultation.id)
        assert [(key[0], stored[0] - counted[0]) for key, stored, counted in drift.tallies] == [("theme", 5)]
        assert len(drift.candidates_missing) == 1 and not drift.candidates_extra
        await tallies.recount(s, consultation.id)
        await s.commit()
    async with db.session() as s:
        assert not await tallies.check(s, consultation.id)


async def test_the_recount_command_checks_and_repairs(sqlite_url, tmp_path):
    import os
    import subprocess
    import sys

    from storage.db import Database
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    db = Database.from_url(sqlite_url)
    try:
        await seed_consultation(db)
        async with db.session() as s:
            consultation = (await s.exec(select(Consultation))).one()
            s.add_all([Response(consultation_id=consultation.id, reference=f"REF-{n}", withdrawal_token_hash="x",
                                text=text) for n, text in enumerate(("Mae'r bysiau yn ofnadwy.",
                                                                     "The library is wonderful."))])
            await s.commit()
        await AnalysisWorker(db).analyse_pending()
        async with db.session() as s:  # changed behind the upkeep's back
            await s.exec(DigestTally.__table__.update().where(DigestTally.kind == "count")
                         .values(n=DigestTally.n + 1))
            await s.commit()
    finally:
        await db.dispose()
    env = {**os.environ, "CYSWLLT_DATABASE_URL": sqlite_url}
    run = [sys.executable, "-m", "cyswllt.cli", "db", "recount"]
    proc = subprocess.run(run + ["--check"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stdout.strip() == "bws: 2 total(s) and 0 quote candidate(s) differ"
    proc = subprocess.run(run, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0 and "counted again" in proc.stdout, proc.stderr[-2000:]
    proc = subprocess.run(run + ["--check", "--consultation", "bws"], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    assert (proc.returncode, proc.stdout.strip()) == (0, "bws: right")
    proc = subprocess.run(run + ["--consultation", "nope"], capture_output=True, text=True, timeout=120, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 2 and "no consultation “nope”" in proc.stderr
