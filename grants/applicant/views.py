"""The applicant journey: structure profile, dossier sections, attachments, submission."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from .. import antivirus, error_page, storage
from ..access import get_attachment_or_404, get_dossier_or_404
from ..auth.notifications import notify_membership_decided, notify_siret_changed
from ..dossier_sections import SECTIONS, SECTIONS_BY_KEY, missing_items, plan_waits_for, stored_result
from ..extensions import db
from ..finance import STRANDS
from ..forms.auth import MembershipDecisionForm
from ..forms.dossier import (
    INVESTMENT_MESSAGE,
    ROW_LISTS,
    ConfirmForm,
    StructureForm,
    WithdrawForm,
    commune_label,
    upload_form,
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
from ..uploads import UploadRefused, file_size_label, read_limited
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
        plan_waits_for=plan_waits_for(dossier.content or {}),
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
    stored = (dossier.content or {}).get(key)
    if key == "identification" and not stored:
        return section.form.from_structure(dossier.structure, **kwargs)
    return section.form.from_content(stored or {}, **kwargs)


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
    removed_from = None
    if request.method == "POST" and key == "resources" and not request.form.get("save") and (
        request.form.get("add_row") or request.form.get("remove_row")
    ):
        # « Ajouter un poste » / « Retirer » without JavaScript: the same form again with one
        # row more or less, everything typed kept, nothing saved until « Enregistrer ».
        if request.form.get("add_row"):
            form.add_row(request.form["add_row"])
        else:
            removed_from = form.remove_row(request.form["remove_row"])
    elif form.validate_on_submit():
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
        missing=missing_items(dossier).get(key, []) if dossier.state is DossierState.draft else [],
        plan_waits_for=plan_waits_for(dossier.content or {}), removed_from=removed_from,
        row_templates=_row_templates() if key == "resources" else {}, row_lists=ROW_LISTS,
        investment_message=INVESTMENT_MESSAGE,
    ), status


def _row_templates() -> dict[str, Any]:
    """A blank row of each list of each strand, named ``…-__index__-…``: static/app.js copies
    it when « Ajouter » is pressed, with the next free index."""
    return {
        f"{strand}-{rows}": form_class(prefix=f"{strand}-{rows}-__index__-")
        for strand in STRANDS for rows, (form_class, _label) in ROW_LISTS.items()
    }


# Attachments -------------------------------------------------------------------------------

#: Files one sending of the pièces page may carry (each within the per-file limit).
MAX_FILES_PER_UPLOAD = 10


def _upload_request_limit() -> int:
    return MAX_FILES_PER_UPLOAD * _max_upload() + 64 * 1024


@bp.url_value_preprocessor
def _allow_several_files(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The pièces page sends several files at once: its request may hold up to
    MAX_FILES_PER_UPLOAD files of the per-file limit (set before anything reads the body,
    the CSRF check included; each file is still checked against the per-file limit)."""
    if endpoint == "applicant.attachments" and request.method == "POST":
        request.max_content_length = _upload_request_limit()


def _attachments_page(dossier: Dossier, form: Any, types: list[dict[str, str]], status: int = 200) -> tuple[str, int]:
    return render_template(
        "applicant/attachments.html", dossier=dossier, form=form, types=types, remove_form=ConfirmForm(formdata=None),
        max_bytes=_max_upload(), max_label=file_size_label(_max_upload()), max_files=MAX_FILES_PER_UPLOAD,
        several=ops.MULTIPLE_TYPES,
    ), status


def _attachments_form(dossier: Dossier, types: list[dict[str, str]], **kwargs: Any) -> Any:
    editable = [t for t in types if dossier.can_edit_attachment_type(current_user, t["code"])]
    return upload_form(editable, ops.MULTIPLE_TYPES)(**kwargs)


@bp.route("/dossiers/<int:dossier_id>/pieces", methods=["GET", "POST"])
@applicant_required
def attachments(dossier_id: int) -> str | Response | tuple[str, int]:
    dossier = get_dossier_or_404(dossier_id)
    types = ops.attachment_types(dossier.call)
    form = _attachments_form(dossier, types)
    if request.method == "GET":
        return _attachments_page(dossier, form, types)
    if not dossier.can_edit(current_user):
        abort(403)
    joined = []
    if form.validate_on_submit():
        chosen = form.chosen()
        if not chosen:
            form.form_errors.append("Choisissez au moins un fichier à joindre.")
        elif len(chosen) > MAX_FILES_PER_UPLOAD:
            form.form_errors.append(
                f"{len(chosen)} fichiers choisis : joignez-en {MAX_FILES_PER_UPLOAD} au plus à la fois."
            )
        else:
            for code, field, upload in chosen:
                # Each file on its own: a refused one (its reason next to its input) does not
                # stop the others, and add_attachment stores nothing of a refused file.
                try:
                    data = read_limited(upload.stream, _max_upload())
                    joined.append(ops.add_attachment(
                        dossier, code, upload.filename, data, current_user,
                        store=_store(), max_bytes=_max_upload(), scanner=antivirus.current_scanner(),
                    ))
                except (UploadRefused, ops.DossierError) as exc:
                    field.errors.append(f"« {upload.filename} » refusé : {exc}")
            db.session.commit()
    if joined:
        names = ", ".join(f"« {a.display_name} »" for a in joined)
        flash(f"{len(joined)} pièce{'s' if len(joined) > 1 else ''} jointe{'s' if len(joined) > 1 else ''} "
              f"au dossier : {names}.", "success")
        if any(a.scan_status is antivirus.ScanStatus.pending for a in joined):
            flash(PENDING_SCAN_NOTICE, "warning")
    if joined and not form.errors and not form.form_errors:
        return redirect(url_for("applicant.attachments", dossier_id=dossier.id))
    return _attachments_page(db.session.get(Dossier, dossier_id), form, types, 422)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Any:
    """A sending of the pièces page above the request limit gets that page back, with the
    reason, instead of a bare « Erreur 413 » (the browser refuses a file above the
    per-file limit before sending; this is for a script-less browser or many large files)."""
    if request.endpoint != "applicant.attachments" or not current_user.is_authenticated:
        return error_page(exc.code or 413)
    dossier = db.session.get(Dossier, (request.view_args or {}).get("dossier_id"))
    if dossier is None or current_user.role is not Role.applicant or not dossier.can_view(current_user):
        return error_page(exc.code or 413)
    types = ops.attachment_types(dossier.call)
    form = _attachments_form(dossier, types, formdata=None)
    form.form_errors.append(
        f"L'envoi dépasse {file_size_label(_upload_request_limit() - 64 * 1024)} au total : aucun fichier n'a été "
        f"joint. Chaque fichier peut faire jusqu'à {file_size_label(_max_upload())} ; joignez-les en plusieurs fois."
    )
    return _attachments_page(dossier, form, types, 413)


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
        sections=SECTIONS, now=utcnow(), result=stored_result(dossier.finance), qpvs=_qpvs_by_code(dossier),
        types={t["code"]: t["label"] for t in ops.attachment_types(dossier.call)},
        plan_waits_for=plan_waits_for(dossier.content or {}),
    )


@bp.route("/dossiers/<int:dossier_id>/recapitulatif.pdf")
@applicant_required
def download_summary(dossier_id: int) -> Response:
    """The whole dossier in one PDF: the working copy of a draft, else the latest frozen
    version (``?version=N``: that one), rendered on demand."""
    from ..dossiers.views import send_bytes
    from ..summary import render_summary, summary_file_name, summary_of

    dossier = get_dossier_or_404(dossier_id)
    if not dossier.is_member(current_user):
        abort(404)
    context = summary_of(dossier, request.args.get("version", type=int))
    if context is None:
        abort(404)
    return send_bytes(render_summary(context), summary_file_name(context, dossier.id), "application/pdf")


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
