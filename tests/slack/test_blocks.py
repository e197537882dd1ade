"""Block Kit from a neutral Reply: RAG as emoji and word, facts as fields, buttons, escaping."""

import json

from bot.slack.blocks import fallback_text, render, submitted_command
from handlers.core import Button, Fact, Form, FormField, Reply, Section

HOSTILE = "<!channel> <!here> <!everyone> <@U123> <!subteam^S1|@team> <https://evil.example|click> & co"


def test_rag_is_an_emoji_beside_its_word_in_both_languages():
    reply = Reply("cy", "x", [Section(heading="A-1 · Teitl", rag="red", facts=[Fact("Statws", "coch (hwyr)")]),
                              Section(text="Nodyn", rag="complete")])
    blocks = render(reply)
    assert blocks[0]["text"]["text"] == "🔴 *A-1 · Teitl*" and blocks[0]["fields"][0]["text"] == "*Statws*\n🔴 coch (hwyr)"
    assert blocks[1]["text"]["text"] == "✅ wedi'i gwblhau · Nodyn"
    english = render(Reply("en", "x", [Section(text="Delivered on time", rag="amber")]))
    assert english[0]["text"]["text"] == "🟠 amber · Delivered on time"


def test_every_string_is_escaped_and_nothing_can_ping():
    form = Form(title=HOSTILE, submit_label="Send", command="update A-1 {rag} {note}",
                fields=[FormField(name="note", label=HOSTILE)])
    reply = Reply("en", HOSTILE, [Section(heading=HOSTILE, text=HOSTILE, facts=[Fact(HOSTILE, HOSTILE)],
                                          buttons=[Button(HOSTILE, "history A-1"), Button("Update", "update A-1", form=form)])])
    mrkdwn = [b["text"]["text"] for b in render(reply) if "text" in b] + \
             [f["text"] for b in render(reply) for f in b.get("fields", [])] + [fallback_text(reply)]
    for text in mrkdwn:
        assert "<" not in text and ">" not in text and "&lt;!channel&gt;" in text and "&amp; co" in text
    buttons = render(reply)[1]["elements"]
    assert [b["action_id"] for b in buttons] == ["lsb:0:0", "lsbform:0:1"]
    assert buttons[0]["value"] == "history A-1" and buttons[0]["text"]["type"] == "plain_text"
    assert json.loads(buttons[1]["value"])["command"] == "update A-1 {rag} {note}"


def test_a_submitted_form_fills_its_command_and_keeps_the_note_as_written():
    view = {"private_metadata": json.dumps({"command": "update A-1 {rag} {note}", "channel": "C1"}),
            "state": {"values": {"note": {"note": {"value": "Line one\nline {rag} <!here>"}},
                                 "rag": {"rag": {"selected_option": {"value": "amber"}}}}}}
    command, metadata = submitted_command(view)
    assert command == "update A-1 amber Line one\nline {rag} <!here>" and metadata["channel"] == "C1"
