"""Every example the coordinator found when trying the analysis ("Consultation analysis a coordinator can
trust") is a regression test here, or named beside the test that covers it."""

import csv
import io
import json

import pytest
from sqlmodel import select

from engagement.analysis import analyse, detect_language, redact
from engagement.analysis.csvtool import analyse_csv
from engagement.digest.build import build_data
from engagement.worker import ANALYSER
from storage.models import Consultation, utcnow
from tests.engagement_api.conftest import seed_consultation

# A well-being plan consultation as the coordinator tried it: both languages, for and against.
RESPONSES = [
    "It is impossible to get a GP appointment before 8.05 in the morning.",
    "Our GP surgery is brilliant, thank you to the receptionists.",
    "Mae'n amhosib cael apwyntiad gyda'r meddyg teulu.",
    "Waited three weeks to see a doctor.",
    "Mae'r feddygfa wedi gwella'n fawr eleni.",
    "The doctors at the health centre did a fantastic job with very little money.",
    "Affordable housing for local people, please.",
    "Mae angen tai fforddiadwy i bobl ifanc yr ardal.",
    "Litter on the beach is disgusting every weekend.",
    "Mae'r sbwriel yn y parc yn ofnadwy.",
    "Excellent Welsh-medium school but the school bus takes over an hour.",
    "Mae'r ysgol Gymraeg yn llawn; plîs ailagorwch yr hen ysgol erbyn y gaeaf.",
    "We need jobs for young people so they can stay.",
    "Rydych chi'n gwneud gwaith gwych, sef y peth pwysicaf, wrth fy modd.",
    "Mae angen mwy o gymorth iechyd meddwl i bobl ifanc.",
    "The youth club has closed and there is nothing for teenagers in town.",
]


async def test_the_digest_names_the_topics_people_raised(api, db):
    await seed_consultation(db)
    for text in RESPONSES:
        status, _ = await api.call("POST", "/api/v1/consultations/bws/responses", json={"text": text})
        assert status == 201
    await api.app[ANALYSER].analyse_pending()
    async with db.session() as s:
        consultation = (await s.exec(select(Consultation))).one()
        data = await build_data(s, consultation, None, utcnow())
    themes = {t["key"]: t for t in data["themes"]}
    # GP access (six responses), housing, litter and Welsh-medium schools were missing; now they lead.
    assert data["themes"][0]["key"] == "gp_appointments" and themes["gp_appointments"]["count"] == 6
    assert {"housing", "litter", "welsh_medium_education"} <= set(themes)
    assert {"mental_health", "jobs", "youth_services"} <= set(data["theme_keys"])  # beyond the top eight
    labels = {t["label_en"] for t in data["themes"]} | {t["label_cy"] for t in data["themes"]}
    for not_a_topic in ("job", "money", "town", "awr", "plîs ailagorwch", "rhydych", "sef", "ôl", "caeaf", "bodd",
                        "cymorth iechyd"):
        assert not_a_topic not in {label.lower() for label in labels}
    assert themes["welsh_medium_education"]["label_cy"] == "Addysg cyfrwng Cymraeg"
    # "a fantastic job with very little money" counts neither as jobs nor as positive money: the only
    # jobs response is "jobs for young people", and no "money" theme exists.
    assert "money" not in data["theme_keys"]
    assert "jobs" not in themes or themes["jobs"]["count"] == 1
    # Each theme raised in both languages has one key, labelled in each.
    assert themes["gp_appointments"]["languages"] == ["cy", "en"] and themes["housing"]["languages"] == ["cy", "en"]


def test_sentiment_is_per_theme_not_per_response():
    result = analyse("excellent school but the school bus takes over an hour")
    assert {t.key: t.sentiment for t in result.themes} == {"schools": "positive", "school_transport": "negative"}


@pytest.mark.parametrize("text", ["wrth fy modd", "yn anffodus", "trueni", "delfrydol", "argymell", "rhyfeddol",
                                  "amhosib"])
def test_the_missing_welsh_evaluative_words_are_known(text):
    assert analyse(f"Mae'n {text}", "cy").sentiment != "neutral" or analyse(text, "cy").sentiment != "neutral"


def test_ta_waeth_is_not_a_mutated_gwaeth():
    assert analyse("Ta waeth, roedd y staff yn garedig", "cy").sentiment == "positive"


@pytest.mark.parametrize("text, language", [
    ("The staff at Tŷ Hafan were wonderful", "en"),
    ("Mae'r bus service yn awful ers mis Medi", "cy"),
    ("Ie", "cy"),
])
def test_language_examples(text, language):
    assert detect_language(text) == language


def test_personal_data_examples():
    shown = redact("My name is Sian Jones, I live at 12 High Street, NI number QQ 12 34 56 C, "
                   "email john at example dot com.")
    for personal in ("Sian", "Jones", "12 High Street", "QQ 12 34 56 C", "john at example dot com"):
        assert personal not in shown


def test_a_childs_name_with_a_health_detail_is_held_and_never_a_theme():
    result = analyse("My son Dylan has asthma and the park is the only place he can play.")
    assert result.held == ("health", "child")
    assert "Dylan" not in json.dumps([t.label("en") for t in result.themes] + result.theme_keys)


def test_analyse_writes_one_row_for_each_row_even_with_carriage_returns():
    rows = [f"Response {n}\rwith a bare carriage return" if n % 17 == 0 else f"Response {n}" for n in range(600)]
    source = io.StringIO(newline="")
    writer = csv.writer(source)
    writer.writerow(["text"])
    writer.writerows([r] for r in rows)
    source.seek(0)
    out = io.StringIO(newline="")
    assert analyse_csv(source, out) == 600
    assert len(list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))) == 600
