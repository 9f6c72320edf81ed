"""A closed session does not change: every operation on it is refused, and nothing moves."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.models import CommitteeSession, Decision, Dossier, SessionStatus
from grants.operations import committee as ops
from grants.operations.dossiers import DossierError
from tests.operations.test_committee import instructed, officer_of, session_with  # noqa: F401  (fixtures)

CLOSED = "La séance est close : son procès-verbal est figé."


def snapshot(session: CommitteeSession) -> tuple:
    """What a closed session holds: state, attendance, agenda and decisions, minutes."""
    return (
        session.status, session.closed_at, session.version, session.attendance_recorded_at,
        [m.id for m in session.attendees], session.other_attendees, session.minutes_sha256,
        [(i.id, i.dossier_id, i.position, i.decision, i.amount_granted, i.motive, i.letter_sha256)
         for i in session.items],
    )


@pytest.fixture
def closed(app, db, users, instructed, session_with, store):  # noqa: F811
    """A closed session (a selection, a rejection) and an instructed dossier not on it."""
    session_id = session_with(instructed.call, [instructed(), instructed(users["other_applicant"])])
    spare = instructed()
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        officer = officer_of(db, users)
        ops.record_decision(session.items[0], Decision.selected, officer, amount=Decimal("1000.00"))
        ops.record_decision(session.items[1], Decision.rejected, officer, motive="Hors QPV.")
        ops.close_session(session, officer, store=store)
        db.session.commit()
    return session_id, spare.id


ACTIONS = {
    "record a decision": lambda s, officer, spare: ops.record_decision(
        s.items[1], Decision.selected, officer, amount=Decimal("10.00")),
    "add to the agenda": lambda s, officer, spare: ops.add_to_agenda(s, spare, officer),
    "remove from the agenda": lambda s, officer, spare: ops.remove_from_agenda(s.items[0], officer),
    "reorder the agenda": lambda s, officer, spare: ops.reorder_agenda(s, [i.id for i in reversed(s.items)], officer),
    "mark held": lambda s, officer, spare: ops.mark_held(s, officer),
    "edit attendance": lambda s, officer, spare: ops.record_attendance(s, [], "Mme X, DDETS du Nord", officer),
    "close again": lambda s, officer, spare: ops.close_session(s, officer, store=None),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_closed_session_refuses(app, db, users, closed, action):
    session_id, spare_id = closed
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        before = snapshot(session)
        message = "Seule une séance tenue peut être close." if action == "close again" else CLOSED
        with pytest.raises(DossierError, match=message):
            ACTIONS[action](session, officer_of(db, users), db.session.get(Dossier, spare_id))
        db.session.rollback()
        db.session.expire_all()
        session = db.session.get(CommitteeSession, session_id)
        assert session.status is SessionStatus.closed and snapshot(session) == before


def test_removing_from_the_agenda_only_before_the_session_is_held(app, db, users, instructed, session_with):  # noqa: F811
    dossiers = [instructed(), instructed(users["other_applicant"]), instructed()]
    session_id = session_with(instructed.call, dossiers, held=False)
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        officer = officer_of(db, users)
        ops.remove_from_agenda(session.items[0], officer)
        db.session.commit()
        assert [(i.dossier_id, i.position) for i in session.items] == [(dossiers[1].id, 1), (dossiers[2].id, 2)]
        ops.mark_held(session, officer)
        with pytest.raises(DossierError, match="ordre du jour ne change plus"):
            ops.remove_from_agenda(session.items[0], officer)
