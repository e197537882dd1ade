"""The console shows what would be sent: ``cyswllt outbox list`` (recipient, platform, kind, when due,
the first line), ``--unreachable``, ``cyswllt outbox send``, and a member's reminders in
``cyswllt chat`` and its ``inbox`` / ``mewnflwch`` — the installed commands, in subprocesses."""

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

_SCRIPT = Path(sys.executable).with_name("cyswllt")
CYSWLLT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cyswllt.cli"]
CHAIR = "chair@demo.cyswllt.cymru"


def run(url: str, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SLACK_", "TEAMS_", "CYSWLLT_"))}
    environment.update({"CYSWLLT_DATABASE_URL": url, "CYSWLLT_WORKING_HOURS": "always", **env})
    return subprocess.run([*CYSWLLT, *args], env=environment, input=stdin, capture_output=True, text=True,
                          timeout=300)


async def test_the_demo_chairs_reminders_and_escalations_reach_the_console(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert (await asyncio.to_thread(run, url, "demo")).returncode == 0
    # Nothing is set up but the console: the demo's Slack and Teams ids cannot be used here.
    unreachable = await asyncio.to_thread(run, url, "outbox", "list", "--unreachable")
    assert unreachable.returncode == 0 and CHAIR in unreachable.stdout and "set up: none" in unreachable.stdout
    sent = await asyncio.to_thread(run, url, "outbox", "send")
    assert sent.returncode == 0, sent.stderr
    assert "delivered" in sent.stdout and "delivered 0" not in sent.stdout

    listed = await asyncio.to_thread(run, url, "outbox", "list")
    header, *rows = [line for line in listed.stdout.splitlines() if line.strip()]
    assert header.split()[:7] == ["id", "state", "recipient", "platform", "kind", "due", "first"]
    chair = [line for line in rows if CHAIR in line]
    assert chair and all(" console " in line and " sent " in line for line in chair)
    assert any(" reminder " in line for line in chair) and any(" escalation " in line for line in chair)
    assert any("Uwchgyfeirio" in line for line in chair)  # the first line, in the chair's language

    chat = await asyncio.to_thread(run, url, "chat", "--as", CHAIR, stdin="mewnflwch\n")
    assert chat.returncode == 0, chat.stderr
    assert re.search(r"Eich (\d+ )?neges ddiweddaraf yma", chat.stdout) and "Uwchgyfeirio" in chat.stdout
    assert "[Diweddaru nawr: diweddaru A-" in chat.stdout  # the buttons, as the words they run

    # With Slack set up, the demo's members with a Slack id are reachable there: nobody is left over.
    slack = {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-x"}
    everyone = await asyncio.to_thread(run, url, "outbox", "list", "--unreachable", **slack)
    assert "every board member can be reached" in everyone.stdout or CHAIR not in everyone.stdout


async def test_an_empty_inbox_says_so_in_both_languages(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert (await asyncio.to_thread(run, url, "demo")).returncode == 0
    # Sarah Evans reads English; a Welsh command word is answered in Welsh.
    chat = await asyncio.to_thread(run, url, "chat", "--as", "sarah.evans@demo.cyswllt.cymru",
                                   stdin="inbox\nmewnflwch\n")
    assert "Nothing has been delivered to you here yet." in chat.stdout
    assert "Does dim byd wedi'i anfon atoch chi yma eto." in chat.stdout
