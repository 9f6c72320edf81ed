"""Accounts: registration, login bookkeeping, password changes and resets."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import RegistrationRequest, Role, Structure, StructureKind, User, utcnow
from ..models.users import MembershipState, new_session_token
from ..security import hash_password, verify_password
from .audit import log_action


class AccountError(ValueError):
    """A refused account operation, with a French message for the user (shown next to
    ``field``, the form field it is about, when there is one)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    *,
    email: str,
    full_name: str,
    role: Role,
    password: str | None = None,
    password_hash: str | None = None,
    structure: Structure | None = None,
    actor: User | None = None,
) -> User:
    """A new account, with ``password`` (hashed here) or an already computed ``password_hash``."""
    email = normalise_email(email)
    if find_user(email) is not None:
        raise AccountError("Un compte existe déjà avec cette adresse e-mail.")
    if (role is Role.applicant) != (structure is not None):
        raise AccountError("Seuls les comptes porteurs de projet sont rattachés à une structure.")
    if (password is None) == (password_hash is None):
        raise ValueError("create_user needs a password or its hash, not both")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        structure=structure,
        password_hash=password_hash or hash_password(password or ""),
        password_changed_at=utcnow(),
    )
    db.session.add(user)
    log_action("user.create", user, actor, details={"role": role.value, "email": email})
    return user


# Administration of accounts ---------------------------------------------------------------

STAFF_ROLES = (Role.officer, Role.committee, Role.admin)


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.role == Role.admin, User.is_active.is_(True), User.id != user.id)
    ) or 0


def _keep_an_admin(user: User, actor: User, what: str) -> None:
    """Refuse a change that would leave the platform without an active admin: an admin cannot
    take away their own rights unless another admin remains."""
    if user.role is Role.admin and user.is_active and not _other_active_admins(user):
        whose = "votre propre compte" if user.id == actor.id else "ce compte"
        raise AccountError(
            f"Impossible de {what} {whose} : c'est le seul compte administrateur actif. "
            "Donnez d'abord le rôle d'administrateur à une autre personne.", field="role",
        )


def _release_dossiers(user: User, actor: User) -> int:
    """Dossiers in progress assigned to ``user`` go back to nobody (audited on each dossier): a
    deactivated account, or one that is no longer DREETS staff, follows none. Returns how many."""
    from ..models import TERMINAL_STATES, Dossier
    from .assignment import assign_dossier

    dossiers = db.session.scalars(
        select(Dossier).where(Dossier.assigned_to_id == user.id, Dossier.state.not_in(list(TERMINAL_STATES)))
    ).all()
    for dossier in dossiers:
        assign_dossier(dossier, None, actor)
    return len(dossiers)


def update_account(user: User, *, full_name: str, email: str, role: Role | None, actor: User) -> tuple[dict[str, list[str]], int]:
    """Change an account's name, e-mail address and (State staff only) role, audited.

    Returns the changes (before, after) and how many dossiers were released because the
    account left the DREETS staff."""
    email = normalise_email(email)
    role = role or user.role
    if email != user.email and find_user(email) is not None:
        raise AccountError("Un compte existe déjà avec cette adresse e-mail.", field="email")
    if role is not user.role:
        if user.role is Role.applicant or role is Role.applicant:
            raise AccountError("Le rôle d'un compte porteur de projet ne change pas : il appartient à sa structure.",
                               field="role")
        if role not in STAFF_ROLES:
            raise AccountError("Rôle inconnu.", field="role")
        if user.role is Role.admin:
            _keep_an_admin(user, actor, "retirer le rôle d'administrateur à")
    changes: dict[str, list[str]] = {}
    for key, value in (("full_name", full_name.strip()), ("email", email)):
        if getattr(user, key) != value:
            changes[key] = [getattr(user, key), value]
            setattr(user, key, value)
    released = 0
    if role is not user.role:
        changes["role"] = [user.role.value, role.value]
        was_staff = user.is_staff
        user.role = role
        if was_staff and not user.is_staff:
            released = _release_dossiers(user, actor)
    if changes:
        db.session.flush()
        log_action("user.update", user, actor, details={"changes": changes, "released_dossiers": released})
    return changes, released


def set_account_active(user: User, active: bool, actor: User) -> int:
    """Deactivate an account (its sessions end, its dossiers in progress go back to nobody) or
    reactivate it; audited. Returns how many dossiers were released."""
    if active is user.is_active:
        return 0
    released = 0
    if not active:
        _keep_an_admin(user, actor, "désactiver")
        user.is_active = False
        user.session_token = new_session_token()  # every open session of the account ends
        released = _release_dossiers(user, actor) if user.is_staff else 0
    else:
        if user.membership is MembershipState.refused:
            raise AccountError("Ce compte a été fermé par le refus de sa demande de rattachement : "
                               "la personne peut créer un nouveau compte.")
        user.is_active = True
    db.session.flush()
    log_action("user.activate" if active else "user.deactivate", user, actor,
               from_state="inactive" if active else "active", to_state="active" if active else "inactive",
               details={"released_dossiers": released})
    return released


def unlock_account(user: User, actor: User) -> bool:
    """Lift the lock left by failed logins (audited); False when the account was not locked."""
    if not user.is_locked:
        return False
    user.locked_until = None
    user.failed_logins = 0
    db.session.flush()
    log_action("user.unlock", user, actor)
    return True


def find_structure_by_siret(siret: str) -> Structure | None:
    return db.session.scalar(select(Structure).where(Structure.siret == siret))


def register_applicant(
    *,
    email: str,
    full_name: str,
    siret: str,
    structure_name: str,
    structure_kind: StructureKind,
    password: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create an applicant account, and its structure when the SIRET is new.

    The first person of a structure is its member at once. A SIRET is public, so a person
    registering with the SIRET of a structure already on the platform only asks to join
    it: the account is a pending member, who sees none of the structure's dossiers until
    a member of the structure (or an admin) approves.
    """
    structure = find_structure_by_siret(siret)
    joining = structure is not None
    if structure is None:
        structure = Structure(name=structure_name.strip(), siret=siret, kind=structure_kind)
        db.session.add(structure)
        db.session.flush()
        log_action("structure.create", structure, None, details={"siret": siret})
    user = create_user(
        email=email, full_name=full_name, role=Role.applicant, password=password, password_hash=password_hash,
        structure=structure,
    )
    if joining:
        user.membership = MembershipState.pending
    log_action(
        "user.register", user, user, to_state=user.membership.value,
        details={"structure_id": structure.id, "joins_existing_structure": joining},
    )
    return user


# Registration by e-mail -----------------------------------------------------------------------
# Registering answers the same whether the address has an account or not (no enumeration):
# the account is created only once the link e-mailed to the address is opened, and an address
# that already has an account receives a reminder instead of a link.


@dataclass(frozen=True)
class RegistrationSent:
    """What to e-mail ``email``: the confirmation link's ``token``, or None when the address
    already has an account (its owner is reminded of it instead)."""

    email: str
    token: str | None


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _registration_max_age() -> timedelta:
    return timedelta(hours=current_app.config["REGISTRATION_MAX_HOURS"])


def request_registration(
    *, email: str, full_name: str, password: str, siret: str, structure_name: str, structure_kind: StructureKind,
) -> RegistrationSent:
    """Keep a registration until its address is confirmed (``RegistrationSent.token``), or
    note that the address already has an account. Expired requests are purged on the way."""
    email = normalise_email(email)
    now = utcnow()
    db.session.execute(delete(RegistrationRequest).where(RegistrationRequest.created_at < now - _registration_max_age()))
    password_hash = hash_password(password)  # in both cases: the same time either way
    existing = find_user(email)
    if existing is not None:
        log_action("user.register_existing_address", existing, None)
        return RegistrationSent(email, None)
    token = secrets.token_urlsafe(32)
    db.session.add(RegistrationRequest(
        token_sha256=_token_digest(token), email=email, full_name=full_name.strip(),
        structure_name=structure_name.strip(), siret=siret, structure_kind=structure_kind,
        password_hash=password_hash, created_at=now,
    ))
    db.session.flush()
    return RegistrationSent(email, token)


def registration_for_token(token: object) -> RegistrationRequest | None:
    """The registration waiting for this link, if it is still valid."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    request = db.session.scalar(
        select(RegistrationRequest).where(RegistrationRequest.token_sha256 == _token_digest(token))
    )
    if request is None or request.created_at < utcnow() - _registration_max_age():
        return None
    return request


def confirm_registration(request: RegistrationRequest) -> User:
    """The address is confirmed: create the account (and the structure when its SIRET is new,
    or a request to join it). Every other pending registration of the address goes."""
    if find_user(request.email) is not None:
        db.session.delete(request)
        raise AccountError(
            "Un compte existe déjà avec cette adresse : connectez-vous, ou choisissez « Mot de passe oublié ? »."
        )
    user = register_applicant(
        email=request.email, full_name=request.full_name, siret=request.siret,
        structure_name=request.structure_name, structure_kind=request.structure_kind,
        password_hash=request.password_hash,
    )
    db.session.execute(delete(RegistrationRequest).where(RegistrationRequest.email == request.email))
    return user


def decide_membership(requester: User, actor: User, *, approve: bool) -> None:
    """Approve a pending member (a member of the structure from now on) or refuse them (the
    account is closed and its sessions end); by a member of the structure or an admin."""
    decision = MembershipState.active if approve else MembershipState.refused
    if not requester.can_decide_membership(actor):
        raise AccountError("Cette demande de rattachement a déjà été traitée ou ne vous est pas adressée.")
    values: dict[str, object] = {"membership": decision}
    if decision is MembershipState.refused:
        values |= {"is_active": False, "session_token": new_session_token()}
    # Conditional on the request still pending: of two members deciding at the same time,
    # only one decision is recorded.
    result = db.session.execute(
        update(User)
        .where(User.id == requester.id, User.membership == MembershipState.pending)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise AccountError("Cette demande de rattachement vient d'être traitée par quelqu'un d'autre.")
    action = "user.membership_approve" if decision is MembershipState.active else "user.membership_refuse"
    log_action(
        action, requester, actor, from_state=MembershipState.pending.value, to_state=decision.value,
        details={"structure_id": requester.structure_id, "email": requester.email},
    )


def pending_members(structure_id: int | None = None) -> list[User]:
    """Requests to join a structure still waiting, oldest first (one structure's, or all)."""
    query = (
        select(User)
        .where(User.membership == MembershipState.pending, User.is_active.is_(True))
        .options(joinedload(User.structure))
    )
    if structure_id is not None:
        query = query.where(User.structure_id == structure_id)
    return list(db.session.scalars(query.order_by(User.created_at, User.id)))


@dataclass(frozen=True)
class Attempt:
    """The outcome of a password check: ``user`` when it succeeded, and ``slowed``, the account
    whose slowdown this failure has just started (its owner is told by e-mail)."""

    user: User | None
    slowed: User | None = None


def _slowed_for(user: User, now: datetime, known_accounts: frozenset[int]) -> bool:
    """Is ``user`` slowed down for this browser (one the account never logged in from)?"""
    return user.id not in known_accounts and user.locked_until is not None and user.locked_until > now


def authenticate(email: str, password: str, *, known_accounts: frozenset[int] = frozenset()) -> Attempt:
    """Check the credentials; ``Attempt.user`` is the user when they are right and the account usable.

    No one can lock an account: after LOGIN_MAX_FAILURES failures, a browser the account never
    logged in from (``known_accounts``: the device cookie's accounts) may try once per delay,
    growing from LOGIN_DELAY_FIRST_SECONDS to LOGIN_DELAY_MAX_SECONDS; an attempt inside the
    delay is refused unchecked, with the generic message of a wrong password. The owner's
    usual browsers are never slowed, and the password reset lifts the delay. The attacking
    address itself is throttled by the rate limits of the login form.
    """
    user = find_user(email)
    now = utcnow()
    if user is not None and _slowed_for(user, now, known_accounts):
        verify_password(None, password)  # the same effort as a real check
        return Attempt(None)
    if not verify_password(user, password) or user is None or not user.is_active:
        started = _count_failure(user, now) if user is not None else False
        return Attempt(None, slowed=user if started else None)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    log_action("user.login", user, user)
    return Attempt(user)


def check_password(
    user: User, password: str, *, known_accounts: frozenset[int] = frozenset(), action: str = "user.password_confirm",
) -> Attempt:
    """Check the password of a logged-in user before a sensitive action (confirmation before
    admin actions, password change).

    Failures count towards the same slowdown as the login form, so a stolen session cannot
    be used to guess the password."""
    now = utcnow()
    if _slowed_for(user, now, known_accounts):
        verify_password(None, password)
        return Attempt(None)
    if not verify_password(user, password):
        return Attempt(None, slowed=user if _count_failure(user, now) else None)
    user.failed_logins = 0
    user.locked_until = None
    log_action(action, user, user)
    return Attempt(user)


def _count_failure(user: User, now: datetime) -> bool:
    """One more failure; True when it starts the account's slowdown (the owner is told once)."""
    user.failed_logins += 1
    excess = user.failed_logins - current_app.config["LOGIN_MAX_FAILURES"]
    started = excess == 0
    if excess >= 0:
        first, longest = current_app.config["LOGIN_DELAY_FIRST_SECONDS"], current_app.config["LOGIN_DELAY_MAX_SECONDS"]
        user.locked_until = now + timedelta(seconds=min(first * 2 ** min(excess, 20), longest))
        if started:
            log_action("user.slowed_down", user, None, details={"failures": user.failed_logins})
    db.session.flush()
    return started


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


MAX_USER_ID = 2**31 - 1  # users.id is a 32-bit INTEGER on PostgreSQL


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
    uid = data.get("uid")
    # A signed but foreign id (a token from another database, or forged with a leaked key)
    # is just an invalid link: an id no INTEGER column can hold would make the lookup fail.
    if not isinstance(uid, int) or isinstance(uid, bool) or not 0 < uid <= MAX_USER_ID:
        return None
    user = db.session.get(User, uid)
    if user is None or not user.is_active or data.get("h") != _hash_digest(user):
        return None
    return user


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
