from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .types import Base, UTCDateTime, enum_column, utcnow
from .users import MembershipState, User


class StructureKind(enum.Enum):
    mission_locale = "mission_locale"
    plie = "plie"
    association = "association"
    other_spe = "other_spe"

    @property
    def title(self) -> str:
        return STRUCTURE_KIND_TITLES[self]


STRUCTURE_KIND_TITLES = {
    StructureKind.mission_locale: "Mission locale",
    StructureKind.plie: "PLIE",
    StructureKind.association: "Association",
    StructureKind.other_spe: "Autre membre du service public de l'emploi",
}


class Structure(Base):
    """A structure porteuse: one applicant legal entity (no consortium)."""

    __tablename__ = "structures"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    legal_form: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[StructureKind] = mapped_column(enum_column(StructureKind, "structure_kind"))
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    commune_insee: Mapped[str] = mapped_column(String(5), default="")
    commune_name: Mapped[str] = mapped_column(String(100), default="")
    departement: Mapped[str] = mapped_column(String(3), default="", index=True)
    legal_rep_name: Mapped[str] = mapped_column(String(200), default="")
    legal_rep_title: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    # The approved members: every "users of the structure" (e-mails, shared dossiers) means
    # them, never a pending request (operations.accounts.pending_members lists those).
    # View-only: membership changes go through User.
    users: Mapped[list[User]] = relationship(
        primaryjoin=lambda: and_(Structure.id == User.structure_id, User.membership == MembershipState.active),
        viewonly=True, order_by=lambda: User.id,
    )

    __mapper_args__ = {"version_id_col": version}

    def can_edit(self, user: User) -> bool:
        return user.is_member_of(self.id)

    def __repr__(self) -> str:
        return f"<Structure {self.id} {self.name}>"
