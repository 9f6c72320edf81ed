"""Platform administration: calls and their parameters, accounts, QPV reference lists."""

from __future__ import annotations

import secrets
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from ..auth.notifications import notify_membership_decided
from ..extensions import db
from ..urls import external_url
from ..forms.admin import CallForm, UserCreateForm
from ..forms.auth import MembershipDecisionForm
from ..mail import send_safely
from ..models import (
    DEFAULT_ADMISSIBILITY_CRITERIA,
    DEFAULT_REQUIRED_ATTACHMENTS,
    Call,
    Qpv,
    QpvList,
    Role,
    Structure,
    User,
)
from ..operations import accounts
from ..operations.calls import CALL_FIELDS, create_call, update_call
from ..pagination import clamp_page, requested_page
from ..security import admin_required, get_or_404, password_confirmation_required
from . import bp


def _qpv_choices() -> list[tuple[int, str]]:
    lists = db.session.scalars(select(QpvList).order_by(QpvList.version_date.desc())).all()
    return [(q.id, q.label) for q in lists]


def _call_data(form: CallForm) -> dict[str, Any]:
    data = {key: getattr(form, key).data for key in CALL_FIELDS}
    data["qpv_list_id"] = data["qpv_list_id"] or None
    return data


@bp.route("/appels")
@admin_required
def list_calls() -> str:
    calls = db.session.scalars(select(Call).order_by(Call.opens_at.desc())).all()
    return render_template("admin/calls.html", calls=calls)


@bp.route("/appels/nouveau", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def new_call() -> str | Response:
    form = CallForm(qpv_lists=_qpv_choices())
    if request.method == "GET":
        form.required_attachments.data = DEFAULT_REQUIRED_ATTACHMENTS
        form.admissibility_criteria.data = DEFAULT_ADMISSIBILITY_CRITERIA
    if form.validate_on_submit():
        if db.session.scalar(select(Call).where(Call.code == form.code.data)):
            form.code.errors.append("Un appel porte déjà ce code.")
        else:
            call = create_call(_call_data(form), current_user)
            db.session.commit()
            flash(f"L'appel « {call.title} » est créé.", "success")
            return redirect(url_for("admin.list_calls"))
    return render_template("admin/call_form.html", form=form, call=None)


@bp.route("/appels/<int:call_id>", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def edit_call(call_id: int) -> str | Response:
    call = get_or_404(Call, call_id)
    form = CallForm(obj=call, qpv_lists=_qpv_choices())
    if request.method == "GET":
        form.qpv_list_id.data = call.qpv_list_id or 0
    if form.validate_on_submit():
        # Optimistic locking: the version the form was loaded with must still be current.
        if request.form.get("version") != str(call.version):
            flash(
                "Cet appel a été modifié par quelqu'un d'autre pendant votre saisie. Vos valeurs "
                "sont conservées ci-dessous : vérifiez-les puis enregistrez à nouveau.",
                "error",
            )
            return render_template("admin/call_form.html", form=form, call=call, version=call.version), 409
        duplicate = db.session.scalar(
            select(Call).where(Call.code == form.code.data, Call.id != call.id)
        )
        if duplicate:
            form.code.errors.append("Un appel porte déjà ce code.")
        else:
            try:
                changes = update_call(call, _call_data(form), current_user)
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                flash("Cet appel a été modifié entre-temps : rechargez la page.", "error")
                return redirect(url_for("admin.edit_call", call_id=call_id))
            flash(
                "Appel enregistré." if changes else "Aucune modification à enregistrer.", "success"
            )
            return redirect(url_for("admin.list_calls"))
    return render_template(
        "admin/call_form.html", form=form, call=call,
        version=request.form.get("version", call.version),
    )


@bp.route("/comptes")
@admin_required
def list_users() -> str:
    per_page = 50
    total = db.session.scalar(select(func.count(User.id))) or 0
    page, pages = clamp_page(requested_page(request.args), total, per_page)
    users = db.session.scalars(
        select(User).order_by(User.role, User.email).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return render_template(
        "admin/users.html", users=users, page=page, pages=pages,
        total=total, join_requests=accounts.pending_members(),
    )


@bp.route("/comptes/<int:user_id>/rattachement", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def decide_membership(user_id: int) -> str | Response:
    """Approve or refuse a request to join a structure, e.g. when no member answers."""
    requester = get_or_404(User, user_id)
    if not requester.can_decide_membership(current_user):
        flash("Cette demande de rattachement a déjà été traitée.", "info")
        return redirect(url_for("admin.list_users"))
    form = MembershipDecisionForm()
    if form.validate_on_submit():
        approved = bool(form.approve.data)
        try:
            accounts.decide_membership(requester, current_user, approve=approved)
            db.session.commit()
        except accounts.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("admin.list_users"))
        notify_membership_decided(requester, approved=approved)
        flash(
            f"{requester.full_name} est maintenant membre de la structure." if approved
            else f"La demande de {requester.full_name} est refusée ; son compte est fermé.",
            "success",
        )
        return redirect(url_for("admin.list_users"))
    structure = db.session.get(Structure, requester.structure_id)
    return render_template("admin/membership_request.html", requester=requester, structure=structure, form=form)


@bp.route("/comptes/nouveau", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def new_user() -> str | Response:
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            # The person chooses their own password through the e-mailed link.
            user = accounts.create_user(
                email=form.email.data,
                full_name=form.full_name.data,
                role=Role(form.role.data),
                password=secrets.token_urlsafe(32),
                actor=current_user,
            )
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
            return render_template("admin/user_form.html", form=form)
        db.session.commit()
        sent = send_safely(
            user.email,
            "Votre compte Parcours QPV",
            "email/account_created.txt",
            user=user,
            link=external_url("auth.reset_password", token=accounts.make_reset_token(user)),
        )
        if sent:
            flash(
                f"Compte créé pour {user.full_name}. Un lien pour choisir son mot de passe "
                f"a été envoyé à {user.email}.",
                "success",
            )
        else:
            flash(
                f"Compte créé pour {user.full_name}, mais le courriel n'a pas pu être envoyé à {user.email} : "
                "la personne peut choisir son mot de passe avec « Mot de passe oublié ? » sur la page de connexion.",
                "warning",
            )
        return redirect(url_for("admin.list_users"))
    return render_template("admin/user_form.html", form=form)


@bp.route("/qpv")
@admin_required
def list_qpv_lists() -> str:
    rows = db.session.execute(
        select(QpvList, func.count(Qpv.id))
        .outerjoin(Qpv, Qpv.qpv_list_id == QpvList.id)
        .group_by(QpvList.id)
        .order_by(QpvList.version_date.desc())
    ).all()
    return render_template("admin/qpv_lists.html", rows=rows)


@bp.route("/qpv/<int:list_id>")
@admin_required
def show_qpv_list(list_id: int) -> str:
    qpv_list = get_or_404(QpvList, list_id)
    qpvs = db.session.scalars(
        select(Qpv)
        .where(Qpv.qpv_list_id == qpv_list.id)
        .options(selectinload(Qpv.communes))
        .order_by(Qpv.code)
    ).all()
    return render_template("admin/qpv_list.html", qpv_list=qpv_list, qpvs=qpvs)
