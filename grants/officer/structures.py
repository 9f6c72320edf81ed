"""DREETS staff's pages on structures (issue 14, item 5): the structures to verify, one
structure with its members and dossiers, verifying it, correcting its SIRET, removing a
member who has nothing to do with it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..auth.notifications import notify_siret_changed
from ..extensions import db
from ..forms.dossier import ConfirmForm
from ..forms.structures import SiretChangeForm, VerifyStructureForm
from ..models import AuditEntry, Dossier, Role, Structure, StructureVerification, User
from ..models.users import MembershipState
from ..operations import accounts
from ..operations import structures as ops
from ..pagination import clamp_page, requested_page
from ..security import (
    STAFF,
    admin_required,
    get_or_404,
    password_confirmation_required,
    password_recently_confirmed,
    roles_required,
)
from . import bp

staff_required = roles_required(*STAFF)
PER_PAGE = 50
FILTERS = {"a-verifier": "À vérifier", "verifiees": "Vérifiées", "toutes": "Toutes"}


def structures_to_verify() -> int:
    return db.session.scalar(
        select(func.count(Structure.id)).where(Structure.verification == StructureVerification.to_verify)
    ) or 0


@bp.route("/structures")
@staff_required
def list_structures() -> str:
    status = request.args.get("statut", "a-verifier")
    if status not in FILTERS:
        status = "a-verifier"
    query = select(Structure)
    if status != "toutes":
        wanted = StructureVerification.to_verify if status == "a-verifier" else StructureVerification.verified
        query = query.where(Structure.verification == wanted)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, pages = clamp_page(requested_page(request.args), total, PER_PAGE)
    structures = db.session.scalars(
        query.order_by(Structure.created_at.desc(), Structure.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "officer/structures.html", structures=structures, counts=_counts([s.id for s in structures]),
        status=status, filters=FILTERS, page=page, pages=pages, total=total,
    )


def _counts(ids: list[int]) -> dict[int, dict[str, int]]:
    """Per structure: active members, pending requests, submitted dossiers (two statements)."""
    counts = {i: {"members": 0, "pending": 0, "submitted": 0} for i in ids}
    if not ids:
        return counts
    for structure_id, membership, number in db.session.execute(
        select(User.structure_id, User.membership, func.count(User.id))
        .where(User.structure_id.in_(ids), User.is_active.is_(True))
        .group_by(User.structure_id, User.membership)
    ):
        if membership is MembershipState.active:
            counts[structure_id]["members"] = number
        elif membership is MembershipState.pending:
            counts[structure_id]["pending"] = number
    for structure_id, number in db.session.execute(
        select(Dossier.structure_id, func.count(Dossier.id))
        .where(Dossier.structure_id.in_(ids), Dossier.submitted_at.is_not(None)).group_by(Dossier.structure_id)
    ):
        counts[structure_id]["submitted"] = number
    return counts


def _page(structure: Structure, *, status: int = 200, **forms: Any) -> tuple[str, int]:
    dossiers = db.session.scalars(
        select(Dossier).where(Dossier.structure_id == structure.id, Dossier.submitted_at.is_not(None))
        .order_by(Dossier.submitted_at.desc())
    ).all()
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "Structure", AuditEntry.object_id == structure.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ).all()
    verifier = next((e.actor for e in history if e.action == "structure.verify"), None)
    return render_template(
        "officer/structure.html", structure=structure, members=structure.users,
        join_requests=accounts.pending_members(structure.id), dossiers=dossiers, history=history, verifier=verifier,
        verify_form=forms.get("verify_form") or VerifyStructureForm(),
        siret_form=forms.get("siret_form") or SiretChangeForm(), remove_form=ConfirmForm(),
        # Removing a member closes an account: an admin action, after the password typed again.
        removal_allowed=current_user.role is Role.admin, removal_confirmed=password_recently_confirmed(),
    ), status


@bp.route("/structures/<int:structure_id>")
@staff_required
def show_structure(structure_id: int) -> tuple[str, int]:
    return _page(get_or_404(Structure, structure_id))


@bp.route("/structures/<int:structure_id>/verification", methods=["POST"])
@staff_required
def verify_structure(structure_id: int) -> Response | tuple[str, int]:
    structure = get_or_404(Structure, structure_id)
    form = VerifyStructureForm()
    if not form.validate_on_submit():
        return _page(structure, verify_form=form, status=422)
    try:
        ops.verify_structure(structure, current_user, note=form.note.data or "")
        db.session.commit()
    except ops.StructureError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("officer.show_structure", structure_id=structure_id))
    flash(f"La structure « {structure.name} » est vérifiée : le critère de recevabilité correspondant est satisfait.",
          "success")
    return redirect(url_for("officer.show_structure", structure_id=structure_id))


@bp.route("/structures/<int:structure_id>/siret", methods=["POST"])
@staff_required
def change_siret(structure_id: int) -> Response | tuple[str, int]:
    structure = get_or_404(Structure, structure_id)
    form = SiretChangeForm()
    if not form.validate_on_submit():
        return _page(structure, siret_form=form, status=422)
    try:
        old = ops.change_siret(structure, form.siret.data, current_user, motive=form.motive.data)
        db.session.commit()
    except ops.StructureError as exc:
        db.session.rollback()
        form.siret.errors.append(str(exc))
        return _page(db.session.get(Structure, structure_id), siret_form=form, status=422)
    notify_siret_changed(structure, old, current_user._get_current_object(), form.motive.data.strip())
    flash(f"SIRET modifié ({old} → {structure.siret}) ; les membres de la structure sont prévenus par courriel.",
          "success")
    return redirect(url_for("officer.show_structure", structure_id=structure_id))


@bp.route("/structures/<int:structure_id>/membres/<int:user_id>/retrait", methods=["POST"])
@admin_required
@password_confirmation_required
def remove_member(structure_id: int, user_id: int) -> Response:
    structure = get_or_404(Structure, structure_id)
    member = db.session.get(User, user_id)
    if member is None or member.structure_id != structure.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ops.remove_member(member, current_user)
        db.session.commit()
    except ops.StructureError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(f"{member.full_name} n'est plus membre de la structure ; son compte est fermé.", "success")
    return redirect(url_for("officer.show_structure", structure_id=structure_id))
