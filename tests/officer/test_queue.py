"""The officer queue of a call: content, filters, search, sorting, pagination, SQL budget."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event

from grants.extensions import db as _db
from grants.operations.dossiers import record_submitted_figures
from grants.models import Dossier, DossierState, DossierVersion, Structure, StructureKind

from .queue_factories import add_dossiers, finance_plan, submitted_dossier, version_row  # noqa: F401


def queue_url(call, **args):
    query = "&".join(f"{key}={value}" for key, value in args.items())
    return f"/instruction/appels/{call.id}/dossiers" + (f"?{query}" if query else "")


def references(page: str) -> list[str]:
    return re.findall(r"(AAP-T\d+-\d{4}-M?\d+)", page.split("<tbody>", 1)[1].split("</tbody>", 1)[0])


def unique_in_order(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


@contextmanager
def counting_statements():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)


def test_queue_lists_submitted_dossiers_not_drafts(client, login_as, users, db, make_call, make_dossier,
                                                    submitted_dossier):
    call = make_call()
    submitted = submitted_dossier(call=call)
    draft = make_dossier(users["other_applicant"], call=call)
    login_as(users["officer"])
    response = client.get(queue_url(call))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    submitted = db.session.get(Dossier, submitted.id)
    assert submitted.reference in page
    assert submitted.structure.name in page and submitted.structure.siret in page
    assert "Mission locale" in page and ">59<" in page
    assert 'fr-badge--new' in page and "Déposé" in page
    # Amounts in French, requested and computed maximum.
    assert "214\u202f560,00\u00a0€" in page or "214 560,00 €" in page.replace("\u202f", " ").replace("\u00a0", " ")
    draft_structure = db.session.get(Structure, db.session.get(Dossier, draft.id).structure_id)
    assert draft_structure.name not in page
    # Counters per state, with French titles.
    assert "Déposé : 1" in page and "Recevable : 0" in page and "Tous : 1" in page
    assert "Brouillon" not in page
    # Accessible table.
    assert "<caption>" in page and 'scope="col"' in page and 'class="fr-table__container" tabindex="0"' in page


def test_queue_links_to_the_dossier_page_when_it_exists(app, client, login_as, users, make_call, submitted_dossier):
    call = make_call()
    dossier = submitted_dossier(call=call)
    login_as(users["admin"])
    page = client.get(queue_url(call)).get_data(as_text=True)
    if "officer.show_dossier" in app.view_functions:
        with app.test_request_context():
            from flask import url_for

            assert url_for("officer.show_dossier", dossier_id=dossier.id) in page


def test_unknown_call_is_404(client, login_as, users):
    login_as(users["officer"])
    assert client.get("/instruction/appels/999999/dossiers").status_code == 404


@pytest.fixture
def mixed_queue(db, make_call, make_structure, users):
    """Four dossiers with distinct states, kinds, départements, names and assignees; their
    submitted amounts are in their version, the dossier row (working copy) says otherwise."""
    call = make_call()
    when = datetime(2026, 3, 1, 9, tzinfo=UTC)
    specs = [
        ("Mission locale de Lille", "59", StructureKind.mission_locale, DossierState.submitted, users["officer"], "1500.00"),
        ("PLIE du Calaisis", "62", StructureKind.plie, DossierState.admissible, None, "900.00"),
        ("Association Élan", "80", StructureKind.association, DossierState.instructed, users["admin"], "3000.00"),
        ("Mission locale d'Amiens", "80", StructureKind.mission_locale, DossierState.complements_requested, None, None),
    ]
    dossiers = []
    for number, (name, dep, kind, state, assignee, requested) in enumerate(specs, start=1):
        structure = make_structure(name=name, departement=dep, kind=kind)
        dossier = Dossier(
            call_id=call.id, structure_id=structure.id, state=state, reference=f"{call.code}-2026-{number:04d}",
            title=f"Projet {number}", content={}, submitted_at=when.replace(day=number),
            # The working copy, edited since: sorting on it would give another order.
            fse_requested_total=Decimal(10000 - 1000 * number), fse_max_total=Decimal(20000 - 1000 * number),
            assigned_to_id=assignee.id if assignee else None,
        )
        db.session.add(dossier)
        db.session.flush()
        plan = finance_plan(Decimal(requested), Decimal(requested) * 2) if requested else None
        db.session.add(DossierVersion(**version_row(dossier.id, plan)))
        record_submitted_figures(dossier, 1, plan)  # as freezing the version does
        dossiers.append(dossier)
    db.session.commit()
    return call, dossiers


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, [1, 2, 3, 4]),
        ({"state": "admissible"}, [2]),
        ({"kind": "mission_locale"}, [1, 4]),
        ({"departement": "80"}, [3, 4]),
        ({"mine": "y"}, [1]),
        ({"q": "calais"}, [2]),  # case-insensitive, part of the name
        ({"q": "MISSION"}, [1, 4]),
        ({"q": "-2026-0003"}, [3]),  # part of the reference
        ({"kind": "mission_locale", "departement": "80"}, [4]),
        ({"state": "bogus"}, [1, 2, 3, 4]),  # an invalid value is ignored, not a 500
    ],
)
def test_filters(client, login_as, users, mixed_queue, args, expected):
    call, dossiers = mixed_queue
    login_as(users["officer"])
    response = client.get(queue_url(call, **args))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = unique_in_order(references(page))
    assert sorted(shown) == sorted(dossiers[n - 1].reference for n in expected)


def test_search_by_siret_with_spaces(client, login_as, users, db, mixed_queue):
    call, dossiers = mixed_queue
    siret = db.session.get(Structure, dossiers[2].structure_id).siret
    login_as(users["officer"])
    spaced = f"{siret[:3]}+{siret[3:6]}+{siret[6:9]}"
    page = client.get(queue_url(call, q=spaced)).get_data(as_text=True)
    assert unique_in_order(references(page)) == [dossiers[2].reference]


def test_counters_follow_the_other_filters(client, login_as, users, mixed_queue):
    call, _ = mixed_queue
    login_as(users["officer"])
    page = client.get(queue_url(call, departement="80", state="submitted")).get_data(as_text=True)
    assert "Tous : 2" in page and "Instruit : 1" in page and "Compléments demandés : 1" in page
    assert "Déposé : 0" in page
    assert "Aucun dossier ne correspond aux filtres" in page


def test_filter_form_is_a_get_form_with_french_labels(client, login_as, users, mixed_queue):
    call, _ = mixed_queue
    login_as(users["officer"])
    page = client.get(queue_url(call)).get_data(as_text=True)
    form = page.split('role="search"', 1)[1].split("</form>", 1)[0]
    assert "csrf_token" not in form
    for label in ("Rechercher", "État", "Type de structure", "Département",
                  "Seulement les dossiers qui me sont attribués"):
        assert label in form
    assert 'method="get"' in page.split('role="search"', 1)[0][-300:]


@pytest.mark.parametrize(
    ("sort", "asc"),
    [
        ("reference", [1, 2, 3, 4]),
        ("structure", [3, 4, 1, 2]),  # Association Élan, Mission locale d'Amiens, …de Lille, PLIE
        ("departement", [1, 2, 3, 4]),
        ("submitted_at", [1, 2, 3, 4]),
        ("requested", [2, 1, 3, 4]),  # no amount comes last in both directions
        ("maximum", [2, 1, 3, 4]),
        ("assignee", [3, 1, 2, 4]),  # names: "Personne admin …" < "Personne officer …", then nobody
        ("state", [1, 4, 2, 3]),  # lifecycle order: déposé, compléments, recevable, instruit
    ],
)
def test_sort_on_every_column(client, login_as, users, mixed_queue, sort, asc):
    call, dossiers = mixed_queue
    login_as(users["officer"])
    up = unique_in_order(references(client.get(queue_url(call, sort=sort)).get_data(as_text=True)))
    down = unique_in_order(references(client.get(queue_url(call, sort=sort, order="desc")).get_data(as_text=True)))
    assert up == [dossiers[n - 1].reference for n in asc]
    if sort in ("requested", "maximum"):
        # Empty values stay last when the order is reversed.
        assert down[-1] == up[-1] and down[:-1] == list(reversed(up[:-1]))
    elif sort == "assignee":
        assert down == [dossiers[n - 1].reference for n in (1, 3, 4, 2)]
    else:
        assert down == list(reversed(up))


def test_sort_headers_say_their_order(client, login_as, users, mixed_queue):
    call, _ = mixed_queue
    login_as(users["officer"])
    page = client.get(queue_url(call, sort="structure", order="desc")).get_data(as_text=True)
    assert 'aria-sort="descending"' in page
    # The link of the active column reverses the order and keeps the other filters.
    assert "sort=structure" in page and "trier par ordre croissant" in page


def test_pagination_50_per_page_keeps_filters(client, login_as, users, db, make_call):
    call = make_call()
    add_dossiers(db, call, 120, states=(DossierState.submitted,))
    login_as(users["officer"])
    first = client.get(queue_url(call, state="submitted")).get_data(as_text=True)
    assert len(unique_in_order(references(first))) == 50
    assert "120 dossiers correspondant aux filtres — 1 à 50 affichés" in first
    assert 'class="fr-pagination"' in first and 'aria-current="page"' in first
    assert f"/instruction/appels/{call.id}/dossiers?state=submitted&amp;page=3" in first
    third = client.get(queue_url(call, state="submitted", page=3)).get_data(as_text=True)
    assert len(unique_in_order(references(third))) == 20
    assert set(references(third)).isdisjoint(references(first))
    # A page past the end shows the last one.
    assert references(client.get(queue_url(call, page=99)).get_data(as_text=True)) == references(third)


def test_number_of_queries_does_not_depend_on_the_number_of_dossiers(client, login_as, users, db, make_call):
    call = make_call()
    add_dossiers(db, call, 10, assigned_to=users["officer"])
    login_as(users["officer"])
    client.get(queue_url(call))  # warm caches (metadata, compiled statements)

    def measure(**args) -> int:
        with counting_statements() as statements:
            response = client.get(queue_url(call, **args))
        assert response.status_code == 200
        return len(statements)

    small = {key: measure(**args) for key, args in [("default", {}), ("sorted", {"sort": "assignee", "mine": "y"})]}
    add_dossiers(db, call, 490, assigned_to=users["officer"])
    large = {key: measure(**args) for key, args in [("default", {}), ("sorted", {"sort": "assignee", "mine": "y"})]}
    assert small == large, (small, large)
    assert small["default"] <= 10
    page = client.get(queue_url(call)).get_data(as_text=True)
    assert "500 dossiers" in page and len(unique_in_order(references(page))) == 50


def test_calls_table_links_to_each_queue_with_its_count(client, login_as, users, db, make_call):
    call = make_call()
    add_dossiers(db, call, 3)
    login_as(users["officer"])
    page = client.get("/").get_data(as_text=True)
    assert f'href="/instruction/appels/{call.id}/dossiers">3 dossiers' in page
    login_as_admin = users["admin"]
    client.post("/compte/deconnexion", data={}, csrf_from="/")
    login_as(login_as_admin)
    page = client.get("/").get_data(as_text=True)
    assert f'href="/instruction/appels/{call.id}/dossiers">3 dossiers' in page
