"""Exports of the queue: CSV for French Excel and XLSX, with the queue's filters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from grants.exports import COLUMNS, XLSX_MONEY_FORMAT
from grants.models import Dossier, DossierState, Instruction, Opinion, Structure

from .queue_factories import add_dossiers, submitted_dossier  # noqa: F401

PARIS = ZoneInfo("Europe/Paris")
HEADERS = [column.header for column in COLUMNS]


def read_csv(response) -> list[dict[str, str]]:
    raw = response.get_data()
    response.close()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADERS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def read_xlsx(response):
    data = response.get_data()
    response.close()  # as the WSGI server does: closes (and so deletes) the temp file
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows())
    return sheet, [cell.value for cell in rows[0]], rows[1:]


@pytest.fixture
def instructed(app, db, users, make_call, submitted_dossier):
    """A dossier submitted through the operations, instructed, assigned; and another one."""
    call = make_call(code="AAP-EXPORT")
    dossier = submitted_dossier(call=call)
    other = submitted_dossier(user=users["other_applicant"], call=call)
    db.session.add(Instruction(
        dossier_id=dossier.id, fse_retained_total=Decimal("12345.67"), opinion=Opinion.favourable,
        opinion_text="Projet solide.", instructed_at=datetime.now(UTC),
    ))
    row = db.session.get(Dossier, dossier.id)
    row.state = DossierState.instructed
    row.assigned_to_id = users["officer"].id
    db.session.commit()
    return call, db.session.get(Dossier, dossier.id), db.session.get(Dossier, other.id)


def test_csv_for_french_excel(client, login_as, users, db, instructed):
    call, dossier, other = instructed
    login_as(users["officer"])
    response = client.get(f"/instruction/appels/{call.id}/dossiers.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    today = datetime.now(PARIS).date()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="dossiers-AAP-EXPORT-{today:%Y-%m-%d}.csv"'
    )
    rows = {row["Référence"]: row for row in read_csv(response)}
    assert set(rows) == {dossier.reference, other.reference}
    row = rows[dossier.reference]
    structure = db.session.get(Structure, dossier.structure_id)
    assert row["Structure"] == structure.name and row["SIRET"] == structure.siret
    assert row["Département"] == "59" and row["Type de structure"] == "Mission locale"
    assert row["État"] == "Instruit"
    assert row["Date de dépôt"] == f"{dossier.submitted_at.astimezone(PARIS):%d/%m/%Y %H:%M}"
    strands = dossier.finance["result"]["strands"]
    assert row["Repérage — Base subventionnable"] == strands["reperage"]["base"].replace(".", ",")
    assert row["Repérage — FSE+ maximum"] == "116640,00"
    assert row["Sortie vers l'emploi — FSE+ demandé plafonné"] == "97920,00"
    assert row["Total — FSE+ maximum"] == "214560,00"
    assert row["FSE+ demandé"] == f"{dossier.fse_requested_total:f}".replace(".", ",")
    assert row["FSE+ retenu à l'instruction"] == "12345,67"
    assert row["Avis d'instruction"] == "Favorable"
    assert row["Gestionnaire attribué"] == users["officer"].full_name
    # No instruction, no assignee: empty cells, not "None".
    empty = rows[other.reference]
    assert (empty["FSE+ retenu à l'instruction"], empty["Avis d'instruction"], empty["Gestionnaire attribué"]) == ("", "", "")


def test_exports_follow_the_queue_filters_and_order(client, login_as, users, db, instructed):
    call, dossier, other = instructed
    login_as(users["admin"])
    base = f"/instruction/appels/{call.id}/dossiers"
    assert [r["Référence"] for r in read_csv(client.get(base + ".csv?state=instructed"))] == [dossier.reference]
    assert [r["Référence"] for r in read_csv(client.get(base + ".csv?q=" + other.reference))] == [other.reference]
    ordered = [r["Référence"] for r in read_csv(client.get(base + ".csv?sort=reference&order=desc"))]
    assert ordered == sorted([dossier.reference, other.reference], reverse=True)
    _, _, rows = read_xlsx(client.get(base + ".xlsx?state=submitted"))
    assert [r[0].value for r in rows] == [other.reference]
    # The queue's export buttons carry the current filters.
    page = client.get(base + "?state=instructed&page=1").get_data(as_text=True)
    assert f'href="{base}.csv?state=instructed"' in page and f'href="{base}.xlsx?state=instructed"' in page


def test_xlsx_amounts_are_numbers_with_a_euro_format(client, login_as, users, db, instructed):
    call, dossier, _ = instructed
    login_as(users["officer"])
    response = client.get(f"/instruction/appels/{call.id}/dossiers.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    today = datetime.now(PARIS).date()
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"dossiers-AAP-EXPORT-{today:%Y-%m-%d}.xlsx" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    sheet, header, rows = read_xlsx(response)
    assert header == HEADERS
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    by_reference = {row[0].value: row for row in rows}
    row = {h: cell for h, cell in zip(header, by_reference[dossier.reference], strict=True)}
    assert row["État"].value == "Instruit"
    retained = row["FSE+ retenu à l'instruction"]
    assert retained.value == pytest.approx(12345.67) and retained.number_format == XLSX_MONEY_FORMAT
    assert row["Total — FSE+ maximum"].value == pytest.approx(214560)
    assert row["Total — FSE+ maximum"].number_format == "#,##0.00 €"
    submitted = row["Date de dépôt"]
    assert submitted.value == dossier.submitted_at.astimezone(PARIS).replace(tzinfo=None, second=0, microsecond=0)
    assert submitted.number_format == "dd/mm/yyyy hh:mm"
    assert row["SIRET"].data_type == "s"  # kept as text: no lost leading zero
    assert row["Gestionnaire attribué"].value == users["officer"].full_name


def test_exports_are_not_fooled_by_formulas(client, login_as, users, db, make_call):
    call = make_call()
    [dossier_id] = add_dossiers(db, call, 1)
    structure = db.session.get(Structure, db.session.get(Dossier, dossier_id).structure_id)
    structure.name = '=HYPERLINK("http://evil","clic")'
    db.session.commit()
    login_as(users["officer"])
    [row] = read_csv(client.get(f"/instruction/appels/{call.id}/dossiers.csv"))
    assert row["Structure"] == "'" + structure.name
    _, header, rows = read_xlsx(client.get(f"/instruction/appels/{call.id}/dossiers.xlsx"))
    cell = rows[0][header.index("Structure")]
    assert cell.value == structure.name and cell.data_type == "s"


def test_exports_stream_more_than_a_batch(client, login_as, users, db, make_call):
    call = make_call()
    add_dossiers(db, call, 620)
    login_as(users["officer"])
    rows = read_csv(client.get(f"/instruction/appels/{call.id}/dossiers.csv"))
    assert len(rows) == 620 and len({r["Référence"] for r in rows}) == 620
    assert rows[0]["FSE+ demandé"].endswith(",50")
    _, _, xlsx_rows = read_xlsx(client.get(f"/instruction/appels/{call.id}/dossiers.xlsx"))
    assert len(xlsx_rows) == 620


def test_empty_export_has_its_header(client, login_as, users, make_call):
    call = make_call()
    login_as(users["officer"])
    assert read_csv(client.get(f"/instruction/appels/{call.id}/dossiers.csv")) == []
    _, header, rows = read_xlsx(client.get(f"/instruction/appels/{call.id}/dossiers.xlsx"))
    assert header == HEADERS and rows == []


def test_drafts_are_never_exported(client, login_as, users, make_call, make_dossier):
    call = make_call()
    make_dossier(users["applicant"], call=call)
    login_as(users["officer"])
    assert read_csv(client.get(f"/instruction/appels/{call.id}/dossiers.csv")) == []
