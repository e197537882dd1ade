"""inbound requests: Slack and Teams requests de-duplicated in the database, and work cut off by a
crash run again

Revision ID: i11_22_inbound_requests
Revises: i11_22_secret_and_rate_counts
Create Date: 2026-12-01 15:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.models


revision = 'i11_22_inbound_requests'
down_revision = 'i11_22_secret_and_rate_counts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inboundrequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('received_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('work', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'key')
    )
    with op.batch_alter_table('inboundrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inboundrequest_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_table('inboundrequest')
