"""The project title and the exports' summary of the latest submitted version, copied onto the dossier.

Revision ID: 05742f8229ea
Revises: 4a79c3b569c0
Create Date: 2026-12-04 18:30:00.000000+00:00

Officers read the title of what was submitted, never the working copy an applicant edits
while answering complements. Existing dossiers get the title, QPV codes, young people and
other co-financing of their latest version's snapshot. On SQLite the downgrade drops the
columns in place (recreating ``dossiers`` would cascade to its versions and attachments).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '05742f8229ea'
down_revision: str | None = '4a79c3b569c0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRANDS = ("reperage", "sortie_emploi")
COLUMNS = ("submitted_title", "submitted_summary")


def _title(snapshot):  # type: ignore[no-untyped-def]
    return str((((snapshot or {}).get("content") or {}).get("project") or {}).get("title") or "")[:300]


def _summary(snapshot):  # type: ignore[no-untyped-def]
    """As ``grants.dossier_sections.submitted_summary`` computes it today."""
    content = snapshot.get("content") or {}
    public = content.get("public") or {}
    inputs = (((snapshot.get("finance") or {}).get("input") or {}).get("strands")) or {}
    return {
        "qpv_codes": list((content.get("territories") or {}).get("qpv_codes") or []),
        "public": {s: {"nb_jeunes": (public.get(s) or {}).get("nb_jeunes"),
                       "nb_jeunes_qpv": (public.get(s) or {}).get("nb_jeunes_qpv")} for s in STRANDS},
        "other_cofinancing": {s: (inputs.get(s) or {}).get("other_cofinancing") for s in STRANDS},
    }


def upgrade() -> None:
    op.add_column('dossiers', sa.Column('submitted_title', sa.String(length=300), nullable=True))
    op.add_column('dossiers', sa.Column('submitted_summary', sa.JSON(), nullable=True))

    dossiers = sa.table('dossiers', sa.column('id', sa.Integer()), sa.column('submitted_title', sa.String()),
                        sa.column('submitted_summary', sa.JSON()))
    versions = sa.table('dossier_versions', sa.column('dossier_id', sa.Integer()), sa.column('number', sa.Integer()),
                        sa.column('snapshot', sa.JSON()))
    bind = op.get_bind()
    latest: dict[int, dict] = {}
    for dossier_id, snapshot in bind.execute(
        sa.select(versions.c.dossier_id, versions.c.snapshot).order_by(versions.c.number)
    ):
        latest[dossier_id] = snapshot or {}
    for dossier_id, snapshot in latest.items():
        bind.execute(dossiers.update().where(dossiers.c.id == dossier_id).values(
            submitted_title=_title(snapshot), submitted_summary=_summary(snapshot),
        ))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f"ALTER TABLE dossiers DROP COLUMN {column}")
        else:
            op.drop_column('dossiers', column)
