"""Welsh names for boards and actions (priorities already have one), and annual reports

Revision ID: i15_01_welsh_names
Revises: i11_21_outbox_holds
Create Date: 2026-12-01 14:40:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "i15_01_welsh_names"
down_revision = "i11_21_outbox_holds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_cy", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_cy", sa.Text(), nullable=True))
    op.create_table(
        "annualreport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("year_start", sa.Integer(), nullable=False),
        sa.Column("commentary", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("published_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("board_id", "year_start"),
    )
    with op.batch_alter_table("annualreport", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annualreport_board_id"), ["board_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("annualreport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annualreport_board_id"))
    op.drop_table("annualreport")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_column("title_cy")
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_column("name_cy")
