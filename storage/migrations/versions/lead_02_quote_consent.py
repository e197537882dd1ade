"""responses record whether their words may be quoted in what is published

Revision ID: lead_02_quote_consent
Revises: lead_01_board_slug
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "lead_02_quote_consent"
down_revision = "lead_01_board_slug"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Responses given before the question was asked never agreed: false for all of them.
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quote_consent", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("quote_consent")
