import pytest
from sqlmodel import select

from storage.models import Action, ActionUpdate, Board, OutboxMessage, Person, ScrutinyRequest, Snooze
from storage.reach import addresses_of
from tests.addresses import chat


async def outbox(db):
    async with db.session() as s:
        return (await s.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()


@pytest.mark.parametrize("words, expected", [("help", "What I can do"), ("cymorth", "Beth alla i ei wneud")])
async def test_help_in_both_languages(board, say, words, expected):
    reply = await say(board["owner"], words)
    assert reply.text.startswith(expected)


async def test_actions_mine_all_overdue_in_both_languages(board, say):
    mine = await say(board["owner"], "actions")
    assert "Your actions on Bwrdd Ynys Môn (1 action)" in mine.text
    section = next(s for s in mine.sections if s.ref == "A-1")
    facts = {f.label: f.value for f in section.facts}
    assert facts["Due"] == "31 October 2026 (“October 26”)" and facts["Lead"] == "WAG"
    assert facts["Owner"] == "Tom Jones" and "overdue" in facts["Status"]
    assert [b.command for b in section.buttons] == ["update A-1", "history A-1"]
    assert section.buttons[0].form.command == "update A-1 {rag} {note} public: {public}"

    welsh = await say(board["owner"], "camau popeth")
    assert welsh.language == "cy" and "Pob cam ar Fwrdd Ynys Môn (2 gam)" in welsh.text
    assert "31 Hydref 2026 (“October 26”)" in welsh.text
    overdue = await say(board["owner"], "actions hwyr")
    assert overdue.language == "cy" and "A-1" in overdue.text and "A-2" not in overdue.text
    # "Mine" is what the person owns; their organisation's actions are "actions org".
    colleague = await say(board["colleague"], "actions mine")
    assert "A-1" not in colleague.text and "You own no actions on Bwrdd Ynys Môn." in colleague.text
    assert "WAG leads 1 action here: type actions org to see it." in colleague.text
    org = await say(board["colleague"], "actions org")
    assert "Actions WAG leads on Bwrdd Ynys Môn (1 action)" in org.text and "A-1" in org.text
    welsh_org = await say(board["colleague"], "camau sefydliad")
    assert welsh_org.language == "cy" and "Camau y mae WAG yn eu harwain ar Fwrdd Ynys Môn (1 cam)" in welsh_org.text


async def test_update_appends_history_and_notices_red(board, say, db):
    reply = await say(board["owner"], "update a-1 red Funding <!channel> delayed")
    assert reply.text.startswith("Thank you — A-1 is now red.")
    await say(board["owner"], "diweddaru A-1 ambr Mae'r cyllid wedi'i gytuno")
    async with db.session() as s:
        updates = (await s.exec(select(ActionUpdate).order_by(ActionUpdate.id))).all()
        assert [(u.rag, u.note) for u in updates] == [("red", "Funding <!channel> delayed"),
                                                      ("amber", "Mae'r cyllid wedi'i gytuno")]
        assert (await s.exec(select(Action).where(Action.ref == "A-1", Action.board_id == 1))).one().rag == "amber"
    notices = [m for m in await outbox(db) if m.kind == "notice"]
    assert sorted((m.platform, m.channel) for m in notices) == [("slack", "CBOARD"), ("teams", "19:board@thread")]
    assert "has turned red" in notices[0].payload["reply"]["text"]
    history = await say(board["owner"], "hanes A-1")
    assert history.language == "cy" and history.text.index("ambr") < history.text.index("coch")


async def test_complete_notice_once_per_update(board, say, db):
    await say(board["chair"], "update A-2 complete Done")
    await say(board["chair"], "update A-2 complete Still done")
    notices = [m for m in await outbox(db) if m.kind == "notice"]
    assert len(notices) == 2  # one update turned it complete: slack + teams


@pytest.mark.parametrize("who", ["chair", "owner", "colleague"])
async def test_who_may_update(board, say, who):
    reply = await say(board[who], "update A-1 green on track")
    assert "A-1" in reply.text and ("now green" in reply.text or "gwyrdd" in reply.text)


async def test_others_are_refused_and_nothing_is_stored(board, say, db):
    reply = await say(board["outsider"], "update A-1 green all fine")
    assert reply.text == ("Only its owner (Tom Jones) or a member from WAG or the board's chair or secretariat "
                          "can update A-1.")
    async with db.session() as s:
        assert (await s.exec(select(ActionUpdate))).all() == []


@pytest.mark.parametrize("words, expected", [
    ("update", "To post an update: update A-12"),
    ("update A-1 purple note", "“purple” isn't a status I know"),
    ("update A-99 red note", "I can't find action A-99"),
    ("update X red note", "To post an update"),
    ("frobnicate", "I don't know the command “frobnicate”"),
    ("history", "To see an action's updates"),
    ("scrutiny", "To ask the scrutiny committee"),
    ("actions sideways", "Try: actions, actions org, actions overdue, actions all"),
])
async def test_malformed_commands_get_the_syntax(board, say, words, expected):
    assert expected in (await say(board["owner"], words)).text


async def test_long_note_refused(board, say):
    assert "please keep it under 2000" in (await say(board["owner"], "update A-1 red " + "x" * 2001)).text


async def test_strangers_are_told_how_to_join(board, say):
    reply = await say("UNKNOWN", "actions", platform="slack")
    assert "add you as a board member" in reply.text and "Siân Ŵyn (Bwrdd Ynys Môn)" in reply.text
    welsh = await say("UNKNOWN", "camau", platform="slack")
    assert welsh.language == "cy" and "Dydw i ddim yn eich adnabod" in welsh.text


async def test_welsh_word_wins_over_stored_choice_and_iaith_persists(board, say, db):
    assert (await say(board["owner"], "statws")).language == "cy"
    assert (await say(board["owner"], "status")).language == "en"
    assert (await say(board["owner"], "iaith cy")).text == "Byddaf yn ateb yn Gymraeg o hyn ymlaen."
    assert (await say(board["owner"], "status")).language == "cy"
    async with db.session() as s:
        assert (await s.exec(select(Person.language).where(Person.email == board["owner"]))).one() == "cy"
    assert (await say(board["owner"], "lang en")).text == "I'll reply in English from now on."


async def test_status_picture(board, say):
    await say(board["owner"], "update A-1 red blocked")
    reply = await say(board["chair"], "status")
    assert reply.language == "cy"  # the chair prefers Welsh
    assert "2 gam ar y cynllun; 1 yn hwyr." in reply.text
    assert "coch: 1" in reply.text and "heb ei raddio eto: 1" in reply.text


async def test_member_of_two_boards_chooses(board, say, db):
    reply = await say(board["twoboards"], "actions all")
    assert "You sit on more than one board" in reply.text and "Gwynedd Local Service Board" in reply.text
    assert "Gwynedd" in (await say(board["twoboards"], "board gwynedd")).text
    reply = await say(board["twoboards"], "actions all")
    assert "Gwynedd action" in reply.text and "Free up" not in reply.text
    # A channel linked to a board uses that board whatever the current choice.
    async with db.session() as s:
        two = (await s.exec(select(Person).where(Person.email == board["twoboards"]))).one()
        s.add_all(chat(two, slack="UTWO"))
        await s.commit()
    linked = await say("UTWO", "actions all", platform="slack", channel="CBOARD")
    assert "Free up" in linked.text and "Gwynedd action" not in linked.text
    # The same channel id on another platform is not that board's channel.
    elsewhere = await say(board["twoboards"], "actions all", platform="console", channel="CBOARD")
    assert "Gwynedd action" in elsewhere.text and "Free up" not in elsewhere.text


async def test_board_link_by_chair_only(board, say, db):
    refused = await say("UOWNER", "board link Bwrdd Ynys Môn", platform="slack", channel="CNEW")
    assert "Only the chair or the secretariat" in refused.text
    linked = await say("UCHAIR", "bwrdd cysylltu Bwrdd Ynys Môn", platform="slack", channel="CNEW")
    assert linked.language == "cy" and "wedi'i chysylltu" in linked.text
    async with db.session() as s:
        board_row = (await s.exec(select(Board).where(Board.name == "Bwrdd Ynys Môn"))).one()
        # The Slack channel moves to the new one; the board's Teams channel stays as it was.
        assert await addresses_of(s, board_row) == {"slack": "CNEW", "teams": "19:board@thread"}


async def test_scrutiny_flow_notifies_in_each_language(board, say, db):
    raised = await say(board["owner"], "scrutiny A-1 Why is this action overdue?")
    assert "S-1" in raised.text and "sent to the scrutiny members" in raised.text
    messages = await outbox(db)
    dms = {m.channel: m for m in messages if m.kind == "scrutiny"}
    assert set(dms) == {"USCRUT", "scrutiny2@x.cymru"}  # Slack DM, and console for the one with no Teams chat yet
    english, welsh = dms["USCRUT"].payload["reply"], dms["scrutiny2@x.cymru"].payload["reply"]
    assert english["language"] == "en" and "New scrutiny request S-1 from Tom Jones" in english["text"]
    assert welsh["language"] == "cy" and "Cais craffu newydd S-1" in welsh["text"]
    buttons = [b["command"] for b in english["sections"][0]["buttons"]]
    assert buttons == ["scrutiny ack S-1", "scrutiny schedule S-1", "scrutiny respond S-1", "scrutiny decline S-1"]

    assert "Only the board's scrutiny members" in (await say(board["owner"], "scrutiny ack S-1")).text
    await say(board["scrutiny"], "scrutiny ack S-1")
    assert "isn't a date I understand" in (await say(board["scrutiny"], "scrutiny schedule S-1 next-tuesday")).text
    await say(board["scrutiny_cy"], "craffu amserlennu S-1 2026-12-03")
    await say(board["scrutiny"], "scrutiny respond S-1 The committee found the delay justified.")
    async with db.session() as s:
        request = (await s.exec(select(ScrutinyRequest))).one()
        assert (request.status, str(request.committee_date)) == ("responded", "2026-12-03")
    told = [m.payload["reply"]["text"] for m in await outbox(db) if m.channel == "UOWNER"]
    assert told == ["Your scrutiny request S-1 has been acknowledged by Huw Ellis.",
                    "Your scrutiny request S-1 will be considered by the committee on 3 December 2026.",
                    "The scrutiny committee has responded to your request S-1: The committee found the delay justified."]
    listing = await say(board["owner"], "craffu rhestr")
    assert listing.language == "cy" and "wedi'i ateb" in listing.text
    assert "I can't find P-9" in (await say(board["owner"], "scrutiny P-9 why?")).text
    assert "S-2" in (await say(board["owner"], "scrutiny p-1 How is health measured?")).text


async def test_snooze_is_stored(board, say, db):
    reply = await say(board["owner"], "oedi A-1 wythnos-nesaf")
    assert reply.language == "cy" and "A-1" in reply.text
    async with db.session() as s:
        snooze = (await s.exec(select(Snooze))).one()
        assert snooze.until.date().isoformat() == "2026-11-30"


async def test_digest_with_no_groups_says_so_in_each_language(board, say):
    assert (await say(board["owner"], "digest young-people")).text == "There are no stakeholder groups yet."
    assert (await say(board["owner"], "crynodeb pobl-ifanc")).text == "Does dim grwpiau rhanddeiliaid eto."


async def test_welsh_text_after_an_english_word_gets_a_welsh_reply(board, say, db):
    reply = await say(board["owner"], "update A-1 amber Mae'r gwaith yn mynd yn dda ond mae angen mwy o arian")
    assert reply.language == "cy" and reply.text.startswith("Diolch — statws A-1 bellach yw: ambr.")
    section = next(s for s in reply.sections if s.ref == "A-1")
    assert [b.command for b in section.buttons] == ["diweddaru A-1", "hanes A-1"]
    async with db.session() as s:
        assert (await s.exec(select(Person.language).where(Person.email == board["owner"]))).one() == "en"
    assert (await say(board["owner"], "update A-1 green Funding agreed at the meeting")).language == "en"


async def test_a_welsh_requester_hears_each_step_in_welsh(board, say, db):
    await say(board["chair"], "scrutiny A-2 Pam nad oes dyddiad ar gyfer y cam hwn?")
    await say(board["scrutiny"], "scrutiny ack S-1")
    await say(board["scrutiny"], "scrutiny schedule S-1 2026-12-14")
    await say(board["scrutiny"], "scrutiny respond S-1 The committee will review the plan in January.")
    told = [m for m in await outbox(db) if m.channel == "UCHAIR"]
    assert [m.language for m in told] == ["cy", "cy", "cy"]
    assert [m.payload["reply"]["text"] for m in told] == [
        "Mae Huw Ellis wedi cydnabod eich cais craffu S-1.",
        "Bydd y pwyllgor yn ystyried eich cais craffu S-1 ar 14 Rhagfyr 2026.",
        "Mae'r pwyllgor craffu wedi ymateb i'ch cais S-1: The committee will review the plan in January."]
    late = await say(board["scrutiny_cy"], "craffu amserlennu S-1 2027-02-01")
    assert late.text.startswith("Mae S-1 eisoes wedi'i ateb")
    assert len([m for m in await outbox(db) if m.channel == "UCHAIR"]) == 3
    async with db.session() as s:
        assert str((await s.exec(select(ScrutinyRequest))).one().committee_date) == "2026-12-14"


async def test_scrutiny_list_in_welsh_shows_committee_buttons_to_members(board, say):
    await say(board["owner"], "scrutiny A-1 Why is this late?")
    listing = await say(board["scrutiny_cy"], "craffu rhestr")
    buttons = [b.command for s in listing.sections for b in s.buttons]
    assert buttons == ["craffu cydnabod S-1", "craffu amserlennu S-1", "craffu ymateb S-1", "craffu gwrthod S-1"]
    assert [b.command for s in (await say(board["owner"], "scrutiny list")).sections for b in s.buttons] == []
