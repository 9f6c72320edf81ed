"""The attendance migration on a database holding sessions: held sessions get the default
attendance, nothing else is touched (on SQLite, agenda items and invitations survive: the
sessions table is altered in place, not recreated), and the downgrade gives it all back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import MetaData, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from grants.extensions import make_engine
from grants.migrate import downgrade, upgrade

BEFORE, AFTER = "6772215471f6", "b7d1e0a5c3f2"
HELD_AT = datetime(2023, 6, 15, 10, 0, tzinfo=UTC)


def _filler(column) -> object:  # type: ignore[no-untyped-def]
    """A plain value for a required column the test does not care about."""
    kind = type(column.type).__name__.upper()
    if "JSON" in kind:
        return json.loads("[]")
    if "BOOL" in kind:
        return True
    if "INT" in kind:
        return 1
    if "NUMERIC" in kind or "DECIMAL" in kind:
        return Decimal("0.40")  # a rate
    if "DATE" in kind or "TIME" in kind:
        return datetime(2023, 1, 1, tzinfo=UTC)
    return "x"


def _insert(connection, table, **values) -> None:  # type: ignore[no-untyped-def]
    row = {c.name: _filler(c) for c in table.columns
           if not c.nullable and c.server_default is None and not c.primary_key}
    connection.execute(table.insert().values(**(row | values)))


def _seed(url: str) -> None:
    engine = make_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    with engine.begin() as connection:
        _insert(connection, t["calls"], id=1, code="AAP-MIG", closes_at=datetime(2023, 3, 1, tzinfo=UTC))
        _insert(connection, t["structures"], id=1, siret="90010000900019", kind="mission_locale")
        for user_id in (1, 2):
            _insert(connection, t["users"], id=user_id, email=f"m{user_id}@exemple.fr", role="committee",
                    session_token=f"token{user_id}")
        for number, status in enumerate(("planned", "held", "closed"), start=1):
            _insert(connection, t["dossiers"], id=number, call_id=1, structure_id=1, state="draft")
            _insert(connection, t["committee_sessions"], id=number, call_id=1, status=status,
                    held_at=None if status == "planned" else HELD_AT,
                    closed_at=HELD_AT if status == "closed" else None)
            for user_id in (1, 2):
                connection.execute(t["committee_session_members"].insert().values(session_id=number, user_id=user_id))
            _insert(connection, t["agenda_items"], id=number, session_id=number, dossier_id=number, position=1,
                    motive="")
    engine.dispose()


def _count(connection, table: str) -> int:  # type: ignore[no-untyped-def]
    return connection.scalar(select(func.count()).select_from(text(table)))


def test_attendance_migration_up_and_down_with_sessions(fresh_databases):
    url = fresh_databases.new("attendance")
    upgrade(url, BEFORE)
    _seed(url)
    upgrade(url, AFTER)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, attendance_recorded_at, held_at, other_attendees FROM committee_sessions ORDER BY id")).all()
            assert [(r.id, r.attendance_recorded_at is not None, r.other_attendees) for r in rows] == [
                (1, False, ""), (2, True, ""), (3, False, "")]
            assert rows[1].attendance_recorded_at == rows[1].held_at  # when it was held
            attendees = connection.execute(text(
                "SELECT session_id, user_id FROM committee_session_attendees ORDER BY 1, 2")).all()
            assert [tuple(a) for a in attendees] == [(2, 1), (2, 2)]
            assert _count(connection, "agenda_items") == 3 and _count(connection, "committee_session_members") == 6

        with pytest.raises(IntegrityError, match="planned_has_no_attendance"), engine.begin() as connection:
            connection.execute(text("UPDATE committee_sessions SET other_attendees = 'Mme X' WHERE id = 1"))
        with pytest.raises(IntegrityError, match="held_has_attendance"), engine.begin() as connection:
            connection.execute(text("UPDATE committee_sessions SET attendance_recorded_at = NULL WHERE id = 2"))
        with pytest.raises(IntegrityError), engine.begin() as connection:  # attendees are invited members
            connection.execute(text("INSERT INTO committee_session_attendees (session_id, user_id) VALUES (1, 3)"))

        engine.dispose()
        downgrade(url, BEFORE)
        inspector = inspect(engine)
        assert "committee_session_attendees" not in inspector.get_table_names()
        columns = {c["name"] for c in inspector.get_columns("committee_sessions")}
        assert not {"attendance_recorded_at", "other_attendees"} & columns
        with engine.connect() as connection:
            assert _count(connection, "committee_sessions") == 3 and _count(connection, "agenda_items") == 3
            assert _count(connection, "committee_session_members") == 6
    finally:
        engine.dispose()
