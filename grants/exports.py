"""Exports of a call's queue: CSV for French Excel and XLSX, one row per dossier.

Both read the dossiers in batches (``yield_per``) and never hold the whole list: the CSV
is written as it is read, the XLSX goes through a write-only workbook into a temp file.

The requested figures are those of the latest *submitted* version (copied onto the dossier
row when the version is frozen: ``Dossier.submitted_figures``, about 1 KB, and its title, QPV,
young people and other co-financing: ``Dossier.submitted_title``, ``Dossier.submitted_summary``),
never the working copy an applicant may be editing while answering complements; the retained
figures are the instruction's stored computation, of which only its ``result`` part and the
inputs of its strands are read (JSON path expressions on both engines). The XLSX is written by XlsxWriter in constant-memory mode (rows
go to disk as they come), twice as fast as openpyxl's write-only mode for the same sheet.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from sqlalchemy import Row, Select

from .extensions import db
from .finance import FIGURE_LABELS, STRAND_LABELS, STRANDS
from .formatting import PARIS
from .models import STRUCTURE_KIND_TITLES, AdmissibilityReview, Call, Dossier, Instruction, Structure, User, utcnow
from .dossier_sections import requested_total
from .officer.queries import Assignee, QueueFilters, filtered, ordered

BATCH = 500

#: Figures of the requested plan (latest submitted version), per strand and in total.
# "fse" is the amount requested after caps here, not the instruction's retained amount.
REQUESTED_FIGURES: dict[str, str] = {**FIGURE_LABELS, "fse": "FSE+ demandé plafonné"}
#: Figures of the plan retained at instruction, per strand and in total.
RETAINED_FIGURES: dict[str, str] = {
    key: FIGURE_LABELS[key] for key in ("socle", "staff", "flat", "renfort", "base", "fse_max", "fse")
}

TEXT, NUMBER, MONEY, DATETIME = "text", "number", "money", "datetime"
XLSX_MONEY_FORMAT = "#,##0.00 €"
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
# A cell starting with one of these is a formula for a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str
    width: int = 14


SCOPES = [*(STRAND_LABELS[strand] for strand in STRANDS), "Total"]


def _figure_columns(plan: str, labels: dict[str, str]) -> list[Column]:
    return [Column(f"{plan} — {scope} — {label}", MONEY, 16) for scope in SCOPES for label in labels.values()]


def _scope_columns(label: str, kind: str) -> list[Column]:
    """``label`` per strand, then in total."""
    return [Column(f"{label} — {scope}", kind, 14) for scope in SCOPES]


COLUMNS: list[Column] = [
    Column("Référence", TEXT, 22),
    Column("Intitulé du projet", TEXT, 40),
    Column("Structure", TEXT, 36),
    Column("SIRET", TEXT, 16),
    Column("Département", TEXT, 12),
    Column("Type de structure", TEXT, 18),
    Column("État", TEXT, 20),
    Column("Date de dépôt", DATETIME, 17),
    Column("Version déposée n°", NUMBER, 10),
    Column("QPV concernés (codes)", TEXT, 24),
    *_scope_columns("Jeunes accompagnés", NUMBER),
    *_scope_columns("dont résidant en QPV", NUMBER),
    Column("Date de la décision de recevabilité", DATETIME, 17),
    Column("Date de clôture de l'instruction", DATETIME, 17),
    *_figure_columns("Plan demandé", REQUESTED_FIGURES),
    *_scope_columns("Plan demandé — Autres cofinancements", MONEY),
    Column("FSE+ demandé", MONEY),
    *_figure_columns("Plan retenu", RETAINED_FIGURES),
    *_scope_columns("Plan retenu — Autres cofinancements", MONEY),
    Column("FSE+ retenu à l'instruction", MONEY),
    Column("Avis d'instruction", TEXT, 14),
    Column("Gestionnaire attribué", TEXT, 24),
]

_NO_REQUESTED = [None] * (len(REQUESTED_FIGURES) * (len(STRANDS) + 1))
_NO_RETAINED = [None] * (len(RETAINED_FIGURES) * (len(STRANDS) + 1))
_NO_SCOPE = [None] * (len(STRANDS) + 1)


def _figures(result: dict[str, Any], keys: dict[str, str]) -> list[str | None]:
    """The figures ``keys`` of a stored result, per strand then in total, as its exact strings."""
    strands, totals = result["strands"], result["totals"]
    return [*(strands[strand].get(key) for strand in STRANDS for key in keys), *(totals.get(key) for key in keys)]


def _per_scope(values: list[Any], total: Callable[[list[Any]], Any]) -> list[Any]:
    """``values`` per strand, then their total (none when no strand has one)."""
    present = [v for v in values if v not in (None, "")]
    return [*values, total(present) if present else None]


def _young_people(summary: dict[str, Any] | None, key: str) -> list[Any]:
    if not summary:
        return _NO_SCOPE
    return _per_scope([(summary["public"].get(s) or {}).get(key) for s in STRANDS], sum)


def _cofinancing(amounts: list[str | None]) -> list[Any]:
    return _per_scope(amounts, lambda present: sum((Decimal(v) for v in present), Decimal("0.00")))


def row_values(row: Row[Any]) -> list[Any]:
    """The values of one dossier, in the order of :data:`COLUMNS`.

    Amounts read from the JSON stay their exact decimal strings (``"12345.67"``); the
    writers turn them into French text or spreadsheet numbers."""
    requested = row.submitted_figures
    submitted = (requested or {}).get("result")
    retained = row.retained_result
    summary = row.submitted_summary
    retained_inputs = row.retained_inputs or {}
    return [
        row.reference, row.title, row.structure_name, row.siret, row.departement,
        STRUCTURE_KIND_TITLES[row.kind], row.state.title, row.submitted_at, row.version_number,
        ", ".join(summary["qpv_codes"]) if summary else None,
        *_young_people(summary, "nb_jeunes"), *_young_people(summary, "nb_jeunes_qpv"),
        row.admissibility_decided_at, row.instructed_at,
        *(_figures(submitted, REQUESTED_FIGURES) if submitted else _NO_REQUESTED),
        *(_cofinancing([summary["other_cofinancing"].get(s) for s in STRANDS]) if summary else _NO_SCOPE),
        requested_total(requested),
        *(_figures(retained, RETAINED_FIGURES) if retained else _NO_RETAINED),
        *(_cofinancing([(retained_inputs.get(s) or {}).get("other_cofinancing") for s in STRANDS])
          if retained_inputs else _NO_SCOPE),
        row.fse_retained_total, row.opinion.title if row.opinion else None, row.assignee_name,
    ]


def export_query(call: Call, filters: QueueFilters, user: User) -> Select[Any]:
    """The queue's dossiers under ``filters`` and in its order, as plain columns (no page)."""
    query = (
        filtered(call, filters, user)
        .outerjoin(Instruction, Instruction.dossier_id == Dossier.id)
        .outerjoin(AdmissibilityReview, AdmissibilityReview.dossier_id == Dossier.id)
    )
    return ordered(query, filters).with_only_columns(
        Dossier.reference, Dossier.submitted_title.label("title"), Structure.name.label("structure_name"), Structure.siret,
        Structure.departement, Structure.kind, Dossier.state, Dossier.submitted_at,
        Dossier.submitted_version.label("version_number"), Dossier.submitted_figures, Dossier.submitted_summary,
        AdmissibilityReview.decided_at.label("admissibility_decided_at"), Instruction.instructed_at,
        Instruction.finance["result"].label("retained_result"),
        Instruction.finance["input"]["strands"].label("retained_inputs"),
        Instruction.fse_retained_total, Instruction.opinion, Assignee.full_name.label("assignee_name"),
    )


def export_rows(call: Call, filters: QueueFilters, user: User) -> Iterator[list[Any]]:
    """Each dossier's values, read ``BATCH`` rows at a time (a server-side cursor on PostgreSQL)."""
    result = db.session.execute(export_query(call, filters, user).execution_options(yield_per=BATCH))
    try:
        for row in result:
            yield row_values(row)
    finally:
        result.close()


def filename(call: Call, extension: str) -> str:
    safe_code = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in call.code)
    return f"dossiers-{safe_code}-{utcnow().astimezone(PARIS):%Y-%m-%d}.{extension}"


# CSV ------------------------------------------------------------------------------------


def _csv_text_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_number(value: Any) -> str:
    return "" if value is None else str(value)


def _csv_money(value: str | Decimal | None) -> str:
    if value is None or value == "":
        return ""
    # JSON amounts are already exact decimal strings: no Decimal round trip for them.
    return (value if isinstance(value, str) else format(value, "f")).replace(".", ",")


def _csv_datetime(value: datetime | None) -> str:
    return "" if value is None else f"{value.astimezone(PARIS):%d/%m/%Y %H:%M}"


_CSV_FORMATTERS: dict[str, Callable[[Any], str]] = {
    TEXT: _csv_text_cell, NUMBER: _csv_number, MONEY: _csv_money, DATETIME: _csv_datetime,
}


def csv_text(kind: str, value: Any) -> str:
    """A value the way French Excel reads it: ``12345,67``, ``26/03/2023 23:59``."""
    return _CSV_FORMATTERS[kind](value)


def csv_chunks(rows: Iterator[list[Any]]) -> Iterator[str]:
    """The CSV (``;``, BOM first), a chunk per dossier."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    formatters = [_CSV_FORMATTERS[column.kind] for column in COLUMNS]

    def flush() -> str:
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    writer.writerow([column.header for column in COLUMNS])
    yield "\ufeff" + flush()
    for values in rows:
        writer.writerow([format_(value) for format_, value in zip(formatters, values, strict=True)])
        yield flush()


# XLSX -----------------------------------------------------------------------------------


def write_xlsx(rows: Iterator[list[Any]], target: IO[bytes], title: str = "Dossiers") -> int:
    """Write the workbook to ``target``; returns the number of dossiers.

    Amounts are numbers with a euro format (Excel holds doubles: exact to the cent for any
    amount under 10^13 €), dates Paris wall-clock time to the minute (Excel has no time
    zones), text typed by an applicant always text, never a formula."""
    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True,  # each row goes to a temporary file once written
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
        "default_date_format": XLSX_DATETIME_FORMAT,
    })
    try:
        sheet = workbook.add_worksheet(title[:31])
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": XLSX_MONEY_FORMAT})
        when = workbook.add_format({"num_format": XLSX_DATETIME_FORMAT})
        for index, column in enumerate(COLUMNS):
            sheet.set_column(index, index, column.width)
            sheet.write_string(0, index, column.header, bold)
        sheet.freeze_panes(1, 0)

        def text(r: int, c: int, value: Any) -> None:
            if value is not None and value != "":
                sheet.write_string(r, c, str(value))

        def number(r: int, c: int, value: Any) -> None:
            if value is not None:
                sheet.write_number(r, c, value)

        def amount(r: int, c: int, value: str | Decimal | None) -> None:
            if value is not None and value != "":
                sheet.write_number(r, c, float(value), money)

        def moment(r: int, c: int, value: datetime | None) -> None:
            if value is not None:
                local = value.astimezone(PARIS).replace(tzinfo=None, second=0, microsecond=0)
                sheet.write_datetime(r, c, local, when)

        writers = {TEXT: text, NUMBER: number, MONEY: amount, DATETIME: moment}
        cells = [(index, writers[column.kind]) for index, column in enumerate(COLUMNS)]
        count = 0
        for count, values in enumerate(rows, start=1):
            for (index, write), value in zip(cells, values, strict=True):
                write(count, index, value)
        sheet.autofilter(0, 0, count, len(COLUMNS) - 1)
    finally:
        workbook.close()
    return count


def xlsx_file(call: Call, filters: QueueFilters, user: User) -> IO[bytes]:
    """The export in an anonymous temp file (deleted when closed), rewound."""
    target = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        write_xlsx(export_rows(call, filters, user), target)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target
