"""The selection committee: sessions, invited members, agenda items and their decisions."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .types import Base, Money, UTCDateTime, enum_column, utcnow
from .users import Role

if TYPE_CHECKING:
    from .calls import Call
    from .dossiers import Dossier
    from .users import User


class SessionStatus(enum.Enum):
    planned = "planned"
    held = "held"
    closed = "closed"

    @property
    def title(self) -> str:
        return {SessionStatus.planned: "Programmée", SessionStatus.held: "Tenue", SessionStatus.closed: "Close"}[self]


class Decision(enum.Enum):
    selected = "selected"
    rejected = "rejected"
    deferred = "deferred"

    @property
    def title(self) -> str:
        return {Decision.selected: "Programmé", Decision.rejected: "Rejeté", Decision.deferred: "Ajourné"}[self]


session_members = Table(
    "committee_session_members",
    Base.metadata,
    Column("session_id", ForeignKey("committee_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)

# The invited members who attended a held session; the composite key into the invitations
# keeps attendance within the invited members.
session_attendees = Table(
    "committee_session_attendees",
    Base.metadata,
    Column("session_id", ForeignKey("committee_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    ForeignKeyConstraint(
        ["session_id", "user_id"],
        ["committee_session_members.session_id", "committee_session_members.user_id"],
        name="fk_committee_session_attendees_member", ondelete="CASCADE",
    ),
)


class CommitteeSession(Base):
    """A meeting of the comité de sélection, chaired by the Préfet or a representative."""

    __tablename__ = "committee_sessions"
    __table_args__ = (
        CheckConstraint("(status = 'planned') OR held_at IS NOT NULL", name="held_has_date"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_has_date"),
        # Attendance is recorded when the session is marked held, and kept from then on
        # (sessions closed before attendance was recorded have none).
        CheckConstraint("status != 'planned' OR (attendance_recorded_at IS NULL AND other_attendees = '')",
                        name="planned_has_no_attendance"),
        CheckConstraint("status != 'held' OR attendance_recorded_at IS NOT NULL", name="held_has_attendance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    meets_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(300))
    chair_name: Mapped[str] = mapped_column(String(200))
    chair_quality: Mapped[str] = mapped_column(String(200), default="Préfet de la région Hauts-de-France")
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, "session_status"),
                                                  default=SessionStatus.planned)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Attendees other than the invited members (free text, e.g. "Mme X, DDETS du Nord").
    other_attendees: Mapped[str] = mapped_column(Text, default="", server_default="")
    minutes_file: Mapped[str | None] = mapped_column(String(64))
    minutes_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    call: Mapped[Call] = relationship()
    members: Mapped[list[User]] = relationship(secondary=session_members, order_by="User.full_name")
    attendees: Mapped[list[User]] = relationship(secondary=session_attendees, order_by="User.full_name")
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="session", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def is_member(self, user: User) -> bool:
        return any(member.id == user.id for member in self.members)

    @property
    def attendance_recorded(self) -> bool:
        return self.attendance_recorded_at is not None

    @property
    def excused(self) -> list[User]:
        """Invited members who did not attend (once attendance is recorded)."""
        if not self.attendance_recorded:
            return []
        present = {user.id for user in self.attendees}
        return [member for member in self.members if member.id not in present]

    def can_record_attendance(self, user: User) -> bool:
        """Attendance is recorded while the session is held; closing freezes it."""
        return self.status is SessionStatus.held and user.role in (Role.officer, Role.admin)


class AgendaItem(Base):
    """A dossier on a session's agenda, and the decision the committee took on it."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("session_id", "dossier_id", name="uq_agenda_items_session_dossier"),
        CheckConstraint("decision != 'selected' OR amount_granted IS NOT NULL", name="selected_has_amount"),
        CheckConstraint("decision != 'rejected' OR length(motive) > 0", name="rejected_has_motive"),
        CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="decided_has_date"),
        CheckConstraint("amount_granted IS NULL OR amount_granted >= 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_sessions.id", ondelete="CASCADE"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    position: Mapped[int]
    decision: Mapped[Decision | None] = mapped_column(enum_column(Decision, "decision"))
    amount_granted: Mapped[Decimal | None] = mapped_column(Money())
    motive: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    letter_file: Mapped[str | None] = mapped_column(String(64))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))

    session: Mapped[CommitteeSession] = relationship(back_populates="items")
    dossier: Mapped[Dossier] = relationship()
