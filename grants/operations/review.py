"""Officer operations on a submitted dossier: admissibility, complements, instruction, reopening."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from .. import storage as storage_module
from ..admissibility import FAIL, PASS, evaluate
from ..dossier_sections import SECTIONS_BY_KEY, compute_financing, missing_items
from ..extensions import db
from ..formatting import PARIS
from ..models import (
    AdmissibilityOutcome,
    AdmissibilityReview,
    ComplementRequest,
    Dossier,
    DossierState,
    DossierVersion,
    Instruction,
    Opinion,
    Qpv,
    User,
    utcnow,
)
from .audit import log_action
from .dossiers import ConflictError, DossierError, apply_transition, freeze_version

MAX_COMPLEMENT_REQUESTS = 2  # a second request is allowed once, as in FSE+ practice


def _check_staff(dossier: Dossier, actor: User) -> None:
    if not dossier.can_instruct(actor):
        raise DossierError("Action réservée au service gestionnaire FSE+.")


def _check_version(obj: Any, expected: int | str | None, what: str) -> None:
    if str(expected) != str(obj.version):
        raise ConflictError(
            f"{what} a été modifié(e) entre-temps par un·e collègue. Votre saisie est conservée "
            "ci-dessous : vérifiez-la puis enregistrez à nouveau."
        )


# Admissibility ---------------------------------------------------------------------------


def auto_verdicts(dossier: Dossier, version: DossierVersion) -> dict[str, Any]:
    call = dossier.call
    # Only the dossier's own codes are looked up: is each one in the call's reference list?
    codes = ((version.snapshot.get("content") or {}).get("territories") or {}).get("qpv_codes") or []
    reference = set(
        db.session.scalars(select(Qpv.code).where(Qpv.qpv_list_id == call.qpv_list_id, Qpv.code.in_(codes))).all()
    ) if call.qpv_list_id and codes else set()
    structure = dossier.structure
    return evaluate(
        version.snapshot, closes_at=call.closes_at,
        required_types=[a["code"] for a in call.required_attachments], reference_qpv=reference,
        structure_verified_at=structure.verified_at if structure.is_verified else None,
    )


def get_review(dossier: Dossier) -> AdmissibilityReview:
    """The dossier's checklist, created on first use with the system's verdicts pre-filled."""
    review = db.session.scalar(select(AdmissibilityReview).where(AdmissibilityReview.dossier_id == dossier.id))
    if review is None:
        review = AdmissibilityReview(dossier=dossier, answers={})
        db.session.add(review)
    # No autoflush: a checklist created now must still look new (no id) to save_checklist.
    with db.session.no_autoflush:
        refresh_auto_answers(review)
    return review


def refresh_auto_answers(review: AdmissibilityReview) -> None:
    """Re-judge the automatic criteria on the latest version; the officer's answers stay."""
    dossier = review.dossier
    version = dossier.latest_version
    verdicts = auto_verdicts(dossier, version) if version else {}
    answers = dict(review.answers or {})
    for criterion in dossier.call.admissibility_criteria:
        code = criterion["code"]
        current = dict(answers.get(code) or {"value": None, "comment": ""})
        verdict = verdicts.get(code) if criterion.get("auto") else None
        current["auto"] = verdict.value if verdict else None
        current["auto_reason"] = verdict.reason if verdict else ""
        if current.get("value") is None and current["auto"] is not None:
            current["value"] = current["auto"]  # pre-filled; the officer confirms or overrides
        answers[code] = current
    if answers != review.answers:
        review.answers = answers


def _labels(dossier: Dossier, codes: list[str]) -> str:
    """The criteria ``codes`` as the officer reads them: by their label, in the call's order."""
    labels = {c["code"]: c["label"] for c in dossier.call.admissibility_criteria}
    return ", ".join(f"« {labels.get(code, code)} »" for code in codes) or "aucun"


def save_checklist(
    review: AdmissibilityReview, answers: dict[str, dict[str, Any]], actor: User, expected_version: int | str | None
) -> None:
    dossier = review.dossier
    _check_staff(dossier, actor)
    if dossier.state is not DossierState.submitted:
        raise DossierError("La recevabilité se juge sur un dossier déposé.")
    if review.id is not None:  # a checklist created by this very request has nothing to conflict with
        _check_version(review, expected_version, "La grille de recevabilité")
    merged = dict(review.answers)
    overridden = []
    labels = {c["code"]: c["label"] for c in dossier.call.admissibility_criteria}
    for code, answer in answers.items():
        current = dict(merged.get(code) or {})
        if current.get("auto") not in (None, answer.get("value")):
            overridden.append(code)
            if not (answer.get("comment") or "").strip():
                raise DossierError(
                    f"Critère « {labels.get(code, code)} » : un commentaire est obligatoire pour s'écarter "
                    "de l'avis du système.", field=f"comment_{code}",
                )
        current.update(value=answer.get("value"), comment=(answer.get("comment") or "").strip())
        merged[code] = current
    review.answers = merged
    db.session.flush()
    log_action("dossier.admissibility_checklist", dossier, actor, details={"overridden": overridden})


def record_admissibility(
    review: AdmissibilityReview, outcome: AdmissibilityOutcome, motive: str, actor: User,
    *, store: storage_module.FileStore | None = None, now: datetime | None = None,
) -> bytes | None:
    """Declare the dossier recevable or irrecevable from the saved checklist. An
    inadmissibility is notified by a letter, rendered and kept in ``store`` (required
    then): the letter's PDF is returned."""
    dossier = review.dossier
    _check_staff(dossier, actor)
    values = {c["code"]: (review.answers.get(c["code"]) or {}).get("value") for c in dossier.call.admissibility_criteria}
    unanswered = [code for code, value in values.items() if value not in (PASS, FAIL)]
    failed = [code for code, value in values.items() if value == FAIL]
    motive = motive.strip()
    if outcome is AdmissibilityOutcome.admissible:
        if unanswered or failed:
            raise DossierError(
                "Pour déclarer le dossier recevable, chaque critère doit être rempli et satisfait "
                f"(non renseignés : {_labels(dossier, unanswered)} ; non satisfaits : {_labels(dossier, failed)}).",
                field=f"value_{(unanswered or failed)[0]}",
            )
        target = DossierState.admissible
    elif outcome is AdmissibilityOutcome.inadmissible:
        if not failed:
            raise DossierError("L'irrecevabilité suppose au moins un critère non satisfait dans la grille.")
        if not motive:
            raise DossierError("Le motif d'irrecevabilité est obligatoire : il est notifié au porteur.",
                               field="motive")
        target = DossierState.inadmissible
    else:
        raise DossierError("Pour demander des compléments, utilisez le formulaire de demande de compléments.")
    if target is DossierState.inadmissible and store is None:
        raise ValueError("an inadmissibility needs a store for its notification letter")
    review.outcome = outcome
    review.motive = motive
    review.decided_at = now or utcnow()
    review.decided_by_id = actor.id
    apply_transition(dossier, target, actor, motive=motive, failed=failed)
    if target is DossierState.inadmissible and store is not None:
        from .documents import issue_inadmissibility_letter

        return issue_inadmissibility_letter(review, store=store, now=review.decided_at)
    return None


# Complements -----------------------------------------------------------------------------


def request_complements(
    dossier: Dossier, *, sections: list[str], attachment_types: list[str], message: str, due_date: date,
    actor: User, today: date | None = None,
) -> ComplementRequest:
    _check_staff(dossier, actor)
    today = today or utcnow().astimezone(PARIS).date()  # due dates are French calendar days
    if dossier.open_complement_request is not None:
        raise DossierError("Une demande de compléments est déjà en cours sur ce dossier.")
    if dossier.state is not DossierState.submitted:
        raise DossierError("Des compléments ne se demandent que sur un dossier déposé, en cours de recevabilité.")
    if len(dossier.complement_requests) >= MAX_COMPLEMENT_REQUESTS:
        raise DossierError("Deux demandes de compléments ont déjà été faites : une troisième n'est pas admise.")
    unknown = [s for s in sections if s not in SECTIONS_BY_KEY]
    if unknown or not (sections or attachment_types):
        raise DossierError("Choisissez au moins une section ou une pièce à compléter.", field="sections")
    if (problem := ComplementRequest.due_date_problem(due_date, today)) is not None:
        raise DossierError(problem, field="due_date")
    request = ComplementRequest(
        dossier=dossier, sections=sorted(set(sections)), attachment_types=sorted(set(attachment_types)),
        message=message.strip(), due_date=due_date, requested_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    apply_transition(
        dossier, DossierState.complements_requested, actor,
        sections=request.sections, attachment_types=request.attachment_types, due_date=due_date.isoformat(),
    )
    return request


def answer_complements(
    dossier: Dossier, actor: User, *, store: storage_module.FileStore, now: datetime | None = None
) -> DossierVersion:
    """The applicant sends the complements: a new frozen version, back to the officer."""
    if not dossier.can_answer_complements(actor):
        raise DossierError("Aucune demande de compléments n'attend de réponse sur ce dossier.")
    now = now or utcnow()
    request = dossier.open_complement_request
    from .dossiers import _refresh_financing

    _refresh_financing(dossier)
    # Sections save incomplete: what was reopened must be complete again before it is frozen.
    reopened = set(request.sections) | ({"attachments"} if request.attachment_types else set())
    if reopened & {"public", "resources"}:
        reopened.add("resources")  # the plan's error findings are listed there
    missing = missing_items(dossier)
    blocking = [item for key in SECTIONS_BY_KEY if key in reopened for item in missing[key]]
    if blocking:
        raise DossierError("Les compléments ne peuvent pas encore être envoyés : " + " ".join(blocking))
    version, _receipt = freeze_version(dossier, actor, store=store, now=now, kind="complements")
    request.answered_at = now
    request.answered_version = version.number
    apply_transition(dossier, DossierState.submitted, actor, version=version.number, sha256=version.sha256)
    return version


# Instruction -------------------------------------------------------------------------------


def get_instruction(dossier: Dossier) -> Instruction:
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
    if instruction is None:
        content = (dossier.latest_version.snapshot if dossier.latest_version else {}).get("content") or dossier.content
        instruction = Instruction(dossier=dossier, retained={
            "public": content.get("public") or {}, "resources": content.get("resources") or {},
        })
        db.session.add(instruction)
    return instruction


def record_instruction(
    instruction: Instruction, retained: dict[str, Any], opinion: Opinion, opinion_text: str, actor: User,
    expected_version: int | str | None, *, final: bool,
) -> None:
    """Store the retained values and their computation; ``final`` makes the dossier instruit.

    Deliberately followed by no notification: the opinion stays internal until the
    committee decides (the reasons are in ``officer.review.instruct``)."""
    dossier = instruction.dossier
    _check_staff(dossier, actor)
    if dossier.state is not DossierState.admissible:
        raise DossierError("Seul un dossier recevable peut être instruit.")
    if instruction.id is not None:
        _check_version(instruction, expected_version, "L'instruction")
    result = compute_financing(dossier.call, retained)
    if result is None:
        raise DossierError("Les valeurs retenues sont incomplètes : le plan ne peut pas être calculé.")
    instruction.retained = retained
    instruction.finance = result.to_snapshot()
    instruction.fse_retained_total = result.totals["fse"]
    instruction.opinion = opinion
    instruction.opinion_text = opinion_text.strip()
    db.session.flush()
    log_action("dossier.instruction_saved", dossier, actor, details={
        "fse_retained_total": str(result.totals["fse"]), "opinion": opinion.value, "final": final,
    })
    if final:
        if not instruction.opinion_text:
            raise DossierError("L'avis doit être motivé : le texte est obligatoire.")
        if result.has_errors:
            raise DossierError("Le plan retenu comporte une anomalie bloquante : " + " ".join(f.message for f in result.errors))
        instruction.instructed_at = utcnow()
        instruction.instructed_by_id = actor.id
        apply_transition(dossier, DossierState.instructed, actor, opinion=opinion.value,
                         fse_retained_total=str(result.totals["fse"]))


def retained_totals(instruction: Instruction) -> dict[str, Decimal]:
    result = instruction.finance["result"]["totals"] if instruction.finance else {}
    return {key: Decimal(value) for key, value in result.items()}


# Reopening -----------------------------------------------------------------------------------


def reopen_dossier(dossier: Dossier, motive: str, actor: User) -> None:
    """Undo an inadmissibility decision, explicitly and with a motive, back to the checklist."""
    _check_staff(dossier, actor)
    if dossier.state is not DossierState.inadmissible:
        raise DossierError("Seule une décision d'irrecevabilité peut être rouverte ici.")
    if not motive.strip():
        raise DossierError("Le motif de réouverture est obligatoire.")
    review = db.session.scalar(select(AdmissibilityReview).where(AdmissibilityReview.dossier_id == dossier.id))
    if review is not None:
        review.outcome = None
        review.decided_at = None
        review.decided_by_id = None
        review.motive = ""
    apply_transition(dossier, DossierState.submitted, actor, motive=motive.strip(), reopened="inadmissible")

