"""digest totals kept as analysis lands (digesttally), their lock and state per consultation, and the
quotable texts ranked by index (quotecandidate), theme rows found by when they were made, a group's
responses by when they came; consultations
stored before are marked to be counted

Revision ID: i17_01_digest_tallies
Revises: i13_02_addresses
Create Date: 2026-12-01

The totals of consultations that already have responses are not counted here, in SQL frozen with this
revision: each is marked ``stale``, and ``cyswllt db upgrade`` (storage.migrate.upgrade) counts them right
after the schema is at the head, with the same code that keeps them (storage.tallies.recount). Until then a
digest of a stale consultation counts everything itself, as before.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "i17_01_digest_tallies"
down_revision = "i13_02_addresses"
branch_labels = None
depends_on = None

TS = storage.models.UTCDateTime(timezone=True)
S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "digesttally",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("kind", S(length=10), nullable=False),
        sa.Column("group_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("theme_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("question_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("language", S(length=2), nullable=False),
        sa.Column("sentiment", S(length=10), nullable=False),
        sa.Column("state", S(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("positive", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.Column("welsh", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("consultation_id", "kind", "group_id", "bucket", "theme_id", "question_id",
                                "language", "sentiment", "state"),
    )
    op.create_table(
        "digesttallystate",
        sa.Column("consultation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("counted_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("consultation_id"),
    )
    op.create_table(
        "quotecandidate",
        sa.Column("response_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("theme_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("question_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("side", S(length=10), nullable=False),
        sa.Column("language", S(length=2), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("informative", sa.Integer(), nullable=False),
        sa.Column("size_order", sa.Integer(), nullable=False),
        sa.Column("long", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"]),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("response_id", "theme_id", "question_id"),
    )
    op.create_index("ix_quotecandidate_quote", "quotecandidate",
                    ["consultation_id", "theme_id", "side", "informative", "size_order", sa.text("confidence DESC"),
                     "response_id"])
    op.create_index("ix_quotecandidate_summary", "quotecandidate",
                    ["consultation_id", "theme_id", "side", "language", "long", sa.text("confidence DESC"),
                     "response_id"])
    op.create_index("ix_responsetheme_consultation_created", "responsetheme", ["consultation_id", "created_at"])
    op.create_index("ix_response_consultation_group_received", "response", ["consultation_id", "group_id", "received_at"])
    # Consultations stored before: counted by ``cyswllt db upgrade`` once the schema is at the head.
    op.execute(f"INSERT INTO digesttallystate (consultation_id, changes, stale) "
               f"SELECT id, 0, {sa.true().compile(dialect=op.get_bind().dialect)} FROM consultation")


def downgrade() -> None:
    op.drop_index("ix_response_consultation_group_received", table_name="response")
    op.drop_index("ix_responsetheme_consultation_created", table_name="responsetheme")
    op.drop_index("ix_quotecandidate_summary", table_name="quotecandidate")
    op.drop_index("ix_quotecandidate_quote", table_name="quotecandidate")
    op.drop_table("quotecandidate")
    op.drop_table("digesttallystate")
    op.drop_table("digesttally")
