"""Two officers record decisions at the same moment: for the last euros of the envelope,
exactly one succeeds; on the same agenda item, one decision is recorded and the other
officer gets a French message, not an error page. Real commits, on a database of its own,
from two threads with their own connections (the rest of the suite works inside
rolled-back transactions).

PostgreSQL only: SQLite transactions begin IMMEDIATE (grants.extensions.make_engine), so
two officers' transactions never overlap there and the row lock under test never waits."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db as _db
from grants.models import (
    AgendaItem,
    Call,
    CommitteeSession,
    Decision,
    Dossier,
    DossierState,
    Instruction,
    Role,
    SessionStatus,
    Structure,
    StructureKind,
    User,
)
from grants.operations import committee as ops
from grants.operations.accounts import create_user
from grants.operations.dossiers import DossierError


SQLITE_SERIALISES = ("SQLite runs one write transaction at a time (BEGIN IMMEDIATE): the two officers cannot "
                     "overlap, the PostgreSQL row lock is what is tested here")


@pytest.fixture
def committed_db(request, fresh_databases):  # type: ignore[no-untyped-def]
    """``committed_database`` on PostgreSQL, whose row locks are what is tested here."""
    if not fresh_databases.is_postgresql:
        pytest.skip(SQLITE_SERIALISES)
    return request.getfixturevalue("committed_database")


def build(app, envelope: Decimal) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    """A held session with two instructed dossiers of 100,00 € each; two officers."""
    now = datetime.now(UTC)
    with app.app_context():
        session = _db.session
        call = Call(code="AAP-CONC", title="Appel", opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=1),
                    envelope=envelope, fse_rate=Decimal("0.60"), cej_forfait_per_youth=Decimal("1600.00"),
                    share_reperage=Decimal("0.40"), share_sortie_emploi=Decimal("0.60"),
                    flat_rate_other_costs=Decimal("0.40"))
        structure = Structure(name="Mission locale", siret="90010000900019", kind=StructureKind.mission_locale)
        session.add_all([call, structure])
        officers = [create_user(email=f"officer{n}@exemple.fr", full_name=f"Officer {n}", role=Role.officer,
                                password="mot-de-passe-de-test-solide") for n in (1, 2)]
        meeting = CommitteeSession(call=call, number=1, meets_at=now, place="Lille", chair_name="Le Préfet",
                                   status=SessionStatus.held, held_at=now, attendance_recorded_at=now)
        session.add(meeting)
        for n in (1, 2):
            dossier = Dossier(call=call, structure=structure, state=DossierState.instructed,
                              reference=f"AAP-CONC-2026-000{n}", submitted_at=now)
            plan = {"result": {"strands": {"reperage": {"fse": "60.00", "base": "100.00"},
                                           "sortie_emploi": {"fse": "40.00", "base": "80.00"}}}}
            session.add_all([dossier, Instruction(dossier=dossier, fse_retained_total=Decimal("100.00"), finance=plan),
                             AgendaItem(session=meeting, dossier=dossier, position=n)])
        session.commit()
        return [item.id for item in meeting.items], [officer.id for officer in officers]


def test_two_officers_deciding_the_last_euros_exactly_one_succeeds(app, committed_db, fresh_databases):
    items, officers = build(app, envelope=Decimal("150.00"))  # room for one selection of 100,00 €
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def decide(index: int) -> None:
        with app.app_context():
            session = _db.session
            try:
                item = session.get(AgendaItem, items[index])
                officer = session.get(User, officers[index])
                barrier.wait(timeout=10)
                ops.record_decision(item, Decision.selected, officer)
                time.sleep(0.3)  # hold the lock while the other officer tries
                session.commit()
                outcomes[index] = "selected"
            except DossierError as exc:
                session.rollback()
                outcomes[index] = f"refused: {exc}"
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=decide, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == [0, 1]
    assert sorted(o == "selected" for o in outcomes.values()) == [False, True], outcomes
    loser = next(o for o in outcomes.values() if o != "selected")
    # The call row lock makes the second officer wait, then see the first decision.
    assert loser.startswith("refused:") and "Reste disponible : 50,00" in loser, loser
    with app.app_context():
        granted = _db.session.scalar(select(func.sum(AgendaItem.amount_granted)).where(
            AgendaItem.decision == Decision.selected))
        assert granted == Decimal("100.00")
        states = sorted(s.value for s in _db.session.scalars(select(Dossier.state)))
        assert states == ["instructed", "selected"]


def test_two_officers_deciding_the_same_item_one_decision_and_a_french_message(app, committed_db, monkeypatch):
    """Both officers load the session page, then submit a decision on the same dossier at
    the same moment: the second one waits for the first, then is told, in French, that the
    decision was just recorded; nothing of theirs is written."""
    from grants.committee import views
    from tests.conftest import PASSWORD, CsrfClient

    items, officers = build(app, envelope=Decimal("1000.00"))
    with app.app_context():
        session_id = _db.session.get(AgendaItem, items[0]).session_id
        emails = [_db.session.get(User, officer).email for officer in officers]
    barrier = threading.Barrier(2)
    real = ops.record_decision

    def at_the_same_moment(*args, **kwargs):  # type: ignore[no-untyped-def]
        barrier.wait(timeout=10)  # both requests have loaded the undecided item
        real(*args, **kwargs)
        time.sleep(0.3)  # the first one holds the lock until its commit, after this

    monkeypatch.setattr(views.ops, "record_decision", at_the_same_moment)
    app.test_client_class = CsrfClient
    clients = [app.test_client() for _ in officers]
    for client, email in zip(clients, emails, strict=True):
        response = client.post("/compte/connexion", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302
    url = f"/comite/seances/{session_id}"
    tokens = []
    for client in clients:
        page = client.get(url).get_data(as_text=True)
        tokens.append(page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0])
    answers: dict[int, tuple[int, str]] = {}

    def decide(index: int, decision: dict[str, str]) -> None:
        response = clients[index].post(f"{url}/decisions/{items[0]}", data=decision | {"csrf_token": tokens[index]},
                                       csrf=False)
        page = clients[index].get(url).get_data(as_text=True)
        answers[index] = (response.status_code, page)

    threads = [threading.Thread(target=decide, args=(0, {"decision": "selected", "amount_reperage": "50,00",
                                                             "amount_sortie_emploi": "30,00"})),
               threading.Thread(target=decide, args=(1, {"decision": "rejected", "motive": "Hors QPV."}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers) == [0, 1] and [status for status, _page in answers.values()] == [302, 302]
    recorded = [i for i, (_s, page) in answers.items() if "Décision enregistrée pour le dossier" in page]
    refused = [i for i, (_s, page) in answers.items() if "vient d&#39;être enregistrée par une autre personne" in page]
    assert len(recorded) == 1 and len(refused) == 1 and recorded != refused, answers
    with app.app_context():
        item = _db.session.get(AgendaItem, items[0])
        expected = (Decision.selected, Decimal("80.00")) if recorded == [0] else (Decision.rejected, None)
        assert (item.decision, item.amount_granted) == expected
        assert _db.session.get(Dossier, item.dossier_id).state.value == expected[0].value
