"""Access control core: role decorators, public allow-list, object loading, passwords."""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import confirm_login, current_user, login_fresh, login_user, logout_user
from werkzeug.wrappers import Response

from .extensions import db, login_manager
from .models import Role, User

F = TypeVar("F", bound=Callable[..., Any])

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


def public(view: F) -> F:
    """Mark a view as reachable without logging in (explicit allow-list)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Require a logged-in user with one of ``roles``; an admin is never implied.

    Others get 403, committee members 404."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                # Committee members see their sessions and nothing else: other pages do
                # not exist for them (docs/documents.md).
                abort(404 if current_user.role is Role.committee else 403)
            return view(*args, **kwargs)

        wrapped.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


ALL_ROLES = tuple(Role)
STAFF = (Role.officer, Role.admin)

login_required_any = roles_required(*ALL_ROLES)
admin_required = roles_required(Role.admin)


def get_or_404(model: type[Any], ident: int) -> Any:
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


# Passwords --------------------------------------------------------------------------


def _hasher() -> PasswordHasher:
    hasher = current_app.extensions.get("grants_hasher")
    if hasher is None:
        hasher = PasswordHasher(
            time_cost=current_app.config["ARGON2_TIME_COST"],
            memory_cost=current_app.config["ARGON2_MEMORY_COST"],
        )
        current_app.extensions["grants_hasher"] = hasher
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password in constant-ish time, also when there is no such user."""
    hasher = _hasher()
    if user is None:
        # Spend the same effort so response time does not reveal unknown e-mails.
        try:
            hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        return False
    try:
        return hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    cached = current_app.extensions.get("grants_dummy_hash")
    if cached is None:
        cached = _hasher().hash(secrets.token_hex(16))
        current_app.extensions["grants_dummy_hash"] = cached
    return cached


def password_problem(password: str) -> str | None:
    """A French reason why ``password`` is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."
    if len(password) > 256:
        return "Le mot de passe ne doit pas dépasser 256 caractères."
    if password.lower() in common_passwords():
        return (
            "Ce mot de passe fait partie des 10 000 mots de passe les plus courants : "
            "choisissez-en un autre, plus difficile à deviner."
        )
    return None


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 10 000 most common passwords, lowercased (grants/data/README.md), read once."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip())


# Flask-Login wiring -------------------------------------------------------------------


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    if not secrets.compare_digest(user.session_token, token):
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    flash("Connectez-vous pour accéder à cette page.", "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@login_manager.needs_refresh_handler
def needs_password_confirmation() -> Response:
    flash("Cette action d'administration demande de confirmer votre mot de passe.", "info")
    target = request.full_path.rstrip("?") if request.method == "GET" else request.path
    return redirect(url_for("auth.confirm_password", next=target))


# Sessions -----------------------------------------------------------------------------
# Flask's session is a cookie signed with SECRET_KEY: the times below travel in it and
# cannot be altered, so a copied cookie keeps its old times and expires like the original.

LOGIN_AT = "_login_at"
SEEN_AT = "_seen_at"
CONFIRMED_AT = "_confirmed_at"  # when the password was last typed again


def _now() -> int:
    return int(time.time())


def start_session(user: User) -> None:
    """Log ``user`` in on a new session: nothing of the pre-login one is kept (no fixation)."""
    session.clear()
    login_user(user)
    session[LOGIN_AT] = session[SEEN_AT] = _now()


def end_session() -> None:
    logout_user()
    session.clear()


def session_expiry(now: int) -> str | None:
    """A French reason why the logged-in session is over, or None."""
    idle = current_app.config["SESSION_IDLE_MINUTES"]
    maximum = current_app.config["SESSION_MAX_HOURS"]
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "Votre session a expiré : reconnectez-vous."
    if now - login_at >= maximum * 3600:
        return f"Votre session a expiré : une session dure au plus {maximum} heures. Reconnectez-vous."
    if now - seen_at >= idle * 60:
        return f"Votre session a expiré après {idle} minutes d'inactivité : reconnectez-vous."
    return None


def enforce_session_lifetime() -> Response | None:
    """Before every request: close a logged-in session that is idle or too old."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = _now()
    reason = session_expiry(now)
    if reason is None:
        session[SEEN_AT] = now
        return None
    end_session()
    flash(reason, "info")
    if getattr(current_app.view_functions.get(request.endpoint or ""), "is_public", False):
        return None  # the login page itself, for one, is simply shown
    if request.method == "GET":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("auth.login"))


def register(app: Flask) -> None:
    app.before_request(enforce_session_lifetime)


# Password confirmation before admin actions --------------------------------------------
# Flask-Login's freshness (confirm_login, login_fresh, needs_refresh) is the mechanism; its
# fresh flag has no age, so the time of the confirmation is kept beside it.


def record_password_confirmation() -> None:
    confirm_login()
    session[CONFIRMED_AT] = _now()


def password_recently_confirmed() -> bool:
    confirmed = session.get(CONFIRMED_AT)
    window = current_app.config["PASSWORD_CONFIRM_MINUTES"] * 60
    return login_fresh() and isinstance(confirmed, int) and 0 <= _now() - confirmed < window


def password_confirmation_required(view: F) -> F:
    """Require the password typed again within PASSWORD_CONFIRM_MINUTES (put under a role
    decorator, so that other roles still get their 403/404 first)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not password_recently_confirmed():
            return login_manager.needs_refresh()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# Known devices ------------------------------------------------------------------------------
# A browser the account logged in from keeps a signed cookie naming the account (OWASP's
# "device cookies"). An account under attack is slowed down for every other browser only:
# an attacker can make guessing slow, never lock the owner out of their usual browser.

KNOWN_DEVICE_COOKIE = "grants_device"
KNOWN_DEVICE_MAX_ACCOUNTS = 5


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def known_device_accounts() -> frozenset[int]:
    """The accounts that logged in from this browser (the request's signed cookie)."""
    value = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not value or len(value) > 512:
        return frozenset()
    try:
        ids = _device_serializer().loads(value, max_age=current_app.config["KNOWN_DEVICE_DAYS"] * 86400)
    except BadSignature:  # also SignatureExpired
        return frozenset()
    if not isinstance(ids, list):
        return frozenset()
    return frozenset(i for i in ids if isinstance(i, int) and not isinstance(i, bool))


def remember_device(response: Response, user: User) -> Response:
    """Mark this browser as one ``user`` logged in from (the most recent accounts first)."""
    ids = [user.id, *(i for i in sorted(known_device_accounts()) if i != user.id)][:KNOWN_DEVICE_MAX_ACCOUNTS]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE, _device_serializer().dumps(ids),
        max_age=current_app.config["KNOWN_DEVICE_DAYS"] * 86400, httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"], path="/compte/",
    )
    return response


def client_ip() -> str | None:
    return request.remote_addr if request else None


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce
