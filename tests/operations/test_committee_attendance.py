"""Attendance of a committee session: recorded when it is marked held (every invited member
by default), corrected while it is held, frozen by the closing, printed in the minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.models import AuditEntry, Call, CommitteeSession, Decision, Dossier, Role, SessionStatus, User
from grants.operations import committee as ops
from grants.operations.dossiers import DossierError
from tests.operations.test_committee import instructed, officer_of  # noqa: F401  (fixtures)
from tests.pdftools import pdf_lines, pdf_words


@pytest.fixture
def planned(app, db, users, make_user, instructed):  # noqa: F811
    """A planned session with one dossier and three invited members (by name order)."""
    dossier = instructed()
    names = ["Anne Membre", "Bruno Membre", "Chloé Membre"]
    member_ids = [make_user(Role.committee, full_name=name).id for name in names]
    with app.test_request_context():
        session = ops.create_session(
            db.session.get(Call, instructed.call.id), meets_at=datetime.now(UTC) - timedelta(days=3),
            place="Préfecture, Lille", chair_name="Le Préfet de région", chair_quality="Préfet de région",
            members=[db.session.get(User, i) for i in member_ids], actor=officer_of(db, users),
        )
        ops.add_to_agenda(session, db.session.get(Dossier, dossier.id), officer_of(db, users))
        db.session.commit()
        return session.id


def load(db, session_id: int) -> CommitteeSession:
    return db.session.get(CommitteeSession, session_id)


def names(users_: list[User]) -> list[str]:
    return [user.full_name for user in users_]


def test_marking_held_records_every_invited_member_by_default(app, db, users, planned):
    with app.test_request_context():
        session = load(db, planned)
        assert not session.attendance_recorded and session.excused == []
        ops.mark_held(session, officer_of(db, users))
        db.session.commit()
        assert session.attendance_recorded_at == session.held_at
        assert names(session.attendees) == ["Anne Membre", "Bruno Membre", "Chloé Membre"]
        assert session.excused == [] and session.other_attendees == ""
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "committee.held"))
        assert entry.details["present"] == [m.id for m in session.members] and entry.details["excused"] == []


def test_attendance_given_when_held_then_corrected_until_closing(app, db, users, planned, store):
    with app.test_request_context():
        session = load(db, planned)
        anne, bruno, chloe = session.members
        officer = officer_of(db, users)
        ops.mark_held(session, officer, present=[anne, chloe],
                      other_attendees="  Mme X, DDETS du Nord \r\n\r\nM. Y, Conseil régional  ")
        db.session.commit()
        assert names(session.attendees) == ["Anne Membre", "Chloé Membre"]
        assert names(session.excused) == ["Bruno Membre"]
        assert session.other_attendees == "Mme X, DDETS du Nord\nM. Y, Conseil régional"

        ops.record_attendance(session, [bruno, chloe], "Mme X, DDETS du Nord", officer)
        db.session.commit()
        assert names(session.attendees) == ["Bruno Membre", "Chloé Membre"]
        assert names(session.excused) == ["Anne Membre"]
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "committee.attendance")) is not None

        ops.record_decision(session.items[0], Decision.deferred, officer)
        ops.close_session(session, officer, store=store)
        db.session.commit()
        with pytest.raises(DossierError, match="La séance est close"):
            ops.record_attendance(session, [anne, bruno, chloe], "", officer)
        db.session.rollback()
        assert names(load(db, planned).attendees) == ["Bruno Membre", "Chloé Membre"]

        minutes = store.read(session.minutes_file)
        lines = pdf_lines(minutes)
        assert "Présents Bruno Membre ; Chloé Membre" in lines
        assert "Excusés Anne Membre" in lines
        assert "Autres participants Mme X, DDETS du Nord" in lines
        assert "Membres convoqués" not in pdf_words(minutes)


def test_minutes_with_everybody_present_and_nobody_else(app, db, users, planned, store):
    with app.test_request_context():
        session = load(db, planned)
        officer = officer_of(db, users)
        ops.mark_held(session, officer)
        ops.record_decision(session.items[0], Decision.deferred, officer)
        ops.close_session(session, officer, store=store)
        db.session.commit()
        lines = pdf_lines(store.read(session.minutes_file))
        assert "Présents Anne Membre ; Bruno Membre ; Chloé Membre" in lines
        assert "Excusés aucun" in lines and "Autres participants aucun" in lines


@pytest.mark.parametrize("who", ["committee", "applicant"])
def test_only_staff_record_attendance(app, db, users, planned, who):
    with app.test_request_context():
        session = load(db, planned)
        ops.mark_held(session, officer_of(db, users))
        with pytest.raises(DossierError, match="réservée au service gestionnaire"):
            ops.record_attendance(session, [], "", db.session.get(User, users[who].id))


def test_attendance_needs_a_held_session_and_invited_members(app, db, users, planned):
    with app.test_request_context():
        session = load(db, planned)
        officer = officer_of(db, users)
        with pytest.raises(DossierError, match="une fois la séance tenue"):
            ops.record_attendance(session, list(session.members), "", officer)
        outsider = db.session.get(User, users["committee"].id)  # a committee account not invited
        with pytest.raises(DossierError, match="membres invités"):
            ops.mark_held(session, officer, present=[outsider])
        db.session.rollback()
        session = load(db, planned)
        assert session.status is SessionStatus.planned and not session.attendance_recorded


def test_the_database_ties_attendance_to_the_session_state(app, db, users, planned):
    with app.test_request_context():
        session = load(db, planned)
        session.other_attendees = "Mme X"  # a planned session has no attendance
        with pytest.raises(IntegrityError, match="planned_has_no_attendance"):
            db.session.flush()
        db.session.rollback()
        session = load(db, planned)
        ops.mark_held(session, officer_of(db, users))
        db.session.commit()
        session.attendance_recorded_at = None  # a held session has one
        with pytest.raises(IntegrityError, match="held_has_attendance"):
            db.session.flush()
        db.session.rollback()
