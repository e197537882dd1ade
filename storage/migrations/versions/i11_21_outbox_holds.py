"""outbox holds: Retry-After and backoff per channel (or platform), and a time-based give-up

Revision ID: i11_21_outbox_holds
Revises: lead_03_digest_periods_form_key
Create Date: 2026-12-01 15:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.models


revision = 'i11_21_outbox_holds'
down_revision = 'lead_03_digest_periods_form_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outboxhold',
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('until', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('since', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'channel')
    )
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failing_since', storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('failing_since')
    op.drop_table('outboxhold')
