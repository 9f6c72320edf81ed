"""E-mails about accounts, sent once the change is committed: requests to join a structure and
their decisions, failed attempts on an account.

A mail failure is logged and never undoes the request or the decision."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..mail import send_safely, user_text
from ..urls import external_url
from ..models import Role, Structure, User


def notify_membership_requested(requester: User) -> None:
    """Tell the structure's members that someone asks to join it (the admins when the
    structure has no active member left, so that the request is never stuck)."""
    structure = db.session.get(Structure, requester.structure_id)
    members = [u.email for u in structure.users if u.is_active]
    if members:
        link = external_url("applicant.edit_structure", _anchor="demandes-rattachement")
    else:
        members = list(db.session.scalars(
            select(User.email).where(User.role == Role.admin, User.is_active.is_(True)).order_by(User.id)
        ))
        link = external_url("admin.list_users")
    send_safely(
        members, f"Demande de rattachement à « {user_text(structure.name, 60)} »", "email/membership_requested.txt",
        requester=requester, structure=structure, link=link,
    )


def notify_membership_decided(requester: User, *, approved: bool) -> None:
    """Tell the requester whether they are now a member of the structure."""
    structure = db.session.get(Structure, requester.structure_id)
    send_safely(
        [requester.email],
        f"Votre demande de rattachement à « {user_text(structure.name, 60)} » est {'acceptée' if approved else 'refusée'}",
        "email/membership_decided.txt",
        requester=requester, structure=structure, approved=approved,
        link=external_url("auth.login"),
    )


def notify_login_slowdown(user: User) -> None:
    """Tell the owner that repeated wrong passwords slow their account down for new browsers."""
    from flask import current_app

    send_safely(
        [user.email], "Tentatives de connexion à votre compte", "email/login_slowdown.txt",
        user=user, failures=current_app.config["LOGIN_MAX_FAILURES"],
        link=external_url("auth.forgot_password"),
    )


def notify_siret_changed(structure: Structure, old_siret: str, actor: User, motive: str = "") -> None:
    """Tell the structure's members that its SIRET changed, who changed it and why."""
    send_safely(
        [u.email for u in structure.users if u.is_active],
        f"SIRET de la structure « {user_text(structure.name, 60)} » modifié", "email/structure_siret_changed.txt",
        structure=structure, old_siret=old_siret, actor=actor, by_staff=actor.is_staff, motive=motive,
        link=external_url("applicant.edit_structure"),
    )
