"""`grants check-integrity`: each invariant, broken on purpose, is reported with a non-zero exit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError

from grants.integrity import Problem, check_integrity, reference_problems, stored_file_columns
from grants.models import (
    AgendaItem,
    Call,
    CommitteeSession,
    Dossier,
    DossierState,
    DossierVersion,
    Instruction,
    Message,
    ReferenceCounter,
    utcnow,
)

from .conftest import Breakable


# 6 dossiers × 6 pièces, 5 receipts, a message's file, the minutes and two letters.
STORED_FILES = 6 * 6 + 5 + 1 + 3


def run_cli(app) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["grants", "check-integrity"])
    return result.exit_code, result.output


def codes(problems: list[Problem]) -> set[str]:
    return {p.code for p in problems}


def test_a_consistent_world_has_no_problem_and_exits_0(app, breakable: Breakable):
    counts: Counter[str] = Counter()
    assert check_integrity(breakable.session, breakable.store, counts) == []
    # Everything was looked at: 6 dossiers, 5 versions (one dossier has two), every stored file.
    assert counts["dossiers"] == 6 and counts["versions"] == 5 and counts["references"] == 4
    assert counts["files"] == STORED_FILES
    code, output = run_cli(app)
    assert code == 0, output
    assert "Intégrité vérifiée, aucun problème : 6 dossier(s), 5 version(s), 4 référence(s), 45 fichier(s)" in output


def test_every_kind_of_stored_file_is_checked():
    pairs = {(model.__tablename__, name, digest) for model, name, digest in stored_file_columns()}
    assert pairs >= {
        ("attachments", "storage_name", "sha256"),
        ("dossier_versions", "receipt_file", "receipt_sha256"),
        ("messages", "attachment_file", "attachment_sha256"),
        ("committee_sessions", "minutes_file", "minutes_sha256"),
        ("agenda_items", "letter_file", "letter_sha256"),
    }


# Breaking the database -----------------------------------------------------------------------------


def dossier(w: Breakable, key: str) -> Dossier:
    return w.session.get(Dossier, getattr(w.ids, key))


def version(w: Breakable, key: str, number: int = 1) -> DossierVersion:
    return next(v for v in dossier(w, key).versions if v.number == number)


def item(w: Breakable, key: str) -> AgendaItem:
    return w.session.scalar(select(AgendaItem).where(AgendaItem.dossier_id == getattr(w.ids, key)))


def instruction(w: Breakable, key: str) -> Instruction:
    return w.session.scalar(select(Instruction).where(Instruction.dossier_id == getattr(w.ids, key)))


def _set(obj: object, **values: object) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


def _renumber_reference(w: Breakable) -> None:
    completed = dossier(w, "completed")
    completed.reference = completed.reference[:-4] + "0099"


def _bump_counter(w: Breakable) -> None:
    w.session.execute(update(ReferenceCounter).values(last_number=ReferenceCounter.last_number + 1))


BREAKS: dict[str, tuple[Callable[[Breakable], object], str]] = {
    "draft with a submission date": (
        lambda w: _set(dossier(w, "draft"), submitted_at=utcnow()), "dossier.draft_has_submission"),
    "submitted dossier without its frozen version": (
        lambda w: w.session.execute(delete(DossierVersion).where(DossierVersion.dossier_id == w.ids.completed)),
        "dossier.submission_incomplete"),
    "state moved to admissible without a checklist": (
        lambda w: _set(dossier(w, "completed"), state=DossierState.admissible), "dossier.admissibility_missing"),
    "state moved to complements requested without a request": (
        lambda w: _set(dossier(w, "completed"), state=DossierState.complements_requested),
        "dossier.complements_request"),
    "selected dossier put back to instructed": (
        lambda w: _set(dossier(w, "selected"), state=DossierState.instructed), "dossier.decision_mismatch"),
    "instruction reopened under a selected dossier": (
        lambda w: _set(instruction(w, "selected"), instructed_at=None), "dossier.instruction_mismatch"),
    "frozen content edited after submission": (
        lambda w: _set(version(w, "completed"), snapshot={
            **version(w, "completed").snapshot, "content": {"project": {"title": "Autre projet"}}}),
        "version.hash_mismatch"),
    "stored version hash edited": (
        lambda w: _set(version(w, "selected"), sha256="0" * 64), "version.hash_mismatch"),
    "version without its receipt": (
        lambda w: _set(version(w, "selected"), receipt_file=None, receipt_sha256=None), "version.receipt_missing"),
    "versions renumbered": (
        lambda w: _set(version(w, "completed", 2), number=3), "version.numbering"),
    "pièce of a frozen version deleted": (
        lambda w: w.session.delete(dossier(w, "selected").attachments[0]), "version.attachment_missing"),
    "pièce hash of a frozen version edited": (
        lambda w: _set(dossier(w, "selected").attachments[0], sha256="f" * 64), "version.attachment_missing"),
    "reference counter ahead of the references": (_bump_counter, "reference.gap"),
    "reference renumbered beyond the counter": (_renumber_reference, "reference.counter_behind"),
    "reference of another call": (
        lambda w: _set(dossier(w, "selected"), reference="AUTRE-2026-0001"), "reference.format"),
    "envelope lowered below what was granted": (
        lambda w: _set(w.session.get(Call, w.ids.call), envelope=Decimal("1000.00")), "call.envelope_exceeded"),
    "amount granted above the retained maximum": (
        lambda w: _set(item(w, "selected"), granted_reperage=item(w, "selected").granted_reperage + Decimal("1.00"),
                       amount_granted=instruction(w, "selected").fse_retained_total + Decimal("1.00")),
        "agenda.amount_above_retained"),
    "session numbered beyond the call's session counter": (
        lambda w: _set(w.session.get(CommitteeSession, w.ids.session), number=7), "session.counter_behind"),
    "closed session with an undecided item": (
        lambda w: _set(item(w, "deferred"), decision=None, decided_at=None, decided_by_id=None), "agenda.undecided"),
    "minutes file without its hash": (
        lambda w: _set(w.session.get(CommitteeSession, w.ids.session), minutes_sha256=None), "file.hash_missing"),
    "queue amounts that are not the latest version's": (
        lambda w: _set(dossier(w, "completed"), submitted_fse_requested=Decimal("1.00")), "dossier.submitted_figures"),
    "queue figures of an earlier version": (
        lambda w: _set(dossier(w, "completed"), submitted_version=1), "dossier.submitted_figures"),
    "a title officers read that is not the latest version's": (
        lambda w: _set(dossier(w, "completed"), submitted_title="Intitulé enregistré mais pas envoyé"),
        "dossier.submitted_content"),
    "storage name pointing outside the store": (
        lambda w: _set(dossier(w, "draft").attachments[0], storage_name="../../../../etc/passwd"), "file.bad_name"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_broken_invariant_is_reported_and_exits_1(app, breakable: Breakable, name: str):
    breaker, expected = BREAKS[name]
    breaker(breakable)
    breakable.commit()
    problems = check_integrity(breakable.session, breakable.store)
    assert expected in codes(problems), problems
    code, output = run_cli(app)
    assert code == 1, output
    assert "problème(s) trouvé(s)" in output
    assert f"[{expected}]" in output


CONSTRAINTS = {
    "submitted without reference": (
        "ck_dossiers_submitted_has_reference", "completed", {"reference": None, "submitted_at": None},
        "dossier.submission_incomplete"),
    "withdrawn without date": (
        "ck_dossiers_withdrawn_has_date", "withdrawn", {"withdrawn_at": None}, "dossier.withdrawn_date"),
}


@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_state_without_its_columns_is_refused_by_the_database_and_reported_when_it_slips_through(
    app, breakable: Breakable, name: str
):
    """The CHECK constraints refuse it; a database restored from elsewhere may lack them."""
    constraint, key, values, expected = CONSTRAINTS[name]
    statement = update(Dossier).where(Dossier.id == getattr(breakable.ids, key)).values(**values)
    with pytest.raises(IntegrityError), breakable.session.begin_nested():
        breakable.session.execute(statement)
    sqlite = breakable.session.get_bind().dialect.name == "sqlite"
    if sqlite:
        breakable.session.execute(text("PRAGMA ignore_check_constraints = ON"))
    else:
        breakable.session.execute(text(f"ALTER TABLE dossiers DROP CONSTRAINT {constraint}"))
    try:
        breakable.session.execute(statement)
        breakable.commit()
        problems = check_integrity(breakable.session, breakable.store)
        code, output = run_cli(app)
    finally:
        if sqlite:
            breakable.session.execute(text("PRAGMA ignore_check_constraints = OFF"))
    assert expected in codes(problems), problems
    assert code == 1 and f"[{expected}]" in output


# Breaking the stored files ---------------------------------------------------------------------------


def stored_name(w: Breakable, kind: str) -> str:
    session = w.session
    return {
        "pièce": lambda: dossier(w, "draft").attachments[0].storage_name,
        "receipt": lambda: version(w, "completed", 2).receipt_file,
        "message file": lambda: session.scalar(
            select(Message.attachment_file).where(Message.attachment_file.is_not(None))),
        "minutes": lambda: session.get(CommitteeSession, w.ids.session).minutes_file,
        "letter": lambda: item(w, "selected").letter_file,
    }[kind]()


@pytest.mark.parametrize("kind", ["pièce", "receipt", "message file", "minutes", "letter"])
@pytest.mark.parametrize(("damage", "expected"), [("delete", "file.missing"), ("overwrite", "file.hash_mismatch")])
def test_damaged_stored_file_is_reported_and_exits_1(app, breakable: Breakable, kind: str, damage: str, expected: str):
    path = breakable.store.path(stored_name(breakable, kind))
    if damage == "delete":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes() + b"\n% altered\n")
    problems = check_integrity(breakable.session, breakable.store)
    assert [p.code for p in problems] == [expected], problems
    assert path.name in problems[0].message
    code, output = run_cli(app)
    assert code == 1 and f"[{expected}]" in output and path.name in output


def test_missing_storage_directory_reports_every_file(app, breakable: Breakable):
    import shutil

    shutil.rmtree(breakable.storage)
    problems = check_integrity(breakable.session, breakable.store)
    assert len(problems) == STORED_FILES and codes(problems) == {"file.missing"}


# References, without the database's unique index ----------------------------------------------------


def test_duplicate_and_gapped_references_are_reported():
    call = Call(id=7, code="AAP-X")
    submitted = datetime(2026, 3, 2, 10, tzinfo=UTC)

    def submitted_dossier(number: int, reference: str) -> Dossier:
        return Dossier(id=number, call=call, call_id=7, reference=reference, submitted_at=submitted)

    dossiers = [submitted_dossier(1, "AAP-X-0001"), submitted_dossier(2, "AAP-X-0001"),
                submitted_dossier(3, "AAP-X-0004"), submitted_dossier(4, "AAP-X-2026-X"),
                submitted_dossier(5, "AAP-X-0007")]
    counters = [ReferenceCounter(call_id=7, last_number=4, last_session_number=0)]
    problems = list(reference_problems(dossiers, counters, {7: "AAP-X"}, Counter()))
    assert [(p.code, p.object) for p in problems] == [
        ("reference.duplicate", "dossier 2 (AAP-X-0001)"),
        ("reference.format", "dossier 4 (AAP-X-2026-X)"),
        ("reference.gap", "appel AAP-X"),
        ("reference.counter_behind", "appel AAP-X"),
    ]
    assert "0002, 0003" in problems[2].message and "AAP-X-0007" in problems[3].message


def test_yearly_references_given_before_the_per_call_numbering_are_kept():
    """References of the former ``<code>-<year>-<number>`` form stay valid (they are printed on
    issued receipts): numbered 1…N in their year, the per-call numbers carry on after them."""
    call = Call(id=7, code="AAP-X")

    def submitted_dossier(number: int, reference: str, year: int = 2026) -> Dossier:
        return Dossier(id=number, call=call, call_id=7, reference=reference,
                       submitted_at=datetime(year, 3, 2, 10, tzinfo=UTC))

    good = [submitted_dossier(1, "AAP-X-2025-0001", 2025), submitted_dossier(2, "AAP-X-2026-0001"),
            submitted_dossier(3, "AAP-X-2026-0002"), submitted_dossier(4, "AAP-X-0004")]
    counters = [ReferenceCounter(call_id=7, last_number=4, last_session_number=0)]
    assert list(reference_problems(good, counters, {7: "AAP-X"}, Counter())) == []

    broken = [submitted_dossier(1, "AAP-X-2026-0002"), submitted_dossier(2, "AAP-X-2025-0001"),
              submitted_dossier(3, "AAP-X-0001")]
    problems = list(reference_problems(broken, [ReferenceCounter(call_id=7, last_number=3, last_session_number=0)],
                                       {7: "AAP-X"}, Counter()))
    assert [(p.code, p.object) for p in problems] == [
        ("reference.format", "dossier 2 (AAP-X-2025-0001)"),  # a 2025 number for a 2026 submission
        ("reference.gap", "appel AAP-X, année 2026"),  # 0001 of 2026 missing
        ("reference.gap", "appel AAP-X"),  # AAP-X-0003 missing
        ("reference.gap", "appel AAP-X"),  # AAP-X-0001 reuses a number the yearly references gave
    ]


def test_problem_reads_as_one_line():
    problem = Problem("file.missing", "pièce 3 (storage_name)", "fichier abc absent du stockage.")
    assert str(problem) == "[file.missing] pièce 3 (storage_name) : fichier abc absent du stockage."

