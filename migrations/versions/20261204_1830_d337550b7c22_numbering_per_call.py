"""Numbering per call: dossier references lose their year (one sequence per call) and committee sessions get a number per call.

Revision ID: d337550b7c22
Revises: f1c4d2e6a8b7
Create Date: 2026-12-04 18:30:00.000000+00:00

References already given are never rewritten (they are printed on issued receipts): the
call's new counter starts after every number its yearly counters gave, so the first new
reference of a call that gave 8 reads ``<code>-0009``. Existing sessions are numbered 1, 2, …
in their order of creation within their call, and the call's session counter starts after
them. On SQLite the session number rides on the added column (``ADD COLUMN … CHECK``):
recreating ``committee_sessions`` with foreign keys on would cascade to its agenda items.
The downgrade gives the yearly counters back from the references themselves.
"""

import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = 'd337550b7c22'
down_revision: str | None = 'f1c4d2e6a8b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARIS = ZoneInfo("Europe/Paris")
NUMBER_CHECK = "number >= 1"


def _counters_table(*elements: sa.Column | sa.CheckConstraint, key: tuple[str, ...] = ('call_id',)) -> None:
    op.create_table('reference_counters',
    sa.Column('call_id', sa.Integer(), nullable=False),
    *elements,
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_reference_counters_call_id_calls')),
    sa.PrimaryKeyConstraint(*key, name=op.f('pk_reference_counters'))
    )


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    yearly = sa.table('reference_counters', sa.column('call_id', sa.Integer()), sa.column('last_number', sa.Integer()))
    given = dict(bind.execute(
        sa.select(yearly.c.call_id, sa.func.sum(yearly.c.last_number)).group_by(yearly.c.call_id)
    ).all())
    op.drop_table('reference_counters')
    _counters_table(
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.Column('last_session_number', sa.Integer(), nullable=False),
        sa.CheckConstraint('last_number >= 0', name=op.f('ck_reference_counters_last_number_positive')),
        sa.CheckConstraint('last_session_number >= 0',
                           name=op.f('ck_reference_counters_last_session_number_positive')),
    )

    if sqlite:
        op.execute("ALTER TABLE committee_sessions ADD COLUMN number INTEGER DEFAULT 1 NOT NULL"
                   f" CONSTRAINT ck_committee_sessions_number_positive CHECK ({NUMBER_CHECK})")
    else:
        op.add_column('committee_sessions', sa.Column('number', sa.Integer(), nullable=True))
    sessions = sa.table('committee_sessions', sa.column('id', sa.Integer()), sa.column('call_id', sa.Integer()),
                        sa.column('number', sa.Integer()))
    numbered: Counter[int] = Counter()
    for session_id, call_id in bind.execute(sa.select(sessions.c.id, sessions.c.call_id).order_by(sessions.c.id)):
        numbered[call_id] += 1
        bind.execute(sessions.update().where(sessions.c.id == session_id).values(number=numbered[call_id]))
    if not sqlite:
        op.alter_column('committee_sessions', 'number', nullable=False)
        op.create_check_constraint(op.f('ck_committee_sessions_number_positive'), 'committee_sessions', NUMBER_CHECK)
    op.create_index('uq_committee_sessions_call_number', 'committee_sessions', ['call_id', 'number'], unique=True)

    counters = sa.table('reference_counters', sa.column('call_id', sa.Integer()),
                        sa.column('last_number', sa.Integer()), sa.column('last_session_number', sa.Integer()))
    for call_id in sorted(set(given) | set(numbered)):
        bind.execute(counters.insert().values(call_id=call_id, last_number=int(given.get(call_id) or 0),
                                              last_session_number=numbered[call_id]))


def _paris_year(value) -> int | None:  # type: ignore[no-untyped-def]
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).year


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index('uq_committee_sessions_call_number', table_name='committee_sessions')
    if bind.dialect.name == 'sqlite':
        op.execute("ALTER TABLE committee_sessions DROP COLUMN number")  # its check goes with it
    else:
        op.drop_constraint(op.f('ck_committee_sessions_number_positive'), 'committee_sessions', type_='check')
        op.drop_column('committee_sessions', 'number')

    # The yearly counters, rebuilt from the references: the highest number of each year
    # (a reference of the per-call form counts in the year of its submission).
    calls = dict(bind.execute(sa.text("SELECT id, code FROM calls")).all())
    last: dict[tuple[int, int], int] = {}
    for call_id, reference, submitted_at in bind.execute(sa.text(
        "SELECT call_id, reference, submitted_at FROM dossiers WHERE reference IS NOT NULL"
    )):
        code = re.escape(calls[call_id])
        legacy = re.fullmatch(rf"{code}-(\d{{4}})-(\d+)", reference)
        current = re.fullmatch(rf"{code}-(\d+)", reference)
        if legacy:
            key, number = (call_id, int(legacy[1])), int(legacy[2])
        elif current and _paris_year(submitted_at) is not None:
            key, number = (call_id, _paris_year(submitted_at)), int(current[1])
        else:
            continue
        last[key] = max(last.get(key, 0), number)
    op.drop_table('reference_counters')
    _counters_table(
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        key=('call_id', 'year'),
    )
    counters = sa.table('reference_counters', sa.column('call_id', sa.Integer()), sa.column('year', sa.Integer()),
                        sa.column('last_number', sa.Integer()))
    for (call_id, year), number in sorted(last.items()):
        bind.execute(counters.insert().values(call_id=call_id, year=year, last_number=number))
