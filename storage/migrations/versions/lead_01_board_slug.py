"""boards get a URL slug and a publish setting

Revision ID: lead_01_board_slug
Revises: 0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.slugs import slugify, unique_slug

revision = "lead_01_board_slug"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False))
    conn = op.get_bind()
    taken: set[str] = set()
    for board_id, name in conn.execute(sa.text("SELECT id, name FROM board ORDER BY id")).all():
        slug = unique_slug(slugify(name), taken)
        taken.add(slug)
        conn.execute(sa.text("UPDATE board SET slug = :slug WHERE id = :id"), {"slug": slug, "id": board_id})
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.alter_column("slug", existing_type=sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False)
        batch_op.create_unique_constraint("uq_board_slug", ["slug"])


def downgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_constraint("uq_board_slug", type_="unique")
        batch_op.drop_column("published")
        batch_op.drop_column("slug")
