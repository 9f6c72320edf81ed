"""Structure membership approval: a person joining an existing structure waits for a member; existing users are members.

Revision ID: c9e2f1b6d4a3
Revises: b7d1e0a5c3f2
Create Date: 2026-12-01 19:01:00.000000+00:00

Every existing account becomes an approved member (the column's server default).
On SQLite the checks ride on the added column (``ADD COLUMN … CHECK``): adding table
constraints would recreate ``users``, and dropping the old table with foreign keys on
would fail on (or cascade to) every row that refers to a user.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c9e2f1b6d4a3'
down_revision: str | None = 'b7d1e0a5c3f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE_CHECK = "membership IN ('active', 'pending', 'refused')"
STAFF_CHECK = "role = 'applicant' OR membership = 'active'"
REFUSED_CHECK = "membership != 'refused' OR NOT is_active"


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "ALTER TABLE users ADD COLUMN membership VARCHAR(32) DEFAULT 'active' NOT NULL"
            f" CONSTRAINT ck_users_membership_state CHECK ({STATE_CHECK})"
            f" CONSTRAINT ck_users_staff_membership_active CHECK ({STAFF_CHECK})"
            f" CONSTRAINT ck_users_refused_member_inactive CHECK ({REFUSED_CHECK})"
        )
        return
    op.add_column('users', sa.Column(
        'membership',
        sa.Enum('active', 'pending', 'refused', name='membership_state', native_enum=False,
                create_constraint=True, length=32),
        server_default='active', nullable=False,
    ))
    op.create_check_constraint(op.f('ck_users_staff_membership_active'), 'users', STAFF_CHECK)
    op.create_check_constraint(op.f('ck_users_refused_member_inactive'), 'users', REFUSED_CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # The checks belong to the column: they go with it (ALTER TABLE … DROP COLUMN).
        op.execute("ALTER TABLE users DROP COLUMN membership")
        return
    op.drop_constraint(op.f('ck_users_refused_member_inactive'), 'users', type_='check')
    op.drop_constraint(op.f('ck_users_staff_membership_active'), 'users', type_='check')
    op.drop_constraint(op.f('ck_users_membership_state'), 'users', type_='check')
    op.drop_column('users', 'membership')
