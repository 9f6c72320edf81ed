"""When the convocation of a committee session was last e-mailed to its members, and what it announced.

Revision ID: 6f02536afd39
Revises: 4b26bf1235cb
Create Date: 2026-12-04 18:50:00.000000+00:00

Existing sessions have sent none. On SQLite the downgrade drops the columns in place
(``ALTER TABLE … DROP COLUMN``): recreating ``committee_sessions`` with foreign keys on
would cascade to its agenda items and invitations.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grants.models.types

revision: str = '6f02536afd39'
down_revision: str | None = '4b26bf1235cb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ('convocation_sent_at', 'convocation_fingerprint')


def upgrade() -> None:
    op.add_column('committee_sessions',
                  sa.Column('convocation_sent_at', grants.models.types.UTCDateTime(), nullable=True))
    op.add_column('committee_sessions', sa.Column('convocation_fingerprint', sa.String(length=64), nullable=True))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f"ALTER TABLE committee_sessions DROP COLUMN {column}")
        else:
            op.drop_column('committee_sessions', column)
