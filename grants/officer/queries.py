"""The queries behind a call's queue: filters, sorting, counters, page.

Every query here has a fixed number of statements whatever the number of dossiers:
the page is one SELECT with its joins, the total one COUNT, the counters one GROUP BY,
and the complement requests of the page's rows one more SELECT.

The amounts (FSE+ requested, computed maximum) are those of the latest *submitted*
version, never the working copy: while complements are requested the applicant edits
``Dossier.content``/``Dossier.finance`` (and the totals cached beside them), and the queue
must keep showing what was actually submitted. They are copied onto the dossier row when
a version is frozen (``Dossier.submitted_*``), so sorting on them reads no JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, defer

from ..extensions import db
from ..formatting import PARIS
from ..pagination import clamp_page
from ..models import (
    Call,
    ComplementRequest,
    Dossier,
    DossierState,
    Role,
    Structure,
    StructureKind,
    User,
    utcnow,
)

PER_PAGE = 50

#: Every queue state, in lifecycle order (a draft is private to its structure).
QUEUE_STATES: tuple[DossierState, ...] = tuple(s for s in DossierState if s is not DossierState.draft)

Assignee = aliased(User, name="assignee")

#: Sort keys accepted in the URL (``?sort=…&order=asc|desc``) and the column each sorts on.
SORT_COLUMNS: dict[str, Any] = {
    "reference": Dossier.reference,
    "title": Dossier.submitted_title,
    "structure": Structure.name,
    "departement": Structure.departement,
    # Lifecycle order, not the alphabetical order of the codes.
    "state": case(*((Dossier.state == state, rank) for rank, state in enumerate(DossierState))),
    "submitted_at": Dossier.submitted_at,
    "requested": Dossier.submitted_fse_requested,
    "maximum": Dossier.submitted_fse_max,
    "assignee": Assignee.full_name,
}
DEFAULT_SORT = "submitted_at"
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class QueueFilters:
    """What an officer asked to see; built from the GET filter form."""

    state: DossierState | None = None
    kind: StructureKind | None = None
    departement: str | None = None
    mine: bool = False
    q: str = ""
    sort: str = DEFAULT_SORT
    order: str = "asc"
    page: int = 1

    def __post_init__(self) -> None:
        if self.sort not in SORT_COLUMNS:
            object.__setattr__(self, "sort", DEFAULT_SORT)
        if self.order not in ORDERS:
            object.__setattr__(self, "order", "asc")
        object.__setattr__(self, "page", max(int(self.page or 1), 1))

    def args(self, **changes: Any) -> dict[str, str]:
        """The URL query arguments of these filters (defaults left out), with ``changes``."""
        filters = replace(self, **changes) if changes else self
        values = {
            "state": filters.state.value if filters.state else "",
            "kind": filters.kind.value if filters.kind else "",
            "departement": filters.departement or "",
            "mine": "y" if filters.mine else "",
            "q": filters.q,
            "sort": "" if filters.sort == DEFAULT_SORT else filters.sort,
            "order": "" if filters.order == "asc" else filters.order,
            "page": "" if filters.page == 1 else str(filters.page),
        }
        return {key: value for key, value in values.items() if value}

    @property
    def is_filtered(self) -> bool:
        return bool(self.state or self.kind or self.departement or self.mine or self.q)


def visible_dossiers(call: Call) -> ColumnElement[bool]:
    """Dossiers staff may see: submitted once (a never-submitted withdrawal stays private)."""
    return (
        (Dossier.call_id == call.id)
        & (Dossier.state != DossierState.draft)
        & Dossier.submitted_at.is_not(None)
    )


def _search(term: str) -> ColumnElement[bool]:
    # ilike on both engines: case-insensitive (ASCII on SQLite); accents must match.
    clauses = [
        Dossier.reference.icontains(term, autoescape=True),
        Dossier.submitted_title.icontains(term, autoescape=True),
        Structure.name.icontains(term, autoescape=True),
    ]
    digits = "".join(term.split())
    if digits.isdigit():
        clauses.append(Structure.siret.contains(digits, autoescape=True))
    return or_(*clauses)


def filtered(call: Call, filters: QueueFilters, user: User, *, with_state: bool = True) -> Select[Any]:
    """Dossiers of the queue with the structure and the (outer-joined) assignee joined."""
    query = (
        select(Dossier)
        .join(Dossier.structure)
        .outerjoin(Assignee, Dossier.assigned_to_id == Assignee.id)
        .where(visible_dossiers(call))
    )
    if with_state and filters.state is not None:
        query = query.where(Dossier.state == filters.state)
    if filters.kind is not None:
        query = query.where(Structure.kind == filters.kind)
    if filters.departement:
        query = query.where(Structure.departement == filters.departement)
    if filters.mine:
        query = query.where(Dossier.assigned_to_id == user.id)
    if filters.q.strip():
        query = query.where(_search(filters.q.strip()))
    return query


def ordered(query: Select[Any], filters: QueueFilters) -> Select[Any]:
    column = SORT_COLUMNS[filters.sort]
    direction = column.desc() if filters.order == "desc" else column.asc()
    # Empty values last in both directions and on both engines; the id keeps pages stable.
    return query.order_by(direction.nulls_last(), Dossier.id.desc() if filters.order == "desc" else Dossier.id)


def paris_today() -> date:
    return utcnow().astimezone(PARIS).date()


@dataclass(frozen=True)
class QueueRow:
    """A dossier of the page with what its latest submitted version asked for."""

    dossier: Dossier
    version: int | None
    requested: Decimal | None
    maximum: Decimal | None
    #: Due date of the open complement request, when it has passed.
    overdue_since: date | None = None
    #: When the complements now waiting for the officer's review were sent.
    complements_received_at: datetime | None = None


def page_rows(dossiers: list[Dossier], today: date | None = None) -> list[QueueRow]:
    """The rows of ``dossiers`` with their overdue complement requests and the complements
    they received: one statement (two requests per dossier at most)."""
    if not dossiers:
        return []
    today = today or paris_today()
    # At most one open request per dossier (a unique partial index).
    due: dict[int, date] = {}
    answered: dict[tuple[int, int], datetime] = {}
    for dossier_id, due_date, answered_at, answered_version in db.session.execute(
        select(ComplementRequest.dossier_id, ComplementRequest.due_date, ComplementRequest.answered_at,
               ComplementRequest.answered_version)
        .where(ComplementRequest.dossier_id.in_([d.id for d in dossiers]))
    ):
        if answered_at is None:
            due[dossier_id] = due_date
        else:
            answered[(dossier_id, answered_version)] = answered_at
    return [
        QueueRow(
            dossier=dossier, version=dossier.submitted_version, requested=dossier.submitted_fse_requested,
            maximum=dossier.submitted_fse_max,
            overdue_since=due[dossier.id] if dossier.id in due and due[dossier.id] < today else None,
            complements_received_at=answered.get((dossier.id, dossier.submitted_version or 0))
            if dossier.complements_received else None,
        )
        for dossier in dossiers
    ]


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    counters: dict[DossierState, int]

    @property
    def dossiers(self) -> list[Dossier]:
        return [row.dossier for row in self.rows]

    @property
    def first_index(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * PER_PAGE, self.total)


def queue_page(call: Call, filters: QueueFilters, user: User) -> QueuePage:
    """One page of the queue, its total, the counters per state and the rows' open
    complement requests: three statements (the total is read off the counters)."""
    query = filtered(call, filters, user)
    counters = state_counters(call, filters, user)
    total = counters.get(filters.state, 0) if filters.state is not None else sum(counters.values())
    page, pages = clamp_page(filters.page, total, PER_PAGE)
    dossiers = db.session.scalars(
        ordered(query, filters)
        .options(
            contains_eager(Dossier.structure),
            contains_eager(Dossier.assigned_to.of_type(Assignee)),
            # The big JSON columns are not shown: not loaded, and never lazily one row at a time.
            defer(Dossier.content, raiseload=True),
            defer(Dossier.finance, raiseload=True),
            defer(Dossier.submitted_figures, raiseload=True),
        )
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return QueuePage(
        rows=page_rows(list(dossiers)), total=total, page=page, pages=pages, counters=counters,
    )


def state_counters(call: Call, filters: QueueFilters, user: User) -> dict[DossierState, int]:
    """Dossiers per state under the other filters (the state filter itself is left out)."""
    base = filtered(call, filters, user, with_state=False).with_only_columns(
        Dossier.state, func.count(Dossier.id)
    ).group_by(Dossier.state)
    counts = {state: count for state, count in db.session.execute(base)}
    return {state: counts.get(state, 0) for state in QUEUE_STATES}


def staff_users() -> list[User]:
    """Who may be assigned a dossier: active officers and admins."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_((Role.officer, Role.admin)), User.is_active.is_(True))
            .order_by(User.full_name, User.id)
        )
    )


def queue_sizes() -> dict[int, int]:
    """Number of dossiers staff can see per call, in one GROUP BY."""
    rows = db.session.execute(
        select(Dossier.call_id, func.count(Dossier.id))
        .where(Dossier.state != DossierState.draft, Dossier.submitted_at.is_not(None))
        .group_by(Dossier.call_id)
    )
    return {call_id: count for call_id, count in rows}
