"""A published board with a year of history: priorities (one with a Welsh title), actions (some with
Welsh titles), internal notes and public summaries, red episodes, overdue actions, a consultation with
responses, scrutiny asked by a member who agreed to be named and by one who did not, and meetings."""

from __future__ import annotations

from datetime import UTC, date, datetime

from storage.models import (
    Action,
    ActionLead,
    ActionUpdate,
    Board,
    Consultation,
    Meeting,
    Member,
    Organisation,
    Person,
    Priority,
    Response,
    ScrutinyRequest,
    YouSaidWeDid,
)

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # in the financial year 2026-27; everything below is before it
SLUG = "bwrdd-mon"
OWNER_NAME, OWNER_EMAIL = "Secret Owner", "secret.owner@x.cymru"
INTERNAL = "INTERNAL-NOTE supplier invoice 4471"
RED_OR_OVERDUE = ["A-1", "A-2", "A-3", "A-5"]


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, 0, tzinfo=UTC)


async def seed(db, *, published: bool = True, now: datetime = NOW) -> dict:
    async with db.session() as s:
        board = Board(name="Ynys Môn Public Services Board", name_cy="Bwrdd Gwasanaethau Cyhoeddus Ynys Môn",
                      slug=SLUG, published=published)
        hidden = Board(name="Hidden Board", slug="hidden", published=False)
        council, nhs = Organisation(name="Cyngor Sir Ynys Môn"), Organisation(name="Betsi Cadwaladr")
        s.add_all([board, hidden, council, nhs])
        await s.flush()
        owner = Person(email=OWNER_EMAIL, name=OWNER_NAME, language="en")
        named = Person(email="named@x.cymru", name="Nia Named", language="cy")
        quiet = Person(email="quiet@x.cymru", name="Quentin Quiet", language="en")
        s.add_all([owner, named, quiet])
        await s.flush()
        for p in (owner, named, quiet):
            s.add(Member(board_id=board.id, person_id=p.id, organisation_id=council.id, role="core"))
        local = Priority(board_id=board.id, ref="P-1", title="Healthy communities", title_cy="Cymunedau iach")
        national = Priority(board_id=board.id, ref="P-2", title="Open data", scope="national")
        s.add_all([local, national])
        await s.flush()
        specs = [
            # ref, priority, title, title_cy, due, due_text, created
            ("A-1", local, "Joint recycling campaign", "Ymgyrch ailgylchu ar y cyd", date(2026, 10, 31), "October 2026", at(2026, 3, 1)),
            ("A-2", local, "=HYPERLINK(\"http://evil.example\") school buses", None, date(2026, 9, 30), "Autumn 2026", at(2026, 3, 1)),
            ("A-3", national, "Publish the open data portal", "Cyhoeddi'r porth data agored", date(2027, 6, 30), "Summer 2027", at(2026, 3, 1)),
            ("A-4", national, "Shared procurement", None, date(2027, 12, 31), "2027", at(2026, 3, 1)),
            ("A-5", None, "Workforce baseline review", None, date(2026, 10, 31), "Oct 26", at(2026, 5, 1)),
        ]
        actions = {}
        for ref, priority, title, title_cy, due, due_text, created in specs:
            a = Action(board_id=board.id, priority_id=priority.id if priority else None, ref=ref, title=title,
                       title_cy=title_cy, owner_id=owner.id, owner_email=OWNER_EMAIL, due=due, due_text=due_text,
                       created_at=created, updated_at=created)
            s.add(a)
            await s.flush()
            s.add(ActionLead(action_id=a.id, organisation_id=(nhs if ref == "A-3" else council).id))
            actions[ref] = a
        history = [
            ("A-1", "amber", at(2026, 3, 15), "import", None),
            ("A-1", "red", at(2026, 6, 1), "slack", "Funding for the campaign was withdrawn; a new bid goes in July."),
            ("A-1", "green", at(2026, 9, 1), "slack", "New funding agreed; the campaign starts in October."),
            ("A-2", "amber", at(2026, 4, 10), "console", None),
            ("A-3", "green", at(2026, 5, 1), "teams", "The portal is being built."),
            ("A-3", "red", at(2026, 11, 1), "teams", "The supplier has gone into administration."),
            ("A-4", "green", at(2026, 7, 1), "slack", None),
            ("A-5", "complete", at(2026, 11, 10), "slack", "The review was published in November."),
        ]
        for ref, rag, when, source, summary in history:
            s.add(ActionUpdate(action_id=actions[ref].id, author_id=owner.id, rag=rag, note=INTERNAL,
                               public_summary=summary, source=source, created_at=when))
            actions[ref].rag = rag
        for a in actions.values():
            s.add(a)
        consultation = Consultation(slug="bus-routes", board_id=board.id, title_en="Bus routes", title_cy="Llwybrau bws",
                                    summary_en="x", summary_cy="x", opens_at=at(2026, 9, 1), closes_at=at(2026, 11, 1))
        s.add(consultation)
        await s.flush()
        for n in range(7):
            s.add(Response(consultation_id=consultation.id, reference=f"CY-BBBB-{n:04d}", withdrawal_token_hash="x",
                           text=f"PRIVATE RESPONSE TEXT {n}", received_at=at(2026, 10, 1 + n)))
        s.add(YouSaidWeDid(consultation_id=consultation.id, theme="late buses", you_said_en="Buses are late",
                           you_said_cy="Mae bysiau'n hwyr", we_did_en="A new timetable from January",
                           we_did_cy="Amserlen newydd o fis Ionawr"))
        s.add_all([
            ScrutinyRequest(board_id=board.id, requester_id=named.id, action_id=actions["A-3"].id, subject_ref="A-3",
                            question="What happens to the portal now?", status="scheduled",
                            committee_date=date(2027, 2, 10), due=date(2027, 2, 12), requester_named=True,
                            created_at=at(2026, 11, 5), updated_at=at(2026, 11, 6)),
            ScrutinyRequest(board_id=board.id, requester_id=quiet.id, action_id=actions["A-1"].id, subject_ref="A-1",
                            question="Why was the funding withdrawn?", status="responded",
                            response="The grant scheme closed early; a new source was found.", due=date(2026, 7, 1),
                            requester_named=False, created_at=at(2026, 6, 3), updated_at=at(2026, 6, 20)),
            ScrutinyRequest(board_id=board.id, requester_id=quiet.id, subject_ref="P-2", question="Out of scope?",
                            status="declined", decline_reason="A matter for the council's own committee.",
                            due=date(2026, 8, 1), created_at=at(2026, 7, 1), updated_at=at(2026, 7, 2)),
        ])
        s.add_all([Meeting(board_id=board.id, held_on=date(2026, 10, 8)),
                   Meeting(board_id=board.id, held_on=date(2027, 3, 9)),
                   Meeting(board_id=board.id, held_on=date(2027, 2, 10), kind="scrutiny")])
        await s.commit()
        return {"board": board.id, "owner": owner.id}
