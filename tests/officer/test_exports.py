"""Exports of the queue: CSV for French Excel and XLSX, with the queue's filters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from grants.dossier_sections import compute_financing
from grants.exports import COLUMNS, REQUESTED_FIGURES, XLSX_DATETIME_FORMAT, XLSX_MONEY_FORMAT
from grants.finance import FIGURES
from grants.models import (
    AdmissibilityOutcome,
    AdmissibilityReview,
    Dossier,
    DossierState,
    Instruction,
    Opinion,
    Structure,
)
from tests.conftest import COMPLETE_CONTENT

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


DECIDED_AT = datetime(2026, 4, 14, 8, 30, tzinfo=UTC)
INSTRUCTED_AT = datetime(2026, 4, 28, 15, 45, tzinfo=UTC)


def retained_content() -> dict:
    """The instruction retains 100 young people in QPV for repérage instead of 120."""
    public = {**COMPLETE_CONTENT["public"], "reperage": {"nb_jeunes": 150, "nb_jeunes_qpv": 100}}
    return {"public": public, "resources": COMPLETE_CONTENT["resources"]}


@pytest.fixture
def instructed(app, db, users, make_call, submitted_dossier):
    """A dossier submitted through the operations, declared recevable, instructed with a
    retained computation, assigned; and another one, only submitted."""
    call = make_call(code="AAP-EXPORT")
    dossier = submitted_dossier(call=call)
    other = submitted_dossier(user=users["other_applicant"], call=call)
    retained = compute_financing(call, retained_content())
    db.session.add(AdmissibilityReview(
        dossier_id=dossier.id, answers={}, outcome=AdmissibilityOutcome.admissible, decided_at=DECIDED_AT,
        decided_by_id=users["officer"].id,
    ))
    db.session.add(Instruction(
        dossier_id=dossier.id, retained=retained_content(), finance=retained.to_snapshot(),
        fse_retained_total=retained.totals["fse"], opinion=Opinion.favourable,
        opinion_text="Projet solide.", instructed_at=INSTRUCTED_AT, instructed_by_id=users["officer"].id,
    ))
    row = db.session.get(Dossier, dossier.id)
    row.state = DossierState.instructed
    row.assigned_to_id = users["officer"].id
    db.session.commit()
    return call, db.session.get(Dossier, dossier.id), db.session.get(Dossier, other.id)


def paris(moment: datetime) -> str:
    return f"{moment.astimezone(PARIS):%d/%m/%Y %H:%M}"


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
    assert row["Date de la décision de recevabilité"] == paris(DECIDED_AT)
    assert row["Date de clôture de l'instruction"] == paris(INSTRUCTED_AT)
    assert row["Version déposée n°"] == "1"
    # Requested: the submitted version's plan, per strand and in total.
    submitted = db.session.get(Dossier, dossier.id).versions[-1].snapshot["finance"]["result"]
    for strand, scope in (("reperage", "Repérage"), ("sortie_emploi", "Sortie vers l'emploi")):
        for key in FIGURES:
            header = f"Plan demandé — {scope} — {REQUESTED_FIGURES[key]}"
            assert row[header] == submitted["strands"][strand][key].replace(".", ","), header
    assert row["Plan demandé — Repérage — Base socle"] == "76800,00"  # 1 600 × 40 % × 120
    assert row["Plan demandé — Repérage — FSE+ maximum"] == "116640,00"
    assert row["Plan demandé — Sortie vers l'emploi — FSE+ demandé plafonné"] == "97920,00"
    assert row["Plan demandé — Total — FSE+ maximum"] == "214560,00"
    assert row["FSE+ demandé"] == "214560,00"  # nothing asked: the computed FSE+ of each strand
    # Retained: the instruction's computation with 100 young people instead of 120.
    assert row["Plan retenu — Repérage — Base socle"] == "64000,00"  # 1 600 × 40 % × 100
    assert row["Plan retenu — Sortie vers l'emploi — Base socle"] == "51200,00"
    assert row["Plan retenu — Total — Base socle"] == "115200,00"
    retained = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id)).finance["result"]
    for key, header in (("staff", "Frais de personnel directs"), ("flat", "Forfait coûts restants"),
                        ("renfort", "Renforcé"), ("base", "Base subventionnable"), ("fse_max", "FSE+ maximum"),
                        ("fse", "FSE+ retenu")):
        assert row[f"Plan retenu — Repérage — {header}"] == retained["strands"]["reperage"][key].replace(".", ",")
        assert row[f"Plan retenu — Total — {header}"] == retained["totals"][key].replace(".", ",")
    assert "Plan retenu — Total — Autofinancement" not in row
    assert row["FSE+ retenu à l'instruction"] == retained["totals"]["fse"].replace(".", ",")
    assert row["Avis d'instruction"] == "Favorable"
    assert row["Gestionnaire attribué"] == users["officer"].full_name
    # No decision, no instruction, no assignee: empty cells, not "None".
    empty = rows[other.reference]
    for header in ("Date de la décision de recevabilité", "Date de clôture de l'instruction",
                   "Plan retenu — Total — FSE+ retenu", "FSE+ retenu à l'instruction", "Avis d'instruction",
                   "Gestionnaire attribué"):
        assert empty[header] == "", header
    assert empty["Plan demandé — Total — FSE+ maximum"] == "214560,00"


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
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
    retained = row["FSE+ retenu à l'instruction"]
    assert retained.value == pytest.approx(float(instruction.fse_retained_total))
    assert retained.number_format == XLSX_MONEY_FORMAT
    assert row["Plan demandé — Total — FSE+ maximum"].value == pytest.approx(214560)
    assert row["Plan demandé — Total — FSE+ maximum"].number_format == "#,##0.00 €"
    assert row["Plan retenu — Repérage — Base socle"].value == pytest.approx(64000)
    assert row["Plan retenu — Repérage — Base socle"].number_format == XLSX_MONEY_FORMAT
    submitted = row["Date de dépôt"]
    assert submitted.value == dossier.submitted_at.astimezone(PARIS).replace(tzinfo=None, second=0, microsecond=0)
    assert submitted.number_format == "dd/mm/yyyy hh:mm"
    decided = row["Date de la décision de recevabilité"]
    assert decided.value == DECIDED_AT.astimezone(PARIS).replace(tzinfo=None)
    assert decided.number_format == XLSX_DATETIME_FORMAT
    assert row["Version déposée n°"].value == 1
    assert row["SIRET"].data_type == "s"  # kept as text: no lost leading zero
    assert row["Gestionnaire attribué"].value == users["officer"].full_name
    # Every amount is the CSV's, cell by cell (each styled cell carries its own value).
    [csv_row] = [r for r in read_csv(client.get(f"/instruction/appels/{call.id}/dossiers.csv"))
                 if r["Référence"] == dossier.reference]
    for column in COLUMNS:
        if column.kind == "money":
            cell = row[column.header]
            expected = csv_row[column.header]
            assert (cell.value is None) == (expected == ""), column.header
            if expected:
                assert Decimal(str(cell.value)) == Decimal(expected.replace(",", ".")), column.header
                assert cell.number_format == XLSX_MONEY_FORMAT, column.header


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


def test_exports_carry_qpv_young_people_and_other_cofinancing(app, client, login_as, users, db, make_call,
                                                               make_dossier, store):
    """Of the submitted version: its QPV codes, its young people per strand (of whom in a QPV),
    its other co-financing per strand; of the instruction: the other co-financing retained."""
    import copy

    from grants.models import User
    from grants.operations.dossiers import save_section, submit_dossier

    call = make_call(code="AAP-EXPORT-COFI")
    draft = make_dossier(users["applicant"], call=call)
    resources = copy.deepcopy(COMPLETE_CONTENT["resources"])
    resources["reperage"]["cofinancing"] = [
        {"funder": "Conseil départemental", "amount": "12000.50", "status": "acquired"},
        {"funder": "Commune", "amount": "3000.00", "status": "requested"}]
    with app.test_request_context():
        dossier = db.session.get(Dossier, draft.id)
        applicant = db.session.get(User, users["applicant"].id)
        save_section(dossier, "resources", resources, applicant, dossier.version)
        submit_dossier(dossier, applicant, store=store, expected_version=dossier.version)
        retained = retained_content() | {"resources": copy.deepcopy(resources)}
        retained["resources"]["reperage"]["cofinancing"] = [
            {"funder": "Autres cofinancements retenus", "amount": "10000.00", "status": "acquired"}]
        plan = compute_financing(dossier.call, retained)
        db.session.add(Instruction(dossier_id=dossier.id, retained=retained, finance=plan.to_snapshot(),
                                   fse_retained_total=plan.totals["fse"]))
        db.session.commit()
    login_as(users["officer"])
    [row] = read_csv(client.get(f"/instruction/appels/{call.id}/dossiers.csv"))
    assert row["QPV concernés (codes)"] == "QN05901M"
    assert [row[f"Jeunes accompagnés — {s}"] for s in ("Repérage", "Sortie vers l'emploi", "Total")] == [
        "150", "100", "250"]
    assert [row[f"dont résidant en QPV — {s}"] for s in ("Repérage", "Sortie vers l'emploi", "Total")] == [
        "120", "80", "200"]
    assert [row[f"Plan demandé — Autres cofinancements — {s}"] for s in ("Repérage", "Sortie vers l'emploi",
                                                                         "Total")] == ["15000,50", "0,00", "15000,50"]
    assert [row[f"Plan retenu — Autres cofinancements — {s}"] for s in ("Repérage", "Sortie vers l'emploi",
                                                                        "Total")] == ["10000,00", "0,00", "10000,00"]
    _, header, rows = read_xlsx(client.get(f"/instruction/appels/{call.id}/dossiers.xlsx"))
    cells = {h: c for h, c in zip(header, rows[0], strict=True)}
    assert cells["Jeunes accompagnés — Total"].value == 250
    assert cells["Plan demandé — Autres cofinancements — Total"].value == 15000.5
    assert cells["Plan demandé — Autres cofinancements — Total"].number_format == XLSX_MONEY_FORMAT
