"""Did you mean…? — close spellings of command words in both languages and of action refs, and
questions in people's own words answered as the command they stand for."""

import pytest


@pytest.mark.parametrize("words, suggestion, command", [
    ("acions", "“actions”", "actions"),
    ("hlep", "“help”", "help"),
    ("diweddaur A-1 green fine", "“diweddaru A-1 green fine”", "diweddaru A-1 green fine"),
    ("stauts", "“status”", "status"),
    ("camua popeth", "“camau popeth”", "camau popeth"),
])
async def test_a_misspelt_command_word_is_offered_back_with_the_rest_of_the_words(board, say, words, suggestion, command):
    reply = await say(board["owner"], words)
    assert f"Did you mean {suggestion}" in reply.text or f"Oeddech chi'n golygu {suggestion}" in reply.text
    assert reply.sections[0].buttons[0].command == command
    # The button runs the command, so nothing typed is lost.
    assert "I don't know" not in (await say(board["owner"], command)).text


async def test_a_welsh_misspelling_is_answered_in_welsh(board, say):
    reply = await say(board["owner"], "craffy rhestr")
    assert reply.language == "cy" and "Oeddech chi'n golygu “craffu rhestr”?" in reply.text


@pytest.mark.parametrize("question, heading, language", [
    ("What's overdue?", "Overdue actions on Bwrdd Ynys Môn", "en"),
    ("what is overdue", "Overdue actions on Bwrdd Ynys Môn", "en"),
    ("Beth sy'n hwyr?", "Camau hwyr ar Fwrdd Ynys Môn", "cy"),
    ("Beth sy’n hwyr", "Camau hwyr ar Fwrdd Ynys Môn", "cy"),
    ("My actions", "Your actions on Bwrdd Ynys Môn", "en"),
    ("How are we doing?", "RAG picture for Bwrdd Ynys Môn", "en"),
    ("Sut mae pethau?", "Darlun RAG Bwrdd Ynys Môn", "cy"),
])
async def test_questions_in_own_words_are_answered_as_their_command(board, say, question, heading, language):
    reply = await say(board["owner"], question)
    assert reply.language == language and heading in reply.text


async def test_a_question_with_a_typo_is_offered_as_its_command(board, say):
    reply = await say(board["owner"], "whats overdeu?")
    assert "Did you mean “actions overdue”?" in reply.text
    assert reply.sections[0].buttons[0].command == "actions overdue"


async def test_action_refs(board, say):
    alone = await say(board["owner"], "A-1")
    assert "A-1 is an action. Did you mean “history A-1” (its updates) or “update A-1”?" == alone.text
    assert [b.command for b in alone.sections[0].buttons] == ["history A-1", "update A-1"]
    unknown = await say(board["owner"], "update A-12 green on track")
    assert unknown.text.startswith("I can't find action A-12 on Bwrdd Ynys Môn.")
    assert "Did you mean A-1 or A-2?" in unknown.text
    assert [b.command for b in unknown.sections[0].buttons] == ["update A-1 green on track", "update A-2 green on track"]


async def test_nonsense_still_says_it_is_not_known(board, say):
    assert (await say(board["owner"], "frobnicate")).text.startswith("I don't know the command “frobnicate”")
