"""Whole-database invariants, checked after a crash, a restore or a manual repair.

The database's CHECK constraints hold what one row can say; what spans rows and files
(a submitted dossier has a frozen version with its receipt, stored files still have
their hash, references have no gaps, session numbers are not given twice, the envelope is not
exceeded) is checked here.
``check_integrity`` only reads: it returns the problems, the command prints them.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .dossier_sections import requested_total, submitted_figures, submitted_summary, submitted_title
from .finance import format_eur
from .formatting import PARIS
from .models import (
    SUBMITTED_STATES,
    AdmissibilityOutcome,
    AdmissibilityReview,
    AgendaItem,
    Base,
    Call,
    CommitteeSession,
    Decision,
    Dossier,
    DossierState,
    Instruction,
    ReferenceCounter,
    SessionStatus,
)
from .operations.dossiers import canonical_json

S = DossierState
# States reached only through a recevable checklist, then through a closed instruction.
AFTER_ADMISSIBLE = frozenset({S.admissible, S.instructed, S.selected, S.rejected, S.deferred})
AFTER_INSTRUCTION = frozenset({S.instructed, S.selected, S.rejected, S.deferred})
STATE_OF_DECISION = {Decision.selected: S.selected, Decision.rejected: S.rejected, Decision.deferred: S.deferred}
DECIDED_STATES = frozenset(STATE_OF_DECISION.values())

# What a stored file is, for the messages; an unknown table falls back to its class name.
FILE_OWNERS = {
    "attachments": "pièce",
    "dossier_versions": "version",
    "messages": "message",
    "committee_sessions": "séance du comité",
    "agenda_items": "point de l'ordre du jour",
    "admissibility_reviews": "grille de recevabilité",
    "fiche_renders": "fiche de synthèse",
}
MAX_LISTED = 10


@dataclass(frozen=True)
class Problem:
    """One broken invariant: a stable code, the object concerned, a French explanation."""

    code: str
    object: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.object} : {self.message}"


class VerifyingStore(Protocol):
    def exists(self, name: str) -> bool: ...

    def verify(self, name: str, sha256: str) -> bool: ...


def check_integrity(session: Session, store: VerifyingStore, counts: Counter[str] | None = None) -> list[Problem]:
    """Every problem found, in a stable order; ``counts`` receives what was examined."""
    counts = Counter() if counts is None else counts

    def load(statement: Any) -> list[Any]:
        # What the database holds, even for objects this session already has in memory.
        return list(session.scalars(statement.execution_options(populate_existing=True)))

    dossiers = load(
        select(Dossier).order_by(Dossier.id).options(
            selectinload(Dossier.versions), selectinload(Dossier.attachments),
            selectinload(Dossier.complement_requests), selectinload(Dossier.call),
        )
    )
    reviews = {r.dossier_id: r for r in load(select(AdmissibilityReview))}
    instructions = {i.dossier_id: i for i in load(select(Instruction))}
    sessions = load(
        select(CommitteeSession).order_by(CommitteeSession.id).options(selectinload(CommitteeSession.items))
    )
    calls = load(select(Call).order_by(Call.id))
    counters = load(select(ReferenceCounter))
    items_by_dossier: dict[int, list[AgendaItem]] = defaultdict(list)
    for committee in sessions:
        for item in committee.items:
            items_by_dossier[item.dossier_id].append(item)

    problems: list[Problem] = []
    for dossier in dossiers:
        counts["dossiers"] += 1
        counts["versions"] += len(dossier.versions)
        problems += _dossier_columns(dossier)
        problems += _versions(dossier)
        problems += _workflow(dossier, reviews.get(dossier.id), instructions.get(dossier.id),
                              items_by_dossier.get(dossier.id, []))
    problems += reference_problems(dossiers, counters, {c.id: c.code for c in calls}, counts)
    counts["calls"] += len(calls)
    counts["committee_sessions"] += len(sessions)
    problems += _committee(calls, sessions, {d.id: d for d in dossiers}, instructions, counters)
    problems += _stored_files(session, store, counts)
    return problems


# Dossiers -----------------------------------------------------------------------------------


def dossier_label(dossier: Dossier) -> str:
    return f"dossier {dossier.id}" + (f" ({dossier.reference})" if dossier.reference else "")


def _dossier_columns(dossier: Dossier) -> Iterator[Problem]:
    """A dossier is wholly a draft or wholly submitted: reference, date and a frozen version."""
    label = dossier_label(dossier)
    submission = {
        "référence": dossier.reference is not None,
        "date de dépôt": dossier.submitted_at is not None,
        "version figée": bool(dossier.versions),
    }
    present = [name for name, ok in submission.items() if ok]
    absent = [name for name, ok in submission.items() if not ok]
    if dossier.state is S.draft and present:
        yield Problem("dossier.draft_has_submission", label,
                      f"brouillon portant des éléments de dépôt ({', '.join(present)}).")
    elif dossier.state in SUBMITTED_STATES and absent:
        yield Problem("dossier.submission_incomplete", label,
                      f"état « {dossier.state.title} » sans {', '.join(absent)}.")
    elif dossier.state is S.withdrawn and present and absent:
        # Withdrawn as a draft (nothing) or after submission (everything), never in between.
        yield Problem("dossier.submission_incomplete", label,
                      f"dossier retiré à moitié déposé : {', '.join(present)} mais sans {', '.join(absent)}.")
    if (dossier.state is S.withdrawn) != (dossier.withdrawn_at is not None):
        yield Problem("dossier.withdrawn_date", label,
                      "un dossier retiré a une date de retrait, et lui seul "
                      f"(état « {dossier.state.title} », date {'présente' if dossier.withdrawn_at else 'absente'}).")


def _versions(dossier: Dossier) -> Iterator[Problem]:
    label = dossier_label(dossier)
    numbers = [v.number for v in dossier.versions]
    if numbers != list(range(1, len(numbers) + 1)):
        yield Problem("version.numbering", label, f"versions numérotées {numbers} au lieu de 1 à {len(numbers)}.")
    latest = dossier.versions[-1] if dossier.versions else None
    figures = submitted_figures((latest.snapshot or {}).get("finance")) if latest is not None else None
    expected = (latest.number if latest else None, figures, requested_total(figures),
                Decimal(figures["result"]["totals"]["fse_max"]) if figures else None)
    found = (dossier.submitted_version, dossier.submitted_figures, dossier.submitted_fse_requested,
             dossier.submitted_fse_max)
    if found != expected:
        yield Problem("dossier.submitted_figures", label,
                      "les montants déposés recopiés sur le dossier (file d'attente, exports) ne sont pas ceux de "
                      f"sa dernière version ({expected[0] or 'aucune'}) : FSE+ demandé "
                      f"{found[2]} au lieu de {expected[2]}, maximum {found[3]} au lieu de {expected[3]}.")
    snapshot = latest.snapshot if latest is not None else None
    if (dossier.submitted_title, dossier.submitted_summary) != (
            (submitted_title(snapshot), submitted_summary(snapshot)) if snapshot is not None else (None, None)):
        yield Problem("dossier.submitted_content", label,
                      "l'intitulé et le résumé déposés recopiés sur le dossier (page du gestionnaire, file d'attente, "
                      f"exports) ne sont pas ceux de sa dernière version ({latest.number if latest else 'aucune'}).")
    attachments = {a.id: a for a in dossier.attachments}
    for version in dossier.versions:
        where = f"version {version.number} du {label}"
        if not version.sha256:
            yield Problem("version.hash_missing", where, "version sans empreinte SHA-256.")
        else:
            actual = hashlib.sha256(canonical_json(version.snapshot)).hexdigest()
            if actual != version.sha256:
                yield Problem("version.hash_mismatch", where,
                              f"le contenu figé ne correspond plus à son empreinte ({version.sha256[:12]}… "
                              f"enregistrée, {actual[:12]}… calculée) : il a été modifié après le dépôt.")
        if not version.receipt_file or not version.receipt_sha256:
            yield Problem("version.receipt_missing", where, "version sans accusé de réception enregistré.")
        snapshot = version.snapshot if isinstance(version.snapshot, dict) else {}
        if snapshot.get("reference") != dossier.reference:
            yield Problem("version.reference_mismatch", where,
                          f"la version porte la référence {snapshot.get('reference')!r}, "
                          f"le dossier {dossier.reference!r}.")
        for frozen in snapshot.get("attachments") or []:
            current = attachments.get(frozen.get("id"))
            if current is None or current.sha256 != frozen.get("sha256"):
                yield Problem("version.attachment_missing", where,
                              f"la pièce « {frozen.get('display_name')} » citée par la version "
                              + ("n'existe plus." if current is None else "a changé d'empreinte."))


def _workflow(
    dossier: Dossier, review: AdmissibilityReview | None, instruction: Instruction | None, items: list[AgendaItem]
) -> Iterator[Problem]:
    """Each state has the record of the step that led to it (docs/lifecycle.md, grants.workflow)."""
    label = dossier_label(dossier)
    state = dossier.state
    open_requests = [r for r in dossier.complement_requests if r.is_open]
    if state is S.complements_requested and len(open_requests) != 1:
        yield Problem("dossier.complements_request", label,
                      f"« Compléments demandés » avec {len(open_requests)} demande(s) ouverte(s) au lieu d'une.")
    elif open_requests and state not in (S.complements_requested, S.withdrawn):
        yield Problem("dossier.complements_request", label,
                      f"demande de compléments encore ouverte sur un dossier « {state.title} ».")

    outcome = review.outcome if review else None
    if state in AFTER_ADMISSIBLE and outcome is not AdmissibilityOutcome.admissible:
        yield Problem("dossier.admissibility_missing", label,
                      f"état « {state.title} » sans grille de recevabilité concluant « Recevable ».")
    elif state is S.inadmissible and outcome is not AdmissibilityOutcome.inadmissible:
        yield Problem("dossier.admissibility_missing", label,
                      "état « Irrecevable » sans grille de recevabilité concluant « Irrecevable ».")
    elif (outcome is AdmissibilityOutcome.admissible and state not in AFTER_ADMISSIBLE) or (
        outcome is AdmissibilityOutcome.inadmissible and state is not S.inadmissible
    ):
        yield Problem("dossier.admissibility_mismatch", label,
                      f"la grille conclut « {outcome.title} » mais le dossier est « {state.title} ».")

    instructed = instruction is not None and instruction.instructed_at is not None
    if (state in AFTER_INSTRUCTION) != instructed:
        yield Problem("dossier.instruction_mismatch", label,
                      f"état « {state.title} » " + ("sans instruction close." if not instructed
                                                    else "alors que l'instruction est close."))

    decided = sorted((i for i in items if i.decision is not None), key=lambda i: (i.decided_at, i.id))
    if state in DECIDED_STATES and (not decided or STATE_OF_DECISION[decided[-1].decision] is not state):
        yield Problem("dossier.decision_mismatch", label,
                      f"état « {state.title} » sans décision correspondante du comité"
                      + (f" (dernière décision : « {decided[-1].decision.title} »)." if decided else "."))
    for item in items:
        expected = STATE_OF_DECISION.get(item.decision) if item.decision else S.instructed
        if item.decision in (None, Decision.selected, Decision.rejected) and state is not expected:
            what = f"décision « {item.decision.title} »" if item.decision else "inscription sans décision"
            yield Problem("dossier.decision_mismatch", label,
                          f"{what} à la séance {item.session_id} mais dossier « {state.title} ».")


# References ------------------------------------------------------------------------------------


def reference_problems(
    dossiers: list[Dossier], counters: list[ReferenceCounter], codes: dict[int, str], counts: Counter[str]
) -> Iterator[Problem]:
    """References are unique and read ``<call code>-<number>``, numbered without gaps up to
    the call's counter. References given before the numbering became per call read
    ``<call code>-<year>-<number>`` (1…N in each year): they are kept as printed, and the
    per-call numbers carry on after them."""
    yearly: dict[tuple[int, int], dict[int, str]] = defaultdict(dict)
    numbers: dict[int, dict[int, str]] = defaultdict(dict)
    seen: dict[str, Dossier] = {}
    for dossier in dossiers:
        if dossier.reference is None:
            continue
        counts["references"] += 1
        label = dossier_label(dossier)
        if dossier.reference in seen:
            yield Problem("reference.duplicate", label,
                          f"référence déjà portée par le {dossier_label(seen[dossier.reference])}.")
            continue
        seen[dossier.reference] = dossier
        code = re.escape(dossier.call.code)
        current = re.fullmatch(rf"{code}-(\d{{4,}})", dossier.reference)
        if current is not None:
            numbers[dossier.call_id][int(current[1])] = dossier.reference
            continue
        match = re.fullmatch(rf"{code}-(\d{{4}})-(\d{{4,}})", dossier.reference)
        if match is None:
            yield Problem("reference.format", label,
                          f"la référence n'a pas la forme {dossier.call.code}-<numéro>.")
            continue
        year, number = int(match[1]), int(match[2])
        if dossier.submitted_at is not None and dossier.submitted_at.astimezone(PARIS).year != year:
            yield Problem("reference.format", label,
                          f"référence de l'année {year} pour un dépôt du "
                          f"{dossier.submitted_at.astimezone(PARIS):%d/%m/%Y}.")
        yearly[(dossier.call_id, year)][number] = dossier.reference
    for (call_id, year), given in sorted(yearly.items()):
        missing = sorted(set(range(1, max(given) + 1)) - set(given))
        if missing:
            yield Problem("reference.gap", f"appel {codes.get(call_id, call_id)}, année {year}",
                          f"{len(missing)} numéro(s) sans dossier dans les références annuelles : "
                          + ", ".join(f"{n:04d}" for n in missing[:MAX_LISTED])
                          + (" …" if len(missing) > MAX_LISTED else "") + ".")
    last = {c.call_id: c.last_number for c in counters}
    for call_id in sorted(set(numbers) | set(last) | {key[0] for key in yearly}):
        given = numbers.get(call_id, {})
        counter = last.get(call_id, 0)
        before = sum(len(v) for key, v in yearly.items() if key[0] == call_id)
        where = f"appel {codes.get(call_id, call_id)}"
        if counter < before:
            yield Problem("reference.counter_behind", where,
                          f"le compteur est à {counter} mais {before} référence(s) annuelle(s) existent.")
        missing = sorted(set(range(before + 1, counter + 1)) - set(given))
        if missing:
            shown = ", ".join(f"{n:04d}" for n in missing[:MAX_LISTED]) + (" …" if len(missing) > MAX_LISTED else "")
            yield Problem("reference.gap", where,
                          f"{len(missing)} numéro(s) attribué(s) par le compteur ({counter}) sans dossier : {shown}.")
        beyond = sorted(n for n in given if n > counter)
        if beyond:
            yield Problem("reference.counter_behind", where,
                          f"le compteur est à {counter} mais {given[beyond[-1]]} existe : "
                          "le prochain dépôt recevrait une référence déjà prise.")
        reused = sorted(n for n in given if n <= before)
        if reused:
            yield Problem("reference.gap", where,
                          f"{given[reused[0]]} reprend un numéro déjà donné par les références annuelles "
                          f"({before}).")


# Committee ---------------------------------------------------------------------------------------


def _committee(
    calls: list[Call], sessions: list[CommitteeSession], dossiers: dict[int, Dossier],
    instructions: dict[int, Instruction], counters: list[ReferenceCounter],
) -> Iterator[Problem]:
    granted: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    last_session = {c.call_id: c.last_session_number for c in counters}
    for committee in sessions:
        where = f"séance du comité {committee.id} (n° {committee.number})"
        if committee.number > last_session.get(committee.call_id, 0):
            yield Problem("session.counter_behind", where,
                          f"le compteur des séances de l'appel est à {last_session.get(committee.call_id, 0)} : "
                          "la prochaine séance recevrait un numéro déjà pris.")
        for item in committee.items:
            dossier = dossiers.get(item.dossier_id)
            if dossier is not None and dossier.call_id != committee.call_id:
                yield Problem("agenda.other_call", where,
                              f"le {dossier_label(dossier)} relève d'un autre appel que la séance.")
            if item.decision is None and committee.status is SessionStatus.closed:
                yield Problem("agenda.undecided", where,
                              f"séance close sans décision sur le dossier {item.dossier_id}.")
            if item.decision is not Decision.selected or item.amount_granted is None:
                continue
            granted[committee.call_id] += item.amount_granted
            instruction = instructions.get(item.dossier_id)
            maximum = instruction.fse_retained_total if instruction else None
            if maximum is None or item.amount_granted > maximum:
                yield Problem("agenda.amount_above_retained", where,
                              f"{format_eur(item.amount_granted)} programmés pour le dossier {item.dossier_id}, "
                              + (f"au-delà du maximum retenu ({format_eur(maximum)})." if maximum is not None
                                 else "sans montant retenu à l'instruction."))
                continue
            strands = ((instruction.finance or {}).get("result") or {}).get("strands") or {}
            for strand, amount in (item.granted or {}).items():
                retained = Decimal(str((strands.get(strand) or {}).get("fse") or "0"))
                if amount > retained:
                    yield Problem("agenda.amount_above_retained", where,
                                  f"{format_eur(amount)} programmés pour le volet {strand} du dossier "
                                  f"{item.dossier_id}, au-delà du retenu pour ce volet ({format_eur(retained)}).")
    for call in calls:
        excess = granted[call.id] - call.envelope
        if excess > 0:
            yield Problem("call.envelope_exceeded", f"appel {call.code}",
                          f"{format_eur(granted[call.id])} programmés pour une enveloppe de "
                          f"{format_eur(call.envelope)} (dépassement de {format_eur(excess)}).")


# Stored files ----------------------------------------------------------------------------------------


def stored_file_columns() -> list[tuple[type[Any], str, str]]:
    """Every (model, file name column, SHA-256 column) pair of the schema.

    Found by name, so a new kind of stored document is checked as soon as it follows the
    convention: ``X_file`` with ``X_sha256``, or ``file``/``storage_name`` with ``sha256``.
    """
    found = []
    for mapper in Base.registry.mappers:
        keys = set(mapper.columns.keys())
        for key in sorted(keys):
            if key in ("file", "storage_name"):
                digest = "sha256"
            elif key.endswith("_file"):
                digest = key.removesuffix("_file") + "_sha256"
            else:
                continue
            if digest in keys:
                found.append((mapper.class_, key, digest))
    return sorted(found, key=lambda entry: (entry[0].__tablename__, entry[1]))


def _stored_files(session: Session, store: VerifyingStore, counts: Counter[str]) -> Iterator[Problem]:
    for model, file_key, digest_key in stored_file_columns():
        file_column, digest_column = getattr(model, file_key), getattr(model, digest_key)
        rows = session.execute(
            select(model.id, file_column, digest_column)
            .where(file_column.is_not(None) | digest_column.is_not(None))
            .order_by(model.id)
        ).all()
        owner = FILE_OWNERS.get(model.__tablename__, model.__name__)
        for row_id, name, digest in rows:
            where = f"{owner} {row_id} ({file_key})"
            if not name or not digest:
                yield Problem("file.hash_missing", where, f"fichier {name} sans empreinte SHA-256." if name
                              else "empreinte SHA-256 sans nom de fichier.")
                continue
            counts["files"] += 1
            try:
                if not store.exists(name):
                    yield Problem("file.missing", where, f"fichier {name} absent du stockage.")
                elif not store.verify(name, digest):
                    yield Problem("file.hash_mismatch", where,
                                  f"le fichier {name} ne correspond plus à son empreinte SHA-256 : il a été "
                                  "modifié ou abîmé.")
            except ValueError:
                yield Problem("file.bad_name", where, f"nom de stockage invalide : {name!r}.")
