"""addresses: one table of chat addresses (a person's user id, a board's or a group's channel, on
one platform), filled from the per-platform columns, which are then dropped; and each person's
preferred platform (members CSV ``preferred_platform``), empty for everyone so far

Revision ID: i13_02_addresses
Revises: i13_01_calendar_key
Create Date: 2026-12-01 17:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.models


revision = 'i13_02_addresses'
down_revision = 'i13_01_calendar_key'
branch_labels = None
depends_on = None

# (table, owner column in address, platform, old column, its length, whether it had an index)
MOVED = [
    ('person', 'person_id', 'slack', 'slack_user_id', 64, True),
    ('person', 'person_id', 'teams', 'teams_user_id', 128, True),
    ('board', 'board_id', 'slack', 'slack_channel_id', 64, True),
    ('board', 'board_id', 'teams', 'teams_conversation_id', 300, True),
    ('stakeholdergroup', 'group_id', 'slack', 'slack_channel_id', 64, False),
    ('stakeholdergroup', 'group_id', 'teams', 'teams_conversation_id', 300, False),
]


def upgrade() -> None:
    op.create_table('address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('board_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('(CASE WHEN person_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN board_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN group_id IS NULL THEN 0 ELSE 1 END) = 1', name='address_one_owner'),
    sa.ForeignKeyConstraint(['board_id'], ['board.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['stakeholdergroup.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('board_id', 'platform'),
    sa.UniqueConstraint('group_id', 'platform'),
    sa.UniqueConstraint('person_id', 'platform')
    )
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.create_index('ix_address_platform_address', ['platform', 'address'], unique=False)
        batch_op.create_index(batch_op.f('ix_address_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_address_board_id'), ['board_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_address_group_id'), ['group_id'], unique=False)

    # Every address moves, as it was (only empty ones are left behind: they reached nobody).
    for table, owner, platform, column, _, _ in MOVED:
        op.execute(
            f"INSERT INTO address (platform, address, {owner}, created_at) "
            f"SELECT '{platform}', {column}, id, CURRENT_TIMESTAMP FROM {table} "
            f"WHERE {column} IS NOT NULL AND {column} <> ''")

    for table in ('person', 'board', 'stakeholdergroup'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _, _, _, column, _, indexed in [m for m in MOVED if m[0] == table]:
                if indexed:
                    batch_op.drop_index(f'ix_{table}_{column}')
                batch_op.drop_column(column)
            if table == 'person':
                batch_op.add_column(sa.Column('preferred_platform', sqlmodel.sql.sqltypes.AutoString(length=16),
                                              nullable=True))


def downgrade() -> None:
    for table in ('person', 'board', 'stakeholdergroup'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == 'person':
                batch_op.drop_column('preferred_platform')
            for _, _, _, column, length, indexed in [m for m in MOVED if m[0] == table]:
                batch_op.add_column(sa.Column(column, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True))
                if indexed:
                    batch_op.create_index(f'ix_{table}_{column}', [column], unique=False)
    # Back into the columns; an address on any other platform (none existed before) has nowhere to go.
    for table, owner, platform, column, _, _ in MOVED:
        op.execute(
            f"UPDATE {table} SET {column} = (SELECT address FROM address WHERE address.{owner} = {table}.id "
            f"AND address.platform = '{platform}')")
    op.drop_table('address')
