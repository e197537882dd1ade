"""`cyswllt teams package`: a manifest Teams accepts, with English and Welsh command hints."""

from __future__ import annotations

import json
import zipfile

import pytest
from PIL import Image

from cyswllt.cli import main

APP_ID = "6b3ad2b5-1111-4c4c-9a9a-0123456789ab"


def test_package_holds_manifest_welsh_localisation_and_icons(tmp_path, monkeypatch):
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("CYSWLLT_BASE_URL", "https://cyswllt.example.gov.wales/")
    out = tmp_path / "cyswllt.zip"
    assert main(["teams", "package", "--output", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "cy.json", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        welsh = json.loads(archive.read("cy.json"))
        assert Image.open(archive.open("color.png")).size == (192, 192)
        outline = Image.open(archive.open("outline.png"))
        assert outline.size == (32, 32) and outline.mode == "RGBA"
    assert manifest["manifestVersion"] == "1.30" and "/v1.30/" in manifest["$schema"]
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["validDomains"] == ["cyswllt.example.gov.wales"]
    assert len(manifest["description"]["short"]) <= 80 and len(welsh["description.short"]) <= 80
    assert len(manifest["name"]["full"]) <= 100 and len(welsh["name.full"]) <= 100
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    assert len(commands) <= 10
    titles = [c["title"] for c in commands]
    assert titles[:4] == ["help", "actions", "update", "status"] and "board" in titles
    assert all(len(c["description"]) <= 128 for c in commands)
    assert "(cymorth)" in commands[0]["description"]
    assert manifest["localizationInfo"]["additionalLanguages"] == [{"languageTag": "cy-gb", "file": "cy.json"}]
    welsh_titles = [welsh[f"bots[0].commandLists[0].commands[{i}].title"] for i in range(len(commands))]
    assert welsh_titles[:4] == ["cymorth", "camau", "diweddaru", "statws"] and "craffu rhestr" in welsh_titles
    assert "Gymraeg" in welsh["description.short"]


@pytest.mark.parametrize("env, words", [
    ({"CYSWLLT_BASE_URL": "https://cyswllt.example.gov.wales"}, "TEAMS_APP_ID"),
    ({"TEAMS_APP_ID": "not-a-guid", "CYSWLLT_BASE_URL": "https://cyswllt.example.gov.wales"}, "GUID"),
    ({"TEAMS_APP_ID": APP_ID}, "CYSWLLT_BASE_URL"),
])
def test_package_without_what_it_needs_is_a_clear_error(tmp_path, monkeypatch, capsys, env, words):
    for name in ("TEAMS_APP_ID", "CYSWLLT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "p.zip"
    assert main(["teams", "package", "--output", str(out)]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


def test_the_package_points_at_the_publishers_privacy_notice_and_terms():
    from bot.teams.package import manifest
    from cyswllt.settings import Settings

    data = manifest(Settings(TEAMS_APP_ID="00000000-0000-0000-0000-000000000001",
                             CYSWLLT_BASE_URL="https://cyswllt.mon.example.cymru/",
                             CYSWLLT_PUBLISHER_NAME="Bwrdd Gwasanaethau Cyhoeddus Môn"))
    developer = data["developer"]
    assert developer["privacyUrl"] == "https://cyswllt.mon.example.cymru/privacy"
    assert developer["termsOfUseUrl"] == "https://cyswllt.mon.example.cymru/terms"
    assert developer["name"] == "Bwrdd Gwasanaethau Cyhoeddus Môn"
