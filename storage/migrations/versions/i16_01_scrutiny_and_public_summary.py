"""scrutiny workflow (meetings, declined with a reason, date reasons, named requesters), public update summaries, meeting packs

Revision ID: i16_01_scrutiny
Revises: lead_02_quote_consent
Create Date: 2026-12-01 14:30:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "i16_01_scrutiny"
down_revision = "lead_02_quote_consent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meetingpack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("link_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "person_id"),
    )
    with op.batch_alter_table("meetingpack", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetingpack_meeting_id"), ["meeting_id"], unique=False)

    with op.batch_alter_table("actionupdate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_summary", sa.Text(), nullable=True))

    with op.batch_alter_table("scrutinyrequest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("scheduled_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("date_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("declined_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decline_reason", sa.Text(), nullable=True))
        # Requests raised before the choice existed were not agreed to be named: they stay anonymous.
        batch_op.add_column(sa.Column("requester_named", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f("ix_scrutinyrequest_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_foreign_key("fk_scrutinyrequest_meeting_id", "meeting", ["meeting_id"], ["id"])
        batch_op.create_foreign_key("fk_scrutinyrequest_scheduled_by_id", "person", ["scheduled_by_id"], ["id"])
        batch_op.create_foreign_key("fk_scrutinyrequest_declined_by_id", "person", ["declined_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("meetingpack", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetingpack_meeting_id"))
    op.drop_table("meetingpack")

    with op.batch_alter_table("scrutinyrequest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_scrutinyrequest_declined_by_id", type_="foreignkey")
        batch_op.drop_constraint("fk_scrutinyrequest_scheduled_by_id", type_="foreignkey")
        batch_op.drop_constraint("fk_scrutinyrequest_meeting_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_scrutinyrequest_meeting_id"))
        batch_op.drop_column("requester_named")
        batch_op.drop_column("decline_reason")
        batch_op.drop_column("declined_by_id")
        batch_op.drop_column("date_reason")
        batch_op.drop_column("scheduled_by_id")
        batch_op.drop_column("meeting_id")

    with op.batch_alter_table("actionupdate", schema=None) as batch_op:
        batch_op.drop_column("public_summary")
