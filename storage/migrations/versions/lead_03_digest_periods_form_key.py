"""scheduled digests own their periods; a web form sent twice is stored once

Revision ID: lead_03_digest_periods_form_key
Revises: i16_01_scrutiny
Create Date: 2026-12-01
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "lead_03_digest_periods_form_key"
down_revision = "i16_01_scrutiny"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Digests stored before this kept how they were made in their data.
    trigger = ("data->>'trigger'" if op.get_bind().dialect.name == "postgresql"
               else "json_extract(data, '$.trigger')")
    op.execute(f"UPDATE digest SET scheduled = {sa.true().compile(dialect=op.get_bind().dialect)} "
               f"WHERE {trigger} = 'scheduled'")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_response_form_key", ["form_key"])


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_constraint("uq_response_form_key", type_="unique")
        batch_op.drop_column("form_key")
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_column("scheduled")
