"""The committee grants FSE+ per strand (issue 15, item 3), within each strand's retained figure
and the remaining envelope, and may correct a decision until the session is closed (item 22):
audited, the dossier's state following through the transition table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from grants.finance import split_grant
from grants.models import AuditEntry, Call, CommitteeSession, Decision, Dossier, DossierState
from grants.operations import committee as ops
from grants.operations.committee import DecisionError
from grants.operations.dossiers import DossierError
from tests.operations.test_committee import instructed, officer_of, session_with  # noqa: F401  (fixtures)

D = Decimal
# COMPLETE_CONTENT, retained as submitted: repérage 116 640,00 €, sortie vers l'emploi 97 920,00 €.
RETAINED = {"reperage": D("116640.00"), "sortie_emploi": D("97920.00")}
BASES = {"reperage": D("194400.00"), "sortie_emploi": D("163200.00")}


def held(db, instructed, session_with, count=1):  # type: ignore[no-untyped-def]  # noqa: F811
    session_id = session_with(instructed.call, [instructed() for _ in range(count)])
    return db.session.get(CommitteeSession, session_id)


def test_the_default_grant_is_the_retained_figure_of_each_strand(app, db, users, instructed, session_with):  # noqa: F811
    with app.test_request_context():
        session = held(db, instructed, session_with)
        plan = ops.retained_plan(session.items[0].dossier)
        assert plan.fse == RETAINED and plan.base == BASES
        ops.record_decision(session.items[0], Decision.selected, officer_of(db, users))
        item = session.items[0]
        assert item.granted == RETAINED and item.amount_granted == D("214560.00")


def test_a_grant_typed_per_strand_stays_within_each_strands_retained_figure(app, db, users, instructed,
                                                                              session_with):  # noqa: F811
    with app.test_request_context():
        session = held(db, instructed, session_with)
        item, officer = session.items[0], officer_of(db, users)
        with pytest.raises(DecisionError, match="volet repérage dépasse le maximum retenu à l'instruction pour ce "
                                                "volet \\(116\u202f640,00\u00a0€\\)") as above:
            # The total (117 640,00 €) is within the retained maximum, the strand is not.
            ops.record_decision(item, Decision.selected, officer,
                                amounts={"reperage": D("116640.01"), "sortie_emploi": D("1000.00")})
        assert above.value.field == "amount_reperage"
        with pytest.raises(DecisionError, match="volet sortie vers l'emploi") as missing:
            ops.record_decision(item, Decision.selected, officer, amounts={"reperage": D("1.00"), "sortie_emploi": None})
        assert missing.value.field == "amount_sortie_emploi"
        with pytest.raises(DecisionError, match="doit être positif"):
            ops.record_decision(item, Decision.selected, officer, amounts={"reperage": D("0"), "sortie_emploi": D("0")})
        ops.record_decision(item, Decision.selected, officer,
                            amounts={"reperage": D("70000.00"), "sortie_emploi": D("0.00")})
        assert item.granted == {"reperage": D("70000.00"), "sortie_emploi": D("0.00")}
        assert item.amount_granted == D("70000.00")


def test_a_total_alone_is_shared_in_proportion_of_the_retained_figures():
    assert split_grant(D("214560.00"), RETAINED) == RETAINED
    shares = split_grant(D("120000.00"), RETAINED)
    assert shares == {"reperage": D("65234.89"), "sortie_emploi": D("54765.11")}  # 120 000 × 116 640 / 214 560, rounded down
    assert sum(shares.values()) == D("120000.00")
    for total in (D("0.01"), D("1.00"), D("99999.99"), D("214559.99")):
        shares = split_grant(total, RETAINED)
        assert sum(shares.values()) == total and all(shares[s] <= RETAINED[s] for s in RETAINED), total


def test_the_database_ties_the_total_to_the_strands(app, db, users, instructed, session_with):  # noqa: F811
    with app.test_request_context():
        session = held(db, instructed, session_with)
        ops.record_decision(session.items[0], Decision.selected, officer_of(db, users))
        db.session.commit()
        item_id = session.items[0].id
    for statement in (
        "UPDATE agenda_items SET granted_reperage = granted_reperage + 1 WHERE id = :id",  # sum broken
        "UPDATE agenda_items SET granted_sortie_emploi = NULL WHERE id = :id",  # a strand missing
        "UPDATE agenda_items SET decision = 'deferred' WHERE id = :id",  # amounts without a selection
    ):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(text(statement), {"id": item_id})


def test_the_envelope_holds_per_strand_grants(app, db, users, instructed, session_with):  # noqa: F811
    with app.test_request_context():
        call = db.session.get(Call, instructed.call.id)
        call.envelope = D("250000.00")  # room for one retained maximum, not two
        db.session.commit()
        session = held(db, instructed, session_with, count=2)
        officer = officer_of(db, users)
        ops.record_decision(session.items[0], Decision.selected, officer)
        with pytest.raises(DecisionError, match="Reste disponible : 35\u202f440,00\u00a0€"):
            ops.record_decision(session.items[1], Decision.selected, officer)
        ops.record_decision(session.items[1], Decision.selected, officer,
                            amounts={"reperage": D("20000.00"), "sortie_emploi": D("15440.00")})
        assert ops.envelope(session).remaining == D("0.00")


# Corrections until the closing ------------------------------------------------------------------


def test_a_decision_is_corrected_until_the_session_is_closed(app, db, users, instructed, session_with, store):  # noqa: F811
    with app.test_request_context():
        session = held(db, instructed, session_with)
        item, officer = session.items[0], officer_of(db, users)
        ops.record_decision(item, Decision.selected, officer)
        dossier = db.session.get(Dossier, item.dossier_id)
        assert dossier.state is DossierState.selected

        # Selected → rejected: the state follows, the amounts go.
        ops.correct_decision(item, Decision.rejected, officer, expected=item.decision_stamp,
                             motive="Public QPV insuffisant.")
        assert dossier.state is DossierState.rejected
        assert (item.amount_granted, item.granted_reperage, item.granted_sortie_emploi) == (None, None, None)
        # Rejected → selected with other amounts, then the amounts alone corrected.
        ops.correct_decision(item, Decision.selected, officer, expected=item.decision_stamp,
                             amounts={"reperage": D("100000.00"), "sortie_emploi": D("90000.00")})
        ops.correct_decision(item, Decision.selected, officer, expected=item.decision_stamp,
                             amounts={"reperage": D("100000.00"), "sortie_emploi": D("97920.00")})
        assert dossier.state is DossierState.selected and item.amount_granted == D("197920.00")

        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "Dossier", AuditEntry.object_id == dossier.id).order_by(AuditEntry.id)).all()
        corrections = [(e.action, e.from_state, e.to_state) for e in entries if e.details.get("corrected")]
        assert corrections == [
            ("dossier.rejected", "selected", "rejected"),
            ("dossier.selected", "rejected", "selected"),
            ("dossier.decision_corrected", None, None),
        ]
        last = entries[-1].details
        assert last["corrected"]["granted"] == {"reperage": "100000.00", "sortie_emploi": "90000.00"}
        assert last["granted"] == {"reperage": "100000.00", "sortie_emploi": "97920.00"}

        with pytest.raises(DecisionError, match="inchangée"):
            ops.correct_decision(item, Decision.selected, officer, expected=item.decision_stamp,
                                 amounts={"reperage": D("100000.00"), "sortie_emploi": D("97920.00")})
        ops.close_session(session, officer, store=store)
        with pytest.raises(DossierError, match="La séance est close"):
            ops.correct_decision(item, Decision.deferred, officer, expected=item.decision_stamp)


def test_a_correction_never_overwrites_a_decision_changed_meanwhile(app, db, users, instructed, session_with):  # noqa: F811
    with app.test_request_context():
        session = held(db, instructed, session_with)
        item, officer = session.items[0], officer_of(db, users)
        ops.record_decision(item, Decision.deferred, officer)
        seen = item.decision_stamp
        ops.correct_decision(item, Decision.rejected, officer, expected=seen, motive="Hors QPV.")
        with pytest.raises(DossierError, match="vient d'être modifiée par une autre personne"):
            ops.correct_decision(item, Decision.selected, officer, expected=seen)
        assert item.decision is Decision.rejected


def test_a_correction_counts_the_envelope_without_the_grant_it_replaces(app, db, users, instructed, session_with):  # noqa: F811
    with app.test_request_context():
        call = db.session.get(Call, instructed.call.id)
        call.envelope = D("214560.00")  # exactly one retained maximum
        db.session.commit()
        session = held(db, instructed, session_with)
        item, officer = session.items[0], officer_of(db, users)
        ops.record_decision(item, Decision.selected, officer,
                            amounts={"reperage": D("100000.00"), "sortie_emploi": D("90000.00")})
        ops.correct_decision(item, Decision.selected, officer, expected=item.decision_stamp)  # up to the maximum
        assert item.amount_granted == D("214560.00") and ops.envelope(session).remaining == D("0.00")


def test_a_deferred_dossier_waits_for_the_closing_before_another_session(app, db, users, instructed,
                                                                           session_with, store):  # noqa: F811
    """Its deferral may still be corrected while its session is held: it is not put on another
    agenda meanwhile (the two sessions would then disagree on its state)."""
    with app.test_request_context():
        session = held(db, instructed, session_with)
        officer = officer_of(db, users)
        ops.record_decision(session.items[0], Decision.deferred, officer)
        db.session.commit()
        dossier_id = session.items[0].dossier_id
    later_id = session_with(instructed.call, [], held=False)
    with app.test_request_context():
        later = db.session.get(CommitteeSession, later_id)
        with pytest.raises(DossierError, match="ajourné par la séance n° 1, qui n'est pas encore close"):
            ops.add_to_agenda(later, db.session.get(Dossier, dossier_id), officer_of(db, users))
        ops.close_session(db.session.get(CommitteeSession, session.id), officer_of(db, users), store=store)
        ops.add_to_agenda(later, db.session.get(Dossier, dossier_id), officer_of(db, users))
        assert db.session.get(Dossier, dossier_id).state is DossierState.instructed
