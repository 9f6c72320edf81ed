"""Login, logout, registration of applicants, password change and reset."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db, limiter
from ..urls import external_url
from ..forms.dossier import ConfirmForm
from ..forms.auth import (
    ChangePasswordForm,
    ConfirmPasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from ..mail import send_safely
from ..models import StructureKind
from ..operations import accounts
from ..security import (
    admin_required,
    end_session,
    known_device_accounts,
    login_required_any,
    public,
    record_password_confirmation,
    remember_device,
    start_session,
)
from . import bp
from .notifications import notify_login_slowdown, notify_membership_requested

GENERIC_LOGIN_ERROR = "Adresse électronique ou mot de passe incorrect, ou compte temporairement bloqué."


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target:
        return url_for("main.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.index")
    return target


def _failure_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_FAILURES"]


def _refused(response: Response) -> bool:
    """A password form answered with itself again: the attempt failed (counts per address)."""
    return response.status_code == 200


def _tell_owner(attempt: accounts.Attempt) -> None:
    if attempt.slowed is not None:
        notify_login_slowdown(attempt.slowed)


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_failure_limit, methods=["POST"], deduct_when=_refused)
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = accounts.authenticate(form.email.data, form.password.data, known_accounts=known_device_accounts())
        db.session.commit()
        _tell_owner(attempt)
        user = attempt.user
        if user is None:
            flash(GENERIC_LOGIN_ERROR, "error")
            return render_template("auth/login.html", form=form), 200
        start_session(user)  # a new session at login (no fixation)
        flash(f"Bienvenue, {user.full_name}.", "success")
        return remember_device(redirect(_safe_next(request.args.get("next"))), user)
    return render_template("auth/login.html", form=form)


@bp.route("/deconnexion", methods=["POST"])
@login_required_any
def logout() -> Response:
    accounts.logout(current_user._get_current_object())
    db.session.commit()
    end_session()
    flash("Vous êtes déconnecté(e).", "info")
    return redirect(url_for("auth.login"))


def _address_limit() -> str:
    return current_app.config["RATELIMIT_PER_ADDRESS"]


def _target_address() -> str:
    """The address a form would e-mail: its messages are limited per address, whoever asks
    (nobody can flood someone's mailbox through the application)."""
    return "address:" + accounts.normalise_email(request.form.get("email", ""))[:254]


REGISTRATION_TOKEN = "_registration_token"  # noqa: S105  (a session key: the confirmation link's token)
REGISTRATION_ADDRESS = "_registration_address"


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_address_limit, methods=["POST"], key_func=_target_address)
@public
def register() -> str | Response:
    """Answer the same whether the address has an account or not: the address receives either
    the link that creates the account or a reminder that it has one (no enumeration)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        sent = accounts.request_registration(
            email=form.email.data,
            full_name=form.full_name.data,
            password=form.password.data,
            siret=form.siret.data,
            structure_name=form.structure_name.data,
            structure_kind=StructureKind(form.structure_kind.data),
        )
        db.session.commit()
        if sent.token is not None:
            send_safely(
                sent.email, "Confirmez votre adresse pour créer votre compte", "email/registration_confirm.txt",
                full_name=form.full_name.data, hours=current_app.config["REGISTRATION_MAX_HOURS"],
                link=external_url("auth.confirm_registration_link", token=sent.token),
            )
        else:
            send_safely(
                sent.email, "Vous avez déjà un compte", "email/registration_existing.txt",
                login=external_url("auth.login"), forgot=external_url("auth.forgot_password"),
            )
        session[REGISTRATION_ADDRESS] = sent.email
        return redirect(url_for("auth.registration_sent"))
    return render_template("auth/register.html", form=form)


@bp.route("/inscription/envoyee")
@public
def registration_sent() -> str | Response:
    address = session.get(REGISTRATION_ADDRESS)
    if not isinstance(address, str):
        return redirect(url_for("auth.register"))
    return render_template("auth/registration_sent.html", address=address,
                           hours=current_app.config["REGISTRATION_MAX_HOURS"])


INVALID_REGISTRATION_LINK = (
    "Ce lien d'inscription est invalide, a déjà servi ou a expiré. Inscrivez-vous de nouveau : "
    "un nouveau lien vous sera envoyé."
)


@bp.route("/inscription/confirmer/<token>")
@public
def confirm_registration_link(token: str) -> Response:
    """The e-mailed link: as for a reset link, its token moves into the session and the
    browser goes on to a URL without it."""
    if accounts.registration_for_token(token) is None:
        flash(INVALID_REGISTRATION_LINK, "error")
        return redirect(url_for("auth.register"))
    session[REGISTRATION_TOKEN] = token
    return redirect(url_for("auth.confirm_registration"))


@bp.route("/inscription/confirmer", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def confirm_registration() -> str | Response:
    """Create the account once its address is confirmed (a button: mail scanners that open
    links create nothing)."""
    registration = accounts.registration_for_token(session.get(REGISTRATION_TOKEN))
    if registration is None:
        session.pop(REGISTRATION_TOKEN, None)
        flash(INVALID_REGISTRATION_LINK, "error")
        return redirect(url_for("auth.register"))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            user = accounts.confirm_registration(registration)
        except accounts.AccountError as exc:
            db.session.commit()  # the spent request goes
            session.pop(REGISTRATION_TOKEN, None)
            flash(str(exc), "error")
            return redirect(url_for("auth.login"))
        db.session.commit()
        start_session(user)  # (clears the token too)
        if user.is_pending_member:
            notify_membership_requested(user)
            flash(
                f"Votre compte est créé. La structure « {user.structure.name} » est déjà inscrite : "
                "votre demande de rattachement est transmise à ses membres.",
                "info",
            )
            return remember_device(redirect(url_for("auth.membership_pending")), user)
        flash(
            f"Votre compte est créé et rattaché à la structure « {user.structure.name} ».",
            "success",
        )
        return remember_device(redirect(url_for("main.index")), user)
    return render_template("auth/confirm_registration.html", registration=registration, form=form,
                           kind_title=registration.structure_kind.title)


@bp.route("/rattachement-en-attente")
@login_required_any
def membership_pending() -> str | Response:
    """What a person waiting for a structure's approval sees instead of its space."""
    user = current_user._get_current_object()
    if not user.is_pending_member:
        return redirect(url_for("main.index"))
    return render_template("auth/membership_pending.html", structure=user.structure)


# Endpoints a pending member reaches as anyone else: their account, the public pages, and
# the dossier routes, whose object-level predicates answer 404 (a pending member is not a
# member). Every other page (home, structure profile, calls) shows the waiting page.
_PENDING_ALLOWED = {"static", "main.health", "main.accessibility", "main.legal"}


@bp.before_app_request
def hold_pending_members() -> Response | None:
    if not current_user.is_authenticated or not current_user.is_pending_member:
        return None
    endpoint = request.endpoint
    if endpoint is None or endpoint.startswith("auth.") or endpoint in _PENDING_ALLOWED:
        return None  # (no endpoint: the page does not exist, a 404 follows)
    if "dossier_id" in (request.view_args or {}):
        return None
    return redirect(url_for("auth.membership_pending"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_address_limit, methods=["POST"], key_func=_target_address)
@public
def forgot_password() -> str | Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = accounts.find_user(form.email.data)
        if user is not None and user.is_active:
            token = accounts.make_reset_token(user)
            # A mail failure answers the same as success: no account enumeration through errors.
            send_safely(
                user.email,
                "Réinitialisation de votre mot de passe",
                "email/password_reset.txt",
                user=user,
                link=external_url("auth.reset_password", token=token),
                minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
            )
        # Same answer whether the address exists or not (no account enumeration).
        flash(
            "Si un compte correspond à cette adresse, un lien de réinitialisation vient d'y "
            "être envoyé. Il est valable une heure.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


RESET_TOKEN = "_reset_token"  # noqa: S105  (a session key: the reset link's token is kept under it)


@bp.route("/reinitialiser/<token>")
@public
def reset_password(token: str) -> Response:
    """The e-mailed link: its token moves into the session and the browser goes on to a URL
    without it, so that it stays out of access logs, history and Referer headers after this
    first request (and the token is single use: changing the password voids it)."""
    if accounts.user_for_reset_token(token) is None:
        flash("Ce lien de réinitialisation est invalide ou a expiré. Demandez-en un nouveau.", "error")
        return redirect(url_for("auth.forgot_password"))
    session[RESET_TOKEN] = token
    return redirect(url_for("auth.choose_password"))


@bp.route("/reinitialiser", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def choose_password() -> str | Response:
    token = session.get(RESET_TOKEN)
    user = accounts.user_for_reset_token(token) if isinstance(token, str) else None
    if user is None:
        session.pop(RESET_TOKEN, None)
        flash("Ce lien de réinitialisation est invalide ou a expiré. Demandez-en un nouveau.", "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.change_password(user, form.password.data)
        db.session.commit()
        end_session()  # the token goes with the session
        flash("Votre mot de passe est modifié. Connectez-vous avec le nouveau.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_failure_limit, methods=["POST"], deduct_when=_refused)
@login_required_any
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # The current password is checked like the login's: failures count towards the same
        # slowdown, so a stolen session is no oracle for it.
        attempt = accounts.check_password(user, form.current_password.data, known_accounts=known_device_accounts(),
                                          action="user.password_check")
        db.session.commit()
        _tell_owner(attempt)
        if attempt.user is None:
            form.current_password.errors.append(
                "Mot de passe actuel incorrect, ou trop de tentatives récentes : réessayez dans quelques minutes."
            )
            return render_template("auth/change_password.html", form=form)
        accounts.change_password(user, form.password.data)
        db.session.commit()
        # The token rotated: log in again on this browser only.
        start_session(user)
        flash("Votre mot de passe est modifié. Vos autres sessions sont fermées.", "success")
        return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/confirmation", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_failure_limit, methods=["POST"], deduct_when=_refused)
@admin_required
def confirm_password() -> str | Response:
    """Type the password again before an admin action (valid PASSWORD_CONFIRM_MINUTES)."""
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        attempt = accounts.check_password(current_user._get_current_object(), form.password.data,
                                          known_accounts=known_device_accounts())
        db.session.commit()
        _tell_owner(attempt)
        if attempt.user is not None:
            record_password_confirmation()
            minutes = current_app.config["PASSWORD_CONFIRM_MINUTES"]
            flash(f"Mot de passe confirmé pour les {minutes} prochaines minutes.", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("Mot de passe incorrect, ou compte temporairement bloqué.")
    return render_template(
        "auth/confirm_password.html", form=form,
        minutes=current_app.config["PASSWORD_CONFIRM_MINUTES"],
    )
