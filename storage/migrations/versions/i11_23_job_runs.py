"""job runs: when each scheduled job last ran to the end, for /metrics and /healthz

Revision ID: i11_23_job_runs
Revises: i11_22_inbound_requests
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.models


revision = 'i11_23_job_runs'
down_revision = 'i11_22_inbound_requests'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobrun',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('last_succeeded_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_queued', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('jobrun')
