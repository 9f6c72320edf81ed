"""The queue and its exports show what was submitted, not the working copy being edited
during complements; overdue complement requests are flagged on the queue's rows."""

from __future__ import annotations

import copy
import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from grants.formatting import money
from grants.models import Dossier, DossierState, User
from grants.dossier_sections import requested_total
from grants.operations import review as review_ops
from grants.operations.dossiers import save_section
from tests.conftest import COMPLETE_CONTENT

from .queue_factories import add_dossiers, submitted_dossier  # noqa: F401
from .test_queue import counting_statements, queue_url, unique_in_order
from .test_queue import references as shown


def export_row(client, call, reference):  # noqa: ANN001
    response = client.get(f"/instruction/appels/{call.id}/dossiers.csv")
    raw = response.get_data().decode("utf-8-sig")
    response.close()
    rows = list(csv.DictReader(io.StringIO(raw), delimiter=";"))
    return next(r for r in rows if r["Référence"] == reference)


def queue_row(page: str, reference: str) -> str:
    body = page.split("<tbody>", 1)[1]
    return next(row for row in body.split("<tr>") if reference in row)


def french(amount: Decimal) -> str:
    return money(amount).replace("\u202f", " ").replace("\u00a0", " ")


@pytest.fixture
def editing_complements(app, db, users, make_call, submitted_dossier, store):
    """A submitted dossier whose applicant, asked for complements on the resources, has
    already raised the amount asked for repérage in the working copy (not sent yet)."""
    call = make_call()
    dossier = submitted_dossier(call=call)
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        officer, applicant = db.session.get(User, users["officer"].id), db.session.get(User, users["applicant"].id)
        review_ops.request_complements(
            dossier, sections=["resources"], attachment_types=[], message="Précisez le plan.",
            due_date=date.today() + timedelta(days=14), actor=officer,
        )
        resources = copy.deepcopy(COMPLETE_CONTENT["resources"])
        resources["reperage"]["requested"] = "50000.00"
        save_section(dossier, "resources", resources, applicant, dossier.version)
        db.session.commit()
    dossier = db.session.get(Dossier, dossier.id)
    submitted = dossier.versions[-1].snapshot["finance"]
    assert dossier.fse_requested_total != requested_total(submitted)  # the working copy moved
    return call, dossier, submitted


def test_queue_shows_the_submitted_amounts_while_complements_are_edited(client, login_as, users, editing_complements):
    call, dossier, submitted = editing_complements
    login_as(users["officer"])
    row = queue_row(client.get(queue_url(call)).get_data(as_text=True), dossier.reference)
    text = row.replace("\u202f", " ").replace("\u00a0", " ")
    assert french(requested_total(submitted)) in text
    assert french(Decimal(submitted["result"]["totals"]["fse_max"])) in text
    assert french(dossier.fse_requested_total) not in text


def test_exports_show_the_submitted_plan_then_the_answer(app, client, login_as, users, db, editing_complements, store):
    call, dossier, submitted = editing_complements
    login_as(users["officer"])
    row = export_row(client, call, dossier.reference)
    assert row["Version déposée n°"] == "1"
    assert row["FSE+ demandé"] == f"{requested_total(submitted):f}".replace(".", ",")
    assert row["Plan demandé — Repérage — FSE+ demandé plafonné"] == (
        submitted["result"]["strands"]["reperage"]["fse"].replace(".", ","))
    # Once the complements are sent, the new version is what the queue and exports show.
    with app.test_request_context():
        review_ops.answer_complements(db.session.get(Dossier, dossier.id), db.session.get(User, users["applicant"].id),
                                      store=store)
        db.session.commit()
    answered = db.session.get(Dossier, dossier.id)
    assert answered.state is DossierState.submitted
    row = export_row(client, call, dossier.reference)
    assert row["Version déposée n°"] == "2"
    assert row["FSE+ demandé"] == f"{answered.fse_requested_total:f}".replace(".", ",")
    assert row["Plan demandé — Repérage — FSE+ demandé plafonné"] == "50000,00"
    page = client.get(queue_url(call)).get_data(as_text=True)
    assert french(answered.fse_requested_total) in queue_row(page, dossier.reference).replace(
        "\u202f", " ").replace("\u00a0", " ")


def test_sorting_on_amounts_reads_the_submitted_version(client, login_as, users, db, make_call):
    call = make_call()
    ids = add_dossiers(db, call, 3)
    # The versions ask 1 00n,50 and allow 2 00n; the dossier rows (working copy) say 9 00n:
    # make the working copy's order the opposite of the versions'.
    for rank, dossier_id in enumerate(ids):
        db.session.get(Dossier, dossier_id).fse_requested_total = Decimal(9000 - rank)
    db.session.commit()
    references = [db.session.get(Dossier, i).reference for i in ids]
    login_as(users["officer"])
    for sort in ("requested", "maximum"):
        page = client.get(queue_url(call, sort=sort)).get_data(as_text=True)
        assert unique_in_order(shown(page)) == references, sort
        page = client.get(queue_url(call, sort=sort, order="desc")).get_data(as_text=True)
        assert unique_in_order(shown(page)) == references[::-1], sort


def test_overdue_complements_are_flagged_in_the_queue(client, login_as, users, db, make_call, submitted_dossier):
    call = make_call()
    late = submitted_dossier(call=call)
    on_time = submitted_dossier(user=users["other_applicant"], call=call)
    login_as(users["officer"])
    due = date.today() + timedelta(days=3)
    for dossier, deadline in ((late, due), (on_time, due + timedelta(days=30))):
        base = f"/instruction/dossiers/{dossier.id}"
        response = client.post(f"{base}/complements", data={
            "sections": ["project"], "message": "Précisez le calendrier.", "due_date": deadline.isoformat()},
            csrf_from=base)
        assert response.status_code == 302
    late, on_time = (db.session.get(Dossier, d.id) for d in (late, on_time))
    page = client.get(queue_url(call)).get_data(as_text=True)
    assert "Échéance dépassée" not in page
    with time_machine.travel(datetime.combine(due + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
                             + timedelta(hours=10)):
        login_as(users["officer"])  # days later: the first session has expired
        page = client.get(queue_url(call)).get_data(as_text=True)
    flagged = queue_row(page, late.reference)
    assert "Échéance dépassée" in flagged and f"compléments attendus le {due:%d/%m/%Y}" in flagged
    assert "Échéance dépassée" not in queue_row(page, on_time.reference)


def test_the_page_statements_do_not_grow_with_amount_sorts_and_overdue_flags(client, login_as, users, db, make_call):
    call = make_call()
    add_dossiers(db, call, 10, states=(DossierState.complements_requested, DossierState.submitted))
    login_as(users["officer"])
    client.get(queue_url(call, sort="requested"))  # warm caches

    def measure() -> dict[str, int]:
        counts = {}
        for sort in ("requested", "maximum", "reference"):
            with counting_statements() as statements:
                assert client.get(queue_url(call, sort=sort)).status_code == 200
            counts[sort] = len(statements)
        return counts

    small = measure()
    add_dossiers(db, call, 290, states=(DossierState.complements_requested, DossierState.submitted))
    assert measure() == small
    assert max(small.values()) <= 10
