from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .structures import StructureKind
from .types import Base, UTCDateTime, enum_column, utcnow


class RegistrationRequest(Base):
    """A registration waiting for the person to open the link e-mailed to the address.

    Nothing exists for the rest of the application until then (no account, no structure):
    registering answers the same whether the address has an account or not, and only the
    owner of the address can go further. The link's token is kept as its SHA-256 only.
    """

    __tablename__ = "registration_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    structure_name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14))
    structure_kind: Mapped[StructureKind] = mapped_column(enum_column(StructureKind, "structure_kind"))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<RegistrationRequest {self.id} {self.email}>"
