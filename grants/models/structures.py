from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, String, and_, exists, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

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


class StructureVerification(enum.Enum):
    """Whether DREETS staff checked that the structure is who its SIRET says (issue 14)."""

    to_verify = "to_verify"  # created by an applicant: anybody may type any public SIRET
    verified = "verified"  # checked by DREETS staff (audited: who, when)

    @property
    def title(self) -> str:
        return VERIFICATION_TITLES[self]


VERIFICATION_TITLES = {
    StructureVerification.to_verify: "Structure à vérifier",
    StructureVerification.verified: "Structure vérifiée",
}


class Structure(Base):
    """A structure porteuse: one applicant legal entity (no consortium)."""

    __tablename__ = "structures"
    __table_args__ = (
        CheckConstraint("(verification = 'verified') = (verified_at IS NOT NULL)", name="verified_has_date"),
    )

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
    # The first person to register a SIRET becomes its member without any proof: until DREETS
    # staff verify the structure it is "to verify", a failing admissibility criterion.
    verification: Mapped[StructureVerification] = mapped_column(
        enum_column(StructureVerification, "structure_verification"),
        default=StructureVerification.to_verify, server_default=StructureVerification.to_verify.value, index=True,
    )
    # When it was verified; who did is the audit entry "structure.verify" (a column referring
    # to users would make users and structures refer to each other).
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The approved members: every "users of the structure" (e-mails, shared dossiers) means
    # them, never a pending request (operations.accounts.pending_members lists those).
    # View-only: membership changes go through User.
    users: Mapped[list[User]] = relationship(
        primaryjoin=lambda: and_(Structure.id == User.structure_id, User.membership == MembershipState.active),
        viewonly=True, order_by=lambda: User.id,
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_verified(self) -> bool:
        return self.verification is StructureVerification.verified

    def can_edit(self, user: User) -> bool:
        return user.is_member_of(self.id)

    def can_verify(self, user: User) -> bool:
        """DREETS staff check structures (officers and admins)."""
        return user.is_staff

    @property
    def has_submitted_dossier(self) -> bool:
        """A dossier of the structure was submitted once: its SIRET is on the record."""
        from .dossiers import Dossier

        session = object_session(self)
        if session is None or self.id is None:
            return False
        return bool(session.scalar(
            select(exists().where(Dossier.structure_id == self.id, Dossier.submitted_at.is_not(None)))
        ))

    def can_change_siret(self, user: User) -> bool:
        """Staff always; a member only until a dossier of the structure is submitted."""
        return user.is_staff or (self.can_edit(user) and not self.has_submitted_dossier)

    def __repr__(self) -> str:
        return f"<Structure {self.id} {self.name}>"
