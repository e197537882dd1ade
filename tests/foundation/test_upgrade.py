"""Schema changes are Alembic revisions in one line, and a database with data in it upgrades to the
head on SQLite and PostgreSQL with nothing lost.

``populated`` fills a database at the first revision with one of everything; a revision that moves
or reshapes data adds its own checks below, against the same rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, insert, select

from storage.db import sync_url
from storage.migrate import alembic_config, upgrade

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

# One row per table, as the first revision's schema had them (ids fixed so checks can name them).
ROWS: dict[str, list[dict]] = {
    "board": [{"id": 1, "name": "Bwrdd Gwasanaethau Cyhoeddus Môn", "slack_channel_id": "C0BOARD",
               "teams_conversation_id": "19:board@thread.tacv2", "created_at": WHEN}],
    "organisation": [{"id": 1, "name": "Cyngor Sir Ynys Môn", "sector": "local government"}],
    "person": [
        {"id": 1, "email": "gwen@example.cymru", "name": "Gwen Parry", "language": "cy",
         "slack_user_id": "U0GWEN", "teams_user_id": "aad-gwen", "current_board_id": 1, "created_at": WHEN},
        {"id": 2, "email": "dai@example.cymru", "name": "Dai Jones", "language": "en",
         "slack_user_id": None, "teams_user_id": None, "current_board_id": None, "created_at": WHEN},
        {"id": 3, "email": "nia@example.cymru", "name": "Nia Teams", "language": "cy",
         "slack_user_id": "", "teams_user_id": "29:1nia-teams-only", "current_board_id": None, "created_at": WHEN},
    ],
    "member": [{"id": 1, "board_id": 1, "person_id": 1, "organisation_id": 1, "sector": None, "role": "chair"},
               {"id": 2, "board_id": 1, "person_id": 2, "organisation_id": 1, "sector": None, "role": "officer"}],
    "priority": [{"id": 1, "board_id": 1, "ref": "P-1", "title": "Healthy communities", "title_cy": None,
                  "scope": "local"}],
    "action": [{"id": 1, "board_id": 1, "priority_id": 1, "ref": "A-1", "title": "Joint recycling campaign",
                "owner_email": "dai@example.cymru", "owner_id": 2, "due": date(2027, 5, 31),
                "due_text": "Spring 2027", "rag": "amber", "updated_at": WHEN, "created_at": WHEN}],
    "actionlead": [{"action_id": 1, "organisation_id": 1, "position": 0}],
    "actionupdate": [{"id": 1, "action_id": 1, "author_id": 2, "rag": "amber", "note": "Funding bid in",
                      "source": "slack", "created_at": WHEN}],
    "scrutinyrequest": [{"id": 1, "board_id": 1, "requester_id": 1, "action_id": 1, "priority_id": None,
                         "subject_ref": "A-1", "question": "Why is this amber?", "status": "open",
                         "due": date(2026, 12, 20), "committee_date": None, "response": None,
                         "acknowledged_by_id": None, "responded_by_id": None, "created_at": WHEN,
                         "updated_at": WHEN}],
    "meeting": [{"id": 1, "board_id": 1, "held_on": date(2026, 12, 10), "kind": "board"}],
    "conversationreference": [{"id": 1, "conversation_id": "a:1gwen", "person_id": 1, "scope": "personal",
                               "teams_user_id": "aad-gwen", "reference": {"serviceUrl": "https://smba.example/"},
                               "updated_at": WHEN}],
    "stakeholdergroup": [{"id": 1, "slug": "young-people", "name_en": "Young people", "name_cy": "Pobl ifanc",
                          "slack_channel_id": "C0YOUTH", "teams_conversation_id": None, "language": "both",
                          "digest_schedule": "0 9 * * mon"},
                         {"id": 2, "slug": "carers", "name_en": "Carers", "name_cy": "Gofalwyr",
                          "slack_channel_id": None, "teams_conversation_id": "19:carers@thread.tacv2",
                          "language": "cy", "digest_schedule": None}],
    "groupcoordinator": [{"group_id": 1, "person_id": 1}],
    "consultation": [{"id": 1, "slug": "draft-plan", "board_id": 1, "title_en": "Draft plan",
                      "title_cy": "Cynllun drafft", "summary_en": "Tell us", "summary_cy": "Dywedwch wrthym",
                      "executive_summary_en": None, "executive_summary_cy": None, "opens_at": WHEN,
                      "closes_at": datetime(2027, 1, 25, tzinfo=UTC), "short_period_reason": None,
                      "created_at": WHEN}],
    "consultationgroup": [{"consultation_id": 1, "group_id": 1}],
    "question": [{"id": 1, "consultation_id": 1, "key": "q1", "position": 0, "text_en": "What matters?",
                  "text_cy": "Beth sy'n bwysig?", "hint_en": None, "hint_cy": None, "kind": "open"}],
    "response": [{"id": 1, "consultation_id": 1, "reference": "CYS-ABCD-1234", "withdrawal_token_hash": "x" * 64,
                  "text": "Mae'r bws ysgol yn hwyr bob bore.", "language": "cy", "language_given": False,
                  "group_id": 1, "anonymous": True, "name": None, "email": None, "contact_consent": False,
                  "channel": "web", "client_hash": None, "text_hash": "h" * 64, "duplicate_of_id": None,
                  "received_at": WHEN, "analysis_state": "done", "analysis_attempts": 1, "analysis_error": None,
                  "analysed_at": WHEN, "sentiment": "negative", "polarity": -0.5, "confidence": 0.7,
                  "themes": ["school bus"], "redacted_text": "Mae'r bws ysgol yn hwyr bob bore.",
                  "moderation_state": "visible", "moderation_reason": None, "withdrawn_at": None}],
    "answer": [{"id": 1, "response_id": 1, "question_id": 1, "text": "Y bws", "language": "cy",
                "sentiment": None, "polarity": None, "confidence": None, "themes": ["bus"], "redacted_text": "Y bws"}],
    "digest": [{"id": 1, "consultation_id": 1, "group_id": 1, "period_start": WHEN, "period_end": WHEN,
                "data": {"counts": {"total": 1}, "trigger": "scheduled"}, "created_at": WHEN},
               {"id": 2, "consultation_id": 1, "group_id": 1, "period_start": WHEN, "period_end": WHEN,
                "data": {"counts": {"total": 1}, "trigger": "on-demand"}, "created_at": WHEN}],
    "yousaidwedid": [{"id": 1, "consultation_id": 1, "theme": "school bus", "you_said_en": "Late buses",
                      "you_said_cy": "Bysiau hwyr", "we_did_en": "New timetable", "we_did_cy": "Amserlen newydd",
                      "created_by": "gwen@example.cymru", "created_at": WHEN}],
    "outboxmessage": [{"id": 1, "idempotency_key": "remind:p2:1:A-1:2026-11-02", "platform": "slack",
                       "channel": "U0GWEN", "recipient_id": 1, "language": "cy", "kind": "reminder",
                       "payload": {"reminder": {"text": "Atgoffa", "ref": "A-1", "rag": "amber"}},
                       "state": "pending", "attempts": 0, "next_attempt_at": WHEN, "respect_working_hours": True,
                       "last_error": None, "external_id": None, "created_at": WHEN, "claimed_at": None,
                       "sent_at": None}],
    "snooze": [{"id": 1, "action_id": 1, "person_id": 2, "until": datetime(2026, 12, 7, 9, tzinfo=UTC)}],
}

FIRST = "0001"


def test_the_revisions_have_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()} — point the newest down_revision at main's head"


@pytest.fixture
def populated(database_url):
    """A database at the first revision holding one of everything, then upgraded to the head."""
    upgrade(database_url, FIRST)
    engine = create_engine(sync_url(database_url))
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.begin() as conn:
            for table, rows in ROWS.items():  # in foreign-key order
                conn.execute(insert(meta.tables[table]), rows)
            if engine.dialect.name == "postgresql":  # ids were given: move each sequence past them
                for table in ROWS:
                    if "id" in meta.tables[table].c:
                        conn.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    finally:
        engine.dispose()
    upgrade(database_url)
    engine = create_engine(sync_url(database_url))
    try:
        yield engine
    finally:
        engine.dispose()


def test_a_populated_database_upgrades_with_nothing_lost(populated):
    meta = MetaData()
    meta.reflect(populated)
    with populated.connect() as conn:
        for table, rows in ROWS.items():
            if table not in meta.tables:
                continue  # a later revision folded this table into another; its own check covers it
            stored = conn.execute(select(meta.tables[table])).mappings().all()
            assert len(stored) == len(rows), f"{table}: {len(stored)} rows after the upgrade, {len(rows)} before"
            for before, after in zip(rows, sorted(stored, key=lambda r: tuple(r.get(k) or 0 for k in ("id",)))):
                for column, value in before.items():
                    if column not in after:
                        continue  # moved by a later revision; checked by that revision's own test
                    got = after[column]
                    if isinstance(value, datetime) and isinstance(got, datetime) and got.tzinfo is None:
                        got = got.replace(tzinfo=UTC)
                    assert got == value, f"{table}.{column}: {got!r} after the upgrade, {value!r} before"


def test_boards_stored_before_slugs_get_one_and_stay_unpublished(populated):
    with populated.connect() as conn:
        board = conn.exec_driver_sql("SELECT slug, published FROM board WHERE id = 1").one()
    assert board.slug == "bwrdd-gwasanaethau-cyhoeddus-mon"
    assert not board.published


def test_responses_given_before_quote_consent_was_asked_did_not_agree(populated):
    with populated.connect() as conn:
        assert conn.exec_driver_sql("SELECT quote_consent FROM response WHERE id = 1").scalar_one() in (False, 0)


def test_scrutiny_requests_and_updates_gain_the_workflow_columns_empty(populated):
    """i16_01: a request raised before requesters could choose to be named stays anonymous, keeps its
    state and dates, and is tied to no meeting yet; an update has no public summary until one is given."""
    meta = MetaData()
    meta.reflect(populated)
    with populated.connect() as conn:
        request = conn.execute(select(meta.tables["scrutinyrequest"])).mappings().one()
        update = conn.execute(select(meta.tables["actionupdate"])).mappings().one()
    assert (request["status"], request["due"], request["question"]) == ("open", date(2026, 12, 20), "Why is this amber?")
    assert request["requester_named"] is False
    assert (request["meeting_id"], request["decline_reason"], request["date_reason"]) == (None, None, None)
    assert (update["note"], update["public_summary"]) == ("Funding bid in", None)


def test_digests_stored_before_keep_whether_they_were_scheduled(populated):
    with populated.connect() as conn:
        rows = dict(conn.exec_driver_sql("SELECT id, scheduled FROM digest ORDER BY id").all())
    assert rows == {1: True, 2: False}


def test_boards_and_actions_gain_empty_welsh_names(populated):
    """i15_01: nothing was translated before, so no Welsh name is invented; the English stays as it was."""
    with populated.connect() as conn:
        board = conn.exec_driver_sql("SELECT name, name_cy FROM board WHERE id = 1").one()
        action = conn.exec_driver_sql("SELECT title, title_cy FROM action WHERE id = 1").one()
        reports = conn.exec_driver_sql("SELECT count(*) FROM annualreport").scalar_one()
    assert tuple(board) == ("Bwrdd Gwasanaethau Cyhoeddus Môn", None)
    assert tuple(action) == ("Joint recycling campaign", None)
    assert reports == 0


def test_responses_analysed_before_themes_were_stored_are_analysed_again(populated):
    """i12_01_themes: the theme tables start empty, and every response stored before it has no analyser
    version, so the worker analyses it again in the background; its moderation state is kept."""
    with populated.connect() as conn:
        response = conn.exec_driver_sql(
            "SELECT analyser_version, reviewed_at, moderation_state FROM response WHERE id = 1").one()
        for table in ("theme", "responsetheme", "thememention", "themeedit", "themepin"):
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0
    assert response.analyser_version is None and response.reviewed_at is None
    assert response.moderation_state == ROWS["response"][0].get("moderation_state", "visible")


def test_every_chat_address_moves_to_the_address_table(populated):
    """i13_02_addresses: each person's Slack and Teams id, each board's and group's channel is one
    address row (owner, platform, address); empty cells reached nobody and make no row; the old
    columns are gone (decision 0018); nobody has a preferred platform yet."""
    meta = MetaData()
    meta.reflect(populated)
    with populated.connect() as conn:
        rows = {(r.person_id, r.board_id, r.group_id, r.platform, r.address) for r in conn.exec_driver_sql(
            "SELECT person_id, board_id, group_id, platform, address FROM address").all()}
        preferred = conn.exec_driver_sql("SELECT count(*) FROM person WHERE preferred_platform IS NOT NULL").scalar()
    expected = set()
    for table, owner in (("person", 0), ("board", 1), ("stakeholdergroup", 2)):
        for row in ROWS[table]:
            for platform, column in (("slack", "slack_user_id" if table == "person" else "slack_channel_id"),
                                     ("teams", "teams_user_id" if table == "person" else "teams_conversation_id")):
                if row[column]:
                    ids = [None, None, None]
                    ids[owner] = row["id"]
                    expected.add((*ids, platform, row[column]))
    assert rows == expected and len(rows) == 7
    assert (3, None, None, "teams", "29:1nia-teams-only") in rows and not any(r[0] == 2 for r in rows)
    assert preferred == 0
    for table in ("person", "board", "stakeholdergroup"):
        columns = set(meta.tables[table].c.keys())
        assert not columns & {"slack_user_id", "teams_user_id", "slack_channel_id", "teams_conversation_id"}


async def test_after_the_upgrade_each_address_still_reaches_its_owner(populated, database_url):
    """The same rows, read as the service reads them: where a person is reached, which board a
    channel is linked to, and where a group's digest goes."""
    from storage.db import Database
    from storage.models import Board, Person, StakeholderGroup
    from storage.reach import addresses_of, groups_addresses, owner_of, reach

    db = Database.from_url(database_url)
    try:
        async with db.session() as session:
            chosen = await reach(session, ["slack", "teams"])
            assert chosen[1] == ("slack", "U0GWEN")
            assert chosen[2] == ("console", "dai@example.cymru")
            assert await owner_of(session, "person", "teams", "29:1nia-teams-only") == 3
            assert await owner_of(session, "board", "teams", "19:board@thread.tacv2") == 1
            assert await addresses_of(session, await session.get(Board, 1)) == {
                "slack": "C0BOARD", "teams": "19:board@thread.tacv2"}
            assert await groups_addresses(session, [1, 2]) == {1: {"slack": "C0YOUTH"},
                                                                2: {"teams": "19:carers@thread.tacv2"}}
            assert await addresses_of(session, await session.get(Person, 1)) == {"slack": "U0GWEN",
                                                                                 "teams": "aad-gwen"}
            assert await addresses_of(session, await session.get(StakeholderGroup, 2)) == {
                "teams": "19:carers@thread.tacv2"}
    finally:
        await db.dispose()


def test_digest_totals_are_counted_for_responses_stored_before_they_were_kept(populated):
    """i17_01_digest_tallies: a consultation stored before is marked to be counted, and the upgrade counts it
    from its responses (the one analysed before is in the totals and its words are a quote candidate), the
    same as a recount would."""
    from sqlalchemy import union_all

    from storage import tallies

    with populated.connect() as conn:
        state = conn.exec_driver_sql("SELECT stale, counted_at FROM digesttallystate WHERE consultation_id = 1").one()
        stored = sorted(tuple(r) for r in conn.exec_driver_sql(
            "SELECT kind, group_id, bucket, theme_id, question_id, language, sentiment, state, n, positive, negative, "
            "welsh FROM digesttally WHERE consultation_id = 1").all())
        counted = sorted(tuple(r) for r in conn.execute(union_all(*tallies.selects(
            populated.dialect.name, tallies.Among(1)))).all())
    assert not state.stale and state.counted_at is not None
    assert stored == counted
    assert ("count", 1, 20759, 0, 0, "cy", "negative", "counted", 1, 0, 0, 0) in stored  # 2 November 2026
    assert ("hour", 1, 20759 * 24 + 9, 0, 0, "", "", "", 1, 0, 0, 0) in stored  # 09:30 UTC


def test_candidate_phrases_start_empty_and_older_analysis_is_done_again(populated):
    """i12_02_theme_candidates: no response has candidate phrases (nor a key its count) yet, and every
    response stored before it was analysed by an older analyser (or none), so the worker analyses it again
    and fills them."""
    from engagement.analysis import ANALYSER_VERSION

    with populated.connect() as conn:
        for table in ("themecandidate", "themecandidatekey"):
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0
        versions = [v for (v,) in conn.exec_driver_sql("SELECT analyser_version FROM response").all()]
    assert versions and all(v is None or v < ANALYSER_VERSION for v in versions)
