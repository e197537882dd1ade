"""the service's own secret (when CYSWLLT_SECRET_KEY is unset) and rate-limit counts shared by processes

Revision ID: i11_22_secret_and_rate_counts
Revises: i12_01_themes
Create Date: 2026-12-01 14:10:53.012365
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.models


revision = 'i11_22_secret_and_rate_counts'
down_revision = 'i12_01_themes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ratecount',
    sa.Column('bucket', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('expires', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'client')
    )
    with op.batch_alter_table('ratecount', schema=None) as batch_op:
        batch_op.create_index('ix_ratecount_expires', ['expires'], unique=False)

    op.create_table('servicesecret',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('servicesecret')
    with op.batch_alter_table('ratecount', schema=None) as batch_op:
        batch_op.drop_index('ix_ratecount_expires')

    op.drop_table('ratecount')
