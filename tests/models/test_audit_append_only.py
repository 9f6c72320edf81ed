"""The audit table is append-only in the database itself: triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL), whatever code or SQL console sends them."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from grants.extensions import make_engine
from grants.migrate import downgrade, upgrade
from grants.models import AuditEntry

APPEND_ONLY_REVISION = "ae61cdc23f1a"


@pytest.fixture
def entry(db):  # type: ignore[no-untyped-def]
    audit = AuditEntry(action="test.append_only", object_type="Test", object_id=1, details={"n": 1})
    db.session.add(audit)
    db.session.commit()  # releases a savepoint only: the test still rolls back
    return audit


def count_entries(db) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "test.append_only"))


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(lambda e: update(AuditEntry).where(AuditEntry.id == e.id).values(action="forged"), id="update"),
        pytest.param(lambda e: update(AuditEntry).values(actor_id=None), id="update-all"),
        pytest.param(lambda e: delete(AuditEntry).where(AuditEntry.id == e.id), id="delete"),
        pytest.param(lambda e: delete(AuditEntry), id="delete-all"),
    ],
)
def test_update_and_delete_are_refused_by_the_database(db, entry, statement):  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError, match="audit_entries is append-only"):
        db.session.execute(statement(entry))
    db.session.rollback()
    kept = db.session.get(AuditEntry, entry.id)
    assert (kept.action, kept.details) == ("test.append_only", {"n": 1})


def test_the_orm_cannot_edit_or_delete_an_entry_either(db, entry):  # type: ignore[no-untyped-def]
    entry.details = {"n": 2}
    with pytest.raises(IntegrityError, match="UPDATE refused"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(IntegrityError, match="DELETE refused"):
        db.session.flush()
    db.session.rollback()
    assert count_entries(db) == 1


def test_appending_still_works(db, entry):  # type: ignore[no-untyped-def]
    db.session.add(AuditEntry(action="test.append_only", object_type="Test", object_id=2))
    db.session.commit()
    assert count_entries(db) == 2


def test_truncate_is_refused_on_postgresql(db, entry):  # type: ignore[no-untyped-def]
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL (SQLite's DELETE without WHERE is refused above)")
    with pytest.raises(IntegrityError, match="TRUNCATE refused"):
        db.session.execute(text("TRUNCATE audit_entries CASCADE"))
    db.session.rollback()
    assert count_entries(db) == 1


def test_downgrade_removes_the_rule_and_upgrade_restores_it(fresh_databases):  # type: ignore[no-untyped-def]
    url = fresh_databases.new("audit")
    upgrade(url, APPEND_ONLY_REVISION)
    engine = make_engine(url)
    insert = text("INSERT INTO audit_entries (at, action, object_type, details) "
                  "VALUES (CURRENT_TIMESTAMP, 'x', 'Test', '{}')")
    try:
        with engine.begin() as connection:
            connection.execute(insert)
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_entries"))

        engine.dispose()
        downgrade(url, f"{APPEND_ONLY_REVISION}-1")
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_entries SET action = 'y'"))
            connection.execute(text("DELETE FROM audit_entries"))

        engine.dispose()
        upgrade(url, APPEND_ONLY_REVISION)
        with engine.begin() as connection:
            connection.execute(insert)
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE audit_entries SET action = 'y'"))
    finally:
        engine.dispose()
