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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Rotated at logout and password change: every cookie carrying the old one dies.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    structure: Mapped[Structure | None] = relationship(back_populates="users")

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

    @property
    def is_staff(self) -> bool:
        """DREETS staff: officers and admins (an admin does everything an officer does)."""
        return self.role in (Role.officer, Role.admin)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
