"""Factories for the queue tests: submitted dossiers through the operations, or many at once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert

from grants.finance import FIGURES
from grants.dossier_sections import requested_total, submitted_figures
from grants.models import Call, Dossier, DossierState, DossierVersion, Structure, StructureKind, User

_numbers = itertools.count(1)

SUBMITTED_LIKE = (
    DossierState.submitted, DossierState.complements_requested, DossierState.admissible,
    DossierState.instructed, DossierState.selected,
)
KINDS = tuple(StructureKind)
DEPARTEMENTS = ("59", "62", "80", "02", "60")


def finance_plan(requested: Decimal | None, maximum: Decimal) -> dict[str, Any]:
    """A stored plan (``FinancingResult.to_snapshot()``'s shape) with everything on the
    repérage strand: ``requested`` asked (None: nothing asked) and ``maximum`` as FSE+ maximum."""
    fse = maximum if requested is None else min(requested, maximum)
    reperage = {key: "0.00" for key in FIGURES} | {"fse_max": f"{maximum:.2f}", "fse": f"{fse:.2f}"}
    empty = {key: "0.00" for key in FIGURES}
    return {
        "input": {"rules": {}, "strands": {
            "reperage": {"nb_jeunes_qpv": 10, "posts": [], "other_cofinancing": "0.00",
                         "requested": None if requested is None else f"{requested:.2f}"},
            "sortie_emploi": {"nb_jeunes_qpv": 0, "posts": [], "other_cofinancing": "0.00", "requested": None},
        }},
        "result": {"strands": {"reperage": reperage, "sortie_emploi": empty}, "totals": dict(reperage),
                   "findings": [], "explanations": []},
    }


def version_row(dossier_id: int, finance: dict[str, Any] | None, number: int = 1) -> dict[str, Any]:
    snapshot = {"version": number, "content": {}, "attachments": [], "structure": {}, "finance": finance}
    return {"dossier_id": dossier_id, "number": number, "kind": "submission", "snapshot": snapshot,
            "sha256": "0" * 64, "created_at": datetime(2026, 3, 1, 9, 0, tzinfo=UTC)}


def add_dossiers(db: Any, call: Call, count: int, *, assigned_to: User | None = None,
                 states: tuple[DossierState, ...] = SUBMITTED_LIKE) -> list[int]:
    """``count`` submitted dossiers (and their structures, and their submitted version)
    inserted in three statements. The amounts cached on the dossier row (the working copy)
    differ from the version's on purpose: the queue must show the version's."""
    numbers = [next(_numbers) for _ in range(count)]
    structure_ids = db.session.scalars(
        insert(Structure).returning(Structure.id, sort_by_parameter_order=True),
        [
            {"name": f"Structure en masse {n}", "siret": f"9{n:013d}", "kind": KINDS[n % len(KINDS)],
             "departement": DEPARTEMENTS[n % len(DEPARTEMENTS)]}
            for n in numbers
        ],
    ).all()
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    plans = {n: finance_plan(Decimal(1000 + n) + Decimal("0.50"), Decimal(2000 + n)) for n in numbers}
    dossier_ids = db.session.scalars(
        insert(Dossier).returning(Dossier.id, sort_by_parameter_order=True),
        [
            {"call_id": call.id, "structure_id": structure_id, "state": states[n % len(states)],
             "reference": f"{call.code}-2026-M{n:05d}", "title": f"Projet {n}", "content": {},
             "submitted_at": start + timedelta(minutes=n),
             "fse_requested_total": Decimal(9000 + n), "fse_max_total": Decimal(9900 + n),
             "assigned_to_id": assigned_to.id if assigned_to else None,
             # What freezing the version copies onto the dossier (operations.dossiers).
             "submitted_version": 1, "submitted_figures": submitted_figures(plans[n]),
             "submitted_fse_requested": requested_total(plans[n]),
             "submitted_fse_max": Decimal(plans[n]["result"]["totals"]["fse_max"]),
             "submitted_title": f"Projet {n}", "submitted_summary": None}
            for n, structure_id in zip(numbers, structure_ids, strict=True)
        ],
    ).all()
    db.session.execute(insert(DossierVersion), [
        version_row(dossier_id, plans[n]) for n, dossier_id in zip(numbers, dossier_ids, strict=True)
    ])
    db.session.commit()  # releases a savepoint only: the test still rolls back
    return list(dossier_ids)


@pytest.fixture
def submitted_dossier(app, db, users, make_dossier, store):  # type: ignore[no-untyped-def]
    """A dossier of ``users["applicant"]`` submitted through the operations (with finance)."""
    from grants.operations.dossiers import submit_dossier

    def make(user: User | None = None, call: Call | None = None) -> Dossier:
        user = user or users["applicant"]
        dossier = make_dossier(user, call=call)
        with app.test_request_context():
            dossier = db.session.get(Dossier, dossier.id)
            submit_dossier(dossier, db.session.get(User, user.id), store=store, expected_version=dossier.version)
            db.session.commit()
        return dossier

    return make
