"""The applicant journey: structure profile, dossier sections, attachments, submission."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from .. import antivirus, storage
from ..access import get_attachment_or_404, get_dossier_or_404
from ..auth.notifications import notify_membership_decided, notify_siret_changed
from ..dossier_sections import SECTIONS, SECTIONS_BY_KEY, missing_items, stored_result
from ..extensions import db
from ..forms.auth import MembershipDecisionForm
from ..forms.dossier import (
    ConfirmForm,
    StructureForm,
    UploadForm,
    WithdrawForm,
    commune_label,
)
from ..geography import commune, communes
from ..models import Call, Dossier, DossierState, Qpv, Role, StructureKind, User, utcnow
from ..notifications import notify_complements_answered, notify_submission
from ..operations import accounts
from ..operations import committee as committee_ops
from ..operations import dossiers as ops
from ..operations import review as review_ops
from ..operations.documents import notification_letter
from ..security import get_or_404, roles_required
from ..uploads import UploadRefused, read_limited
from . import bp

applicant_required = roles_required(Role.applicant)
PENDING_SCAN_NOTICE = (
    "L'analyse antivirus n'a pas pu être faite pour l'instant : la pièce est bien enregistrée, "
    "elle sera analysée dès que possible et ne pourra pas être téléchargée d'ici là."
)


def _store() -> storage.FileStore:
    return storage.current_store()


def _max_upload() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"] - 64 * 1024


# Structure profile -------------------------------------------------------------------------


@bp.route("/structure", methods=["GET", "POST"])
@applicant_required
def edit_structure() -> str | Response:
    structure = current_user.structure
    if not structure.can_edit(current_user):
        abort(404)
    form = StructureForm(obj=structure)
    if request.method == "GET":
        form.kind.data = structure.kind.value
    if form.validate_on_submit():
        data = {
            name: field.data.strip() if isinstance(field.data, str) else field.data
            for name, field in form._fields.items() if name != "csrf_token"
        }
        data["kind"] = StructureKind(data["kind"])
        place = commune(data["commune_insee"]) if data.get("commune_insee") else None
        data["commune_insee"] = place.insee if place else ""
        data["commune_name"] = place.name if place else ""
        data["departement"] = place.departement if place else ""
        duplicate = db.session.scalar(
            select(type(structure)).where(type(structure).siret == data["siret"], type(structure).id != structure.id)
        )
        old_siret = structure.siret
        if duplicate is not None:
            form.siret.errors.append("Une autre structure est déjà inscrite avec ce SIRET.")
        else:
            try:
                changes = ops.update_structure(structure, data, current_user, request.form.get("version"))
                db.session.commit()
            except ops.SiretLocked as exc:
                db.session.rollback()
                form.siret.errors.append(str(exc))
                return render_template("applicant/structure.html", form=form, structure=structure,
                                       version=request.form.get("version", structure.version),
                                       commune_options=_commune_options(), **_membership_context(structure)), 422
            except (ops.ConflictError, StaleDataError) as exc:
                db.session.rollback()
                flash(str(exc) if isinstance(exc, ops.ConflictError) else ops.ConflictError.__doc__, "error")
                return render_template("applicant/structure.html", form=form, structure=structure,
                                       version=structure.version, commune_options=_commune_options(),
                                       **_membership_context(structure)), 409
            if "siret" in changes:
                notify_siret_changed(structure, old_siret, current_user._get_current_object())
            flash("Le profil de la structure est enregistré.", "success")
            return redirect(url_for("main.index"))
    return render_template("applicant/structure.html", form=form, structure=structure,
                           version=request.form.get("version", structure.version),
                           commune_options=_commune_options(), **_membership_context(structure))


def _membership_context(structure: Any) -> dict[str, Any]:
    return {"join_requests": accounts.pending_members(structure.id), "decision_form": MembershipDecisionForm(),
            "siret_locked": not structure.can_change_siret(current_user)}


@bp.route("/structure/demandes/<int:user_id>", methods=["POST"])
@applicant_required
def decide_membership(user_id: int) -> Response:
    """A member approves or refuses a request to join the structure (``Demandes de rattachement``)."""
    requester = db.session.get(User, user_id)
    # Another structure's request, or one already decided, does not exist for this user.
    if requester is None or not requester.can_decide_membership(current_user):
        abort(404)
    form = MembershipDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    approved = bool(form.approve.data)
    try:
        accounts.decide_membership(requester, current_user, approve=approved)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("applicant.edit_structure") + "#demandes-rattachement")
    notify_membership_decided(requester, approved=approved)
    if approved:
        flash(f"{requester.full_name} est maintenant membre de la structure.", "success")
    else:
        flash(f"La demande de {requester.full_name} est refusée ; son compte est fermé.", "success")
    return redirect(url_for("applicant.edit_structure") + "#demandes-rattachement")


def _commune_options() -> list[str]:
    return [commune_label(c) for c in communes().values()]


# Calls and dossiers ---------------------------------------------------------------------------


@bp.route("/appels/<int:call_id>")
@applicant_required
def show_call(call_id: int) -> str:
    call = get_or_404(Call, call_id)
    return render_template("applicant/call.html", call=call, now=utcnow(), form=ConfirmForm())


@bp.route("/appels/<int:call_id>/dossiers", methods=["POST"])
@applicant_required
def start_dossier(call_id: int) -> Response:
    call = get_or_404(Call, call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        dossier = ops.create_dossier(call, current_user.structure, current_user)
    except ops.DossierError as exc:
        flash(str(exc), "error")
        return redirect(url_for("applicant.show_call", call_id=call.id))
    db.session.commit()
    flash("Votre dossier est créé en brouillon : remplissez les sections dans l'ordre qui vous convient.", "success")
    return redirect(url_for("applicant.show_dossier", dossier_id=dossier.id))


@bp.route("/dossiers/<int:dossier_id>")
@applicant_required
def show_dossier(dossier_id: int) -> str:
    dossier = get_dossier_or_404(dossier_id)
    missing = missing_items(dossier) if dossier.state is DossierState.draft else {}
    # After the instruction: the retained plan, which the committee's decision rests on.
    instruction = committee_ops.closed_instruction(dossier)
    return render_template(
        "applicant/dossier.html",
        dossier=dossier,
        confirm=ConfirmForm(),
        sections=SECTIONS,
        missing=missing,
        complete_keys=[key for key, items in missing.items() if not items],
        result=stored_result(dossier.finance),
        retained=stored_result(instruction.finance) if instruction is not None else None,
        qpvs=_qpvs_by_code(dossier),
        types={t["code"]: t["label"] for t in ops.attachment_types(dossier.call)},
        letter=notification_letter(dossier),
        now=utcnow(),
    )


def _qpvs_by_code(dossier: Dossier) -> dict[str, Qpv]:
    codes = (dossier.content.get("territories") or {}).get("qpv_codes") or []
    if not codes or dossier.call.qpv_list_id is None:
        return {}
    rows = db.session.scalars(
        select(Qpv).where(Qpv.qpv_list_id == dossier.call.qpv_list_id, Qpv.code.in_(codes))
        .options(selectinload(Qpv.communes))
    ).all()
    return {q.code: q for q in rows}


def _section_form(dossier: Dossier, key: str, formdata: Any = None) -> Any:
    section = SECTIONS_BY_KEY[key]
    kwargs: dict[str, Any] = {}
    if key == "territories":
        kwargs["qpv_choices"] = _qpv_choices(dossier.call)
    if key == "project":
        kwargs["call"] = dossier.call  # its calendar bounds the operation's dates
    if formdata is not None:
        return section.form(**kwargs)
    return section.form.from_content((dossier.content or {}).get(key) or {}, **kwargs)


def _qpv_choices(call: Call) -> list[tuple[str, str]]:
    if call.qpv_list_id is None:
        return []
    rows = db.session.scalars(
        select(Qpv).where(Qpv.qpv_list_id == call.qpv_list_id).options(selectinload(Qpv.communes)).order_by(Qpv.code)
    ).all()
    return [(q.code, f"{q.name} — {', '.join(c.name for c in q.communes)} ({q.code})") for q in rows]


@bp.route("/dossiers/<int:dossier_id>/sections/<key>", methods=["GET", "POST"])
@applicant_required
def edit_section(dossier_id: int, key: str) -> str | Response | tuple[str, int]:
    dossier = get_dossier_or_404(dossier_id, "edit")
    section = SECTIONS_BY_KEY.get(key)
    if section is None or section.form is None:
        abort(404)
    if not dossier.can_edit_section(current_user, key):
        abort(403)
    form = _section_form(dossier, key, formdata=request.form if request.method == "POST" else None)
    status = 200
    if form.validate_on_submit():
        try:
            ops.save_section(dossier, key, form.to_content(), current_user, request.form.get("version"))
            db.session.commit()
        except ops.DossierError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 409
        except StaleDataError:
            db.session.rollback()
            flash(str(ops.ConflictError()), "error")  # saved by someone else while this request ran
            status = 409
        else:
            flash(f"Section « {section.title} » enregistrée.", "success")
            if key == "resources":
                return redirect(url_for("applicant.edit_section", dossier_id=dossier.id, key=key) + "#plan-de-financement")
            return redirect(url_for("applicant.show_dossier", dossier_id=dossier.id) + f"#section-{key}")
    elif request.method == "POST":
        status = 422
    dossier = db.session.get(Dossier, dossier_id)
    return render_template(
        "applicant/section.html", dossier=dossier, section=section, form=form,
        # After a conflict the form carries the current version, so the user's next save
        # (their input, checked against the newer data) goes through.
        version=dossier.version if status == 409 else request.form.get("version", dossier.version),
        result=stored_result(dossier.finance), q=request.args.get("q", ""),
    ), status


# Attachments -------------------------------------------------------------------------------


@bp.route("/dossiers/<int:dossier_id>/pieces", methods=["GET", "POST"])
@applicant_required
def attachments(dossier_id: int) -> str | Response | tuple[str, int]:
    dossier = get_dossier_or_404(dossier_id)
    types = ops.attachment_types(dossier.call)
    form = UploadForm(type_choices=[
        (t["code"], t["label"]) for t in types if dossier.can_edit_attachment_type(current_user, t["code"])
    ])
    if request.method == "POST":
        if not dossier.can_edit(current_user):
            abort(403)
        upload = request.files.get("file")
        if form.validate_on_submit():
            if upload is None or not upload.filename:
                form.type_code.errors.append("Choisissez un fichier à joindre.")
            else:
                try:
                    data = read_limited(upload.stream, _max_upload())
                    attachment = ops.add_attachment(
                        dossier, form.type_code.data, upload.filename, data, current_user,
                        store=_store(), max_bytes=_max_upload(), scanner=antivirus.current_scanner(),
                    )
                    db.session.commit()
                except (UploadRefused, ops.DossierError) as exc:
                    db.session.rollback()
                    form.type_code.errors.append(f"« {upload.filename} » refusé : {exc}")
                else:
                    flash(f"Pièce « {upload.filename} » jointe au dossier.", "success")
                    if attachment.scan_status is antivirus.ScanStatus.pending:
                        flash(PENDING_SCAN_NOTICE, "warning")
                    return redirect(url_for("applicant.attachments", dossier_id=dossier.id))
        dossier = db.session.get(Dossier, dossier_id)
        return render_template("applicant/attachments.html", dossier=dossier, form=form, types=types,
                               remove_form=ConfirmForm(), max_mb=_max_upload() // (1024 * 1024)), 422
    return render_template("applicant/attachments.html", dossier=dossier, form=form, types=types,
                           remove_form=ConfirmForm(), max_mb=_max_upload() // (1024 * 1024))


@bp.route("/dossiers/<int:dossier_id>/pieces/<int:attachment_id>/retirer", methods=["POST"])
@applicant_required
def remove_attachment(dossier_id: int, attachment_id: int) -> Response:
    dossier = get_dossier_or_404(dossier_id, "edit")
    attachment = get_attachment_or_404(dossier, attachment_id)
    if not dossier.can_edit_attachment_type(current_user, attachment.type_code):
        abort(403)
    if attachment.removed_at is None:
        ops.remove_attachment(attachment, current_user)
        db.session.commit()
        flash(f"Pièce « {attachment.display_name} » retirée du dossier.", "success")
    return redirect(url_for("applicant.attachments", dossier_id=dossier.id))


# Submission and withdrawal ---------------------------------------------------------------------


@bp.route("/dossiers/<int:dossier_id>/deposer", methods=["GET", "POST"])
@applicant_required
def submit_dossier(dossier_id: int) -> str | Response | tuple[str, int]:
    dossier = get_dossier_or_404(dossier_id, "submit")
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            submission = ops.submit_dossier(
                dossier, current_user, store=_store(), expected_version=request.form.get("version"),
                now=g.received_at,
            )
            db.session.commit()
        except (ops.DossierError, StaleDataError) as exc:
            db.session.rollback()
            message = str(exc) if isinstance(exc, ops.DossierError) else (
                "Ce dossier a été modifié au même moment : rechargez la page et recommencez."
            )
            flash(message, "error")
            return redirect(url_for("applicant.submit_dossier", dossier_id=dossier_id))
        notify_submission(submission.dossier, submission.version)
        flash(
            f"Votre dossier est déposé sous la référence {submission.dossier.reference}. "
            "Téléchargez votre accusé de réception ci-dessous.",
            "success",
        )
        return redirect(url_for("applicant.show_dossier", dossier_id=dossier_id))
    dossier = db.session.get(Dossier, dossier_id)
    return render_template(
        "applicant/submit.html", dossier=dossier, form=form, missing=missing_items(dossier),
        sections=SECTIONS, now=utcnow(), result=stored_result(dossier.finance),
    )


@bp.route("/dossiers/<int:dossier_id>/retirer", methods=["GET", "POST"])
@applicant_required
def withdraw_dossier(dossier_id: int) -> str | Response:
    dossier = get_dossier_or_404(dossier_id, "withdraw")
    form = WithdrawForm()
    if form.validate_on_submit():
        ops.withdraw_dossier(dossier, current_user)
        db.session.commit()
        flash("Le dossier est retiré. Il reste consultable.", "success")
        return redirect(url_for("applicant.show_dossier", dossier_id=dossier.id))
    return render_template("applicant/withdraw.html", dossier=dossier, form=form)


@bp.route("/dossiers/<int:dossier_id>/complements", methods=["POST"])
@applicant_required
def answer_complements(dossier_id: int) -> Response:
    dossier = get_dossier_or_404(dossier_id, "answer_complements")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        version = review_ops.answer_complements(dossier, current_user, store=_store())
        db.session.commit()
    except (ops.DossierError, StaleDataError) as exc:
        db.session.rollback()
        flash(str(exc) if isinstance(exc, ops.DossierError) else "Conflit d'enregistrement : recommencez.", "error")
        return redirect(url_for("applicant.show_dossier", dossier_id=dossier_id))
    notify_complements_answered(dossier, version)
    flash(f"Compléments envoyés : version n° {version.number} figée, nouvel accusé de réception disponible.", "success")
    return redirect(url_for("applicant.show_dossier", dossier_id=dossier_id))
