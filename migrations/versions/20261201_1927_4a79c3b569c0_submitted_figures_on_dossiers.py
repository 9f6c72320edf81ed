"""What the latest submitted version asked for, copied onto the dossier (the queue sorts on it).

Revision ID: 4a79c3b569c0
Revises: c9e2f1b6d4a3
Create Date: 2026-12-01 19:27:56.000000+00:00

Existing dossiers get the figures of their latest version's frozen plan. On SQLite the
downgrade drops the columns in place (``ALTER TABLE … DROP COLUMN``): recreating
``dossiers`` with foreign keys on would cascade to its versions and attachments.
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import grants.models.types

revision: str = '4a79c3b569c0'
down_revision: str | None = 'c9e2f1b6d4a3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRANDS = ("reperage", "sortie_emploi")
COLUMNS = ("submitted_version", "submitted_fse_requested", "submitted_fse_max", "submitted_figures")


def _figures(finance):  # type: ignore[no-untyped-def]
    """The plan without its inputs' details nor its explanation lines (as the app stores it)."""
    if not finance or not finance.get("result"):
        return None
    inputs = (finance.get("input") or {}).get("strands") or {}
    result = finance["result"]
    return {
        "input": {"strands": {s: {"requested": (inputs.get(s) or {}).get("requested")} for s in STRANDS}},
        "result": {"strands": {s: dict(result["strands"][s]) for s in STRANDS}, "totals": dict(result["totals"])},
    }


def _requested(figures):  # type: ignore[no-untyped-def]
    if figures is None:
        return None
    total = Decimal("0.00")
    for strand in STRANDS:
        asked = figures["input"]["strands"][strand]["requested"]
        total += Decimal(asked if asked not in (None, "") else figures["result"]["strands"][strand]["fse"])
    return total


def upgrade() -> None:
    op.add_column('dossiers', sa.Column('submitted_version', sa.Integer(), nullable=True))
    op.add_column('dossiers', sa.Column('submitted_fse_requested', grants.models.types.Money(), nullable=True))
    op.add_column('dossiers', sa.Column('submitted_fse_max', grants.models.types.Money(), nullable=True))
    op.add_column('dossiers', sa.Column('submitted_figures', sa.JSON(), nullable=True))

    dossiers = sa.table(
        'dossiers', sa.column('id', sa.Integer()), sa.column('submitted_version', sa.Integer()),
        sa.column('submitted_fse_requested', grants.models.types.Money()),
        sa.column('submitted_fse_max', grants.models.types.Money()), sa.column('submitted_figures', sa.JSON()),
    )
    versions = sa.table('dossier_versions', sa.column('dossier_id', sa.Integer()), sa.column('number', sa.Integer()),
                        sa.column('snapshot', sa.JSON()))
    bind = op.get_bind()
    latest: dict[int, tuple[int, dict]] = {}
    for dossier_id, number, snapshot in bind.execute(
        sa.select(versions.c.dossier_id, versions.c.number, versions.c.snapshot).order_by(versions.c.number)
    ):
        latest[dossier_id] = (number, snapshot)
    for dossier_id, (number, snapshot) in latest.items():
        figures = _figures((snapshot or {}).get("finance"))
        maximum = figures["result"]["totals"]["fse_max"] if figures else None
        bind.execute(dossiers.update().where(dossiers.c.id == dossier_id).values(
            submitted_version=number, submitted_figures=figures, submitted_fse_requested=_requested(figures),
            submitted_fse_max=Decimal(maximum) if maximum is not None else None,
        ))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f"ALTER TABLE dossiers DROP COLUMN {column}")
        else:
            op.drop_column('dossiers', column)
