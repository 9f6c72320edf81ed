"""The selection committee: sessions, invited members, agenda items and their decisions."""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .types import Base, Money, UTCDateTime, enum_column, utcnow
from .users import Role

PARIS = ZoneInfo("Europe/Paris")

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
        # Numbered per call in the order of creation (grants.models.ReferenceCounter): the
        # call's second session is « séance n° 2 », whatever its id.
        CheckConstraint("number >= 1", name="number_positive"),
        Index("uq_committee_sessions_call_number", "call_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    number: Mapped[int]
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
    # The last convocation e-mailed to the invited members, and the fingerprint of what it
    # announced (date, place, chair, members, agenda): a change since is shown to the officer.
    convocation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    convocation_fingerprint: Mapped[str | None] = mapped_column(String(64))
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
    def label(self) -> str:
        """« séance n° 2 »: the call's own numbering, used by every page, document and file name."""
        return f"séance n° {self.number}"

    @property
    def meets_on(self) -> date:
        """The session's date in Paris: it is held, and its decisions dated, on that day."""
        return self.meets_at.astimezone(PARIS).date()

    def is_due(self, now: datetime) -> bool:
        """A session is held on or after its date (the server's Paris date), never before."""
        return now.astimezone(PARIS).date() >= self.meets_on

    @staticmethod
    def _staff(user: User) -> bool:
        return user.role in (Role.officer, Role.admin)

    def can_edit(self, user: User) -> bool:
        """Date, place, chair and members change while the session is planned."""
        return self.status is SessionStatus.planned and self._staff(user)

    def can_delete(self, user: User) -> bool:
        """Only a planned session with an empty agenda is deleted (its number is not reused)."""
        return self.can_edit(user) and not self.items

    def can_convene(self, user: User) -> bool:
        """The convocation is (re)sent while the session is planned."""
        return self.can_edit(user)

    def can_mark_held(self, user: User, now: datetime) -> bool:
        return self.can_edit(user) and self.is_due(now)

    def can_decide(self, user: User) -> bool:
        """Decisions are recorded, and corrected, while the session is held (closing freezes them)."""
        return self.status is SessionStatus.held and self._staff(user)

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
        return self.status is SessionStatus.held and self._staff(user)


SELECTED_HAS_STRAND_AMOUNTS = (
    "decision != 'selected' OR (granted_reperage IS NOT NULL AND granted_sortie_emploi IS NOT NULL"
    " AND amount_granted = granted_reperage + granted_sortie_emploi)"
)
ONLY_SELECTED_HAS_AMOUNTS = (
    "(decision IS NOT NULL AND decision = 'selected')"
    " OR (amount_granted IS NULL AND granted_reperage IS NULL AND granted_sortie_emploi IS NULL)"
)
STRAND_AMOUNTS_POSITIVE = (
    "(granted_reperage IS NULL OR granted_reperage >= 0) AND (granted_sortie_emploi IS NULL OR granted_sortie_emploi >= 0)"
)


class AgendaItem(Base):
    """A dossier on a session's agenda, and the decision the committee took on it."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("session_id", "dossier_id", name="uq_agenda_items_session_dossier"),
        CheckConstraint("decision != 'selected' OR amount_granted IS NOT NULL", name="selected_has_amount"),
        CheckConstraint("decision != 'rejected' OR length(motive) > 0", name="rejected_has_motive"),
        CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="decided_has_date"),
        CheckConstraint("amount_granted IS NULL OR amount_granted >= 0", name="amount_positive"),
        # A selection grants FSE+ per strand, the total being their sum; nothing else grants.
        CheckConstraint(SELECTED_HAS_STRAND_AMOUNTS, name="selected_has_strand_amounts"),
        CheckConstraint(ONLY_SELECTED_HAS_AMOUNTS, name="only_selected_has_amounts"),
        CheckConstraint(STRAND_AMOUNTS_POSITIVE, name="strand_amounts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_sessions.id", ondelete="CASCADE"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    position: Mapped[int]
    decision: Mapped[Decision | None] = mapped_column(enum_column(Decision, "decision"))
    # The FSE+ granted: in total, and per strand (the total is their sum).
    amount_granted: Mapped[Decimal | None] = mapped_column(Money())
    granted_reperage: Mapped[Decimal | None] = mapped_column(Money())
    granted_sortie_emploi: Mapped[Decimal | None] = mapped_column(Money())
    motive: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    letter_file: Mapped[str | None] = mapped_column(String(64))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))

    session: Mapped[CommitteeSession] = relationship(back_populates="items")
    dossier: Mapped[Dossier] = relationship()

    @property
    def decision_stamp(self) -> str:
        """Identifies the decision recorded ("" when none): a correction names the decision it
        replaces, so that one recorded meanwhile by someone else is never overwritten."""
        if self.decision is None:
            return ""
        parts = (self.decision.value, self.amount_granted, self.granted_reperage, self.granted_sortie_emploi,
                 self.motive, self.decided_at.isoformat() if self.decided_at else "")
        return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:16]

    @property
    def granted(self) -> dict[str, Decimal] | None:
        """The FSE+ granted per strand (``reperage``, ``sortie_emploi``), for a selection."""
        if self.granted_reperage is None or self.granted_sortie_emploi is None:
            return None
        return {"reperage": self.granted_reperage, "sortie_emploi": self.granted_sortie_emploi}
