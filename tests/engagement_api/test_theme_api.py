"""The admin theme API over real HTTP on SQLite and PostgreSQL: list, rename, hide, merge, split, pin,
reassign, sign off — each edit recorded with who and when, kept across reanalysis, in every digest —
and bad ids or bodies a 4xx, never a 5xx."""

from sqlmodel import select

from engagement.digest.build import build_data
from engagement.worker import ANALYSER
from storage.models import Consultation, Response, ThemeEdit, ThemePin, utcnow
from tests.engagement_api.conftest import seed_consultation

ADMIN = {"Authorization": "Bearer tok", "X-Cyswllt-Actor-Name": "Nia Admin",
         "X-Cyswllt-Actor-Email": "nia@example.cymru"}
TEXTS = [
    "The buses are late every single morning.",
    "Mae'r bysiau yn wych, diolch i'r gyrwyr.",
    "The bus timetable is confusing and the library is closing.",
    "The library is a lifeline for older people.",
    "Potholes on the main road are dangerous.",
]


async def _setup(api, db):
    await seed_consultation(db)
    references = []
    for text in TEXTS:
        _, created = await api.call("POST", "/api/v1/consultations/bws/responses", json={"text": text})
        references.append(created["reference"])
    await api.app[ANALYSER].analyse_pending()
    status, listing = await api.call("GET", "/api/v1/admin/consultations/bws/themes", headers=ADMIN)
    assert status == 200
    return references, {item["key"]: item for item in listing["items"]}, listing


async def _digest(db):
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation))).one()
        return await build_data(s, consultation, None, utcnow())


async def test_the_list_has_counts_sentiment_labels_and_sign_off(api, db):
    _, themes, listing = await _setup(api, db)
    buses = themes["buses"]
    assert set(buses) >= {"id", "key", "label", "responses", "sentiment", "hidden", "signed_off"}
    assert buses["label"] == {"en": "Buses", "cy": "Bysiau"} and buses["responses"] == 3
    assert buses["sentiment"] == {"positive": 1, "neutral": 0, "negative": 2}
    assert listing["signed_off"] is False and not buses["hidden"]
    assert [i["key"] for i in listing["items"]][:2] == ["buses", "libraries"]  # most raised first


async def test_rename_hide_merge_split_pin_reassign_and_sign_off(api, db):
    references, themes, _ = await _setup(api, db)
    buses, library, roads = themes["buses"]["id"], themes["libraries"]["id"], themes["roads"]["id"]
    status, renamed = await api.call("PATCH", f"/api/v1/admin/themes/{library}",
                                     json={"label": {"en": "Library closures", "cy": "Cau llyfrgelloedd"}}, headers=ADMIN)
    assert status == 200 and renamed["label"] == {"en": "Library closures", "cy": "Cau llyfrgelloedd"}
    status, _ = await api.call("PATCH", f"/api/v1/admin/themes/{roads}", json={"hidden": True}, headers=ADMIN)
    assert status == 200
    data = await _digest(db)
    assert [t["label_cy"] for t in data["themes"]] == ["Bysiau", "Cau llyfrgelloedd"]  # roads hidden
    # Split the timetable complaint out of the buses, then merge it back.
    status, split = await api.call("POST", f"/api/v1/admin/themes/{buses}/split",
                                   json={"responses": [references[2]], "label": {"en": "Timetables", "cy": "Amserlenni"}},
                                   headers=ADMIN)
    assert status == 201 and split["key"] == "split-1"
    data = await _digest(db)
    counts = {t["label_en"]: t["count"] for t in data["themes"]}
    assert counts == {"Buses": 2, "Library closures": 2, "Timetables": 1}
    status, _ = await api.call("POST", f"/api/v1/admin/themes/{split['id']}/merge", json={"into": buses},
                               headers=ADMIN)
    assert status == 200
    assert {t["label_en"]: t["count"] for t in (await _digest(db))["themes"]}["Buses"] == 3
    # Pin a quote; reassign a response's themes.
    status, _ = await api.call("POST", f"/api/v1/admin/themes/{library}/pin", json={"reference": references[3]},
                               headers=ADMIN)
    assert status == 201
    status, body = await api.call("PUT", f"/api/v1/admin/responses/{references[4]}/themes", json={"themes": [buses]},
                                  headers=ADMIN)
    assert status == 200 and body["themes"] == [buses]
    status, signed = await api.call("POST", "/api/v1/admin/consultations/bws/themes/sign-off", headers=ADMIN)
    assert status == 201 and signed["signed_off"] is True
    async with db.session() as s:
        edits = (await s.exec(select(ThemeEdit).order_by(ThemeEdit.id))).all()
        pins = (await s.exec(select(ThemePin))).all()
    assert [e.action for e in edits] == ["rename", "hide", "split", "merge", "pin", "reassign", "sign-off"]
    assert {(e.actor_name, e.actor_email) for e in edits} == {("Nia Admin", "nia@example.cymru")}
    assert all(e.created_at is not None for e in edits) and len(pins) == 1
    # Reanalysis keeps every edit; a response analysed after sign-off marks it updated.
    async with db.session() as s:
        await s.exec(Response.__table__.update().values(analyser_version=None))
        await s.commit()
    await api.app[ANALYSER].reanalyse_stale()
    _, listing = await api.call("GET", "/api/v1/admin/consultations/bws/themes", headers=ADMIN)
    labels = {i["label"]["en"]: i for i in listing["items"]}
    assert labels["Library closures"]["label"]["cy"] == "Cau llyfrgelloedd" and labels["Roads and potholes"]["hidden"]
    assert labels["Buses"]["responses"] == 4  # the timetable merged back, the pothole response reassigned
    assert listing["updated_since"] is True and listing["signed_off"] is False


async def test_bad_ids_and_bodies_are_4xx_never_5xx(api, db):
    references, themes, _ = await _setup(api, db)
    buses = themes["buses"]["id"]
    cases = [
        ("GET", "/api/v1/admin/consultations/nope/themes", None, 404),
        ("PATCH", "/api/v1/admin/themes/999999", {"hidden": True}, 404),
        ("PATCH", "/api/v1/admin/themes/abc", {"hidden": True}, 404),
        ("PATCH", "/api/v1/admin/themes/99999999999999999999", {"hidden": True}, 404),
        ("PATCH", f"/api/v1/admin/themes/{buses}", {"label": {"en": "", "cy": "x"}}, 422),
        ("PATCH", f"/api/v1/admin/themes/{buses}", {"label": {"en": "x" * 201, "cy": "x"}}, 422),
        ("PATCH", f"/api/v1/admin/themes/{buses}", {"colour": "red"}, 422),
        ("PATCH", f"/api/v1/admin/themes/{buses}", "not json", 422),
        ("POST", f"/api/v1/admin/themes/{buses}/merge", {"into": buses}, 409),
        ("POST", f"/api/v1/admin/themes/{buses}/merge", {"into": 424242}, 422),
        ("POST", f"/api/v1/admin/themes/{buses}/merge", {"into": "x"}, 422),
        ("POST", f"/api/v1/admin/themes/{buses}/split", {"responses": ["NOPE-1"], "label": {"en": "a", "cy": "b"}}, 422),
        ("POST", f"/api/v1/admin/themes/{buses}/split", {"responses": [], "label": {"en": "a", "cy": "b"}}, 422),
        ("POST", f"/api/v1/admin/themes/{buses}/pin", {"reference": "NOPE-1"}, 404),
        ("POST", f"/api/v1/admin/themes/{buses}/pin", {"reference": references[3]}, 422),  # not about buses
        ("PUT", "/api/v1/admin/responses/NOPE-1/themes", {"themes": [buses]}, 404),
        ("PUT", f"/api/v1/admin/responses/{references[0]}/themes", {"themes": [424242]}, 422),
        ("PUT", f"/api/v1/admin/responses/{references[0]}/themes", {"themes": "buses"}, 422),
        ("POST", "/api/v1/admin/consultations/nope/themes/sign-off", None, 404),
    ]
    for method, path, body, expected in cases:
        kwargs = {"data": body} if isinstance(body, str) else {"json": body}
        status, answer = await api.call(method, path, headers=ADMIN, **kwargs)
        assert status == expected, (method, path, body, status, answer)
    status, _ = await api.call("GET", "/api/v1/admin/consultations/bws/themes")
    assert status == 401


async def test_the_theme_api_is_in_openapi(api, db):
    status, spec = await api.call("GET", "/api/v1/openapi.json")
    assert status == 200
    paths = spec["paths"]
    for path, method in [("/api/v1/admin/consultations/{slug}/themes", "get"),
                         ("/api/v1/admin/themes/{id}", "patch"), ("/api/v1/admin/themes/{id}/merge", "post"),
                         ("/api/v1/admin/themes/{id}/split", "post"), ("/api/v1/admin/themes/{id}/pin", "post"),
                         ("/api/v1/admin/responses/{reference}/themes", "put"),
                         ("/api/v1/admin/consultations/{slug}/themes/sign-off", "post")]:
        assert method in paths[path], (path, method)
