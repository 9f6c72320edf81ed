"""The FSE+ granted by the committee per strand, the total being their sum.

Revision ID: 4b26bf1235cb
Revises: d337550b7c22
Create Date: 2026-12-04 18:40:00.000000+00:00

Existing selections are split from the retained plan their decision rests on (the
instruction's FSE+ per strand): the retained figures themselves when the whole retained
maximum was granted; otherwise in proportion, the repérage share rounded down to the cent
and the sortie vers l'emploi share the rest, so that no strand exceeds its retained figure
and the two add up to the amount granted. On SQLite the checks are added by recreating
``agenda_items`` (batch mode), which nothing references.
"""

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

import sqlalchemy as sa
from alembic import op

import grants.models.types

revision: str = '4b26bf1235cb'
down_revision: str | None = 'd337550b7c22'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CENT = Decimal("0.01")
CHECKS = {
    "selected_has_strand_amounts": (
        "decision != 'selected' OR (granted_reperage IS NOT NULL AND granted_sortie_emploi IS NOT NULL"
        " AND amount_granted = granted_reperage + granted_sortie_emploi)"
    ),
    "only_selected_has_amounts": (
        "(decision IS NOT NULL AND decision = 'selected')"
        " OR (amount_granted IS NULL AND granted_reperage IS NULL AND granted_sortie_emploi IS NULL)"
    ),
    "strand_amounts_positive": (
        "(granted_reperage IS NULL OR granted_reperage >= 0) AND (granted_sortie_emploi IS NULL OR granted_sortie_emploi >= 0)"
    ),
}


def split(amount: Decimal, retained: dict[str, Decimal]) -> tuple[Decimal, Decimal]:
    reperage, sortie = retained.get("reperage", Decimal("0.00")), retained.get("sortie_emploi", Decimal("0.00"))
    if amount == reperage + sortie:
        return reperage, sortie
    if reperage + sortie <= 0:
        return amount, Decimal("0.00")
    first = (amount * reperage / (reperage + sortie)).quantize(CENT, ROUND_DOWN)
    return first, amount - first


def upgrade() -> None:
    op.add_column('agenda_items', sa.Column('granted_reperage', grants.models.types.Money(), nullable=True))
    op.add_column('agenda_items', sa.Column('granted_sortie_emploi', grants.models.types.Money(), nullable=True))
    bind = op.get_bind()
    items = sa.table('agenda_items', sa.column('id', sa.Integer()), sa.column('dossier_id', sa.Integer()),
                     sa.column('decision', sa.String()), sa.column('amount_granted', grants.models.types.Money()),
                     sa.column('granted_reperage', grants.models.types.Money()),
                     sa.column('granted_sortie_emploi', grants.models.types.Money()))
    instructions = sa.table('instructions', sa.column('dossier_id', sa.Integer()), sa.column('finance', sa.JSON()))
    plans = dict(bind.execute(sa.select(instructions.c.dossier_id, instructions.c.finance)).all())
    for item_id, dossier_id, amount in bind.execute(
        sa.select(items.c.id, items.c.dossier_id, items.c.amount_granted)
        .where(items.c.decision == 'selected', items.c.amount_granted.is_not(None))
    ).all():
        strands = ((plans.get(dossier_id) or {}).get("result") or {}).get("strands") or {}
        retained = {s: Decimal(str(figures.get("fse") or "0")) for s, figures in strands.items()}
        reperage, sortie = split(amount, retained)
        bind.execute(items.update().where(items.c.id == item_id).values(
            granted_reperage=reperage, granted_sortie_emploi=sortie))
    with op.batch_alter_table('agenda_items') as batch_op:
        for name, condition in CHECKS.items():
            batch_op.create_check_constraint(batch_op.f(f'ck_agenda_items_{name}'), condition)


def downgrade() -> None:
    with op.batch_alter_table('agenda_items') as batch_op:
        for name in reversed(CHECKS):
            batch_op.drop_constraint(batch_op.f(f'ck_agenda_items_{name}'), type_='check')
        batch_op.drop_column('granted_sortie_emploi')
        batch_op.drop_column('granted_reperage')
