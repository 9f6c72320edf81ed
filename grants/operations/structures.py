"""DREETS staff's checks on structures (issue 14, item 5): verifying that a structure is the
one its SIRET names, correcting a SIRET once a dossier was submitted, removing a member.

A SIRET is public: the first person to register one becomes the structure's member without
any proof. So a structure created by an applicant is *to verify* until staff verify it (an
automatic admissibility criterion fails meanwhile; drafts can start), and once a dossier of
the structure was submitted only staff change its SIRET. Every change is audited; flushes
only, the views commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Role, Structure, StructureVerification, User, utcnow
from ..models.users import MembershipState, new_session_token
from .audit import log_action


class StructureError(ValueError):
    """A refused change of a structure; the message is French and shown to the user."""


def _check_staff(actor: User) -> None:
    if not actor.is_staff:
        raise StructureError("Action réservée au service FSE+ de la DREETS.")


def verify_structure(structure: Structure, actor: User, *, note: str = "", now: datetime | None = None) -> None:
    """Staff checked the structure (SIRENE, a call to its director, its Kbis…): verified."""
    _check_staff(actor)
    if structure.is_verified:
        raise StructureError("Cette structure est déjà vérifiée.")
    structure.verification = StructureVerification.verified
    structure.verified_at = now or utcnow()
    db.session.flush()
    log_action(
        "structure.verify", structure, actor, from_state=StructureVerification.to_verify.value,
        to_state=StructureVerification.verified.value, details={"siret": structure.siret, "note": note.strip()},
    )


def unverify(structure: Structure, actor: User | None, reason: str) -> None:
    """Back to *to verify* (its SIRET changed since it was verified)."""
    if not structure.is_verified:
        return
    structure.verification = StructureVerification.to_verify
    structure.verified_at = None
    db.session.flush()
    log_action(
        "structure.unverify", structure, actor, from_state=StructureVerification.verified.value,
        to_state=StructureVerification.to_verify.value, details={"reason": reason},
    )


def change_siret(structure: Structure, siret: str, actor: User, *, motive: str) -> str:
    """Staff correct the SIRET (a dossier may be on the record with the old one); returns the
    old SIRET. The structure's verification stands: staff made the change."""
    _check_staff(actor)
    motive = motive.strip()
    if not motive:
        raise StructureError("Indiquez le motif de la modification : il est communiqué aux membres de la structure.")
    if siret == structure.siret:
        raise StructureError("Ce SIRET est déjà celui de la structure.")
    if db.session.scalar(select(Structure.id).where(Structure.siret == siret, Structure.id != structure.id)):
        raise StructureError("Une autre structure est déjà inscrite avec ce SIRET.")
    old = structure.siret
    structure.siret = siret
    db.session.flush()
    log_action("structure.siret_change", structure, actor, details={"from": old, "to": siret, "motive": motive})
    return old


def remove_member(member: User, actor: User) -> None:
    """An admin takes a member out of a structure (someone who registered a SIRET that is not
    their employer's): the account is closed and its sessions end."""
    if actor.role is not Role.admin:
        raise StructureError("Seul l'administrateur de la plateforme retire un membre d'une structure.")
    if not member.is_member_of(member.structure_id) or not member.is_active:
        raise StructureError("Cette personne n'est pas (ou plus) membre de la structure.")
    member.membership = MembershipState.refused
    member.is_active = False
    member.session_token = new_session_token()
    db.session.flush()
    log_action(
        "user.membership_remove", member, actor, from_state=MembershipState.active.value,
        to_state=MembershipState.refused.value, details={"structure_id": member.structure_id, "email": member.email},
    )
