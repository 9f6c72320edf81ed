"""Two officers record decisions at the same moment for the last euros of the envelope:
exactly one succeeds. Real commits, on a database of its own, from two threads with
their own connections (the rest of the suite works inside rolled-back transactions)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from grants.extensions import db as _db
from grants.extensions import make_engine
from grants.migrate import upgrade
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


@pytest.fixture
def committed_db(app, fresh_databases):  # type: ignore[no-untyped-def]
    """The app's session bound, for this test, to a fresh migrated database."""
    url = fresh_databases.new("concurrency")
    upgrade(url)
    previous = _db.engine
    _db.session.remove()
    _db.engine = make_engine(url)
    _db.session.configure(bind=_db.engine)
    try:
        yield _db
    finally:
        _db.session.remove()
        _db.engine.dispose()
        _db.engine = previous
        _db.session.configure(bind=previous)


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
        meeting = CommitteeSession(call=call, meets_at=now, place="Lille", chair_name="Le Préfet",
                                   status=SessionStatus.held, held_at=now)
        session.add(meeting)
        for n in (1, 2):
            dossier = Dossier(call=call, structure=structure, state=DossierState.instructed,
                              reference=f"AAP-CONC-2026-000{n}", submitted_at=now)
            session.add_all([dossier, Instruction(dossier=dossier, fse_retained_total=Decimal("100.00")),
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
            except OperationalError as exc:  # SQLite: one writer at a time, the other is turned away
                session.rollback()
                outcomes[index] = f"locked: {exc.orig}"
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
    if fresh_databases.is_postgresql:
        # The call row lock makes the second officer wait, then see the first decision.
        assert loser.startswith("refused:") and "Reste disponible : 50,00" in loser, loser
    with app.app_context():
        granted = _db.session.scalar(select(func.sum(AgendaItem.amount_granted)).where(
            AgendaItem.decision == Decision.selected))
        assert granted == Decimal("100.00")
        states = sorted(s.value for s in _db.session.scalars(select(Dossier.state)))
        assert states == ["instructed", "selected"]
