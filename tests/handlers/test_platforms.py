"""Identity per platform, board choice from a button's action ref, snoozes over bank holidays,
DMs routed to each platform, and faults that reach the member only as an apology."""

from datetime import UTC, datetime

from sqlmodel import select

from cyswllt.settings import Settings
from handlers.core import Command, Context
from handlers.dispatch import handle
from storage.db import Database
from storage.models import ConversationReference, OutboxMessage, Snooze


async def test_help_lists_the_extensions_in_both_languages(board, say):
    english = (await say(board["owner"], "help")).text
    assert "snooze A-12 tomorrow|next-week" in english and "scrutiny schedule S-3 YYYY-MM-DD" in english
    assert "board link NAME" in english and "home —" in english
    welsh = (await say(board["owner"], "cymorth")).text
    assert "oedi A-12 yfory|wythnos-nesaf" in welsh and "craffu amserlennu S-3 BBBB-MM-DD" in welsh
    assert "bwrdd cysylltu ENW" in welsh and "cartref —" in welsh


async def test_each_platform_finds_its_own_id(board, say):
    slack = await say("UOWNER", "actions", platform="slack")
    assert "Your actions on Bwrdd Ynys Môn" in slack.text
    teams = await say("aad-mair", "craffu rhestr", platform="teams")
    assert teams.language == "cy" and "Does dim ceisiadau craffu" in teams.text
    # A Slack id is not an email, and an email is not a Slack id.
    assert "add you as a board member" in (await say(board["owner"], "actions", platform="slack")).text
    assert "add you as a board member" in (await say("UOWNER", "actions")).text


async def test_home_shows_own_actions_and_board_counts(board, say):
    await say(board["owner"], "update A-1 amber slipping")
    home = await say(board["owner"], "home")
    assert "Bwrdd Ynys Môn: the RAG picture" in home.text and "amber: 1" in home.text
    assert [s.ref for s in home.sections if s.ref] == ["A-1"]
    assert (await say(board["owner"], "cartref")).language == "cy"


async def test_a_button_names_its_action_so_two_board_members_need_not_choose(board, say, db):
    # A-2 is only on Bwrdd Ynys Môn; A-1 is on both boards, so that one still asks.
    assert (await say(board["twoboards"], "history A-2")).text == "A-2 has no updates yet."
    assert "You sit on more than one board" in (await say(board["twoboards"], "history A-1")).text
    reply = await say(board["twoboards"], "snooze A-2 tomorrow")
    assert "I won't remind you about A-2 until" in reply.text


async def test_snooze_waits_for_the_next_working_day_after_christmas(board, db):
    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    ctx = Context(db, Settings(database_url="sqlite://", slack_signing_secret="s", slack_bot_token="xoxb-test", teams_anonymous=True), now=lambda: christmas_eve)
    reply = await handle(ctx, Command(platform="console", user_id=board["owner"], text="snooze A-1 yfory"))
    assert reply.language == "cy"  # a Welsh period word is a Welsh command
    async with db.session() as s:
        until = (await s.exec(select(Snooze))).one().until
    # 25 Dec, the weekend and the substitute Boxing Day (Mon 28th) are all closed.
    assert until.replace(tzinfo=None) == datetime(2026, 12, 29, 9, 0)
    assert "29 Rhag 2026 09:00" in reply.text


async def test_snooze_needs_a_known_period(board, say):
    assert "snooze A-12 tomorrow or snooze A-12 next-week" in (await say(board["owner"], "snooze A-1 someday")).text


async def test_scrutiny_dm_goes_to_teams_when_the_member_has_a_personal_chat(board, say, db):
    async with db.session() as s:
        s.add(ConversationReference(conversation_id="a:personal-mair", teams_user_id="aad-mair", scope="personal"))
        await s.commit()
    await say(board["owner"], "scrutiny P-1 How is health measured?")
    async with db.session() as s:
        dms = {(m.platform, m.channel, m.language) for m in (await s.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "scrutiny"))).all()}
    assert dms == {("slack", "USCRUT", "en"), ("teams", "a:personal-mair", "cy")}


async def test_update_in_a_linked_teams_channel_uses_that_board(board, say, db):
    reply = await say("aad-mair", "camau popeth", platform="teams", channel="19:board@thread")
    assert "Pob cam ar Fwrdd Ynys Môn" in reply.text


async def test_a_fault_is_an_apology_not_a_traceback(tmp_path):
    # A database with no tables: every query fails underneath the handler.
    empty = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        ctx = Context(empty, Settings(database_url="sqlite://", slack_signing_secret="s", slack_bot_token="xoxb-test", teams_anonymous=True))
        english = await handle(ctx, Command(platform="slack", user_id="U1", text="actions"))
        assert english.text.startswith("Sorry — something went wrong on my side and nothing was changed.")
        welsh = await handle(ctx, Command(platform="slack", user_id="U1", text="camau"))
        assert welsh.language == "cy" and welsh.text.startswith("Mae'n ddrwg gen i")
    finally:
        await empty.dispose()


async def test_unknown_people_never_see_a_fault_for_odd_input(board, say):
    for text in ["", "   ", "update", "craffu S-", "bwrdd", "iaith fr", "A-1", "🙂"]:
        reply = await say(board["owner"], text)
        assert reply.text and "Traceback" not in reply.text and "went wrong" not in reply.text
