"""Block Kit from a neutral Reply: RAG as emoji and word, facts with bold labels, buttons, and every
string shown exactly as written — nothing pings, links or formats."""

import json

from bot.slack.blocks import fallback_text, render, submitted_command
from handlers.core import Button, Fact, Form, FormField, Reply, Section
from tests.fakes.slack_api import visible_text

HOSTILE = "<!channel> <!here> <!everyone> <@U123> <!subteam^S1|@team> <https://evil.example|click> & co"
MARKUP = "*bold* _it_ ~strike~ `code` ```block``` > quote"


def runs(blocks):
    return [run for b in blocks if b["type"] == "rich_text" for part in b["elements"] for run in part["elements"]]


def test_rag_is_an_emoji_beside_its_word_in_both_languages():
    reply = Reply("cy", "x", [Section(heading="A-1 · Teitl", rag="red", facts=[Fact("Statws", "coch (hwyr)")]),
                              Section(text="Nodyn", rag="complete")])
    blocks = render(reply)
    assert visible_text(blocks[:1]) == "🔴 **A-1 · Teitl**\n**Statws: **🔴 coch (hwyr)"
    assert visible_text(blocks[1:]) == "✅ wedi'i gwblhau · Nodyn"
    english = render(Reply("en", "x", [Section(text="Delivered on time", rag="amber")]))
    assert visible_text(english) == "🟠 amber · Delivered on time"


def test_every_string_is_literal_text_so_nothing_can_ping_link_or_format():
    form = Form(title=HOSTILE, submit_label="Send", command="update A-1 {rag} {note}",
                fields=[FormField(name="note", label=HOSTILE)])
    reply = Reply("en", HOSTILE, [Section(heading=HOSTILE, text=MARKUP, facts=[Fact(MARKUP, HOSTILE)],
                                          buttons=[Button(HOSTILE, "history A-1"), Button("Update", "update A-1", form=form)])])
    blocks = render(reply)
    # Rich-text runs are never read as mrkdwn: the words are there exactly as written, and the
    # only formatting is ours (a bold run), never a markup character someone typed.
    assert all(run["type"] == "text" and set(run.get("style", {})) <= {"bold"} for run in runs(blocks))
    texts = [run["text"] for run in runs(blocks)]
    assert HOSTILE in texts and any(MARKUP in t for t in texts)
    assert not [b for b in blocks if b["type"] == "section"]  # no mrkdwn section anywhere
    fallback = fallback_text(reply)
    assert "<" not in fallback and "&lt;!channel&gt;" in fallback and "&amp; co" in fallback
    buttons = blocks[1]["elements"]
    assert [b["action_id"] for b in buttons] == ["lsb:0:0", "lsbform:0:1"]
    assert buttons[0]["value"] == "history A-1" and buttons[0]["text"]["type"] == "plain_text"
    assert json.loads(buttons[1]["value"])["command"] == "update A-1 {rag} {note}"


def test_a_notification_cannot_pair_markup_characters():
    fallback = fallback_text(Reply("en", MARKUP))
    for char in "*_~`":
        # Each one stands apart, between zero-width spaces, so no two can pair up into formatting.
        assert all(fallback[i - 1] == "\u200b" and fallback[i + 1] == "\u200b"
                   for i, c in enumerate(fallback) if c == char)
    assert fallback.replace("\u200b", "") == MARKUP.replace(">", "&gt;")


def test_a_submitted_form_fills_its_command_and_keeps_the_note_as_written():
    view = {"private_metadata": json.dumps({"command": "update A-1 {rag} {note}", "channel": "C1"}),
            "state": {"values": {"note": {"note": {"value": "Line one\nline {rag} <!here>"}},
                                 "rag": {"rag": {"selected_option": {"value": "amber"}}}}}}
    command, metadata = submitted_command(view)
    assert command == "update A-1 amber Line one\nline {rag} <!here>" and metadata["channel"] == "C1"
