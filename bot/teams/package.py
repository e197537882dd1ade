"""``cyswllt teams package``: the Teams app package (manifest.json, Welsh localisation, icons) as a zip."""

from __future__ import annotations

import json
import re
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cyswllt.cli import CommandError
from cyswllt.i18n import t
from cyswllt.settings import Settings

# The current app manifest schema (August 2026); the bot, command and localisation parts used here
# are unchanged since 1.17.
MANIFEST_VERSION = "1.30"
SCHEMA = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
LOCALISATION_SCHEMA = (f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/"
                       "MicrosoftTeams.Localization.schema.json")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SCOPES = ["personal", "team", "groupChat"]
# (English word, Welsh word, catalogue key) in the order Teams shows them.
COMMANDS = [
    ("help", "cymorth", "help"),
    ("actions", "camau", "actions"),
    ("update", "diweddaru", "update"),
    ("status", "statws", "status"),
    ("scrutiny", "craffu", "scrutiny"),
    ("scrutiny list", "craffu rhestr", "scrutiny_list"),
    ("digest", "crynodeb", "digest"),
    ("lang", "iaith", "lang"),
    ("board", "bwrdd", "board"),
    ("calendar", "calendr", "calendar"),
]
WELSH_FILE = "cy.json"


def _base_url(settings: Settings) -> str:
    url = (settings.base_url or "").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise CommandError("set CYSWLLT_BASE_URL to the service's public https address (Teams needs it for the "
                           "developer links and valid domains)")
    return url


def manifest(settings: Settings, version: str = "1.0.0") -> dict[str, Any]:
    app_id = settings.teams_app_id
    if not app_id:
        raise CommandError("TEAMS_APP_ID is not set: register the bot in Azure and set TEAMS_APP_ID to its app id")
    if not GUID.match(app_id):
        raise CommandError(f"TEAMS_APP_ID must be the bot's app id, a GUID (got {app_id!r})")
    base = _base_url(settings)
    en = lambda key: t("en", f"teams.package.{key}")  # noqa: E731
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {"name": (settings.publisher_name or "").strip()[:32] or en("name_short"), "websiteUrl": base, "privacyUrl": f"{base}/privacy",
                      "termsOfUseUrl": f"{base}/terms"},
        "name": {"short": en("name_short"), "full": en("name_full")},
        "description": {"short": en("description_short"), "full": en("description_full")},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#00703C",
        "localizationInfo": {"defaultLanguageTag": "en-gb",
                             "additionalLanguages": [{"languageTag": "cy-gb", "file": WELSH_FILE}]},
        "bots": [{
            "botId": app_id,
            "scopes": SCOPES,
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [{
                "scopes": SCOPES,
                # Each hint names the Welsh word too, so either language is discoverable.
                "commands": [{"title": word, "description": f"{en('commands.' + key)} ({welsh})"[:128]}
                             for word, welsh, key in COMMANDS],
            }],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [urlsplit(base).netloc],
    }


def welsh_localisation() -> dict[str, Any]:
    cy = lambda key: t("cy", f"teams.package.{key}")  # noqa: E731
    entries: dict[str, Any] = {
        "$schema": LOCALISATION_SCHEMA,
        "name.short": cy("name_short"),
        "name.full": cy("name_full"),
        "description.short": cy("description_short"),
        "description.full": cy("description_full"),
    }
    for index, (word, welsh, key) in enumerate(COMMANDS):
        entries[f"bots[0].commandLists[0].commands[{index}].title"] = welsh
        entries[f"bots[0].commandLists[0].commands[{index}].description"] = f"{cy('commands.' + key)} ({word})"[:128]
    return entries


def icon(name: str) -> bytes:
    return (resources.files("bot.teams") / "assets" / name).read_bytes()


def write_package(settings: Settings, output: Path) -> Path:
    data = manifest(settings)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Teams wants the files at the root of the zip, not in a folder.
        archive.writestr("manifest.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr(WELSH_FILE, json.dumps(welsh_localisation(), ensure_ascii=False, indent=2))
        archive.writestr("color.png", icon("color.png"))
        archive.writestr("outline.png", icon("outline.png"))
    return output


def run(settings: Settings, args) -> int:
    path = write_package(settings, Path(args.output))
    print(f"Teams app package written to {path}: upload it in Teams (Apps > Manage your apps > Upload an app).")
    return 0
