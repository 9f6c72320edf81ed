"""Structure verification: a structure is to be verified by DREETS staff, an automatic admissibility criterion of every call.

Revision ID: f1c4d2e6a8b7
Revises: e8f3a1c2b4d5
Create Date: 2026-12-04 19:30:00.000000+00:00

Existing structures were registered by their first applicant without any proof and nobody
has verified them: they are all "to verify" (the column's server default), and DREETS staff
verify them from the list of structures. Every existing call gets the criterion
``structure_verified`` in its admissibility checklist, after ``single_applicant`` (or at the
end when the call has none), unless it already has it.

On SQLite the checks ride on the added column (``ADD COLUMN … CHECK``):
adding table constraints would recreate ``structures``, and dropping the old table with
foreign keys on would fail on (or cascade to) every row that refers to a structure.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grants.models.types

revision: str = 'f1c4d2e6a8b7'
down_revision: str | None = 'e8f3a1c2b4d5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE_CHECK = "verification IN ('to_verify', 'verified')"
DATE_CHECK = "(verification = 'verified') = (verified_at IS NOT NULL)"
CRITERION = {"code": "structure_verified", "label": "Structure porteuse vérifiée par la DREETS (SIRET)", "auto": True}

calls = sa.table('calls', sa.column('id', sa.Integer), sa.column('admissibility_criteria', sa.JSON))


def _with_criterion(criteria: list) -> list:
    codes = [c.get("code") for c in criteria]
    if CRITERION["code"] in codes:
        return criteria
    at = codes.index("single_applicant") + 1 if "single_applicant" in codes else len(criteria)
    return [*criteria[:at], dict(CRITERION), *criteria[at:]]


def _rewrite_calls(change) -> None:  # type: ignore[no-untyped-def]
    bind = op.get_bind()
    for row in bind.execute(sa.select(calls.c.id, calls.c.admissibility_criteria)).all():
        criteria = list(row.admissibility_criteria or [])
        changed = change(criteria)
        if changed != criteria:
            bind.execute(calls.update().where(calls.c.id == row.id).values(admissibility_criteria=changed))


def upgrade() -> None:
    op.add_column('structures', sa.Column('verified_at', grants.models.types.UTCDateTime(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "ALTER TABLE structures ADD COLUMN verification VARCHAR(32) DEFAULT 'to_verify' NOT NULL"
            f" CONSTRAINT ck_structures_structure_verification CHECK ({STATE_CHECK})"
            f" CONSTRAINT ck_structures_verified_has_date CHECK ({DATE_CHECK})"
        )
    else:
        op.add_column('structures', sa.Column(
            'verification',
            sa.Enum('to_verify', 'verified', name='structure_verification', native_enum=False,
                    create_constraint=True, length=32),
            server_default='to_verify', nullable=False,
        ))
        op.create_check_constraint(op.f('ck_structures_verified_has_date'), 'structures', DATE_CHECK)
    op.create_index(op.f('ix_structures_verification'), 'structures', ['verification'], unique=False)
    _rewrite_calls(_with_criterion)


def downgrade() -> None:
    _rewrite_calls(lambda criteria: [c for c in criteria if c.get("code") != CRITERION["code"]])
    op.drop_index(op.f('ix_structures_verification'), table_name='structures')
    if op.get_bind().dialect.name == 'sqlite':
        # The checks belong to the column: they go with it (ALTER TABLE … DROP COLUMN).
        op.execute("ALTER TABLE structures DROP COLUMN verification")
        op.execute("ALTER TABLE structures DROP COLUMN verified_at")
        return
    op.drop_constraint(op.f('ck_structures_verified_has_date'), 'structures', type_='check')
    op.drop_constraint(op.f('ck_structures_structure_verification'), 'structures', type_='check')
    op.drop_column('structures', 'verification')
    op.drop_column('structures', 'verified_at')
