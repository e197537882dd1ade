"""Hostile and malformed requests to the public and admin JSON API: always a clear 4xx, never a 5xx,
and nothing already stored is lost — on SQLite and PostgreSQL."""

import gzip

from sqlmodel import select

from storage.models import Answer, Question, Response
from tests.engagement_api.conftest import seed_consultation

ADMIN = {"Authorization": "Bearer tok", "Content-Type": "application/json"}
JSON = {"Content-Type": "application/json"}
URL = "/api/v1/consultations/bws/responses"
CONSULTATION = {"title_en": "Housing", "title_cy": "Tai", "summary_en": "s", "summary_cy": "s"}


async def texts(db):
    async with db.session() as s:
        return sorted(t for t in (await s.exec(select(Response.text))).all() if t)


async def test_public_api_refuses_malformed_bodies_plainly(api, db):
    await seed_consultation(db)
    assert (await api.call("POST", URL, json={"text": "keep me"}))[0] == 201
    cases = [
        (b'{"text": "\\ud800 alone"}', {}, 400),  # a lone surrogate is not text
        (b"[" * 5000 + b"]" * 5000, {}, 400),  # nested too deep to parse
        (b"1e999999", {}, 400),
        (b"not gzip at all", {"Content-Encoding": "gzip"}, 400),
        (gzip.compress(b"{broken"), {"Content-Encoding": "gzip"}, 400),
        (b'{"text": "x", "answers": {"q1": null}}', {}, 400),
        (b'{"text": "x", "language": "fr"}', {}, 400),
        (b'{"answers": {"' + b"k" * 200 + b'": "x"}}', {}, 422),
    ]
    for body, headers, expected in cases:
        status, reply = await api.call("POST", URL, data=body, headers={**JSON, **headers})
        assert status == expected, (body[:40], status, reply)
        assert isinstance(reply, dict) and reply["error"], reply
    assert await texts(db) == ["keep me"]


async def test_nul_characters_are_dropped_not_fatal(api, db):
    await seed_consultation(db)
    status, _ = await api.call("POST", URL, json={"text": "before\u0000after", "answers": {"q1": "a\u0000b"}})
    assert status == 201
    assert await texts(db) == ["beforeafter"]
    async with db.session() as s:
        assert (await s.exec(select(Answer.text))).all() == ["ab"]


async def test_gzip_bodies_that_are_valid_are_accepted(api, db):
    await seed_consultation(db)
    body = gzip.compress('{"text": "Mae angen bws i Ŵyl y Gŵr"}'.encode())
    status, _ = await api.call("POST", URL, data=body, headers={**JSON, "Content-Encoding": "gzip"})
    assert status == 201 and await texts(db) == ["Mae angen bws i Ŵyl y Gŵr"]


async def test_admin_api_refuses_bad_consultations_plainly(api, db):
    await seed_consultation(db)
    cases = [
        {**CONSULTATION, "slug": "twice", "questions": [{"id": "q1", "text_en": "a", "text_cy": "b"},
                                                        {"id": "q1", "text_en": "c", "text_cy": "d"}]},
        {**CONSULTATION, "slug": "far-future", "opens": "9999-12-31T00:00:00+00:00"},
        {**CONSULTATION, "slug": "far-past", "opens": "0001-01-01T00:00:00+00:00",
         "closes": "0001-06-01T00:00:00+00:00"},
    ]
    for body in cases:
        status, reply = await api.call("POST", "/api/v1/admin/consultations", json=body, headers=ADMIN)
        assert status == 422, (body["slug"], status, reply)
    for query in ("offset=99999999999999999999", "limit=99999999999999999999", "offset=-5"):
        status, reply = await api.call("GET", f"/api/v1/admin/consultations/bws/responses?{query}", headers=ADMIN)
        assert status in (200, 400), (query, status, reply)


async def test_questions_can_be_edited_after_answers_arrive(api, db):
    await seed_consultation(db)
    assert (await api.call("POST", URL, json={"answers": {"q1": "Sunday buses", "welsh-language": "Da"}}))[0] == 201
    # Reword q1 and add q2: the answer to q1 stays with q1.
    status, reply = await api.call("PATCH", "/api/v1/admin/consultations/bws", headers=ADMIN, json={
        "questions": [{"id": "q1", "text_en": "What do you think of the buses?", "text_cy": "Beth yw eich barn?"},
                      {"id": "q2", "text_en": "Anything else?", "text_cy": "Unrhyw beth arall?"}]})
    assert status == 200, reply
    async with db.session() as s:
        rows = (await s.exec(select(Question.key, Question.text_en, Answer.text).join(
            Answer, Answer.question_id == Question.id, isouter=True).order_by(Question.position))).all()
    assert [(k, a) for k, _, a in rows] == [("q1", "Sunday buses"), ("q2", None), ("welsh-language", "Da")]
    assert rows[0][1] == "What do you think of the buses?"
    # Removing a question that has answers is refused, naming it; nothing changes.
    status, reply = await api.call("PATCH", "/api/v1/admin/consultations/bws", headers=ADMIN, json={
        "questions": [{"id": "q2", "text_en": "Anything else?", "text_cy": "Unrhyw beth arall?"}]})
    assert status == 422 and "q1" in reply["error"], reply
    _, public = await api.call("GET", "/api/v1/consultations/bws")
    assert [q["id"] for q in public["questions"]] == ["q1", "q2", "welsh-language"]
    # A question nobody has answered can go.
    status, _ = await api.call("PATCH", "/api/v1/admin/consultations/bws", headers=ADMIN, json={
        "questions": [{"id": "q1", "text_en": "Buses?", "text_cy": "Bysiau?"}]})
    assert status == 200
    _, public = await api.call("GET", "/api/v1/consultations/bws")
    assert [q["id"] for q in public["questions"]] == ["q1", "welsh-language"]
