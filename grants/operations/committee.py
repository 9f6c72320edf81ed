"""Committee sessions: agenda, decisions within the envelope, closing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ..extensions import db
from ..finance import check_envelope, format_eur
from ..models import (
    AgendaItem,
    Call,
    CommitteeSession,
    Decision,
    Dossier,
    DossierState,
    Instruction,
    Role,
    SessionStatus,
    User,
    utcnow,
)
from ..storage import FileStore
from .audit import log_action
from .dossiers import DossierError, apply_transition

if TYPE_CHECKING:
    from .documents import IssuedLetter

ZERO = Decimal("0.00")
DECISION_STATES = {
    Decision.selected: DossierState.selected,
    Decision.rejected: DossierState.rejected,
    Decision.deferred: DossierState.deferred,
}


def _check_staff(actor: User) -> None:
    if actor.role not in (Role.officer, Role.admin):
        raise DossierError("Action réservée au service gestionnaire FSE+.")


def create_session(
    call: Call, *, meets_at: datetime, place: str, chair_name: str, chair_quality: str,
    members: list[User], actor: User,
) -> CommitteeSession:
    _check_staff(actor)
    if any(member.role is not Role.committee for member in members):
        raise DossierError("Seuls des comptes « membre du comité » peuvent être invités.")
    session = CommitteeSession(
        call=call, meets_at=meets_at, place=place.strip(), chair_name=chair_name.strip(),
        chair_quality=chair_quality.strip(), members=list(members), created_by_id=actor.id,
    )
    db.session.add(session)
    db.session.flush()
    log_action("committee.create", session, actor, details={"call": call.code, "members": [m.id for m in members]})
    return session


def _check_open(session: CommitteeSession) -> None:
    if session.status is SessionStatus.closed:
        raise DossierError("La séance est close : son procès-verbal est figé.")


def add_to_agenda(
    session: CommitteeSession, dossier: Dossier, actor: User, *, store: FileStore | None = None,
    now: datetime | None = None,
) -> AgendaItem:
    """List an instructed (or re-list a deferred) dossier of the same call.

    With ``store``, the dossier's fiche de synthèse is rendered and kept now (or found
    unchanged in storage): the committee pack then only joins stored fiches."""
    _check_staff(actor)
    _check_open(session)
    if dossier.call_id != session.call_id:
        raise DossierError("Ce dossier relève d'un autre appel à projets.")
    if dossier.state not in (DossierState.instructed, DossierState.deferred):
        raise DossierError("Seuls les dossiers instruits ou ajournés peuvent être inscrits à l'ordre du jour.")
    pending = db.session.scalar(
        select(AgendaItem).join(CommitteeSession).where(
            AgendaItem.dossier_id == dossier.id, AgendaItem.decision.is_(None),
            CommitteeSession.status != SessionStatus.closed,
        )
    )
    if pending is not None:
        raise DossierError("Ce dossier est déjà inscrit à l'ordre du jour d'une séance.")
    if dossier.state is DossierState.deferred:
        apply_transition(dossier, DossierState.instructed, actor, session_id=session.id)
    item = AgendaItem(session=session, dossier=dossier, position=len(session.items) + 1)
    db.session.add(item)
    db.session.flush()
    log_action("committee.add_item", session, actor, details={"dossier": dossier.reference})
    if store is not None:
        from .documents import fiche_pdf

        fiche_pdf(dossier, store=store, now=now)
    return item


def remove_from_agenda(item: AgendaItem, actor: User) -> None:
    """Withdraw a dossier from the agenda of a session not yet held; the others move up. The
    dossier stays instructed, ready for another session."""
    _check_staff(actor)
    session = item.session
    _check_open(session)
    if session.status is not SessionStatus.planned:
        raise DossierError("La séance est tenue : son ordre du jour ne change plus.")
    reference = item.dossier.reference
    session.items.remove(item)  # delete-orphan
    for position, other in enumerate(session.items, start=1):
        other.position = position
    db.session.flush()
    log_action("committee.remove_item", session, actor, details={"dossier": reference})


def reorder_agenda(session: CommitteeSession, item_ids: list[int], actor: User) -> None:
    _check_staff(actor)
    _check_open(session)
    items = {item.id: item for item in session.items}
    if sorted(item_ids) != sorted(items):
        raise DossierError("L'ordre du jour a changé entre-temps : rechargez la page.")
    for position, item_id in enumerate(item_ids, start=1):
        items[item_id].position = position
    db.session.flush()
    log_action("committee.reorder", session, actor, details={"order": item_ids})


def mark_held(
    session: CommitteeSession, actor: User, *, present: list[User] | None = None, other_attendees: str = "",
    now: datetime | None = None,
) -> None:
    """The session took place: record it with its attendance (by default, every invited
    member present), which stays editable until the closing."""
    _check_staff(actor)
    _check_open(session)
    if session.status is not SessionStatus.planned:
        raise DossierError("La séance n'est plus programmée.")
    if not session.items:
        raise DossierError("L'ordre du jour est vide.")
    held_at = now or utcnow()
    # The state and the attendance it requires reach the database together.
    with db.session.no_autoflush:
        _set_attendance(session, session.members if present is None else present, other_attendees, held_at)
        session.status = SessionStatus.held
        session.held_at = held_at
    db.session.flush()
    log_action("committee.held", session, actor, from_state="planned", to_state="held",
               details=_attendance_details(session))


def record_attendance(
    session: CommitteeSession, present: list[User], other_attendees: str, actor: User, *,
    now: datetime | None = None,
) -> None:
    """Correct who attended a held session (the closing freezes it in the minutes)."""
    _check_staff(actor)
    _check_open(session)
    if not session.can_record_attendance(actor):
        raise DossierError("Les présences s'enregistrent une fois la séance tenue.")
    _set_attendance(session, present, other_attendees, now or utcnow())
    db.session.flush()
    log_action("committee.attendance", session, actor, details=_attendance_details(session))


def _set_attendance(session: CommitteeSession, present: list[User], other_attendees: str, when: datetime) -> None:
    invited = {member.id: member for member in session.members}
    if any(user.id not in invited for user in present):
        raise DossierError("Seuls des membres invités à la séance peuvent y être présents.")
    chosen = {user.id for user in present}
    session.attendees = [member for member in session.members if member.id in chosen]
    lines = (line.strip() for line in other_attendees.replace("\r", "").split("\n"))
    session.other_attendees = "\n".join(line for line in lines if line)
    session.attendance_recorded_at = when


def _attendance_details(session: CommitteeSession) -> dict[str, object]:
    return {"present": [user.id for user in session.attendees], "excused": [user.id for user in session.excused],
            "others": session.other_attendees}


@dataclass(frozen=True)
class Envelope:
    total: Decimal
    granted_before: Decimal
    proposed: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.total - self.granted_before - self.proposed


def envelope(session: CommitteeSession) -> Envelope:
    """The call's envelope, granted by other sessions, granted in this one, what remains."""
    granted = select(func.coalesce(func.sum(AgendaItem.amount_granted), 0)).join(CommitteeSession).where(
        CommitteeSession.call_id == session.call_id, AgendaItem.decision == Decision.selected
    )
    # SUM and COALESCE keep the Money type: the totals come back as exact euros.
    before = db.session.scalar(granted.where(AgendaItem.session_id != session.id))
    here = db.session.scalar(granted.where(AgendaItem.session_id == session.id))
    return Envelope(session.call.envelope, Decimal(before).quantize(ZERO), Decimal(here).quantize(ZERO))


def retained_maximum(dossier: Dossier) -> Decimal:
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
    if instruction is None or instruction.fse_retained_total is None:
        raise DossierError("Ce dossier n'a pas de montant retenu à l'instruction.")
    return instruction.fse_retained_total


def record_decision(
    item: AgendaItem, decision: Decision, actor: User, *, amount: Decimal | None = None, motive: str = "",
    now: datetime | None = None,
) -> None:
    """Record what the committee decided; a selection never exceeds the retained maximum nor
    the remaining envelope, even when two officers record at the same moment."""
    _check_staff(actor)
    session = item.session
    _check_open(session)
    if session.status is not SessionStatus.held:
        raise DossierError("Les décisions s'enregistrent une fois la séance tenue.")
    if item.decision is not None:
        raise DossierError("La décision sur ce dossier est déjà enregistrée.")
    # Serialise decisions of one call: the call row is locked until commit (PostgreSQL).
    db.session.execute(select(Call.id).where(Call.id == session.call_id).with_for_update())
    # Read the item and its dossier again under the lock: another officer may have recorded
    # this very decision while we waited for it.
    db.session.refresh(item)
    if item.decision is not None:
        raise DossierError(
            "La décision sur ce dossier vient d'être enregistrée par une autre personne : "
            "rechargez la page pour la voir."
        )
    dossier = item.dossier
    db.session.refresh(dossier)
    motive = motive.strip()
    if decision is Decision.selected:
        maximum = retained_maximum(dossier)
        amount = maximum if amount is None else amount
        if amount <= 0:
            raise DossierError("Le montant programmé doit être positif.")
        if amount > maximum:
            raise DossierError(f"Le montant programmé dépasse le maximum retenu à l'instruction ({format_eur(maximum)}).")
        figures = envelope(session)
        findings = check_envelope(figures.total, figures.granted_before + figures.proposed + amount)
        if findings:
            raise DossierError(
                f"{findings[0].message} Reste disponible : {format_eur(figures.remaining)}."
            )
        item.amount_granted = amount
    elif decision is Decision.rejected:
        if not motive:
            raise DossierError("Le motif du rejet est obligatoire : il est notifié au porteur.")
    item.decision = decision
    item.motive = motive
    item.decided_at = now or utcnow()
    item.decided_by_id = actor.id
    apply_transition(
        dossier, DECISION_STATES[decision], actor, session_id=session.id,
        amount=None if item.amount_granted is None else str(item.amount_granted), motive=motive,
    )


def close_session(
    session: CommitteeSession, actor: User, *, store: FileStore, now: datetime | None = None,
) -> list[IssuedLetter]:
    """Close a held session whose every item is decided: its procès-verbal and the letters
    of its selections and rejections are rendered and stored, final from now on. The
    letters are returned, for the view to send them once the closing is committed."""
    from .documents import issue_letters, issue_minutes

    _check_staff(actor)
    if session.status is not SessionStatus.held:
        raise DossierError("Seule une séance tenue peut être close.")
    undecided = [item.dossier.reference for item in session.items if item.decision is None]
    if undecided:
        raise DossierError("Décisions manquantes pour : " + ", ".join(undecided) + ".")
    session.status = SessionStatus.closed
    session.closed_at = now or utcnow()
    db.session.flush()
    issue_minutes(session, store=store, now=session.closed_at)
    letters = issue_letters(session, store=store, now=session.closed_at)
    db.session.flush()
    log_action("committee.closed", session, actor, from_state="held", to_state="closed",
               details={"minutes_sha256": session.minutes_sha256, "letters": len(letters)})
    return letters
