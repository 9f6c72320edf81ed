"""Committee sessions: agenda, decisions within the envelope, closing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ..extensions import db
from ..finance import STRAND_LABELS, STRANDS, check_envelope, format_eur, split_grant
from ..formatting import paris_date
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
from .dossiers import DossierError, apply_transition, next_counter

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


class DecisionError(DossierError):
    """A refused decision; ``field`` names the form field the message belongs next to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_members(members: list[User]) -> None:
    if any(member.role is not Role.committee for member in members):
        raise DossierError("Seuls des comptes « membre du comité » peuvent être invités.")


def create_session(
    call: Call, *, meets_at: datetime, place: str, chair_name: str, chair_quality: str,
    members: list[User], actor: User,
) -> CommitteeSession:
    """A planned session of ``call``, numbered after the call's earlier sessions (a deleted
    session's number is not given again)."""
    _check_staff(actor)
    _check_members(members)
    session = CommitteeSession(
        call=call, number=next_counter(call.id, "last_session_number"), meets_at=meets_at, place=place.strip(),
        chair_name=chair_name.strip(), chair_quality=chair_quality.strip(), members=list(members),
        created_by_id=actor.id,
    )
    db.session.add(session)
    db.session.flush()
    log_action("committee.create", session, actor,
               details={"call": call.code, "number": session.number, "members": [m.id for m in members]})
    return session


def _session_fields(session: CommitteeSession) -> dict[str, object]:
    return {"meets_at": session.meets_at.isoformat(), "place": session.place, "chair_name": session.chair_name,
            "chair_quality": session.chair_quality, "members": [m.id for m in session.members]}


def update_session(
    session: CommitteeSession, *, meets_at: datetime, place: str, chair_name: str, chair_quality: str,
    members: list[User], actor: User,
) -> None:
    """Change the date, place, chair or invited members of a planned session (audited: what
    changed, before and after)."""
    if not session.can_edit(actor):
        raise DossierError("Seule une séance programmée peut être modifiée : celle-ci est "
                           f"{session.status.title.lower()}.")
    _check_members(members)
    before = _session_fields(session)
    session.meets_at = meets_at
    session.place = place.strip()
    session.chair_name = chair_name.strip()
    session.chair_quality = chair_quality.strip()
    session.members = list(members)
    after = _session_fields(session)
    changes = {key: {"before": before[key], "after": after[key]} for key in before if before[key] != after[key]}
    db.session.flush()
    if changes:
        log_action("committee.update", session, actor, details={"number": session.number, "changes": changes})


def delete_session(session: CommitteeSession, actor: User) -> None:
    """Delete a planned session with an empty agenda (audited); its number is not reused."""
    if not session.can_delete(actor):
        raise DossierError("Seule une séance programmée dont l'ordre du jour est vide peut être supprimée."
                           if session.status is SessionStatus.planned else
                           "Seule une séance programmée peut être supprimée.")
    log_action("committee.delete", session, actor, details={
        "call": session.call.code, "number": session.number, **_session_fields(session),
    })
    db.session.delete(session)
    db.session.flush()


def convocation_fingerprint(session: CommitteeSession) -> str:
    """What a convocation announces (date, place, chair, members, agenda), as a hash: the page
    tells the officer when the session changed since the last one sent."""
    what = _session_fields(session) | {"agenda": [item.dossier_id for item in session.items]}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def convene(session: CommitteeSession, actor: User, *, now: datetime | None = None) -> list[User]:
    """Record that the convocation is sent now to the invited members (again, if it was
    already), and return them: the view e-mails them once this is committed."""
    if not session.can_convene(actor):
        raise DossierError("La convocation s'envoie tant que la séance est programmée.")
    if not session.members:
        raise DossierError("Aucun membre du comité n'est invité à cette séance : modifiez la séance pour "
                           "inviter ses membres avant d'envoyer la convocation.")
    if not session.items:
        raise DossierError("L'ordre du jour est vide : inscrivez les dossiers avant d'envoyer la convocation.")
    session.convocation_sent_at = now or utcnow()
    session.convocation_fingerprint = convocation_fingerprint(session)
    db.session.flush()
    log_action("committee.convocation", session, actor, details={
        "number": session.number, "recipients": [m.id for m in session.members],
        "agenda": [item.dossier.reference for item in session.items],
    })
    return list(session.members)


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
    deferring = db.session.scalar(
        select(CommitteeSession).join(AgendaItem).where(
            AgendaItem.dossier_id == dossier.id, AgendaItem.decision == Decision.deferred,
            CommitteeSession.status != SessionStatus.closed,
        )
    )
    if deferring is not None:
        raise DossierError(
            f"Ce dossier a été ajourné par la {deferring.label}, qui n'est pas encore close : sa décision "
            "peut encore y être corrigée. Il pourra être inscrit à une autre séance après la clôture."
        )
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


def _check_due(session: CommitteeSession, now: datetime, what: str) -> None:
    if not session.is_due(now):
        raise DossierError(
            f"La séance est prévue le {paris_date(session.meets_at)} : elle ne peut être {what} qu'à partir "
            "de cette date. Si elle a été avancée, modifiez d'abord sa date."
        )


def mark_held(
    session: CommitteeSession, actor: User, *, present: list[User] | None = None, other_attendees: str = "",
    now: datetime | None = None, without_members: bool = False,
) -> None:
    """The session took place, on or after its date: record it with its attendance (by
    default, every invited member present), which stays editable until the closing. A
    session without invited members is held only when the officer confirms it
    (``without_members``): its members may attend without an account, as other attendees."""
    _check_staff(actor)
    _check_open(session)
    if session.status is not SessionStatus.planned:
        raise DossierError("La séance n'est plus programmée.")
    if not session.items:
        raise DossierError("L'ordre du jour est vide.")
    held_at = now or utcnow()
    _check_due(session, held_at, "marquée tenue")
    if not session.members and not without_members:
        raise DecisionError(
            "Aucun membre du comité n'est invité à cette séance : invitez ses membres (« Modifier la séance ») "
            "ou confirmez qu'elle s'est tenue sans eux.", field="without_members",
        )
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


@dataclass(frozen=True)
class RetainedPlan:
    """What the instruction retained for a dossier, per strand: the FSE+ (each strand's
    ceiling for the committee) and the base subventionnable."""

    fse: dict[str, Decimal]
    base: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.fse.values(), ZERO)


def retained_plan(dossier: Dossier) -> RetainedPlan:
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
    if instruction is None or instruction.fse_retained_total is None or not instruction.finance:
        raise DossierError("Ce dossier n'a pas de montant retenu à l'instruction.")
    return plan_of(instruction)


def plan_of(instruction: Instruction) -> RetainedPlan:
    strands = instruction.finance["result"]["strands"] if instruction.finance else {}
    return RetainedPlan(
        fse={s: Decimal(strands[s]["fse"]) if s in strands else ZERO for s in STRANDS},
        base={s: Decimal(strands[s]["base"]) if s in strands else ZERO for s in STRANDS},
    )


INSTRUCTED_STATES = frozenset({DossierState.instructed, DossierState.deferred, DossierState.selected,
                               DossierState.rejected})


def closed_instruction(dossier: Dossier) -> Instruction | None:
    """The closed instruction of a dossier that reached the committee: the retained plan its
    decision rests on, which the applicant sees from then on."""
    if dossier.state not in INSTRUCTED_STATES:
        return None
    return db.session.scalar(
        select(Instruction).where(Instruction.dossier_id == dossier.id, Instruction.instructed_at.is_not(None))
    )


def retained_maximum(dossier: Dossier) -> Decimal:
    return retained_plan(dossier).total


def _granted(plan: RetainedPlan, amounts: Mapping[str, Decimal | None] | None,
             amount: Decimal | None) -> dict[str, Decimal]:
    """The FSE+ granted per strand: ``amounts`` as typed, else ``amount`` shared in proportion
    of the retained figures, else the retained figures; each within its strand's retained FSE+."""
    if amounts is None:
        if amount is None:
            return dict(plan.fse)
        if amount <= 0:
            raise DecisionError("Le montant programmé doit être positif.")
        if amount > plan.total:
            raise DecisionError(
                f"Le montant programmé dépasse le maximum retenu à l'instruction ({format_eur(plan.total)}).")
        return split_grant(amount, plan.fse)
    granted = {}
    for strand in STRANDS:
        field, label = f"amount_{strand}", STRAND_LABELS[strand].lower()
        value = amounts.get(strand)
        if value is None:
            raise DecisionError(f"Indiquez le FSE+ programmé pour le volet {label} (0 si aucun).", field)
        if value < 0:
            raise DecisionError("Le montant programmé doit être positif ou nul.", field)
        if value > plan.fse[strand]:
            raise DecisionError(
                f"Le montant programmé pour le volet {label} dépasse le maximum retenu à l'instruction pour ce "
                f"volet ({format_eur(plan.fse[strand])}).", field,
            )
        granted[strand] = value
    if sum(granted.values(), ZERO) <= 0:
        raise DecisionError("Le montant programmé doit être positif : sinon, rejetez ou ajournez le dossier.",
                            f"amount_{STRANDS[0]}")
    return granted


def _lock(item: AgendaItem) -> None:
    """Serialise decisions of one call: the call row is locked until commit (PostgreSQL);
    the item and its dossier are read again under the lock, another officer may have
    decided this very item while we waited for it."""
    db.session.execute(select(Call.id).where(Call.id == item.session.call_id).with_for_update())
    db.session.refresh(item)
    db.session.refresh(item.dossier)


def _decide(
    item: AgendaItem, decision: Decision, actor: User, *, amounts: Mapping[str, Decimal | None] | None,
    amount: Decimal | None, motive: str, now: datetime | None,
) -> dict[str, Decimal] | None:
    """Check and write ``decision`` on ``item`` (replacing the one it had); the granted
    amounts per strand for a selection."""
    session = item.session
    motive = motive.strip()
    granted = None
    if decision is Decision.selected:
        granted = _granted(retained_plan(item.dossier), amounts, amount)
        total = sum(granted.values(), ZERO)
        figures = envelope(session)
        # A correction replaces the item's own earlier grant: it no longer counts.
        others = figures.granted_before + figures.proposed - (item.amount_granted or ZERO)
        findings = check_envelope(figures.total, others + total)
        if findings:
            raise DecisionError(
                f"{findings[0].message} Reste disponible : {format_eur(figures.total - others)}.",
                f"amount_{STRANDS[0]}",
            )
    elif decision is Decision.rejected and not motive:
        raise DecisionError("Le motif du rejet est obligatoire : il est notifié au porteur.", "motive")
    item.decision = decision
    item.granted_reperage = granted["reperage"] if granted else None
    item.granted_sortie_emploi = granted["sortie_emploi"] if granted else None
    item.amount_granted = sum(granted.values(), ZERO) if granted else None
    item.motive = motive
    item.decided_at = now or utcnow()
    item.decided_by_id = actor.id
    return granted


def _decision_details(item: AgendaItem) -> dict[str, object]:
    return {
        "decision": item.decision.value if item.decision else None,
        "amount": None if item.amount_granted is None else str(item.amount_granted),
        "granted": {s: str(v) for s, v in item.granted.items()} if item.granted else None,
        "motive": item.motive,
    }


def record_decision(
    item: AgendaItem, decision: Decision, actor: User, *, amounts: Mapping[str, Decimal | None] | None = None,
    amount: Decimal | None = None, motive: str = "", now: datetime | None = None,
) -> None:
    """Record what the committee decided. A selection grants FSE+ per strand (``amounts``;
    by default the retained figures; a total ``amount`` alone is shared in proportion of
    them), each within its strand's retained figure, the total within the remaining
    envelope, even when two officers record at the same moment."""
    _check_staff(actor)
    session = item.session
    _check_open(session)
    if session.status is not SessionStatus.held:
        raise DossierError("Les décisions s'enregistrent une fois la séance tenue.")
    if item.decision is not None:
        raise DossierError("La décision sur ce dossier est déjà enregistrée.")
    _lock(item)
    if item.decision is not None:
        raise DossierError(
            "La décision sur ce dossier vient d'être enregistrée par une autre personne : "
            "rechargez la page pour la voir."
        )
    _decide(item, decision, actor, amounts=amounts, amount=amount, motive=motive, now=now)
    apply_transition(item.dossier, DECISION_STATES[decision], actor, session_id=session.id,
                     **_decision_details(item))


def correct_decision(
    item: AgendaItem, decision: Decision, actor: User, *, expected: str,
    amounts: Mapping[str, Decimal | None] | None = None, amount: Decimal | None = None, motive: str = "",
    now: datetime | None = None,
) -> None:
    """Replace the decision recorded on ``item`` while its session is held (the closing
    freezes it): audited with the decision replaced, the dossier's state following through
    the transition table. ``expected`` is the :attr:`AgendaItem.decision_stamp` the officer
    saw: a decision changed since by someone else is not overwritten."""
    _check_staff(actor)
    session = item.session
    _check_open(session)
    if not session.can_decide(actor):
        raise DossierError("Les décisions se corrigent tant que la séance est tenue et non close.")
    if item.decision is None:
        raise DossierError("Aucune décision n'est encore enregistrée sur ce dossier.")
    _lock(item)
    if item.decision_stamp != expected:
        raise DossierError(
            "La décision sur ce dossier vient d'être modifiée par une autre personne : "
            "rechargez la page pour la voir."
        )
    dossier = item.dossier
    previous = item.decision
    if dossier.state is not DECISION_STATES[previous]:
        raise DossierError(
            f"Le dossier est « {dossier.state.title} » depuis cette décision : elle ne peut plus être corrigée ici."
        )
    before = _decision_details(item)
    _decide(item, decision, actor, amounts=amounts, amount=amount, motive=motive, now=now)
    after = _decision_details(item)
    if after == before:
        raise DecisionError("La décision est inchangée : rien n'a été enregistré.")
    details = {"session_id": session.id, "corrected": before, **after}
    if decision is previous:
        log_action("dossier.decision_corrected", dossier, actor,
                   details={"label": f"Décision du comité corrigée ({decision.title.lower()})", **details})
    else:
        apply_transition(dossier, DECISION_STATES[decision], actor, **details)


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
    _check_due(session, now or utcnow(), "close")
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
