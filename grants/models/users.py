from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .types import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .structures import Structure


class Role(enum.Enum):
    applicant = "applicant"
    officer = "officer"
    committee = "committee"
    admin = "admin"

    @property
    def title(self) -> str:
        return ROLE_TITLES[self]


ROLE_TITLES = {
    Role.applicant: "Porteur de projet",
    Role.officer: "Gestionnaire FSE+ (DREETS)",
    Role.committee: "Membre du comité de sélection",
    Role.admin: "Administrateur de la plateforme",
}


class MembershipState(enum.Enum):
    """An applicant's standing in their structure; State staff are always ``active``."""

    active = "active"  # a member: shares the structure's dossiers and profile
    pending = "pending"  # asked to join an existing structure, waiting for a member or an admin
    refused = "refused"  # the request was refused: the account is closed

    @property
    def title(self) -> str:
        return MEMBERSHIP_TITLES[self]


MEMBERSHIP_TITLES = {
    MembershipState.active: "Membre de la structure",
    MembershipState.pending: "Demande de rattachement en attente",
    MembershipState.refused: "Demande de rattachement refusée",
}


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # An applicant always belongs to a structure; State staff never do.
        CheckConstraint(
            "(role = 'applicant') = (structure_id IS NOT NULL)", name="applicant_has_structure"
        ),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        # Only an applicant who asked to join an existing structure waits for approval, and
        # a refused request closes the account.
        CheckConstraint("role = 'applicant' OR membership = 'active'", name="staff_membership_active"),
        CheckConstraint("membership != 'refused' OR NOT is_active", name="refused_member_inactive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    # A SIRET is public: registering with the SIRET of a structure already on the platform
    # gives a pending member, who sees nothing of the structure until a member approves.
    membership: Mapped[MembershipState] = mapped_column(
        enum_column(MembershipState, "membership_state"),
        default=MembershipState.active, server_default=MembershipState.active.value,
    )
    # Rotated at logout and password change: every cookie carrying the old one dies.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Structure.users lists the approved members only (view-only): no back-population.
    structure: Mapped[Structure | None] = relationship()

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def is_member_of(self, structure_id: int | None) -> bool:
        """An approved member of the structure: the only way to its dossiers and profile."""
        return (
            self.role is Role.applicant and self.membership is MembershipState.active
            and structure_id is not None and self.structure_id == structure_id
        )

    @property
    def is_pending_member(self) -> bool:
        return self.role is Role.applicant and self.membership is MembershipState.pending

    def can_decide_membership(self, user: User) -> bool:
        """``user`` may approve or refuse this person's request to join their structure:
        an approved member of that structure, or an admin."""
        return self.is_pending_member and (user.role is Role.admin or user.is_member_of(self.structure_id))

    @property
    def is_locked(self) -> bool:
        """Locked by failed logins (LOGIN_MAX_FAILURES), until ``locked_until``."""
        return self.locked_until is not None and self.locked_until > utcnow()

    def can_administer(self, user: User) -> bool:
        """``user`` may edit, deactivate, unlock this account or change its role: an admin."""
        return user.role is Role.admin

    @property
    def is_staff(self) -> bool:
        """DREETS staff: officers and admins (an admin does everything an officer does)."""
        return self.role in (Role.officer, Role.admin)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
