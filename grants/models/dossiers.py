from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..antivirus import ScanStatus
from .types import Base, Money, UTCDateTime, enum_column, utcnow
from .users import Role

if TYPE_CHECKING:
    from .calls import Call
    from .instruction import ComplementRequest, Message
    from .structures import Structure
    from .users import User


class DossierState(enum.Enum):
    draft = "draft"
    submitted = "submitted"
    complements_requested = "complements_requested"
    admissible = "admissible"
    inadmissible = "inadmissible"
    instructed = "instructed"
    selected = "selected"
    rejected = "rejected"
    deferred = "deferred"
    withdrawn = "withdrawn"

    @property
    def title(self) -> str:
        return STATE_TITLES[self]

    @property
    def badge(self) -> str:
        """DSFR badge variant for the state."""
        return STATE_BADGES.get(self, "")


STATE_TITLES = {
    DossierState.draft: "Brouillon",
    DossierState.submitted: "Déposé",
    DossierState.complements_requested: "Compléments demandés",
    DossierState.admissible: "Recevable",
    DossierState.inadmissible: "Irrecevable",
    DossierState.instructed: "Instruit",
    DossierState.selected: "Programmé",
    DossierState.rejected: "Rejeté",
    DossierState.deferred: "Ajourné",
    DossierState.withdrawn: "Retiré",
}
STATE_BADGES = {
    DossierState.draft: "fr-badge--info",
    DossierState.submitted: "fr-badge--new",
    DossierState.complements_requested: "fr-badge--warning",
    DossierState.admissible: "fr-badge--success",
    DossierState.inadmissible: "fr-badge--error",
    DossierState.selected: "fr-badge--success",
    DossierState.rejected: "fr-badge--error",
}

TERMINAL_STATES = frozenset(
    {DossierState.inadmissible, DossierState.selected, DossierState.rejected, DossierState.withdrawn}
)
# States in which a dossier carries a reference and a submission date.
SUBMITTED_STATES = frozenset(set(DossierState) - {DossierState.draft, DossierState.withdrawn})


class Dossier(Base):
    """An applicant structure's answer to a call; its content is edited only as a draft."""

    __tablename__ = "dossiers"
    __table_args__ = (
        CheckConstraint(
            "state IN ('draft', 'withdrawn') OR (reference IS NOT NULL AND submitted_at IS NOT NULL)",
            name="submitted_has_reference",
        ),
        CheckConstraint("(state = 'withdrawn') = (withdrawn_at IS NOT NULL)", name="withdrawn_has_date"),
        Index("ix_dossiers_call_state", "call_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    state: Mapped[DossierState] = mapped_column(
        enum_column(DossierState, "dossier_state"), default=DossierState.draft
    )
    reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    # The draft, one key per section; amounts are strings of exact decimals.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Last financing computation with the parameters that produced it.
    finance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fse_requested_total: Mapped[Decimal | None] = mapped_column(Money())
    fse_max_total: Mapped[Decimal | None] = mapped_column(Money())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)
    # What the latest submitted version asked for, copied when it is frozen (a version never
    # changes): the queue sorts and shows them, the exports read them, without opening the
    # versions' snapshots. The working copy above may differ while complements are answered.
    submitted_version: Mapped[int | None]
    submitted_fse_requested: Mapped[Decimal | None] = mapped_column(Money())
    submitted_fse_max: Mapped[Decimal | None] = mapped_column(Money())
    submitted_figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The same for what officers read of it besides the figures: the project title (the
    # applicant's saved title shows on their own pages only, until it is sent), and for the
    # exports the QPV, young people per strand and other co-financing
    # (``dossier_sections.submitted_summary``).
    submitted_title: Mapped[str | None] = mapped_column(String(300))
    submitted_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    call: Mapped[Call] = relationship()
    structure: Mapped[Structure] = relationship()
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    complement_requests: Mapped[list[ComplementRequest]] = relationship(
        back_populates="dossier", order_by="ComplementRequest.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="dossier", order_by="Message.id", cascade="all, delete-orphan"
    )
    versions: Mapped[list[DossierVersion]] = relationship(
        back_populates="dossier", order_by="DossierVersion.number", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="dossier", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    # Permission predicates: views and templates ask these, never the role directly.

    def is_member(self, user: User) -> bool:
        """An approved member of the dossier's structure (a pending request is not enough)."""
        return user.is_member_of(self.structure_id)

    def can_view(self, user: User) -> bool:
        if self.is_member(user):
            return True
        # State staff see what has been submitted, never a structure's private draft.
        return user.role in (Role.officer, Role.admin) and self.state is not DossierState.draft and (
            self.submitted_at is not None
        )

    def can_edit(self, user: User) -> bool:
        """Edit the working copy: a draft, or the requested parts during complements."""
        return self.is_member(user) and self.state in (DossierState.draft, DossierState.complements_requested)

    def title_for(self, user: User) -> str:
        """The project title ``user`` may read: the working copy for the structure's members,
        the latest submitted one for everybody else (staff never see unsent work)."""
        if self.is_member(user):
            return self.title
        return self.submitted_title or ""

    @property
    def complements_received(self) -> bool:
        """Back with the officer after answering complements, not yet judged: a dossier is
        frozen as version 1 when submitted, and again only when complements are sent."""
        return self.state is DossierState.submitted and (self.submitted_version or 0) > 1

    @property
    def open_complement_request(self) -> ComplementRequest | None:
        return next((r for r in self.complement_requests if r.is_open), None)

    def can_edit_section(self, user: User, key: str) -> bool:
        if not self.can_edit(user):
            return False
        if self.state is DossierState.draft:
            return True
        request = self.open_complement_request
        return request is not None and key in request.sections

    def can_edit_attachment_type(self, user: User, type_code: str) -> bool:
        if not self.can_edit(user):
            return False
        if self.state is DossierState.draft:
            return True
        request = self.open_complement_request
        return request is not None and ("attachments" in request.sections or type_code in request.attachment_types)

    def can_answer_complements(self, user: User) -> bool:
        return self.is_member(user) and self.state is DossierState.complements_requested

    def can_instruct(self, user: User) -> bool:
        """Staff work on a submitted dossier (checklist, complements, instruction, messages)."""
        return user.role in (Role.officer, Role.admin) and self.submitted_at is not None

    def can_message(self, user: User) -> bool:
        return self.submitted_at is not None and (self.is_member(user) or self.can_instruct(user))

    def can_submit(self, user: User) -> bool:
        return self.is_member(user) and self.state is DossierState.draft

    def can_withdraw(self, user: User) -> bool:
        return self.is_member(user) and self.state in (
            DossierState.draft, DossierState.submitted, DossierState.complements_requested,
        )

    @property
    def current_attachments(self) -> list[Attachment]:
        return [a for a in self.attachments if a.removed_at is None]

    @property
    def usable_attachments(self) -> list[Attachment]:
        """Current pièces that count for the dossier: not blocked by the antivirus."""
        return [a for a in self.current_attachments if a.scan_status is not ScanStatus.infected]

    @property
    def latest_version(self) -> DossierVersion | None:
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<Dossier {self.id} {self.reference or 'brouillon'} {self.state.value}>"


class DossierVersion(Base):
    """A frozen copy of a dossier's content at a submission, with its SHA-256."""

    __tablename__ = "dossier_versions"
    __table_args__ = (UniqueConstraint("dossier_id", "number", name="uq_dossier_versions_dossier_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32), default="submission")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    receipt_file: Mapped[str | None] = mapped_column(String(64))
    receipt_sha256: Mapped[str | None] = mapped_column(String(64))

    dossier: Mapped[Dossier] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()


class Attachment(Base):
    """An uploaded pièce; never deleted once a submitted version refers to it."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("size > 0", name="not_empty"),
        CheckConstraint("(scan_status = 'infected') = (scan_signature IS NOT NULL)", name="infected_has_signature"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    type_code: Mapped[str] = mapped_column(String(40))
    display_name: Mapped[str] = mapped_column(String(200))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Antivirus verdict (grants/antivirus.py): only unchecked and clean files are served.
    scan_status: Mapped[ScanStatus] = mapped_column(
        enum_column(ScanStatus, "scan_status"), default=ScanStatus.unchecked, server_default=ScanStatus.unchecked.value
    )
    scan_signature: Mapped[str | None] = mapped_column(String(200))
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    dossier: Mapped[Dossier] = relationship(back_populates="attachments")


class ReferenceCounter(Base):
    """The numbers given in each call: the last dossier reference number, bumped inside the
    submission (a refused submission rolls it back: references have no gaps), and the last
    committee session number, bumped when a session is created (a deleted session's number is
    never given again)."""

    __tablename__ = "reference_counters"
    __table_args__ = (
        CheckConstraint("last_number >= 0", name="last_number_positive"),
        CheckConstraint("last_session_number >= 0", name="last_session_number_positive"),
    )

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)
    last_session_number: Mapped[int] = mapped_column(default=0)
