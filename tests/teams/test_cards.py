"""Replies as Adaptive Cards, card submissions as command words, and inert untrusted text."""

from __future__ import annotations

import json

from bot.teams.cards import card_activity, command_from_submit, render
from bot.teams.escape import escape_markdown
from handlers.core import Button, Choice, Fact, Form, FormField, Reply, Section
from tests.teams.conftest import actions, texts

UPDATE_FORM = Form(
    title="Update A-12", submit_label="Save", command="update A-12 {rag} {note}",
    fields=[FormField("rag", "RAG", kind="choice", choices=[Choice("Red", "red"), Choice("Green", "green")]),
            FormField("note", "Note", multiline=True, optional=True)],
)
REPLY = Reply(language="en", text="Your actions\nA-12 Open data portal", sections=[
    Section(heading="A-12 Open data portal", rag="red", ref="A-12",
            facts=[Fact("Lead", "Council"), Fact("Due", "30 November 2007 (Nov 07)")],
            buttons=[Button("History", "history A-12"), Button("Update", "update A-12", style="primary", form=UPDATE_FORM)]),
    Section(heading="A-13 Not yet rated", rag=None, text="No updates yet"),
])


def test_card_shape_sections_rag_facts_and_buttons():
    card = render(REPLY)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5" and card["lang"] == "en"
    first, second = card["body"]
    assert first["items"][0]["text"] == "A-12 Open data portal"
    rag = first["items"][1]
    assert rag["text"] == "🔴 red" and rag["color"] == "Attention"
    facts = next(i for i in first["items"] if i["type"] == "FactSet")["facts"]
    assert facts[1] == {"title": "Due", "value": "30 November 2007 \\(Nov 07\\)"}
    assert second["separator"] is True and "No updates yet" in texts(second)
    history, update = actions(card)[:2]
    assert history == {"type": "Action.Submit", "title": "History", "data": {"cyswllt": "history A-12"}}
    assert update["type"] == "Action.ShowCard" and update["style"] == "positive"
    inputs = update["card"]["body"][1:]
    assert [i["type"] for i in inputs] == ["Input.ChoiceSet", "Input.Text"]
    assert inputs[0]["isRequired"] is True and [c["value"] for c in inputs[0]["choices"]] == ["red", "green"]
    assert inputs[1]["isMultiline"] is True and inputs[1]["isRequired"] is False
    submit = update["card"]["actions"][0]
    assert submit["data"]["cyswllt_form"] == "update A-12 {rag} {note}"
    # Input ids are unique across the whole card, so two forms never collide.
    ids = [i["id"] for i in inputs]
    assert len(set(ids)) == 2 and set(submit["data"]["cyswllt_fields"].values()) == set(ids)


def test_welsh_rag_words_and_date_input():
    reply = Reply(language="cy", text="Craffu", sections=[Section(heading="A-1", rag="complete", buttons=[
        Button("Amserlennu", "craffu amserlen 3", form=Form("Dyddiad pwyllgor", "Cadw", "craffu amserlen 3 {date}",
                                                           [FormField("date", "Dyddiad", kind="date")]))])])
    card = render(reply)
    assert "✅ wedi'i gwblhau" in texts(card)
    date_input = actions(card)[0]["card"]["body"][1]
    assert date_input["type"] == "Input.Date"
    assert date_input["errorMessage"] == "Llenwch hwn, os gwelwch yn dda."


def test_submissions_become_command_words():
    assert command_from_submit({"cyswllt": " history A-12 "}) == ("history A-12", "button")
    card = render(REPLY)
    submit = actions(card)[1]["card"]["actions"][0]["data"]
    rag_id, note_id = submit["cyswllt_fields"]["rag"], submit["cyswllt_fields"]["note"]
    value = {**submit, rag_id: "red", note_id: "Funding {delayed}\n  by  the council"}
    assert command_from_submit(value) == ("update A-12 red Funding {delayed}\n by the council", "form")
    assert command_from_submit({**submit, rag_id: "green"}) == ("update A-12 green", "form")
    assert command_from_submit(None) is None
    assert command_from_submit({"something": "else"}) is None
    assert command_from_submit("update A-1 red") is None


def test_untrusted_text_cannot_mention_or_link():
    hostile = "<at>Everyone</at> **now** [click](https://evil.example) ![x](https://evil.example/i.png) `code` # h1 ~~s~~ www.evil.example a_b <script>"
    escaped = escape_markdown(hostile)
    assert "<at>" not in escaped.lower() and "</at>" not in escaped.lower()
    assert "](" not in escaped and "[click]" not in escaped
    assert "**" not in escaped.replace("\\*", "")
    assert "https://evil" not in escaped and "www.evil" not in escaped
    for char in "*_[]()`#<>~":
        assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c == char)
    assert escape_markdown("<AT >Bob< /at>").count("\u200b") == 2
    # Through a whole card: nothing from the reply reaches the card unescaped; the plain-text
    # notification summary (never rendered as markdown) cannot mention anyone either.
    reply = Reply(language="en", text=hostile, sections=[Section(heading=hostile, text=hostile, facts=[Fact(hostile, hostile)])])
    activity = card_activity(reply)
    raw = json.dumps(activity.model_dump(by_alias=True, exclude_none=True, mode="json"), ensure_ascii=False)
    assert "<at>" not in raw.lower()
    card = json.dumps(activity.attachments[0].content, ensure_ascii=False)
    assert "[click](" not in card and "https://evil" not in card
    assert escape_markdown(hostile) in texts(activity.attachments[0].content)


def test_a_submitted_template_is_data_not_a_format_string():
    # A forged submit whose template asks for half a gigabyte of padding: the placeholder is not
    # a plain {name}, so it stays as typed, and nothing large is ever built.
    import tracemalloc

    forged = {"cyswllt_form": "help {x:>500000000} {note!r} {0}", "cyswllt_fields": {"x": "a", "note": "b"},
              "a": "one", "b": "two"}
    tracemalloc.start()
    try:
        words, source = command_from_submit(forged)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (words, source) == ("help {x:>500000000} {note!r}", "form")  # {0} names no field: empty
    assert peak < 1_000_000, peak
    # Field ids that are not strings, and templates longer than any form's, are not forms.
    assert command_from_submit({"cyswllt_form": "update {rag}", "cyswllt_fields": {"rag": ["x"]}}) == ("update", "form")
    assert command_from_submit({"cyswllt_form": "x" * 5000, "cyswllt_fields": {}}) is None
