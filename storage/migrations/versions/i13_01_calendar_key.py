"""calendar key: the random part of each person's own calendar link

Revision ID: i13_01_calendar_key
Revises: i11_23_job_runs
Create Date: 2026-12-01 16:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.models


revision = 'i13_01_calendar_key'
down_revision = 'i11_23_job_runs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('calendar_key')
