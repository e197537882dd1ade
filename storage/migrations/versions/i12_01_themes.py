"""themes per consultation, each response's themes with their sentiment, room for a person's edits;
the analyser version on each response; a response a person reviewed keeps its moderation state

Revision ID: i12_01_themes
Revises: i15_01_welsh_names
Create Date: 2026-12-01
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "i12_01_themes"
down_revision = "i15_01_welsh_names"
branch_labels = None
depends_on = None

TS = storage.models.UTCDateTime(timezone=True)
S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "theme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("key", S(length=80), nullable=False),
        sa.Column("origin", S(length=10), nullable=False),
        sa.Column("label_en", S(length=200), nullable=False),
        sa.Column("label_cy", S(length=200), nullable=False),
        sa.Column("custom_label_en", S(length=200), nullable=True),
        sa.Column("custom_label_cy", S(length=200), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["merged_into_id"], ["theme.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consultation_id", "key"),
    )
    op.create_index("ix_theme_consultation_id", "theme", ["consultation_id"])
    op.create_table(
        "responsetheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("sentiment", S(length=10), nullable=False),
        sa.Column("polarity", sa.Float(), nullable=False),
        sa.Column("source", S(length=10), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("analyser_version", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"]),
        sa.ForeignKeyConstraint(["theme_id"], ["theme.id"]),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id", "theme_id"),
    )
    op.create_index("ix_responsetheme_response_id", "responsetheme", ["response_id"])
    op.create_index("ix_responsetheme_theme_id", "responsetheme", ["theme_id"])
    op.create_index("ix_responsetheme_consultation_theme", "responsetheme", ["consultation_id", "theme_id"])
    op.create_table(
        "thememention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_theme_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("sentiment", S(length=10), nullable=False),
        sa.Column("polarity", sa.Float(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["response_theme_id"], ["responsetheme.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_thememention_response_theme_id", "thememention", ["response_theme_id"])
    op.create_table(
        "themeedit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("action", S(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("actor_name", S(length=200), nullable=True),
        sa.Column("actor_email", S(length=320), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["theme_id"], ["theme.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_themeedit_consultation_id", "themeedit", ["consultation_id"])
    op.create_table(
        "themepin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("pinned_by", S(length=320), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["theme_id"], ["theme.id"]),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["stakeholdergroup.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("theme_id", "response_id", "group_id"),
    )
    op.create_index("ix_themepin_theme_id", "themepin", ["theme_id"])
    with op.batch_alter_table("response", schema=None) as batch_op:
        # Responses analysed before this revision have no version: the worker analyses them again.
        batch_op.add_column(sa.Column("analyser_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", TS, nullable=True))
        batch_op.create_index("ix_response_analyser_version", ["analyser_version"])


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_analyser_version")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("analyser_version")
    op.drop_table("themepin")
    op.drop_table("themeedit")
    op.drop_table("thememention")
    op.drop_table("responsetheme")
    op.drop_table("theme")
