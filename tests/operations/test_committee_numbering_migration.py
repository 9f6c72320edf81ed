"""The migrations of issue 15's committee items on a database holding data: yearly reference
counters become one per call (references already given untouched, the sequence carrying on
after them), sessions are numbered per call in their order of creation, existing selections
are split per strand from the retained plan; nothing is lost on SQLite (agenda items and
invitations survive), and the downgrade gives it all back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.exc import IntegrityError

from grants.extensions import make_engine
from grants.migrate import downgrade, upgrade
from tests.operations.test_committee_attendance_migration import _count, _insert

BEFORE, AFTER = "4a79c3b569c0", "6f02536afd39"
AT = datetime(2023, 6, 15, 10, 0, tzinfo=UTC)


def plan(reperage: str, sortie: str) -> dict[str, object]:
    return {"result": {"strands": {"reperage": {"fse": reperage, "base": "1.00"},
                                   "sortie_emploi": {"fse": sortie, "base": "1.00"}}}}


def _seed(url: str) -> None:
    engine = make_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    with engine.begin() as connection:
        for call_id, code in ((1, "AAP-MIG-2023"), (2, "AAP-AUTRE")):
            _insert(connection, t["calls"], id=call_id, code=code, closes_at=datetime(2023, 3, 1, tzinfo=UTC))
        _insert(connection, t["structures"], id=1, siret="90010000900019", kind="mission_locale")
        _insert(connection, t["users"], id=1, email="m@exemple.fr", role="committee", session_token="t")
        # Call 1 gave 0001-0003 in 2022 and 0001-0002 in 2023 (its yearly counters).
        references = [("2022", 1), ("2022", 2), ("2022", 3), ("2023", 1), ("2023", 2)]
        for dossier_id, (year, number) in enumerate(references, start=1):
            _insert(connection, t["dossiers"], id=dossier_id, call_id=1, structure_id=1, state="selected",
                    reference=f"AAP-MIG-2023-{year}-{number:04d}",
                    submitted_at=datetime(int(year), 12 if year == "2022" else 1, 10, tzinfo=UTC))
        for year, last in (("2022", 3), ("2023", 2)):
            connection.execute(t["reference_counters"].insert().values(call_id=1, year=int(year), last_number=last))
        # Sessions created in the order 1 (call 1), 2 (call 2), 3 (call 1), 4 (call 1).
        for session_id, call_id in ((1, 1), (2, 2), (3, 1), (4, 1)):
            _insert(connection, t["committee_sessions"], id=session_id, call_id=call_id, status="closed",
                    held_at=AT, closed_at=AT)
            connection.execute(t["committee_session_members"].insert().values(session_id=session_id, user_id=1))
        plans = {1: plan("60.00", "40.00"), 2: plan("60.00", "40.00"), 3: plan("0.00", "75.50")}
        for dossier_id, finance in plans.items():
            _insert(connection, t["instructions"], id=dossier_id, dossier_id=dossier_id, finance=finance,
                    fse_retained_total=None, opinion=None, instructed_at=None)
        items = [  # (session, dossier, decision, cents granted)
            (1, 1, "selected", 10000),  # the whole retained maximum: the retained figures
            (1, 2, "selected", 5001),  # 50,01 € of 100,00 €: 30,00 € + 20,01 €
            (3, 3, "selected", 7550),  # a plan with nothing on repérage
            (3, 4, "rejected", None),
            (4, 5, None, None),
        ]
        for item_id, (session_id, dossier_id, decision, cents) in enumerate(items, start=1):
            connection.execute(text(
                "INSERT INTO agenda_items (id, session_id, dossier_id, position, decision, amount_granted, motive, "
                "decided_at) VALUES (:id, :session, :dossier, 1, :decision, :cents, :motive, :at)"),
                {"id": item_id, "session": session_id, "dossier": dossier_id, "decision": decision, "cents": cents,
                 "motive": "Hors QPV." if decision == "rejected" else "", "at": AT if decision else None})
    engine.dispose()


def test_numbering_and_strand_migrations_up_and_down_with_data(fresh_databases):
    url = fresh_databases.new("numbering")
    upgrade(url, BEFORE)
    _seed(url)
    upgrade(url, AFTER)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            counters = connection.execute(text(
                "SELECT call_id, last_number, last_session_number FROM reference_counters ORDER BY call_id")).all()
            # Call 1: five references given, the next is AAP-MIG-2023-0006; three sessions.
            assert [tuple(c) for c in counters] == [(1, 5, 3), (2, 0, 1)]
            references = connection.execute(text("SELECT reference FROM dossiers ORDER BY id")).scalars().all()
            assert references[0] == "AAP-MIG-2023-2022-0001"  # never rewritten
            numbers = connection.execute(text("SELECT id, number FROM committee_sessions ORDER BY id")).all()
            assert [tuple(n) for n in numbers] == [(1, 1), (2, 1), (3, 2), (4, 3)]
            granted = connection.execute(text(
                "SELECT id, amount_granted, granted_reperage, granted_sortie_emploi FROM agenda_items ORDER BY id")).all()
            assert [tuple(g) for g in granted] == [
                (1, 10000, 6000, 4000), (2, 5001, 3000, 2001), (3, 7550, 0, 7550), (4, None, None, None),
                (5, None, None, None)]
            assert _count(connection, "agenda_items") == 5 and _count(connection, "committee_session_members") == 4

        for statement in (
            "UPDATE agenda_items SET granted_reperage = 1 WHERE id = 1",  # no longer the sum
            "UPDATE agenda_items SET granted_reperage = 100 WHERE id = 4",  # amounts on a rejection
            "UPDATE committee_sessions SET number = 2 WHERE id = 1",  # a number given twice in a call
            "UPDATE committee_sessions SET number = 0 WHERE id = 2",
        ):
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(text(statement))

        engine.dispose()
        downgrade(url, BEFORE)
        inspector = inspect(engine)
        assert "number" not in {c["name"] for c in inspector.get_columns("committee_sessions")}
        assert not {"granted_reperage", "granted_sortie_emploi"} & {c["name"] for c in inspector.get_columns("agenda_items")}
        with engine.connect() as connection:
            yearly = connection.execute(text(
                "SELECT call_id, year, last_number FROM reference_counters ORDER BY call_id, year")).all()
            assert [tuple(y) for y in yearly] == [(1, 2022, 3), (1, 2023, 2)]
            assert _count(connection, "agenda_items") == 5 and _count(connection, "committee_sessions") == 4
            assert _count(connection, "committee_session_members") == 4
    finally:
        engine.dispose()
