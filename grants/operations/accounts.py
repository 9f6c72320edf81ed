"""Accounts: registration, login bookkeeping, password changes and resets."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from ..extensions import db
from ..models import Role, Structure, StructureKind, User, utcnow
from ..models.users import new_session_token
from ..security import hash_password, verify_password
from .audit import log_action


class AccountError(ValueError):
    """A refused account operation, with a French message for the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    *,
    email: str,
    full_name: str,
    role: Role,
    password: str,
    structure: Structure | None = None,
    actor: User | None = None,
) -> User:
    email = normalise_email(email)
    if find_user(email) is not None:
        raise AccountError("Un compte existe déjà avec cette adresse e-mail.")
    if (role is Role.applicant) != (structure is not None):
        raise AccountError("Seuls les comptes porteurs de projet sont rattachés à une structure.")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        structure=structure,
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
    )
    db.session.add(user)
    log_action("user.create", user, actor, details={"role": role.value, "email": email})
    return user


def find_structure_by_siret(siret: str) -> Structure | None:
    return db.session.scalar(select(Structure).where(Structure.siret == siret))


def register_applicant(
    *,
    email: str,
    full_name: str,
    password: str,
    siret: str,
    structure_name: str,
    structure_kind: StructureKind,
) -> User:
    """Create an applicant account, and its structure when the SIRET is new.

    A structure may have several users: a second person of the same Mission locale
    registers with the same SIRET and joins the existing structure.
    """
    structure = find_structure_by_siret(siret)
    if structure is None:
        structure = Structure(name=structure_name.strip(), siret=siret, kind=structure_kind)
        db.session.add(structure)
        db.session.flush()
        log_action("structure.create", structure, None, details={"siret": siret})
    user = create_user(
        email=email, full_name=full_name, role=Role.applicant, password=password, structure=structure
    )
    log_action("user.register", user, user, details={"structure_id": structure.id})
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user if the credentials are right and the account is usable.

    Failures count per account; after LOGIN_MAX_FAILURES the account is locked for
    LOGIN_LOCK_MINUTES whatever the password, and the caller shows the same generic
    message as for a wrong password.
    """
    user = find_user(email)
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)
        return None
    if not verify_password(user, password) or user is None or not user.is_active:
        if user is not None:
            _count_failure(user, now)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    log_action("user.login", user, user)
    return user


def confirm_password(user: User, password: str) -> bool:
    """Check the password of a logged-in user before a sensitive action.

    Failures count towards the same lock as the login form, so a stolen session cannot
    be used to guess the password."""
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)
        return False
    if not verify_password(user, password):
        _count_failure(user, now)
        return False
    user.failed_logins = 0
    log_action("user.password_confirm", user, user)
    return True


def _count_failure(user: User, now: datetime) -> None:
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        log_action("user.locked", user, None)
    db.session.flush()


def logout(user: User) -> None:
    """Rotate the session token so the old cookie is refused everywhere."""
    user.session_token = new_session_token()
    log_action("user.logout", user, user)


def change_password(user: User, new_password: str, actor: User | None = None) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()
    user.failed_logins = 0
    user.locked_until = None
    log_action("user.password_change", user, actor or user)


# Password reset tokens: signed, expiring, and single-use because they embed a digest
# of the current password hash (changing the password invalidates them).


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _hash_digest(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "h": _hash_digest(user)})


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("uid")) if isinstance(data.get("uid"), int) else None
    if user is None or not user.is_active or data.get("h") != _hash_digest(user):
        return None
    return user


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
