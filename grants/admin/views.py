"""Platform administration: calls and their parameters, accounts, QPV reference lists."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from ..admissibility import AUTOMATIC_CRITERIA
from ..auth.notifications import notify_membership_decided
from ..extensions import db
from ..urls import external_url
from ..forms.admin import AccountStateForm, CallForm, QpvUploadForm, UserCreateForm, UserEditForm
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
from ..operations.calls import CALL_FIELDS, DUPLICATED_FIELDS, create_call, update_call
from ..operations.qpv import import_qpv_list
from ..qpv_reference import HDF_DEPARTEMENTS, QpvFileError, default_list_name, parse_qpv_csv
from ..uploads import UploadRefused, read_limited
from ..pagination import clamp_page, requested_page
from ..security import admin_required, get_or_404, password_confirmation_required
from . import bp


def _qpv_choices() -> list[tuple[int, str]]:
    lists = db.session.scalars(select(QpvList).order_by(QpvList.version_date.desc())).all()
    return [(q.id, q.label) for q in lists]


def _call_page(form: CallForm, call: Call | None = None, *, source: Call | None = None, status: int = 200,
               **context: Any) -> tuple[str, int]:
    return render_template("admin/call_form.html", form=form.with_spare_rows(), call=call, source=source,
                           automatic_criteria=AUTOMATIC_CRITERIA, **context), status


@bp.route("/appels")
@admin_required
def list_calls() -> str:
    calls = db.session.scalars(select(Call).order_by(Call.opens_at.desc())).all()
    return render_template("admin/calls.html", calls=calls)


@bp.route("/appels/nouveau", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def new_call() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        form = CallForm(qpv_lists=_qpv_choices(), data={
            "required_attachments": DEFAULT_REQUIRED_ATTACHMENTS, "admissibility_criteria": DEFAULT_ADMISSIBILITY_CRITERIA,
        })
    else:
        form = CallForm(qpv_lists=_qpv_choices())
    return _save_new_call(form)


def _save_new_call(form: CallForm, source: Call | None = None) -> str | Response | tuple[str, int]:
    if form.validate_on_submit():
        if db.session.scalar(select(Call).where(Call.code == form.code.data)):
            form.code.errors.append("Un appel porte déjà ce code.")
        else:
            call = create_call(form.call_data(CALL_FIELDS), current_user, duplicated_from=source)
            db.session.commit()
            flash(f"L'appel « {call.title} » ({call.code}) est créé."
                  + (f" Paramètres, listes et textes repris de l'appel {source.code}." if source else ""), "success")
            return redirect(url_for("admin.list_calls"))
    return _call_page(form, source=source)


@bp.route("/appels/<int:call_id>/dupliquer", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def duplicate_call(call_id: int) -> str | Response | tuple[str, int]:
    """A new edition of a call: its parameters, lists and texts, a new code and dates to type;
    nothing of its dossiers."""
    source = get_or_404(Call, call_id)
    if request.method == "GET":
        form = CallForm(qpv_lists=_qpv_choices(), data={
            key: getattr(source, key) for key in DUPLICATED_FIELDS} | {"qpv_list_id": source.qpv_list_id or 0})
    else:
        form = CallForm(qpv_lists=_qpv_choices())
    return _save_new_call(form, source=source)


@bp.route("/appels/<int:call_id>", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def edit_call(call_id: int) -> str | Response | tuple[str, int]:
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
            return _call_page(form, call, status=409, version=call.version)
        duplicate = db.session.scalar(
            select(Call).where(Call.code == form.code.data, Call.id != call.id)
        )
        if duplicate:
            form.code.errors.append("Un appel porte déjà ce code.")
        else:
            try:
                changes = update_call(call, form.call_data(CALL_FIELDS), current_user)
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                flash("Cet appel a été modifié entre-temps : rechargez la page.", "error")
                return redirect(url_for("admin.edit_call", call_id=call_id))
            flash(
                "Appel enregistré." if changes else "Aucune modification à enregistrer.", "success"
            )
            return redirect(url_for("admin.list_calls"))
    return _call_page(form, call, version=request.form.get("version", call.version))


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


def _released(count: int) -> str:
    if not count:
        return ""
    if count == 1:
        return " Le dossier en cours qui lui était attribué n'a plus de gestionnaire."
    return f" Les {count} dossiers en cours qui lui étaient attribués n'ont plus de gestionnaire."


def _user_or_404(user_id: int) -> User:
    user = get_or_404(User, user_id)
    if not user.can_administer(current_user):
        abort(403)
    return user


def _user_page(user: User, form: UserEditForm, status: int = 200) -> tuple[str, int]:
    return render_template("admin/user_edit.html", user=user, form=form, state_form=AccountStateForm()), status


@bp.route("/comptes/<int:user_id>", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def edit_user(user_id: int) -> Response | tuple[str, int]:
    """An account's name, address and role; its state (active, locked) and the actions on it."""
    user = _user_or_404(user_id)
    applicant = user.role is Role.applicant
    form = UserEditForm(obj=user, applicant=applicant) if request.method == "POST" else UserEditForm(
        data={"full_name": user.full_name, "email": user.email, "role": user.role.value}, applicant=applicant)
    if not form.validate_on_submit():
        return _user_page(user, form, 422 if request.method == "POST" else 200)
    try:
        changes, released = accounts.update_account(
            user, full_name=form.full_name.data, email=form.email.data,
            role=None if applicant else Role(form.role.data), actor=current_user)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        field = getattr(form, exc.field or "", None)
        if field is not None:
            field.errors = [*field.errors, str(exc)]
        else:
            form.form_errors.append(str(exc))
        return _user_page(db.session.get(User, user_id), form, 422)
    if not changes:
        flash("Aucune modification à enregistrer.", "info")
    else:
        flash(f"Compte de {user.full_name} enregistré.{_released(released)}", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/comptes/<int:user_id>/etat", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def set_user_state(user_id: int) -> Response | tuple[str, int]:
    """Deactivate, reactivate or unlock an account (``action`` of the button pressed)."""
    user = _user_or_404(user_id)
    if request.method == "GET":  # back from the password confirmation: the account's page
        return redirect(url_for("admin.edit_user", user_id=user.id))
    form = AccountStateForm()
    action = request.form.get("action", "")
    if not form.validate_on_submit() or action not in ("deactivate", "reactivate", "unlock"):
        abort(400)
    try:
        if action == "unlock":
            done = accounts.unlock_account(user, current_user)
            message = "Compte déverrouillé : la personne peut se connecter de nouveau." if done else \
                "Ce compte n'était pas verrouillé."
        else:
            released = accounts.set_account_active(user, action == "reactivate", current_user)
            message = (f"Compte de {user.full_name} réactivé." if action == "reactivate" else
                       f"Compte de {user.full_name} désactivé : ses sessions sont closes, il ne peut plus se connecter."
                       + _released(released))
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        user = db.session.get(User, user_id)
        return _user_page(user, UserEditForm(data={"full_name": user.full_name, "email": user.email,
                                                    "role": user.role.value}, applicant=user.role is Role.applicant),
                          409)
    flash(message, "success")
    if action == "deactivate" and user.id == current_user.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.edit_user", user_id=user.id))


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


@bp.route("/qpv/nouvelle", methods=["GET", "POST"])
@admin_required
@password_confirmation_required
def upload_qpv_list() -> Response | tuple[str, int]:
    """Load a QPV list from a CSV file, with the parser and the checks of ``grants qpv import``."""
    form = QpvUploadForm()
    if request.method == "GET":
        form.departements.data = list(HDF_DEPARTEMENTS)
    if not form.validate_on_submit():
        return render_template("admin/qpv_upload.html", form=form), 422 if request.method == "POST" else 200
    upload = form.file.data
    try:
        raw = read_limited(upload.stream, current_app.config["MAX_CONTENT_LENGTH"])
        parsed = parse_qpv_csv(raw, tuple(form.departements.data or ()) or None)
        qpv_list = import_qpv_list(
            parsed, name=(form.name.data or "").strip() or default_list_name(parsed),
            version_date=form.version_date.data or date.today(), source=upload.filename or "fichier envoyé",
            actor=current_user,
        )
        db.session.commit()
    except (QpvFileError, UploadRefused) as exc:
        db.session.rollback()
        form.file.errors = [*form.file.errors, f"« {upload.filename} » n'a pas été chargé : {exc}"]
        return render_template("admin/qpv_upload.html", form=form), 422
    communes = len({insee for q in parsed for insee in q.communes})
    flash(f"Liste « {qpv_list.label} » chargée : {len(parsed)} QPV, {communes} communes. "
          "Choisissez-la dans les appels qui doivent l'utiliser.", "success")
    return redirect(url_for("admin.show_qpv_list", list_id=qpv_list.id))


def _folded(text: str) -> str:
    """Lowercase without accents, for a search that finds « Étouvie » when « etouvie » is typed."""
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


@bp.route("/qpv/<int:list_id>")
@admin_required
def show_qpv_list(list_id: int) -> str:
    """A list's QPV, searchable by code, name, commune or INSEE code (``?q=``, accents ignored)."""
    qpv_list = get_or_404(QpvList, list_id)
    qpvs = db.session.scalars(
        select(Qpv)
        .where(Qpv.qpv_list_id == qpv_list.id)
        .options(selectinload(Qpv.communes))
        .order_by(Qpv.code)
    ).all()
    query = (request.args.get("q") or "").strip()[:100]
    shown = qpvs
    if query:
        term = _folded(query)
        shown = [q for q in qpvs if term in _folded(" ".join(
            [q.code, q.name, *(c.name for c in q.communes), *(c.insee for c in q.communes)]))]
    return render_template("admin/qpv_list.html", qpv_list=qpv_list, qpvs=shown, total=len(qpvs), query=query)
