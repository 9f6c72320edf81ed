"""The membership migration (`grants db upgrade`) on a database that already has accounts:
every existing user becomes an approved member, and the new rules hold in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from grants.extensions import make_engine
from grants.migrate import downgrade, upgrade

BEFORE = "b7d1e0a5c3f2"
INSERT_USER = text(
    "INSERT INTO users (email, full_name, role, structure_id, password_hash, is_active, session_token, "
    "failed_logins, created_at) VALUES (:email, 'Personne', :role, :structure, 'x', true, 't', 0, CURRENT_TIMESTAMP)"
)


def _user(conn, email: str, role: str, structure_id: int | None) -> None:  # type: ignore[no-untyped-def]
    conn.execute(INSERT_USER, {"email": email, "role": role, "structure": structure_id})


def test_existing_users_become_members_and_the_rules_hold(fresh_databases):
    url = fresh_databases.new("membership")
    upgrade(url, BEFORE)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO structures (name, siret, legal_form, kind, address, postal_code, commune_insee, "
                "commune_name, departement, legal_rep_name, legal_rep_title, contact_name, contact_email, "
                "contact_phone, created_at, version) VALUES ('ML', '90010000900019', '', 'mission_locale', '', '', "
                "'', '', '', '', '', '', '', '', CURRENT_TIMESTAMP, 1)"
            ))
            structure_id = conn.execute(text("SELECT id FROM structures")).scalar_one()
            _user(conn, "porteur@exemple.fr", "applicant", structure_id)
            _user(conn, "agent@exemple.fr", "officer", None)
            # A row that refers to a user: the upgrade must keep it (no table rebuilt on SQLite).
            conn.execute(text(
                "INSERT INTO audit_entries (action, object_type, object_id, actor_id, details, at) "
                "SELECT 'user.login', 'User', id, id, '{}', CURRENT_TIMESTAMP FROM users"
            ))
        engine.dispose()

        upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT email, membership FROM users ORDER BY email")).all()
            assert [tuple(r) for r in rows] == [("agent@exemple.fr", "active"), ("porteur@exemple.fr", "active")]
            assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() == 2
        for sql in (
            "UPDATE users SET membership = 'pending' WHERE role = 'officer'",  # staff never wait
            "UPDATE users SET membership = 'refused' WHERE role = 'applicant'",  # a refusal closes the account
            "UPDATE users SET membership = 'invented'",
        ):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(sql))
        with engine.begin() as conn:
            conn.execute(text("UPDATE users SET membership = 'refused', is_active = false WHERE role = 'applicant'"))
        engine.dispose()

        downgrade(url, BEFORE)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 2
            columns = conn.execute(text("SELECT * FROM users")).keys()
            assert "membership" not in columns
    finally:
        engine.dispose()
