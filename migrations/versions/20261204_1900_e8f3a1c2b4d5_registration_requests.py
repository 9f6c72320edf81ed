"""Registration requests: an applicant's registration waits for the link e-mailed to the address before any account exists.

Revision ID: e8f3a1c2b4d5
Revises: 05742f8229ea
Create Date: 2026-12-04 19:00:00.000000+00:00

A new table only: existing accounts were created before the e-mail check and stay as they
are (their addresses receive the reset links and notifications already).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grants.models.types

revision: str = 'e8f3a1c2b4d5'
down_revision: str | None = '05742f8229ea'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('registration_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('structure_name', sa.String(length=200), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('structure_kind', sa.Enum('mission_locale', 'plie', 'association', 'other_spe', name='structure_kind',
                                        native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', grants.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_requests')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_registration_requests_token_sha256'))
    )
    with op.batch_alter_table('registration_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_requests_email'), ['email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('registration_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_requests_email'))
        batch_op.drop_index(batch_op.f('ix_registration_requests_created_at'))
    op.drop_table('registration_requests')
