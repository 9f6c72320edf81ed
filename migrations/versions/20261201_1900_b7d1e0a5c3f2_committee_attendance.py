"""Committee attendance: the invited members present at a held session and the other attendees.

Revision ID: b7d1e0a5c3f2
Revises: 6772215471f6
Create Date: 2026-12-01 19:00:00.000000+00:00

Sessions already held when this runs get the default attendance (every invited member,
recorded at the time the session was held), which the officer can correct before closing;
sessions already closed keep none: their procès-verbal is final and does not list it.

On SQLite the two checks ride on the added column (``ADD COLUMN … CHECK``): adding a table
constraint would recreate ``committee_sessions``, and dropping the old table with foreign
keys on would cascade to its agenda items and invitations.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grants.models.types

revision: str = 'b7d1e0a5c3f2'
down_revision: str | None = '6772215471f6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLANNED_CHECK = "status != 'planned' OR (attendance_recorded_at IS NULL AND other_attendees = '')"
HELD_CHECK = "status != 'held' OR attendance_recorded_at IS NOT NULL"


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column('committee_sessions', sa.Column('attendance_recorded_at', grants.models.types.UTCDateTime(), nullable=True))
    op.execute("UPDATE committee_sessions SET attendance_recorded_at = held_at WHERE status = 'held'")
    if bind.dialect.name == 'sqlite':
        op.execute(
            "ALTER TABLE committee_sessions ADD COLUMN other_attendees TEXT DEFAULT '' NOT NULL"
            f" CONSTRAINT ck_committee_sessions_planned_has_no_attendance CHECK ({PLANNED_CHECK})"
            f" CONSTRAINT ck_committee_sessions_held_has_attendance CHECK ({HELD_CHECK})"
        )
    else:
        op.add_column('committee_sessions', sa.Column('other_attendees', sa.Text(), server_default='', nullable=False))
        op.create_check_constraint(op.f('ck_committee_sessions_planned_has_no_attendance'), 'committee_sessions', PLANNED_CHECK)
        op.create_check_constraint(op.f('ck_committee_sessions_held_has_attendance'), 'committee_sessions', HELD_CHECK)

    op.create_table('committee_session_attendees',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id', 'user_id'], ['committee_session_members.session_id', 'committee_session_members.user_id'], name='fk_committee_session_attendees_member', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['committee_sessions.id'], name=op.f('fk_committee_session_attendees_session_id_committee_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_committee_session_attendees_user_id_users')),
    sa.PrimaryKeyConstraint('session_id', 'user_id', name=op.f('pk_committee_session_attendees'))
    )
    op.execute(
        "INSERT INTO committee_session_attendees (session_id, user_id) "
        "SELECT m.session_id, m.user_id FROM committee_session_members m "
        "JOIN committee_sessions s ON s.id = m.session_id WHERE s.status = 'held'"
    )


def downgrade() -> None:
    op.drop_table('committee_session_attendees')
    if op.get_bind().dialect.name == 'sqlite':
        # The checks belong to the column: they go with it (ALTER TABLE … DROP COLUMN).
        op.execute("ALTER TABLE committee_sessions DROP COLUMN other_attendees")
        op.execute("ALTER TABLE committee_sessions DROP COLUMN attendance_recorded_at")
        return
    op.drop_constraint(op.f('ck_committee_sessions_held_has_attendance'), 'committee_sessions', type_='check')
    op.drop_constraint(op.f('ck_committee_sessions_planned_has_no_attendance'), 'committee_sessions', type_='check')
    op.drop_column('committee_sessions', 'other_attendees')
    op.drop_column('committee_sessions', 'attendance_recorded_at')
