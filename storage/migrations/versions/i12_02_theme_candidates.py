"""candidate phrases beyond the glossary, per response mention, and how many responses raise each key,
from which a consultation's emergent themes are promoted

Revision ID: i12_02_theme_candidates
Revises: i17_01_digest_tallies
Create Date: 2026-12-01
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "i12_02_theme_candidates"
down_revision = "i17_01_digest_tallies"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Empty at first: the analyser version changes with it, so the worker analyses every response again in
    # the background and fills it.
    op.create_table(
        "themecandidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("key", S(length=80), nullable=False),
        sa.Column("language", S(length=4), nullable=False),
        sa.Column("wording", S(length=200), nullable=False),
        sa.Column("sentiment", S(length=10), nullable=False),
        sa.Column("polarity", sa.Float(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_themecandidate_response_id", "themecandidate", ["response_id"])
    op.create_index("ix_themecandidate_consultation_key", "themecandidate", ["consultation_id", "key"])
    op.create_table(
        "themecandidatekey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("key", S(length=80), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consultation_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("themecandidatekey")
    op.drop_index("ix_themecandidate_consultation_key", table_name="themecandidate")
    op.drop_index("ix_themecandidate_response_id", table_name="themecandidate")
    op.drop_table("themecandidate")
