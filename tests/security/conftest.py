"""A world with data for every role, clients logged in as each of them, and a snapshot of
the whole database (row counts and row hashes of every table of ``Base.metadata``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from grants.models import Base, CommitteeSession, Decision, Dossier, User
from grants.operations import committee as committee_ops
from grants.operations import messages as message_ops
from grants.operations.dossiers import submit_dossier
from tests.conftest import CSRF_RE, PASSWORD, SAMPLE_PDF, CsrfClient
from tests.operations.test_committee import instructed, officer_of, session_with  # noqa: F401  (fixtures)

ROLES = ("applicant", "other_applicant", "officer", "committee", "admin", "anonymous")


@dataclass
class World:
    users: dict[str, User]
    draft: Dossier
    submitted: Dossier
    other_draft: Dossier
    selected: Dossier
    rejected: Dossier
    on_agenda: Dossier
    closed_session_id: int
    held_session_id: int
    call_id: int
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(app, db, users, make_dossier, instructed, session_with, store):  # noqa: F811
    """Every kind of object each role may (or may not) reach.

    - the applicant: a draft (one section, no pièce), a submitted dossier with its pièces and a
      message with a pièce jointe, a dossier selected at a closed session (letter issued);
    - the other applicant (another structure): a draft and a dossier rejected at the same session;
    - an instructed dossier of the applicant on the agenda of a held session, waiting for its decision.
    """
    selected, rejected = instructed(), instructed(users["other_applicant"])
    closed_id = session_with(instructed.call, [selected, rejected])
    with app.test_request_context():
        session = db.session.get(CommitteeSession, closed_id)
        officer = officer_of(db, users)
        committee_ops.record_decision(session.items[0], Decision.selected, officer, amount=Decimal("98765.43"))
        committee_ops.record_decision(session.items[1], Decision.rejected, officer, motive="Public QPV insuffisant.")
        committee_ops.close_session(session, officer, store=store)
        db.session.commit()
    on_agenda = instructed()
    held_id = session_with(instructed.call, [on_agenda])

    call = instructed.call
    draft = make_dossier(users["applicant"], call=call, sections=("identification",), attachments=False)
    other_draft = make_dossier(users["other_applicant"], call=call, sections=("identification", "project"))
    submitted = make_dossier(users["applicant"], call=call)
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        applicant = db.session.get(User, users["applicant"].id)
        submit_dossier(dossier, applicant, store=store, expected_version=dossier.version)
        message_ops.post_message(dossier, applicant, "Bonjour, voici notre plan de financement.",
                                 ("plan.pdf", SAMPLE_PDF), store=store, max_bytes=10 * 1024 * 1024)
        message_ops.post_message(dossier, db.session.get(User, users["officer"].id),
                                 "Bien reçu, merci.", None, store=store, max_bytes=10 * 1024 * 1024)
        db.session.commit()
    return World(users=users, draft=draft, submitted=submitted, other_draft=other_draft, selected=selected,
                 rejected=rejected, on_agenda=on_agenda, closed_session_id=closed_id, held_session_id=held_id,
                 call_id=call.id)


def login(app: Flask, user: User | None) -> Any:
    """A new client (its own cookie jar), logged in as ``user`` (anonymous when None)."""
    app.test_client_class = CsrfClient
    client = app.test_client()
    if user is not None:
        response = client.post("/compte/connexion", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def csrf_token(client: Any) -> str:
    """The session's CSRF token (Flask-WTF: one per session, valid for every form)."""
    for url in ("/", "/compte/connexion", "/compte/mot-de-passe"):
        match = CSRF_RE.search(client.get(url).get_data(as_text=True))
        if match:
            return match.group(1) or match.group(2)
    raise AssertionError("no CSRF token found")


# Database snapshot ------------------------------------------------------------------------


def snapshot(db: Any) -> dict[str, tuple[int, str]]:
    """Per table: (row count, SHA-256 of every row in primary-key order)."""
    db.session.remove()
    result: dict[str, tuple[int, str]] = {}
    for table in Base.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(select(table).order_by(*order)).all()
        digest = hashlib.sha256()
        for row in rows:
            digest.update(repr(tuple(row)).encode())
            digest.update(b"\n")
        result[table.name] = (len(rows), digest.hexdigest())
    db.session.remove()
    return result


def changed_tables(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
