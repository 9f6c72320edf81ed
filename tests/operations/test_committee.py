"""Committee sessions: agenda, decisions within the envelope, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from grants.models import (
    AdmissibilityOutcome,
    Call,
    Decision,
    Dossier,
    DossierState,
    Opinion,
    SessionStatus,
    User,
)
from grants.operations import committee as ops
from grants.operations import review
from grants.operations.dossiers import DossierError, submit_dossier


@pytest.fixture
def instructed(app, db, users, make_dossier, make_call, store):
    """Build instructed dossiers of one call through the real operations."""
    call = make_call(envelope=Decimal("4000000.00"))

    def make(applicant: User | None = None) -> Dossier:
        applicant = applicant or users["applicant"]
        dossier = make_dossier(applicant, call=call)
        with app.test_request_context():
            dossier = db.session.get(Dossier, dossier.id)
            officer = db.session.get(User, users["officer"].id)
            submit_dossier(dossier, db.session.get(User, applicant.id), store=store, expected_version=dossier.version)
            checklist = review.get_review(dossier)
            review.save_checklist(checklist, {c["code"]: {"value": "pass", "comment": ""}
                                              for c in call.admissibility_criteria}, officer, None)
            review.record_admissibility(checklist, AdmissibilityOutcome.admissible, "", officer)
            instruction = review.get_instruction(dossier)
            review.record_instruction(instruction, instruction.retained, Opinion.favourable, "Avis motivé.",
                                      officer, None, final=True)
            db.session.commit()
        return dossier

    make.call = call
    return make


@pytest.fixture
def session_with(app, db, users):
    """A session of ``call`` with ``dossiers`` on its agenda, met yesterday (a session is held
    on or after its date) and held unless ``held=False``."""

    def make(call, dossiers, *, held=True, meets_at=None):
        with app.test_request_context():
            officer = db.session.get(User, users["officer"].id)
            member = db.session.get(User, users["committee"].id)
            session = ops.create_session(
                db.session.get(Call, call.id), meets_at=meets_at or datetime.now(UTC) - timedelta(days=1),
                place="Préfecture, Lille",
                chair_name="Le Préfet de région", chair_quality="Préfet de la région Hauts-de-France",
                members=[member], actor=officer,
            )
            for dossier in dossiers:
                ops.add_to_agenda(session, db.session.get(Dossier, dossier.id), officer)
            if held:
                ops.mark_held(session, officer)
            db.session.commit()
            return session.id

    return make


def officer_of(db, users):
    return db.session.get(User, users["officer"].id)


def test_envelope_figures_and_selection_defaults_to_retained_maximum(app, db, users, instructed, session_with):
    first, second = instructed(), instructed(users["other_applicant"])
    session_id = session_with(instructed.call, [first, second])
    with app.test_request_context():
        from grants.models import CommitteeSession

        session = db.session.get(CommitteeSession, session_id)
        item = session.items[0]
        maximum = ops.retained_maximum(item.dossier)
        ops.record_decision(item, Decision.selected, officer_of(db, users))
        db.session.commit()
        figures = ops.envelope(session)
        assert item.amount_granted == maximum
        assert figures.total == Decimal("4000000.00")
        assert figures.granted_before == Decimal("0.00")
        assert figures.proposed == maximum
        assert figures.remaining == Decimal("4000000.00") - maximum
        assert db.session.get(Dossier, first.id).state is DossierState.selected


@pytest.mark.parametrize(
    ("decision", "kwargs", "message"),
    [
        (Decision.selected, {"amount": Decimal("999999999.00")}, "dépasse le maximum retenu"),
        (Decision.selected, {"amount": Decimal("0.00")}, "doit être positif"),
        (Decision.rejected, {"motive": "  "}, "motif du rejet est obligatoire"),
    ],
)
def test_decision_guards(app, db, users, instructed, session_with, decision, kwargs, message):
    session_id = session_with(instructed.call, [instructed()])
    with app.test_request_context():
        from grants.models import CommitteeSession

        item = db.session.get(CommitteeSession, session_id).items[0]
        with pytest.raises(DossierError, match=message):
            ops.record_decision(item, decision, officer_of(db, users), **kwargs)


def test_envelope_is_never_exceeded(app, db, users, instructed, session_with):
    first, second = instructed(), instructed(users["other_applicant"])
    with app.test_request_context():
        maximum = ops.retained_maximum(db.session.get(Dossier, first.id))
        call = db.session.get(Call, instructed.call.id)
        call.envelope = maximum + Decimal("10.00")  # room for the first, not for the second
        db.session.commit()
    session_id = session_with(instructed.call, [first, second])
    with app.test_request_context():
        from grants.models import CommitteeSession

        session = db.session.get(CommitteeSession, session_id)
        ops.record_decision(session.items[0], Decision.selected, officer_of(db, users))
        with pytest.raises(DossierError, match="Reste disponible : 10,00"):
            ops.record_decision(session.items[1], Decision.selected, officer_of(db, users))
        ops.record_decision(session.items[1], Decision.selected, officer_of(db, users), amount=Decimal("10.00"))
        db.session.commit()
        assert ops.envelope(session).remaining == Decimal("0.00")


def test_rejection_deferral_close_and_frozen_session(app, db, users, instructed, session_with, store):
    first, second = instructed(), instructed(users["other_applicant"])
    session_id = session_with(instructed.call, [first, second])
    with app.test_request_context():
        from grants.models import CommitteeSession

        session = db.session.get(CommitteeSession, session_id)
        officer = officer_of(db, users)
        ops.record_decision(session.items[0], Decision.rejected, officer, motive="Public hors QPV majoritaire.")
        with pytest.raises(DossierError, match="Décisions manquantes"):
            ops.close_session(session, officer, store=store)
        ops.record_decision(session.items[1], Decision.deferred, officer)
        ops.close_session(session, officer, store=store)
        db.session.commit()
        assert session.status is SessionStatus.closed
        assert db.session.get(Dossier, first.id).state is DossierState.rejected
        assert db.session.get(Dossier, second.id).state is DossierState.deferred
        with pytest.raises(DossierError, match="La séance est close"):
            ops.reorder_agenda(session, [i.id for i in session.items], officer)


def test_deferred_dossier_is_relisted_in_a_later_session(app, db, users, instructed, session_with, store):
    dossier = instructed()
    first_id = session_with(instructed.call, [dossier])
    with app.test_request_context():
        from grants.models import CommitteeSession

        session = db.session.get(CommitteeSession, first_id)
        ops.record_decision(session.items[0], Decision.deferred, officer_of(db, users))
        ops.close_session(session, officer_of(db, users), store=store)
        db.session.commit()
    second_id = session_with(instructed.call, [dossier], held=False)
    with app.test_request_context():
        assert db.session.get(Dossier, dossier.id).state is DossierState.instructed
        from grants.models import CommitteeSession

        assert [i.dossier_id for i in db.session.get(CommitteeSession, second_id).items] == [dossier.id]


def test_only_committee_accounts_can_be_invited(app, db, users, make_call):
    with app.test_request_context():
        with pytest.raises(DossierError, match="membre du comité"):
            ops.create_session(
                db.session.get(Call, make_call().id), meets_at=datetime.now(UTC), place="Lille", chair_name="X",
                chair_quality="Préfet", members=[officer_of(db, users)], actor=officer_of(db, users),
            )
