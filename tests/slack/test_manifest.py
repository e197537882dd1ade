"""The shipped Slack app manifest creates an app that can do what the service asks of Slack."""

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"


def test_manifest_has_the_scopes_command_and_endpoints():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # chat.postMessage (+ public channels, DMs), history for find_sent, files_upload_v2, users.info.
    assert {"commands", "chat:write", "chat:write.public", "im:write", "im:history", "users:read", "files:write",
            "channels:history", "groups:history"} <= scopes
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/lsb" and command["url"].endswith("/slack/events")
    assert "cymorth" in command["usage_hint"] and "help" in command["usage_hint"]
    assert len(command["usage_hint"]) <= 1000 and len(command["description"]) <= 2000
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] and settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    info = manifest["display_information"]
    assert len(info["name"]) <= 35 and len(info["description"]) <= 140 and 175 <= len(info["long_description"]) <= 4000
    assert "cymorth" in info["long_description"]
