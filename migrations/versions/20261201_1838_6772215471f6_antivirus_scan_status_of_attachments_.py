"""Antivirus verdict of each uploaded file (attachments and message pièces), "unchecked" for existing ones.

Revision ID: 6772215471f6
Revises: ae61cdc23f1a
Create Date: 2026-12-01 18:38:46.902046+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grants.models.types

revision: str = '6772215471f6'
down_revision: str | None = 'ae61cdc23f1a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_status', sa.Enum('unchecked', 'pending', 'clean', 'infected', name='scan_status', native_enum=False, create_constraint=True, length=32), server_default='unchecked', nullable=False))
        batch_op.add_column(sa.Column('scan_signature', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('scanned_at', grants.models.types.UTCDateTime(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_attachments_infected_has_signature'), "(scan_status = 'infected') = (scan_signature IS NOT NULL)"
        )

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachment_scan_status', sa.Enum('unchecked', 'pending', 'clean', 'infected', name='message_scan_status', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('attachment_scan_signature', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('attachment_scanned_at', grants.models.types.UTCDateTime(), nullable=True))
    # Files sent before this revision were not scanned.
    op.execute("UPDATE messages SET attachment_scan_status = 'unchecked' WHERE attachment_file IS NOT NULL")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_messages_attachment_has_scan_status'), "(attachment_file IS NULL) = (attachment_scan_status IS NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_messages_attachment_has_scan_status'), type_='check')
        batch_op.drop_constraint(op.f('ck_messages_message_scan_status'), type_='check')
        batch_op.drop_column('attachment_scanned_at')
        batch_op.drop_column('attachment_scan_signature')
        batch_op.drop_column('attachment_scan_status')

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attachments_infected_has_signature'), type_='check')
        batch_op.drop_constraint(op.f('ck_attachments_scan_status'), type_='check')
        batch_op.drop_column('scanned_at')
        batch_op.drop_column('scan_signature')
        batch_op.drop_column('scan_status')

