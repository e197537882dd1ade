"""Admin views of responses and groups: answers by question (redacted), filters, CSV safe to open in a
spreadsheet, and group coordinators — over real HTTP on SQLite and PostgreSQL."""

import csv
import io

from sqlmodel import select

from engagement.worker import ANALYSER
from storage.models import Person
from tests.engagement_api.conftest import seed_consultation

ADMIN = {"Authorization": "Bearer tok"}
URL = "/api/v1/consultations/bws/responses"


async def test_answers_are_listed_and_exported_redacted_and_formula_safe(api, db):
    await seed_consultation(db)
    await api.call("POST", URL, json={
        "answers": {"q1": "=HYPERLINK(\"http://evil\") ring Jo Bloggs on 07700 900123",
                    "welsh-language": "Da iawn i'r Gymraeg, e-bostiwch jo@example.com"},
        "anonymous": False, "name": "Jo Bloggs", "email": "jo@example.com", "contact_consent": True,
        "language": "en"})
    await api.call("POST", URL, json={"text": "Mae'r bws yn ofnadwy", "language": "cy", "group": "bws-young"})
    pending_status, pending = await api.call("GET", "/api/v1/admin/consultations/bws/responses", headers=ADMIN)
    # Before analysis nothing is shown: the redacted text does not exist yet.
    assert pending_status == 200 and all(i["text"] is None and i["answers"] == {} for i in pending["items"])
    await api.app[ANALYSER].analyse_pending()

    _, listing = await api.call("GET", "/api/v1/admin/consultations/bws/responses", headers=ADMIN)
    first, second = listing["items"]
    assert set(first["answers"]) == {"q1", "welsh-language"}
    everything = repr(listing)
    for personal in ("Jo Bloggs", "07700", "jo@example.com"):
        assert personal not in everything

    status, text = await api.call("GET", "/api/v1/admin/consultations/bws/responses.csv", headers=ADMIN)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[-2:] == ["answer:q1", "answer:welsh-language"]
    assert rows[0]["answer:q1"].startswith("'=HYPERLINK")  # shown as text, never run as a formula
    for personal in ("Jo Bloggs", "07700", "jo@example.com"):
        assert personal not in text

    # Filters: by language, group and sentiment; moderation state after hiding one.
    _, welsh = await api.call("GET", "/api/v1/admin/consultations/bws/responses?language=cy", headers=ADMIN)
    assert [i["reference"] for i in welsh["items"]] == [second["reference"]]
    _, young = await api.call("GET", "/api/v1/admin/consultations/bws/responses?group=bws-young", headers=ADMIN)
    assert [i["reference"] for i in young["items"]] == [second["reference"]]
    _, negative = await api.call("GET", "/api/v1/admin/consultations/bws/responses?sentiment=negative", headers=ADMIN)
    assert second["reference"] in [i["reference"] for i in negative["items"]]
    await api.call("POST", f"/api/v1/admin/responses/{first['reference']}/hide", headers=ADMIN,
                   json={"reason": "Contains a link"})
    _, hidden = await api.call("GET", "/api/v1/admin/consultations/bws/responses?moderation_state=hidden",
                               headers=ADMIN)
    assert [(i["reference"], i["moderation_reason"]) for i in hidden["items"]] == [
        (first["reference"], "Contains a link")]
    _, page = await api.call("GET", "/api/v1/admin/consultations/bws/responses?offset=1&limit=1", headers=ADMIN)
    assert [i["reference"] for i in page["items"]] == [second["reference"]]


async def test_group_coordinators_are_known_people(api, db):
    async with db.session() as s:
        s.add(Person(email="Cydlynydd@example.cymru", name="Siân ap Dafydd", language="cy"))
        await s.commit()
    status, group = await api.call("POST", "/api/v1/admin/groups", headers=ADMIN, json={
        "slug": "siaradwyr", "name_en": "Welsh speakers", "name_cy": "Siaradwyr Cymraeg", "language": "cy",
        "coordinators": ["cydlynydd@example.cymru"]})
    assert status == 201 and group["coordinators"] == ["Cydlynydd@example.cymru"]
    status, reply = await api.call("PATCH", "/api/v1/admin/groups/siaradwyr", headers=ADMIN,
                                   json={"coordinators": ["nobody@example.com"]})
    assert status == 422 and "nobody@example.com" in reply["error"]
    _, groups = await api.call("GET", "/api/v1/admin/groups", headers=ADMIN)
    assert groups["items"][0]["coordinators"] == ["Cydlynydd@example.cymru"]  # unchanged by the refusal
    status, group = await api.call("PATCH", "/api/v1/admin/groups/siaradwyr", headers=ADMIN,
                                   json={"coordinators": []})
    assert status == 200 and group["coordinators"] == []


async def test_a_groups_email_address_is_where_its_digests_go(api, db):
    """A group's email address (a coordinator's, or a list) is set, shown, refused when it is not an
    address (nothing changed), and removed with ""; the digest's delivery reads it from the group's
    addresses."""
    from storage.models import StakeholderGroup
    from storage.reach import addresses_of

    status, group = await api.call("POST", "/api/v1/admin/groups", headers=ADMIN, json={
        "slug": "pobl-ifanc", "name_en": "Young people", "name_cy": "Pobl ifanc",
        "email": " pobl-ifanc@rhestr.example.cymru "})
    assert status == 201 and group["email"] == "pobl-ifanc@rhestr.example.cymru"
    status, reply = await api.call("PATCH", "/api/v1/admin/groups/pobl-ifanc", headers=ADMIN,
                                   json={"email": "john at example dot com", "name_en": "Youth"})
    assert status == 422 and "email" in str(reply)
    _, groups = await api.call("GET", "/api/v1/admin/groups", headers=ADMIN)
    assert [(g["name_en"], g["email"]) for g in groups["items"]] == [("Young people", "pobl-ifanc@rhestr.example.cymru")]
    async with db.session() as s:
        row = (await s.exec(select(StakeholderGroup))).one()
        assert await addresses_of(s, row) == {"email": "pobl-ifanc@rhestr.example.cymru"}
    status, group = await api.call("PATCH", "/api/v1/admin/groups/pobl-ifanc", headers=ADMIN, json={"email": ""})
    assert status == 200 and group["email"] is None
    async with db.session() as s:
        assert await addresses_of(s, (await s.exec(select(StakeholderGroup))).one()) == {}


async def test_public_count_leaves_out_hidden_and_withdrawn_responses(api, db):
    await seed_consultation(db)
    sent = [(await api.call("POST", URL, json={"text": f"Response number {i}"}))[1] for i in range(3)]
    assert (await api.call("GET", "/api/v1/consultations/bws"))[1]["responses"] == 3
    await api.call("POST", f"/api/v1/admin/responses/{sent[0]['reference']}/hide", headers=ADMIN,
                   json={"reason": "Abusive"})
    await api.call("DELETE", f"/api/v1/responses/{sent[1]['reference']}",
                   headers={"X-Withdrawal-Token": sent[1]["withdrawal_token"]})
    assert (await api.call("GET", "/api/v1/consultations/bws"))[1]["responses"] == 1
    _, admin = await api.call("GET", "/api/v1/admin/consultations", headers=ADMIN)
    assert admin["items"][0]["responses"] == {"received": 3, "visible": 1, "hidden": 1, "withdrawn": 1}
    await api.call("POST", f"/api/v1/admin/responses/{sent[0]['reference']}/restore", headers=ADMIN,
                   json={"reason": "Reviewed: not abusive"})
    assert (await api.call("GET", "/api/v1/consultations/bws"))[1]["responses"] == 2


async def test_admin_problems_are_told_in_welsh_when_asked(api, db):
    short = {"slug": "byr", "title_en": "Short", "title_cy": "Byr", "summary_en": "s", "summary_cy": "s",
             "opens": "2026-11-01T09:00:00+00:00", "closes": "2026-12-01T09:00:00+00:00"}
    status, body = await api.call("POST", "/api/v1/admin/consultations?lang=cy", json=short, headers=ADMIN)
    assert status == 422 and "o leiaf 8 wythnos" in body["error"]
    status, body = await api.call("PATCH", "/api/v1/admin/groups/dim", json={"name_en": "x"},
                                  headers={**ADMIN, "Accept-Language": "cy"})
    assert status == 404 and body["error"] == "Does dim grŵp rhanddeiliaid gyda'r slug hwnnw"
