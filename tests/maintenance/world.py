"""A small but complete set of committed data, built through the real operations.

One call with a draft, a withdrawn draft, a dossier submitted then completed (two versions,
a message with a file), an inadmissible one (its letter), and two instructed dossiers decided
by a closed committee session (one selected, one deferred): minutes and a letter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, inspect, text

from grants.extensions import db as _db
from grants.models import (
    DEFAULT_ADMISSIBILITY_CRITERIA,
    DEFAULT_REQUIRED_ATTACHMENTS,
    AdmissibilityOutcome,
    Call,
    Decision,
    Dossier,
    Opinion,
    Qpv,
    QpvCommune,
    QpvList,
    Role,
    Structure,
    StructureKind,
    StructureVerification,
    User,
)
from grants.operations import committee, messages, review
from grants.operations import dossiers as ops
from grants.operations.accounts import create_user
from grants.storage import LocalFileStore
from tests.conftest import COMPLETE_CONTENT, COMPLETE_STRUCTURE, PASSWORD, SAMPLE_PDF, _valid_siret

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class World:
    call: int
    draft: int
    withdrawn: int
    completed: int  # submitted, then complements answered: two versions and a message file
    inadmissible: int
    selected: int
    deferred: int
    session: int


@contextmanager
def session_bound_to(bind: Any, **options: Any) -> Iterator[Any]:
    """Point the app's scoped session at another database for a while, then back."""
    _db.session.remove()
    _db.session.configure(bind=bind, **options)
    try:
        yield _db.session
    finally:
        _db.session.remove()
        _db.session.configure(bind=_db.engine, join_transaction_mode="conditional_savepoint")


def build_world(app: Flask, store: LocalFileStore) -> World:
    """Commit the scenario into the database the session is bound to; files go to ``store``."""
    session = _db.session
    with app.test_request_context():
        qpv_list = QpvList(name="QPV maintenance", geography_year=2024, version_date=date(2024, 1, 1), source="tests")
        qpv_list.qpvs = [Qpv(code="QN05901M", name="Quartier test Lille",
                             communes=[QpvCommune(insee="59350", name="Lille", departement="59")])]
        now = datetime.now(UTC)
        call = Call(
            code="AAP-MAINT", title="Appel de test", programme="Texte", opens_at=now - timedelta(days=10),
            closes_at=now + timedelta(days=30), envelope=Decimal("4000000.00"), fse_rate=Decimal("0.60"),
            cej_forfait_per_youth=Decimal("1600.00"), share_reperage=Decimal("0.40"),
            share_sortie_emploi=Decimal("0.40"), flat_rate_other_costs=Decimal("0.40"),
            required_attachments=DEFAULT_REQUIRED_ATTACHMENTS, admissibility_criteria=DEFAULT_ADMISSIBILITY_CRITERIA,
            qpv_list=qpv_list,
        )
        first, second = (
            Structure(name=f"Mission locale {n}", siret=siret, kind=StructureKind.mission_locale, **COMPLETE_STRUCTURE,
                      verification=StructureVerification.verified, verified_at=now)
            for n, siret in ((1, _valid_siret(9101)), (2, _valid_siret(9102)))
        )
        session.add_all([call, first, second])
        session.flush()
        applicant = create_user(email="porteur@maintenance.test", full_name="Porteur Un", role=Role.applicant,
                                password=PASSWORD, structure=first)
        other = create_user(email="porteur2@maintenance.test", full_name="Porteur Deux", role=Role.applicant,
                            password=PASSWORD, structure=second)
        officer = create_user(email="agent@maintenance.test", full_name="Agente", role=Role.officer, password=PASSWORD)
        member = create_user(email="comite@maintenance.test", full_name="Membre", role=Role.committee,
                             password=PASSWORD)
        session.commit()

        draft = _filled(call, first, applicant, store)
        withdrawn = _filled(call, first, applicant, store)
        ops.withdraw_dossier(withdrawn, applicant)

        completed = _submitted(call, second, other, store)
        review.request_complements(completed, sections=["project"], attachment_types=[], message="Précisez.",
                                   due_date=date.today() + timedelta(days=10), actor=officer)
        review.answer_complements(completed, other, store=store)
        messages.post_message(completed, officer, "Voir la note jointe.", ("note.pdf", SAMPLE_PDF),
                              store=store, max_bytes=MAX_BYTES)

        inadmissible = _submitted(call, first, applicant, store)
        checklist = review.get_review(inadmissible)
        review.save_checklist(checklist, {"signatory": {"value": "fail", "comment": "Pas de délégation."}},
                              officer, None)
        review.record_admissibility(checklist, AdmissibilityOutcome.inadmissible, "Signataire non habilité.",
                                    officer, store=store)  # stores the notification letter

        selected = _instructed(call, first, applicant, officer, store)
        deferred = _instructed(call, second, other, officer, store)
        meeting = committee.create_session(
            call, meets_at=now - timedelta(days=1), place="Préfecture, Lille", chair_name="Le Préfet de région",
            chair_quality="Préfet de la région Hauts-de-France", members=[member], actor=officer,
        )
        for dossier in (selected, deferred):
            committee.add_to_agenda(meeting, dossier, officer)
        committee.mark_held(meeting, officer)
        committee.record_decision(meeting.items[0], Decision.selected, officer)
        committee.record_decision(meeting.items[1], Decision.deferred, officer)
        committee.close_session(meeting, officer, store=store)  # stores the minutes and the letter
        session.commit()
        return World(call=call.id, draft=draft.id, withdrawn=withdrawn.id, completed=completed.id,
                     inadmissible=inadmissible.id, selected=selected.id, deferred=deferred.id, session=meeting.id)


def _filled(call: Call, structure: Structure, user: User, store: LocalFileStore) -> Dossier:
    dossier = ops.create_dossier(call, structure, user)
    for key, value in COMPLETE_CONTENT.items():
        ops.save_section(dossier, key, value, user, dossier.version)
    for item in call.required_attachments:
        ops.add_attachment(dossier, item["code"], f"{item['code']}.pdf", SAMPLE_PDF, user, store=store,
                           max_bytes=MAX_BYTES)
    _db.session.commit()
    return dossier


def _submitted(call: Call, structure: Structure, user: User, store: LocalFileStore) -> Dossier:
    dossier = _filled(call, structure, user, store)
    ops.submit_dossier(dossier, user, store=store, expected_version=dossier.version)
    _db.session.commit()
    return dossier


def _instructed(call: Call, structure: Structure, user: User, officer: User, store: LocalFileStore) -> Dossier:
    dossier = _submitted(call, structure, user, store)
    checklist = review.get_review(dossier)
    review.save_checklist(checklist, {c["code"]: {"value": "pass", "comment": ""} for c in call.admissibility_criteria},
                          officer, None)
    review.record_admissibility(checklist, AdmissibilityOutcome.admissible, "", officer)
    instruction = review.get_instruction(dossier)
    review.record_instruction(instruction, instruction.retained, Opinion.favourable, "Avis motivé.", officer, None,
                              final=True)
    _db.session.commit()
    return dossier


# Comparing databases and stores ------------------------------------------------------------------


def database_contents(engine: Engine) -> dict[str, Any]:
    """Every row of every table (and the PostgreSQL sequences), in a comparable form."""
    with engine.connect() as connection:
        contents: dict[str, Any] = {  # table names come from the database itself
            name: sorted((tuple(row) for row in connection.execute(text(f'SELECT * FROM "{name}"'))), key=repr)  # noqa: S608
            for name in sorted(inspect(connection).get_table_names())
        }
        if engine.dialect.name == "postgresql":
            contents["(sequences)"] = connection.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema() ORDER BY 1"
            )).all()
    return contents


def store_contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def wipe(engine: Engine, storage: Path) -> None:
    """The disaster: the database and the stored files are gone."""
    engine.dispose()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        Path(engine.url.database).unlink()
    shutil.rmtree(storage)


def flask_cli(database_url: str, storage: Path, instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``flask --app wsgi grants …`` in its own process, as an operator would."""
    env = {**os.environ, "DATABASE_URL": database_url, "GRANTS_STORAGE_DIR": str(storage),
           "GRANTS_INSTANCE_DIR": str(instance), "SECRET_KEY": "maintenance-tests-secret"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )
