"""What DREETS officers record on a dossier: admissibility, complements, messages, instruction."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..antivirus import ScanStatus
from .types import Base, Money, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .dossiers import Dossier
    from .users import User


class AdmissibilityOutcome(enum.Enum):
    admissible = "admissible"
    inadmissible = "inadmissible"
    complements = "complements"

    @property
    def title(self) -> str:
        return {
            AdmissibilityOutcome.admissible: "Recevable",
            AdmissibilityOutcome.inadmissible: "Irrecevable",
            AdmissibilityOutcome.complements: "Compléments demandés",
        }[self]


class AdmissibilityReview(Base):
    """The officer's checklist on a dossier: one answer per criterion of the call."""

    __tablename__ = "admissibility_reviews"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR (decided_at IS NOT NULL AND decided_by_id IS NOT NULL)",
            name="decided_has_author",
        ),
        CheckConstraint("outcome != 'inadmissible' OR length(motive) > 0", name="inadmissible_has_motive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), unique=True)
    # {criterion code: {"auto": "pass"|"fail"|None, "auto_reason": str, "value": "pass"|"fail"|None, "comment": str}}
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[AdmissibilityOutcome | None] = mapped_column(
        enum_column(AdmissibilityOutcome, "admissibility_outcome")
    )
    motive: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The notification of an inadmissibility, rendered once when it is declared.
    letter_file: Mapped[str | None] = mapped_column(String(64))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    dossier: Mapped[Dossier] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class ComplementRequest(Base):
    """A request for complements: which sections and attachment types may change, by when."""

    __tablename__ = "complement_requests"
    __table_args__ = (
        # At most one open request per dossier, enforced by the database.
        Index(
            "uq_complement_requests_one_open", "dossier_id", unique=True,
            sqlite_where=text("answered_at IS NULL"), postgresql_where=text("answered_at IS NULL"),
        ),
        CheckConstraint("(answered_at IS NULL) = (answered_version IS NULL)", name="answered_has_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    attachment_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date]
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_version: Mapped[int | None]

    dossier: Mapped[Dossier] = relationship(back_populates="complement_requests")
    requested_by: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.answered_at is None

    #: The latest due date an officer may set, in days from today (about three months): the
    #: default is 10 working days, and a far date would keep the dossier frozen for ever.
    MAX_DELAY_DAYS = 92

    @classmethod
    def due_date_problem(cls, due_date: date, today: date) -> str | None:
        """Why ``due_date`` cannot end a request made ``today`` (French), or None."""
        if due_date <= today:
            return "L'échéance doit être postérieure à aujourd'hui."
        latest = date.fromordinal(today.toordinal() + cls.MAX_DELAY_DAYS)
        if due_date > latest:
            return f"L'échéance doit être fixée au plus tard le {latest:%d/%m/%Y} (trois mois)."
        return None


class Message(Base):
    """A message between DREETS officers and the structure's users about one dossier."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("length(body) > 0", name="not_empty"),
        CheckConstraint("(attachment_file IS NULL) = (attachment_scan_status IS NULL)", name="attachment_has_scan_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    from_staff: Mapped[bool]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The other side has read it (staff for an applicant's message, the structure otherwise).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_file: Mapped[str | None] = mapped_column(String(64))
    attachment_mime: Mapped[str | None] = mapped_column(String(100))
    attachment_size: Mapped[int | None]
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))
    attachment_scan_status: Mapped[ScanStatus | None] = mapped_column(enum_column(ScanStatus, "message_scan_status"))
    attachment_scan_signature: Mapped[str | None] = mapped_column(String(200))
    attachment_scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    dossier: Mapped[Dossier] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()


class Opinion(enum.Enum):
    favourable = "favourable"
    reserved = "reserved"
    unfavourable = "unfavourable"

    @property
    def title(self) -> str:
        return {
            Opinion.favourable: "Favorable",
            Opinion.reserved: "Réservé",
            Opinion.unfavourable: "Défavorable",
        }[self]


class Instruction(Base):
    """The officer's analysis: retained values, their computation, and an opinion."""

    __tablename__ = "instructions"
    __table_args__ = (
        CheckConstraint(
            "instructed_at IS NULL OR (opinion IS NOT NULL AND length(opinion_text) > 0)",
            name="instructed_has_opinion",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), unique=True)
    # Retained inputs per strand, in the dossier content's shape (public + resources).
    retained: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The retained computation with the parameters used (FinancingResult.to_snapshot()).
    finance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fse_retained_total: Mapped[Decimal | None] = mapped_column(Money())
    opinion: Mapped[Opinion | None] = mapped_column(enum_column(Opinion, "opinion"))
    opinion_text: Mapped[str] = mapped_column(Text, default="")
    instructed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    instructed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    dossier: Mapped[Dossier] = relationship()
    instructed_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
