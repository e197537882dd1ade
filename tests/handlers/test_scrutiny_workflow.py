"""Scrutiny only moves forward (open → acknowledged → scheduled → responded, or declined with a
reason); committee dates are future and no later than the response due date unless a reason is
recorded; scheduling ties the request to a scrutiny meeting; the owner hears of a question on
their action; nobody is told of their own step; the requester chooses whether to be named."""

from datetime import date

from sqlmodel import select

from storage.models import Meeting, OutboxMessage, ScrutinyRequest


async def request(db) -> ScrutinyRequest:
    async with db.session() as s:
        return (await s.exec(select(ScrutinyRequest))).one()


async def messages(db, channel=None):
    async with db.session() as s:
        rows = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind == "scrutiny").order_by(OutboxMessage.id))).all()
    return [m for m in rows if channel is None or m.channel == channel]


async def test_never_backwards(board, say, db):
    await say(board["chair"], "scrutiny A-1 Why is this late?")
    assert "now scheduled" in (await say(board["scrutiny"], "scrutiny schedule S-1 2026-12-10")).text
    back = await say(board["scrutiny"], "scrutiny ack S-1")
    assert back.text == ("S-1 is already scheduled (10 December 2026). A request only moves forward: open, "
                         "acknowledged, scheduled, answered.")
    assert (await request(db)).status == "scheduled"
    again = await say(board["scrutiny"], "scrutiny ack S-1")
    assert "already scheduled" in again.text
    await say(board["scrutiny"], "scrutiny respond S-1 Reviewed: the delay is justified.")
    for late in ("scrutiny ack S-1", "scrutiny schedule S-1 2026-12-12", "scrutiny decline S-1 no"):
        assert "has already been answered" in (await say(board["scrutiny"], late)).text
    assert (await request(db)).status == "responded"


async def test_acknowledged_twice_is_not_news(board, say, db):
    await say(board["chair"], "scrutiny A-1 Why?")
    await say(board["scrutiny"], "scrutiny ack S-1")
    second = await say(board["scrutiny_cy"], "craffu cydnabod S-1")
    assert second.text.startswith("Mae S-1 eisoes wedi'i gydnabod.")
    assert len(await messages(db, "UCHAIR")) == 1


async def test_committee_dates_must_be_future_and_before_the_response_is_due_or_give_a_reason(board, say, db):
    await say(board["chair"], "scrutiny A-1 Why?")  # raised 23 November 2026, response due 21 December 2026
    past = await say(board["scrutiny"], "scrutiny schedule S-1 2026-11-01")
    assert past.text == ("1 November 2026 is not in the future. Choose a later committee date, or give the reason "
                         "for this one: scrutiny schedule S-1 2026-11-01 REASON")
    today = await say(board["scrutiny"], "scrutiny schedule S-1 2026-11-23")
    assert "is not in the future" in today.text
    late = await say(board["scrutiny"], "scrutiny schedule S-1 2027-02-01")
    assert late.text.startswith("1 February 2027 is after the response is due (21 December 2026).")
    assert (await request(db)).status == "open" and await messages(db, "UCHAIR") == []
    ok = await say(board["scrutiny"], "scrutiny schedule S-1 2027-02-01 The committee does not meet in December")
    assert "now scheduled" in ok.text
    stored = await request(db)
    assert (stored.committee_date, stored.date_reason) == (date(2027, 2, 1), "The committee does not meet in December")
    listing = await say(board["owner"], "scrutiny list")
    assert "Why this date: The committee does not meet in December" in listing.text


async def test_scheduling_attaches_the_request_to_a_scrutiny_meeting_made_when_there_is_none(board, say, db):
    await say(board["chair"], "scrutiny A-1 First?")
    await say(board["chair"], "scrutiny A-2 Second?")
    done = await say(board["scrutiny"], "scrutiny schedule S-1 2026-12-10")
    assert "It is on the agenda of the scrutiny meeting on 10 December 2026." in done.text
    await say(board["scrutiny"], "scrutiny schedule S-2 2026-12-10")
    async with db.session() as s:
        meetings = (await s.exec(select(Meeting))).all()
        requests = (await s.exec(select(ScrutinyRequest).order_by(ScrutinyRequest.id))).all()
    assert [(m.held_on, m.kind) for m in meetings] == [(date(2026, 12, 10), "scrutiny")]
    assert {r.meeting_id for r in requests} == {meetings[0].id}
    # Moving the date moves it to that day's meeting.
    await say(board["scrutiny"], "scrutiny schedule S-2 2026-12-17")
    async with db.session() as s:
        moved = await s.get(ScrutinyRequest, 2)
        meeting = await s.get(Meeting, moved.meeting_id)
    assert (meeting.held_on, meeting.kind) == (date(2026, 12, 17), "scrutiny")


async def test_decline_needs_a_reason_and_is_final(board, say, db):
    await say(board["chair"], "scrutiny A-1 Why?")
    assert (await say(board["scrutiny"], "scrutiny decline S-1")).text == \
        "To decline a request, give the reason: scrutiny decline S-1 REASON"
    done = await say(board["scrutiny"], "scrutiny decline S-1 Outside the committee's remit")
    assert done.text == "Done: S-1 is now declined."
    stored = await request(db)
    assert (stored.status, stored.decline_reason) == ("declined", "Outside the committee's remit")
    told = await messages(db, "UCHAIR")
    assert [m.payload["reply"]["text"] for m in told] == [
        "Mae'r pwyllgor craffu wedi gwrthod eich cais S-1. Y rheswm a roddodd Huw Ellis: Outside the committee's remit"]
    assert "was declined (Outside the committee's remit)" in (await say(board["scrutiny"], "scrutiny respond S-1 x")).text
    listing = await say(board["scrutiny"], "scrutiny list")
    assert "declined" in listing.text and [b for s in listing.sections for b in s.buttons if "S-1" in b.command] == []


async def test_the_owner_is_told_and_nobody_hears_of_their_own_step(board, say, db):
    raised = await say(board["chair"], "craffu A-1 Pam mae hwn yn hwyr?")
    assert "Mae Tom Jones, perchennog y cam, wedi cael gwybod." in raised.text
    owner = await messages(db, "UOWNER")
    assert len(owner) == 1 and owner[0].payload["reply"]["text"].startswith(
        "A scrutiny question S-1 has been raised on your action A-1 “Free up local authorities”: Pam mae hwn yn hwyr?")
    await say(board["scrutiny"], "scrutiny schedule S-1 2026-12-10")
    assert "on 10 December 2026" in (await messages(db, "UOWNER"))[-1].payload["reply"]["text"]


async def test_a_scrutiny_member_asking_is_not_told_of_their_own_request_or_steps(board, say, db):
    await say(board["scrutiny"], "scrutiny A-2 Who owns this?")
    assert await messages(db, "USCRUT") == []
    assert [m.channel for m in await messages(db)] == ["scrutiny2@x.cymru"]  # the other scrutiny member
    await say(board["scrutiny"], "scrutiny ack S-1")
    await say(board["scrutiny"], "scrutiny respond S-1 The secretariat will assign it.")
    assert await messages(db, "USCRUT") == []


async def test_the_requester_chooses_whether_to_be_named(board, say, db):
    named = await say(board["owner"], "scrutiny A-1 Why the delay? named: yes")
    assert "The public scrutiny register will name you as the person who asked." in named.text
    anonymous = await say(board["owner"], "scrutiny A-1 And the cost?")
    assert "will say it was asked by “a board member”" in anonymous.text
    welsh = await say(board["owner"], "craffu A-1 Faint yw'r gost? enw: ie")
    assert welsh.language == "cy" and "Bydd y gofrestr graffu gyhoeddus yn eich enwi" in welsh.text
    marker = await say(board["owner"], "scrutiny A-1 Who decided? named:")  # the marker alone agrees
    assert "The public scrutiny register will name you as the person who asked." in marker.text
    declined = await say(board["owner"], "craffu A-1 Pwy benderfynodd? enw: na")
    assert "aelod o'r bwrdd" in declined.text
    unclear = await say(board["owner"], "scrutiny A-1 Why? named: perhaps")
    assert unclear.text == "To say whether the public register may name you, end with named: or named: no."
    async with db.session() as s:
        stored = [(r.question, r.requester_named) for r in (await s.exec(select(ScrutinyRequest).order_by(ScrutinyRequest.id))).all()]
    assert stored == [("Why the delay?", True), ("And the cost?", False), ("Faint yw'r gost?", True),
                      ("Who decided?", True), ("Pwy benderfynodd?", False)]


async def test_the_ref_alone_offers_the_form_with_the_choice(board, say):
    reply = await say(board["owner"], "scrutiny A-1")
    form = reply.sections[0].buttons[0].form
    assert form.command == "scrutiny A-1 {text} named: {named}"
    assert [(f.name, f.kind) for f in form.fields] == [("text", "text"), ("named", "choice")]
    assert [c.value for c in form.fields[1].choices] == ["no", "yes"] and form.fields[1].initial == "no"
    assert "Ask scrutiny" in [b.label for s in (await say(board["owner"], "history A-1")).sections for b in s.buttons]
