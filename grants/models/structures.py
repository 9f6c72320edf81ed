from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .types import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .users import User


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

    users: Mapped[list[User]] = relationship(back_populates="structure")

    __mapper_args__ = {"version_id_col": version}

    def can_edit(self, user: User) -> bool:
        from .users import Role

        return user.role is Role.applicant and user.structure_id == self.id

    def __repr__(self) -> str:
        return f"<Structure {self.id} {self.name}>"
