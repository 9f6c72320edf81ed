"""Committee sessions as issue 15 wants them: held on or after their date, numbered per call
(never reusing a number), edited while planned, deleted while empty, convened by e-mail, and
never held without their members unless the officer says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from grants.models import AuditEntry, Call, CommitteeSession, Decision, Dossier, ReferenceCounter, SessionStatus, User
from grants.operations import committee as ops
from grants.operations.committee import DecisionError
from grants.operations.dossiers import DossierError
from tests.operations.test_committee import instructed, officer_of, session_with  # noqa: F401  (fixtures)

PARIS = ZoneInfo("Europe/Paris")


def new_session(db, users, call, *, meets_at, members=True):  # type: ignore[no-untyped-def]
    return ops.create_session(
        db.session.get(Call, call.id), meets_at=meets_at, place="Préfecture, Lille", chair_name="Le Préfet",
        chair_quality="Préfet de région", members=[db.session.get(User, users["committee"].id)] if members else [],
        actor=officer_of(db, users),
    )


# Item 1: a session is held, and closed, on or after its date ------------------------------------


def test_a_session_is_not_held_before_its_date(app, db, users, instructed):  # noqa: F811
    """Issue 15: a session dated 15/12/2026 was held and closed on 04/12/2026."""
    dossier = instructed()
    with app.test_request_context():
        session = new_session(db, users, instructed.call, meets_at=datetime(2026, 12, 15, 9, 30, tzinfo=PARIS))
        ops.add_to_agenda(session, db.session.get(Dossier, dossier.id), officer_of(db, users))
        with pytest.raises(DossierError, match="prévue le 15/12/2026 : elle ne peut être marquée tenue"):
            ops.mark_held(session, officer_of(db, users), now=datetime(2026, 12, 4, 10, 0, tzinfo=PARIS))
        # The Paris date counts: 00:30 in Paris on the 15th is still the 14th in UTC.
        ops.mark_held(session, officer_of(db, users), now=datetime(2026, 12, 14, 23, 30, tzinfo=UTC))
        assert session.status is SessionStatus.held and not session.can_mark_held(officer_of(db, users),
                                                                                  datetime.now(UTC))


def test_a_session_is_not_closed_before_its_date(app, db, users, instructed, store):  # noqa: F811
    dossier = instructed()
    with app.test_request_context():
        session = new_session(db, users, instructed.call, meets_at=datetime(2026, 12, 15, 9, 30, tzinfo=PARIS))
        officer = officer_of(db, users)
        ops.add_to_agenda(session, db.session.get(Dossier, dossier.id), officer)
        ops.mark_held(session, officer, now=datetime(2026, 12, 15, 12, 0, tzinfo=PARIS))
        ops.record_decision(session.items[0], Decision.deferred, officer)
        with pytest.raises(DossierError, match="ne peut être close qu'à partir"):
            ops.close_session(session, officer, store=store, now=datetime(2026, 12, 14, 18, 0, tzinfo=PARIS))
        ops.close_session(session, officer, store=store, now=datetime(2026, 12, 16, 9, 0, tzinfo=PARIS))
        assert session.status is SessionStatus.closed


# Item 5: numbered per call, in the order of creation, never reused --------------------------------


def test_sessions_are_numbered_per_call_and_numbers_are_never_reused(app, db, users, make_call):
    first_call, other_call = make_call(), make_call()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    with app.test_request_context():
        a1 = new_session(db, users, first_call, meets_at=yesterday)
        b1 = new_session(db, users, other_call, meets_at=yesterday)
        a2 = new_session(db, users, first_call, meets_at=yesterday)
        assert (a1.number, b1.number, a2.number) == (1, 1, 2)
        assert a2.id != a2.number and a2.label == "séance n° 2"
        ops.delete_session(a2, officer_of(db, users))
        a3 = new_session(db, users, first_call, meets_at=yesterday)
        assert a3.number == 3  # the deleted n° 2 is not given again
        counter = db.session.get(ReferenceCounter, first_call.id)
        assert counter.last_session_number == 3


# Item 22: edit while planned, delete while empty, audited --------------------------------------------


def test_a_planned_session_is_edited_with_an_audit_of_what_changed(app, db, users, make_call, make_user):
    from grants.models import Role

    call = make_call()
    other_member = make_user(Role.committee, full_name="Zoé Membre")
    with app.test_request_context():
        session = new_session(db, users, call, meets_at=datetime(2027, 1, 10, 9, 0, tzinfo=PARIS))
        officer = officer_of(db, users)
        ops.update_session(session, meets_at=datetime(2027, 1, 12, 14, 0, tzinfo=PARIS), place="Préfecture, Lille",
                           chair_name="Mme la Secrétaire générale", chair_quality="par délégation du Préfet",
                           members=[db.session.get(User, other_member.id)], actor=officer)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "committee.update"))
        changes = entry.details["changes"]
        assert set(changes) == {"meets_at", "chair_name", "chair_quality", "members"}
        assert changes["members"] == {"before": [users["committee"].id], "after": [other_member.id]}
        assert session.meets_on.isoformat() == "2027-01-12"
        with pytest.raises(DossierError, match="Seuls des comptes « membre du comité »"):
            ops.update_session(session, meets_at=session.meets_at, place="Lille", chair_name="X", chair_quality="Y",
                               members=[officer], actor=officer)


def test_only_a_planned_session_is_edited_and_only_an_empty_one_deleted(app, db, users, instructed, session_with):  # noqa: F811
    held_id = session_with(instructed.call, [instructed()])
    planned_id = session_with(instructed.call, [instructed()], held=False)
    with app.test_request_context():
        officer = officer_of(db, users)
        held = db.session.get(CommitteeSession, held_id)
        with pytest.raises(DossierError, match="Seule une séance programmée peut être modifiée"):
            ops.update_session(held, meets_at=held.meets_at, place="Ailleurs", chair_name="X", chair_quality="Y",
                               members=[], actor=officer)
        planned = db.session.get(CommitteeSession, planned_id)
        with pytest.raises(DossierError, match="ordre du jour est vide"):
            ops.delete_session(planned, officer)
        ops.remove_from_agenda(planned.items[0], officer)
        ops.delete_session(planned, officer)
        db.session.commit()
        assert db.session.get(CommitteeSession, planned_id) is None
        deleted = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "committee.delete"))
        assert deleted.object_id == planned_id and deleted.details["number"] == 2


# Item 22: no member is not forgotten silently ----------------------------------------------------------


def test_a_session_without_members_is_held_only_once_the_officer_confirms(app, db, users, instructed):  # noqa: F811
    dossier = instructed()
    with app.test_request_context():
        session = new_session(db, users, instructed.call, meets_at=datetime.now(UTC) - timedelta(days=1),
                              members=False)
        officer = officer_of(db, users)
        ops.add_to_agenda(session, db.session.get(Dossier, dossier.id), officer)
        with pytest.raises(DecisionError, match="Aucun membre du comité n'est invité") as refused:
            ops.mark_held(session, officer)
        assert refused.value.field == "without_members"
        with pytest.raises(DossierError, match="Aucun membre du comité n'est invité"):
            ops.convene(session, officer)
        ops.mark_held(session, officer, other_attendees="M. X, conseil régional", without_members=True)
        assert session.status is SessionStatus.held


# Item 22: the convocation is recorded, and what it announced --------------------------------------------


def test_convening_records_when_and_what(app, db, users, instructed, session_with):  # noqa: F811
    session_id = session_with(instructed.call, [], held=False)
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        officer = officer_of(db, users)
        with pytest.raises(DossierError, match="ordre du jour est vide"):
            ops.convene(session, officer)
        ops.add_to_agenda(session, db.session.get(Dossier, instructed().id), officer)
        members = ops.convene(session, officer, now=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
        assert [m.id for m in members] == [users["committee"].id]
        assert session.convocation_sent_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        assert session.convocation_fingerprint == ops.convocation_fingerprint(session)
        ops.update_session(session, meets_at=session.meets_at + timedelta(hours=2), place=session.place,
                           chair_name=session.chair_name, chair_quality=session.chair_quality,
                           members=list(session.members), actor=officer)
        assert session.convocation_fingerprint != ops.convocation_fingerprint(session)  # the page says so
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "committee.convocation"))
        assert entry.details["recipients"] == [users["committee"].id]
        ops.mark_held(session, officer)
        with pytest.raises(DossierError, match="tant que la séance est programmée"):
            ops.convene(session, officer)
