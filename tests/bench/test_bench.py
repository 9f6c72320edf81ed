"""The benchmark's own tools (bench/): the data set generator and the SQL statement counter.

The benchmark itself (``make bench``) prints figures and asserts nothing on time; these
tests only check that what it measures is sound, at a tiny size, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bench.child import logged_in_client
from bench.dataset import MAIN_CALL, OPEN_CALL, DatasetSpec, Generator
from bench.queries import QueryCounter, count_page
from grants.dossier_sections import missing_items
from grants.extensions import db as _db
from grants.models import (
    SUBMITTED_STATES,
    AgendaItem,
    Attachment,
    CommitteeSession,
    Dossier,
    DossierState,
    DossierVersion,
    ReferenceCounter,
    Structure,
    StructureKind,
)
from grants.operations.dossiers import canonical_json
from grants.storage import store_for


@pytest.fixture
def generator(db: Any, tmp_path: Any) -> Generator:
    gen = Generator(db.session, DatasetSpec(dossiers=40, structures=6, officers=2, committee_members=2, seed=3),
                    password_hash="argon2-hash-not-used-here", storage_dir=tmp_path)
    gen.add_base()
    gen.add_showcase()
    return gen


def test_generated_data_set_is_consistent(db: Any, generator: Generator, tmp_path: Any) -> None:
    gen = generator
    gen.add_dossiers(39)
    pool = gen.add_pool(OPEN_CALL, [gen.structures[1]["id"]], 2)
    gen.add_committee(pack_size=5)
    gen.finish()
    db.session.commit()  # releases a savepoint only: the test still rolls back

    dossiers = db.session.scalars(select(Dossier)).all()
    assert len(dossiers) == 40 + 2
    assert {d.state for d in dossiers} >= {DossierState.draft, DossierState.instructed}
    store = store_for(tmp_path)
    references = [d.reference for d in dossiers if d.reference]
    assert len(references) == len(set(references))
    for dossier in dossiers:
        if dossier.state not in SUBMITTED_STATES:
            continue
        assert dossier.reference and dossier.submitted_at and dossier.versions
        for version in dossier.versions:
            assert version.sha256 == hashlib.sha256(canonical_json(version.snapshot)).hexdigest()
            assert store.verify(version.receipt_file, version.receipt_sha256)
    # Every attachment row has its file in the store, with the recorded SHA-256.
    attachments = db.session.scalars(select(Attachment)).all()
    assert len(attachments) >= 6 * 30
    assert all(store.verify(a.storage_name, a.sha256) for a in attachments)
    # The counters carry on after the generated references: no submission reuses a number.
    codes = {call["id"]: code for code, call in gen.calls.items()}
    for counter in db.session.scalars(select(ReferenceCounter)):
        numbers = [int(match[1]) for r in references
                   if (match := re.fullmatch(rf"{re.escape(codes[counter.call_id])}-(\d{{4,}})", r))]
        assert counter.last_number == max(numbers) == len(numbers)  # one sequence per call, no gap
    # Sessions are numbered per call from 1, the counter at the last one.
    for call_id, numbers in itertools.groupby(db.session.execute(
            select(CommitteeSession.call_id, CommitteeSession.number).order_by(CommitteeSession.call_id,
                                                                              CommitteeSession.number)),
            key=lambda row: row[0]):
        given = [number for _call, number in numbers]
        assert given == list(range(1, len(given) + 1))
        assert db.session.get(ReferenceCounter, call_id).last_session_number == len(given)
    # The pool's drafts are complete: ready to be submitted as they are.
    for dossier_id in pool.dossier_ids:
        dossier = db.session.get(Dossier, dossier_id)
        assert dossier.version == 1
        assert not [item for items in missing_items(dossier).values() for item in items]
    # The committee: decided dossiers in closed sessions, a planned session for the pack.
    pack = db.session.get(CommitteeSession, gen.pack_session_id)
    assert pack.call.code == MAIN_CALL and 0 < len(pack.items) <= 5
    decisions = Counter(db.session.scalars(select(AgendaItem.decision)))
    decided_states = db.session.scalar(select(func.count(Dossier.id)).where(
        Dossier.state.in_([DossierState.selected, DossierState.rejected, DossierState.deferred])))
    assert sum(n for decision, n in decisions.items() if decision is not None) == decided_states
    # Ids given by the generator leave the sequences usable by the application.
    db.session.add(Structure(name="Après le générateur", siret="90010000900019", kind=StructureKind.plie))
    db.session.flush()


def test_generator_grows_a_data_set(db: Any, generator: Generator) -> None:
    generator.add_dossiers(9)
    generator.finish()
    assert db.session.scalar(select(func.count(Dossier.id))) == 10
    generator.add_dossiers(15, call_code=MAIN_CALL, states={DossierState.submitted: 1}, full=False)
    generator.finish()
    assert db.session.scalar(select(func.count(Dossier.id))) == 25
    added = db.session.scalars(select(Dossier).order_by(Dossier.id.desc()).limit(15)).all()
    assert {d.state for d in added} == {DossierState.submitted}
    assert all(d.finance and d.fse_requested_total and d.reference for d in added)
    assert db.session.scalar(select(func.count(DossierVersion.id)).where(
        DossierVersion.dossier_id.in_([d.id for d in added]))) == 0


def test_query_counter_counts_statements(db: Any) -> None:
    db.session.execute(text("SELECT 0"))  # the test's session has begun (its SAVEPOINT is sent)
    with QueryCounter(_db.engine) as counter:
        db.session.execute(text("SELECT 1"))
        db.session.execute(text("SELECT 2"))
    db.session.execute(text("SELECT 3"))  # after the block: not counted
    assert counter.count == 2
    assert counter.statements == ["SELECT 1", "SELECT 2"]


def test_queue_page_statements_do_not_depend_on_the_number_of_dossiers(app: Any, db: Any,
                                                                       generator: Generator) -> None:
    """What the benchmark measures at 10, 500 and 2 000 dossiers, here at 10 and 40."""
    main = generator.calls[MAIN_CALL]["id"]
    path = f"/instruction/appels/{main}/dossiers?sort=structure&order=desc&page=2"
    generator.add_dossiers(9)
    generator.finish()
    db.session.commit()
    client = logged_in_client(app, generator.officers[0])
    small = count_page(client, path, "queue")
    generator.add_dossiers(30, call_code=MAIN_CALL)
    generator.finish()
    db.session.commit()
    large = count_page(client, path, "queue")
    assert small.status == large.status == 200
    assert small.statements == large.statements > 0


def test_officer_home_statements_do_not_depend_on_the_number_of_dossiers(app: Any, db: Any,
                                                                         generator: Generator) -> None:
    """The officer's home (its to-do lists), as the benchmark counts it, at 10 and 40 dossiers."""
    generator.add_dossiers(9)
    generator.finish()
    db.session.commit()
    client = logged_in_client(app, generator.officers[0])
    small = count_page(client, "/", "officer_home")
    generator.add_dossiers(30, call_code=MAIN_CALL)
    generator.finish()
    db.session.commit()
    large = count_page(client, "/", "officer_home")
    assert small.status == large.status == 200
    assert small.statements == large.statements > 0
