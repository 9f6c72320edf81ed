"""What a DREETS officer has to do, for their home page: their dossiers, complements received
to review, overdue complement requests, dossiers waiting too long for admissibility, unread
messages of the structures.

Each list is one statement whatever the number of dossiers: at most ``LIMIT`` rows, the
oldest first, with the total counted by a window function beside them (``COUNT(*) OVER ()``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from ..extensions import db
from ..formatting import PARIS
from ..models import (
    TERMINAL_STATES,
    Call,
    ComplementRequest,
    Dossier,
    DossierState,
    DossierVersion,
    Message,
    User,
    utcnow,
)

LIMIT = 10

Assignee = aliased(User, name="worklist_assignee")


@dataclass(frozen=True)
class WorkRow:
    dossier: Dossier
    #: The date the list is about (complements sent, due date, waiting since, last message).
    when: date | datetime | None
    #: Unread messages, for that list.
    count: int = 0


@dataclass
class WorkList:
    key: str
    title: str
    #: What ``WorkRow.when`` is, as a column header.
    when_label: str
    rows: list[WorkRow] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def _visible() -> ColumnElement[bool]:
    """What staff see of any call: submitted dossiers (never a draft)."""
    return (Dossier.state != DossierState.draft) & Dossier.submitted_at.is_not(None)


def _base(user: User, everyone: bool) -> Select[Any]:
    """Dossiers (with structure, call and assignee) of ``user``'s scope: theirs and those nobody
    follows, or everybody's."""
    query = (
        select(Dossier)
        .join(Dossier.structure)
        .join(Dossier.call)
        .outerjoin(Assignee, Dossier.assigned_to_id == Assignee.id)
        .where(_visible())
        .options(contains_eager(Dossier.structure), contains_eager(Dossier.call),
                 contains_eager(Dossier.assigned_to.of_type(Assignee)))
    )
    if not everyone:
        query = query.where(or_(Dossier.assigned_to_id == user.id, Dossier.assigned_to_id.is_(None)))
    return query


def _fetch(query: Select[Any], when: Any, order: Any, *extra: Any) -> tuple[list[WorkRow], int]:
    """The first ``LIMIT`` rows of ``query`` and the number of all of them, in one statement."""
    rows = db.session.execute(
        query.add_columns(when, *extra, func.count().over().label("total")).order_by(order, Dossier.id).limit(LIMIT)
    ).all()
    total = rows[0].total if rows else 0
    return [WorkRow(row[0], row[1], row[2] if extra else 0) for row in rows], total


def my_dossiers(user: User) -> WorkList:
    """The dossiers assigned to ``user`` that are still in progress."""
    work = WorkList("mes-dossiers", "Mes dossiers en cours", "Déposé le")
    query = _base(user, everyone=True).where(
        Dossier.assigned_to_id == user.id, Dossier.state.not_in(list(TERMINAL_STATES)))
    work.rows, work.total = _fetch(query, Dossier.submitted_at, Dossier.submitted_at)
    return work


def complements_received(user: User, everyone: bool) -> WorkList:
    """Dossiers back with the officer after answering complements (``Dossier.complements_received``)."""
    work = WorkList("complements-recus", "Compléments reçus à examiner", "Reçus le")
    answer = (ComplementRequest.dossier_id == Dossier.id) & (
        ComplementRequest.answered_version == Dossier.submitted_version)
    query = (_base(user, everyone).join(ComplementRequest, answer)
             .where(Dossier.state == DossierState.submitted, Dossier.submitted_version > 1))
    work.rows, work.total = _fetch(query, ComplementRequest.answered_at, ComplementRequest.answered_at)
    return work


def overdue_complements(user: User, everyone: bool, today: date) -> WorkList:
    """Open complement requests whose due date has passed."""
    work = WorkList("complements-en-retard", "Demandes de compléments en retard", "Échéance")
    open_request = and_(ComplementRequest.dossier_id == Dossier.id, ComplementRequest.answered_at.is_(None))
    query = (_base(user, everyone).join(ComplementRequest, open_request)
             .where(Dossier.state == DossierState.complements_requested, ComplementRequest.due_date < today))
    work.rows, work.total = _fetch(query, ComplementRequest.due_date, ComplementRequest.due_date)
    return work


def waiting_admissibility(user: User, everyone: bool, days: int, now: datetime) -> WorkList:
    """Dossiers waiting for the admissibility decision for more than ``days`` days since they
    last came to the DREETS (their submission, or the complements that answered a request)."""
    work = WorkList("recevabilite-en-attente", f"En attente de recevabilité depuis plus de {days} jours",
                    "En attente depuis le")
    latest = (DossierVersion.dossier_id == Dossier.id) & (DossierVersion.number == Dossier.submitted_version)
    query = (_base(user, everyone).join(DossierVersion, latest)
             .where(Dossier.state == DossierState.submitted, DossierVersion.created_at < now - timedelta(days=days)))
    work.rows, work.total = _fetch(query, DossierVersion.created_at, DossierVersion.created_at)
    return work


def unread_messages(user: User, everyone: bool) -> WorkList:
    """Dossiers with messages of their structure that no one at the DREETS has read yet."""
    work = WorkList("messages-non-lus", "Messages non lus", "Dernier message le")
    unread = (
        select(Message.dossier_id, func.count(Message.id).label("unread"),
               func.max(Message.created_at).label("last_at"))
        .where(Message.from_staff.is_(False), Message.read_at.is_(None))
        .group_by(Message.dossier_id)
        .subquery()
    )
    query = _base(user, everyone).join(unread, unread.c.dossier_id == Dossier.id)
    work.rows, work.total = _fetch(query, unread.c.last_at, unread.c.last_at, unread.c.unread)
    return work


def officer_work(user: User, *, everyone: bool, wait_days: int) -> list[WorkList]:
    """Every list of the officer's home, in the order a day's work takes them."""
    now = utcnow()
    return [
        complements_received(user, everyone),
        unread_messages(user, everyone),
        overdue_complements(user, everyone, now.astimezone(PARIS).date()),
        waiting_admissibility(user, everyone, wait_days, now),
        my_dossiers(user),
    ]


def my_queue_counts(user: User) -> list[tuple[Call, int]]:
    """Per call, how many dossiers in progress are assigned to ``user`` (for the queue links)."""
    rows = db.session.execute(
        select(Call, func.count(Dossier.id))
        .join(Dossier, Dossier.call_id == Call.id)
        .where(_visible(), Dossier.assigned_to_id == user.id, Dossier.state.not_in(list(TERMINAL_STATES)))
        .group_by(Call.id)
        .order_by(Call.closes_at.desc())
    ).all()
    return [(call, count) for call, count in rows]

