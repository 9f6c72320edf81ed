"""Access control core: role decorators, public allow-list, object loading, passwords."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user

from .extensions import db, login_manager
from .models import Role, User

F = TypeVar("F", bound=Callable[..., Any])

MIN_PASSWORD_LENGTH = 12


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
                # not exist for them (DESIGN.md §7).
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
    return None


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


def client_ip() -> str | None:
    return request.remote_addr if request else None


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce
