"""Officer work on one dossier: page, admissibility, complements, instruction, reopening."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from .. import storage
from ..dossier_sections import SECTIONS, stored_result
from ..dossiers.views import audited, send_bytes
from ..extensions import db
from ..forms.review import (
    ComplementRequestForm,
    InstructionForm,
    ReopenForm,
    checklist_answers,
    checklist_form,
)
from ..models import (
    AdmissibilityOutcome,
    AdmissibilityReview,
    AuditEntry,
    Dossier,
    DossierState,
    DossierVersion,
    Instruction,
    Opinion,
    Qpv,
)
from ..notifications import notify_admissibility, notify_complements_requested, notify_reopened
from ..operations import dossiers as dossier_ops
from ..operations import documents
from ..operations import review as ops
from ..security import STAFF, roles_required
from ..working_days import add_working_days
from . import bp
from .queries import paris_today
from .timeline import timeline
from .versions import compare_snapshots, summary

staff_required = roles_required(*STAFF)
CONFLICT = "Ce dossier a été modifié au même moment par un·e collègue : vos saisies sont conservées, rechargez la page pour voir la version à jour."


def _load(dossier_id: int) -> Dossier:
    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None or not dossier.can_instruct(current_user):
        abort(404)  # drafts are the structure's private business
    return dossier


def version_changes(dossier: Dossier) -> dict[int, list[str]]:
    """For each version after the first, the sections and pièces changed since the previous one."""
    return {
        current.number: summary(compare_snapshots(previous.snapshot, current.snapshot))
        for previous, current in zip(dossier.versions, dossier.versions[1:], strict=False)
    }


def _qpvs(dossier: Dossier, codes: list[str]) -> dict[str, Qpv]:
    """The call's QPV of ``codes``, with their communes (one statement for each relation)."""
    if not codes or not dossier.call.qpv_list_id:
        return {}
    return {
        q.code: q for q in db.session.scalars(
            select(Qpv).where(Qpv.qpv_list_id == dossier.call.qpv_list_id, Qpv.code.in_(codes))
            .options(selectinload(Qpv.communes))
        )
    }


def _qpv_codes(version: DossierVersion) -> list[str]:
    return list(((version.snapshot.get("content") or {}).get("territories") or {}).get("qpv_codes") or [])


def _review_for_display(dossier: Dossier) -> AdmissibilityReview:
    review = db.session.scalar(select(AdmissibilityReview).where(AdmissibilityReview.dossier_id == dossier.id))
    if review is None:
        # Not persisted on a GET: the checklist is created when first saved.
        review = AdmissibilityReview(answers={}, version=0)
        review.dossier = dossier
    ops.refresh_auto_answers(review)
    return review


#: The tabs of the dossier page, in order: (key in the URL and the ids, title).
TABS = (
    ("contenu", "Contenu déposé"),
    ("recevabilite", "Recevabilité"),
    ("versions", "Versions et pièces"),
    ("historique", "Historique"),
)
#: The history's filters (``?historique=…``): business events apart from who read which file.
HISTORY_FILTERS = {
    "": "Tous les événements",
    "decisions": "Décisions et modifications",
    "telechargements": "Téléchargements et consultations",
}


def _history(entries: list[AuditEntry], chosen: str) -> tuple[list[AuditEntry], dict[str, int]]:
    """The entries the filter keeps, and how many each filter keeps (from the same list)."""
    downloads = [e for e in entries if e.action == "dossier.download"]
    kept = {"": entries, "telechargements": downloads,
            "decisions": [e for e in entries if e.action != "dossier.download"]}
    return kept[chosen], {key: len(value) for key, value in kept.items()}


def attach_error(form: Any, exc: dossier_ops.DossierError) -> None:
    """Show a refused operation's message next to its field (the form's own errors otherwise),
    so that the error summary of the form's tab lists it."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


def _page(dossier: Dossier, *, checklist: Any = None, complements: Any = None, reopen: Any = None,
          status: int = 200, tab: str | None = None) -> tuple[str, int]:
    """The dossier page; ``tab`` is the tab shown first: the one holding the form that failed,
    else ``?onglet=…``, else the submitted content."""
    review = _review_for_display(dossier)
    version = dossier.latest_version
    types = dossier_ops.attachment_types(dossier.call)
    qpvs = _qpvs(dossier, _qpv_codes(version)) if version else {}
    history = request.args.get("historique", "")
    history = history if history in HISTORY_FILTERS else ""
    if tab is None:
        asked = request.args.get("onglet", "")
        tab = asked if asked in dict(TABS) else "historique" if history else "contenu"
    audit, history_counts = _history(list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "Dossier", AuditEntry.object_id == dossier.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .options(selectinload(AuditEntry.actor))
    )), history)
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
    if complements is None:
        complements = ComplementRequestForm(
            section_choices=[(s.key, s.title) for s in SECTIONS if s.form is not None],
            type_choices=[(t["code"], t["label"]) for t in types],
            data={"due_date": add_working_days(paris_today(), 10)},
        )
    return render_template(
        "officer/dossier.html", tabs=TABS, tab=tab, history=history, history_filters=HISTORY_FILTERS,
        history_counts=history_counts,
        dossier=dossier, version=version, review=review, audit=timeline(audit), qpvs=qpvs,
        result=stored_result(version.snapshot.get("finance")) if version else None,
        changes=version_changes(dossier), types={t["code"]: t["label"] for t in types},
        checklist=checklist or checklist_form(dossier.call.admissibility_criteria, review.answers),
        complements=complements, reopen=reopen or ReopenForm(), instruction=instruction,
        letter=documents.notification_letter(dossier), today=paris_today(),
        stored_attachments={a.id: a for a in dossier.attachments},
    ), status


@bp.route("/dossiers/<int:dossier_id>")
@staff_required
def show_dossier(dossier_id: int) -> tuple[str, int]:
    return _page(_load(dossier_id))


def _version_or_404(dossier: Dossier, number: int | None) -> DossierVersion:
    version = next((v for v in dossier.versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


@bp.route("/dossiers/<int:dossier_id>/versions/<int:number>")
@staff_required
def show_version(dossier_id: int, number: int) -> str:
    """One frozen version as submitted: its content, financing plan and pièces."""
    dossier = _load(dossier_id)
    version = _version_or_404(dossier, number)
    snapshot = version.snapshot
    return render_template(
        "officer/version.html", dossier=dossier, version=version, snapshot=snapshot,
        qpvs=_qpvs(dossier, _qpv_codes(version)), result=stored_result(snapshot.get("finance")),
        stored_attachments={a.id: a for a in dossier.attachments}, changes=version_changes(dossier),
    )


@bp.route("/dossiers/<int:dossier_id>/versions/comparaison")
@staff_required
def compare_versions(dossier_id: int) -> str:
    """What changed, field by field, between two versions (``?de=1&a=2``; the last two by default)."""
    dossier = _load(dossier_id)
    numbers = [v.number for v in dossier.versions]
    if len(numbers) < 2:
        abort(404)
    first = _version_or_404(dossier, request.args.get("de", numbers[-2], type=int))
    second = _version_or_404(dossier, request.args.get("a", numbers[-1], type=int))
    if first.number > second.number:
        first, second = second, first
    qpvs = _qpvs(dossier, sorted(set(_qpv_codes(first)) | set(_qpv_codes(second))))
    sections = compare_snapshots(first.snapshot, second.snapshot, qpv_names={c: q.name for c, q in qpvs.items()})
    return render_template(
        "officer/compare.html", dossier=dossier, first=first, second=second, sections=sections,
        compare_from=first.number, compare_to=second.number,
        stored_attachments={a.id: a for a in dossier.attachments},
    )


@bp.route("/dossiers/<int:dossier_id>/fiche-synthese.pdf")
@staff_required
def download_fiche(dossier_id: int) -> Response:
    dossier = _load(dossier_id)
    data, render = documents.fiche_pdf(dossier, store=storage.current_store())
    db.session.commit()  # keeps the rendering for the next reader
    name = f"fiche-synthese-{dossier.reference}.pdf"
    return audited(send_bytes(data, name, "application/pdf"), dossier, "fiche", name, sha256=render.sha256)


@bp.route("/dossiers/<int:dossier_id>/recevabilite", methods=["POST"])
@staff_required
def save_admissibility(dossier_id: int) -> Response | tuple[str, int]:
    dossier = _load(dossier_id)
    if dossier.state is not DossierState.submitted:  # decided meanwhile, e.g. by a colleague
        flash(f"La recevabilité se juge sur un dossier déposé : ce dossier est « {dossier.state.title} ».", "error")
        return _page(dossier, status=409, tab="recevabilite")
    decision = request.form.get("decision", "")
    criteria = dossier.call.admissibility_criteria
    letter = None
    form = None
    creating = True
    # From the checklist's creation to the commit: a colleague creating it at the same
    # moment makes the first flush fail, wherever it happens.
    try:
        review = ops.get_review(dossier)
        creating = review.id is None
        form = checklist_form(criteria, review.answers, formdata=request.form)
        if not form.validate_on_submit():
            return _page(dossier, checklist=form, status=422, tab="recevabilite")
        ops.save_checklist(review, checklist_answers(form), current_user, request.form.get("version"))
        if decision in ("admissible", "inadmissible"):
            letter = ops.record_admissibility(review, AdmissibilityOutcome(decision), form.motive.data or "",
                                              current_user, store=storage.current_store())
        db.session.commit()
    except dossier_ops.DossierError as exc:
        db.session.rollback()
        if form is None or isinstance(exc, dossier_ops.ConflictError):
            flash(str(exc), "error")
        else:
            attach_error(form, exc)
        return _page(db.session.get(Dossier, dossier_id), checklist=form, tab="recevabilite",
                     status=409 if isinstance(exc, dossier_ops.ConflictError) else 422)
    except (StaleDataError, IntegrityError) as exc:
        # StaleDataError: a colleague's save of the same version went first. IntegrityError:
        # both created the checklist at the same moment (one row per dossier, unique).
        db.session.rollback()
        if isinstance(exc, IntegrityError) and not creating:
            raise
        flash(CONFLICT, "error")
        return _page(db.session.get(Dossier, dossier_id),
                     checklist=form or checklist_form(criteria, {}, formdata=request.form), status=409,
                     tab="recevabilite")
    if decision in ("admissible", "inadmissible"):
        notify_admissibility(dossier, review.motive, letter)
        flash(f"Dossier déclaré {dossier.state.title.lower()} ; le porteur est prévenu par courriel.", "success")
    else:
        flash("Grille de recevabilité enregistrée.", "success")
        return redirect(url_for("officer.show_dossier", dossier_id=dossier.id, onglet="recevabilite"))
    return redirect(url_for("officer.show_dossier", dossier_id=dossier.id))


@bp.route("/dossiers/<int:dossier_id>/complements", methods=["POST"])
@staff_required
def request_complements(dossier_id: int) -> Response | tuple[str, int]:
    dossier = _load(dossier_id)
    types = dossier_ops.attachment_types(dossier.call)
    form = ComplementRequestForm(
        section_choices=[(s.key, s.title) for s in SECTIONS if s.form is not None],
        type_choices=[(t["code"], t["label"]) for t in types],
    )
    if not form.validate_on_submit():
        return _page(dossier, complements=form, status=422, tab="recevabilite")
    try:
        complement = ops.request_complements(
            dossier, sections=form.sections.data or [], attachment_types=form.attachment_types.data or [],
            message=form.message.data, due_date=form.due_date.data, actor=current_user,
        )
        db.session.commit()
    except dossier_ops.DossierError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return _page(db.session.get(Dossier, dossier_id), complements=form, status=422, tab="recevabilite")
    notify_complements_requested(dossier, complement)
    flash("Demande de compléments envoyée au porteur.", "success")
    return redirect(url_for("officer.show_dossier", dossier_id=dossier.id))


@bp.route("/dossiers/<int:dossier_id>/reouvrir", methods=["POST"])
@staff_required
def reopen_dossier(dossier_id: int) -> Response | tuple[str, int]:
    dossier = _load(dossier_id)
    form = ReopenForm()
    if not form.validate_on_submit():
        return _page(dossier, reopen=form, status=422, tab="recevabilite")
    try:
        ops.reopen_dossier(dossier, form.motive.data, current_user)
        db.session.commit()
    except dossier_ops.DossierError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return _page(db.session.get(Dossier, dossier_id), reopen=form, status=422, tab="recevabilite")
    notify_reopened(dossier, form.motive.data.strip())
    flash("Décision d'irrecevabilité rouverte : le dossier revient à l'examen de recevabilité ; "
          "le porteur est prévenu par courriel.", "success")
    return redirect(url_for("officer.show_dossier", dossier_id=dossier.id))


@bp.route("/dossiers/<int:dossier_id>/instruction", methods=["GET", "POST"])
@staff_required
def instruct(dossier_id: int) -> Response | tuple[str, int]:
    dossier = _load(dossier_id)
    if dossier.state not in (DossierState.admissible, DossierState.instructed, DossierState.selected,
                             DossierState.rejected, DossierState.deferred):
        abort(404)
    instruction = ops.get_instruction(dossier)
    submitted_plan = dossier.latest_version.snapshot.get("finance")
    requested = stored_result(submitted_plan)
    asked = ((submitted_plan or {}).get("input") or {}).get("strands") or {}
    editable = dossier.state is DossierState.admissible
    if request.method == "POST" and editable:
        form = InstructionForm(requested=asked)
        if form.validate_on_submit():
            final = request.form.get("final") == "1"
            try:
                ops.record_instruction(
                    instruction, form.to_retained(instruction.retained), Opinion(form.opinion.data),
                    form.opinion_text.data or "", current_user, request.form.get("version"), final=final,
                )
                db.session.commit()
                # No e-mail, to the applicant or anyone: the opinion is internal to the DREETS
                # until the committee decides (it may not follow it), and telling a structure
                # "favourable" before the Préfet's committee would announce a decision that is
                # not taken. The structure hears of the outcome once, with its letter, when the
                # decision is recorded (notify_decision). Colleagues see the dossier "Instruit"
                # in the queue and on the committee's pool; the audit trail says who and when.
            except dossier_ops.DossierError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return _instruction_page(db.session.get(Dossier, dossier_id), form, requested, status=409 if isinstance(exc, dossier_ops.ConflictError) else 422)
            except StaleDataError:
                db.session.rollback()
                flash(CONFLICT, "error")
                return _instruction_page(db.session.get(Dossier, dossier_id), form, requested, status=409)
            flash("Instruction close : le dossier est instruit." if final else "Valeurs retenues enregistrées et recalculées.", "success")
            return redirect(url_for("officer.instruct", dossier_id=dossier.id))
        return _instruction_page(dossier, form, requested, status=422)
    form = InstructionForm(data={
        **InstructionForm.data_from_retained(instruction.retained),
        "opinion": instruction.opinion.value if instruction.opinion else None,
        "opinion_text": instruction.opinion_text,
    }, requested=asked)
    return _instruction_page(dossier, form, requested, instruction=instruction)


def _instruction_page(dossier: Dossier, form: InstructionForm, requested: Any, *, status: int = 200,
                      instruction: Instruction | None = None) -> tuple[str, int]:
    instruction = instruction or db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
    retained = stored_result(instruction.finance) if instruction and instruction.finance else None
    return render_template(
        "officer/instruction.html", dossier=dossier, form=form, requested=requested, retained=retained,
        instruction=instruction, editable=dossier.state is DossierState.admissible,
        version=(instruction.version if instruction and instruction.id else "") if status == 409
        else request.form.get("version") or (instruction.version if instruction and instruction.id else ""),
    ), status
