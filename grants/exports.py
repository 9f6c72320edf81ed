"""Exports of a call's queue: CSV for French Excel and XLSX, one row per dossier.

Both read the dossiers in batches (``yield_per``) and never hold the whole list: the CSV
is written as it is read, the XLSX goes through a write-only workbook into a temp file.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Row, Select

from .extensions import db
from .finance import FIGURE_LABELS, STRAND_LABELS, STRANDS
from .formatting import PARIS
from .models import STRUCTURE_KIND_TITLES, Call, Dossier, Instruction, Structure, User, utcnow
from .officer.queries import Assignee, QueueFilters, filtered, ordered

BATCH = 500

#: The requested figures exported per strand and in total, from ``dossier.finance["result"]``.
# The finance module's labels, but "fse" is the amount requested after caps here, not the
# instruction's retained amount, which has a column of its own.
EXPORT_FIGURES: dict[str, str] = {**FIGURE_LABELS, "fse": "FSE+ demandé plafonné"}

TEXT, MONEY, DATETIME = "text", "money", "datetime"
XLSX_MONEY_FORMAT = "#,##0.00 €"
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
# A cell starting with one of these is a formula for a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str
    value: Callable[[Row[Any]], Any]
    width: int = 14


def _figure(scope: str, key: str) -> Callable[[Row[Any]], Decimal | None]:
    """A figure of ``finance["result"]``: ``scope`` is a strand or ``"totals"``."""

    def value(row: Row[Any]) -> Decimal | None:
        result = (row.finance or {}).get("result") or {}
        figures = result.get("totals") if scope == "totals" else (result.get("strands") or {}).get(scope)
        raw = (figures or {}).get(key)
        return None if raw in (None, "") else Decimal(str(raw))

    return value


COLUMNS: list[Column] = [
    Column("Référence", TEXT, lambda r: r.reference, 22),
    Column("Intitulé du projet", TEXT, lambda r: r.title, 40),
    Column("Structure", TEXT, lambda r: r.structure_name, 36),
    Column("SIRET", TEXT, lambda r: r.siret, 16),
    Column("Département", TEXT, lambda r: r.departement, 12),
    Column("Type de structure", TEXT, lambda r: STRUCTURE_KIND_TITLES[r.kind], 18),
    Column("État", TEXT, lambda r: r.state.title, 20),
    Column("Date de dépôt", DATETIME, lambda r: r.submitted_at, 17),
    *(
        Column(f"{STRAND_LABELS[strand]} — {label}", MONEY, _figure(strand, key))
        for strand in STRANDS
        for key, label in EXPORT_FIGURES.items()
    ),
    *(Column(f"Total — {label}", MONEY, _figure("totals", key)) for key, label in EXPORT_FIGURES.items()),
    Column("FSE+ demandé", MONEY, lambda r: r.fse_requested_total),
    Column("FSE+ retenu à l'instruction", MONEY, lambda r: r.fse_retained_total),
    Column("Avis d'instruction", TEXT, lambda r: r.opinion.title if r.opinion else None, 14),
    Column("Gestionnaire attribué", TEXT, lambda r: r.assignee_name, 24),
]


def export_query(call: Call, filters: QueueFilters, user: User) -> Select[Any]:
    """The queue's dossiers under ``filters`` and in its order, as plain columns (no page)."""
    query = filtered(call, filters, user).outerjoin(Instruction, Instruction.dossier_id == Dossier.id)
    return ordered(query, filters).with_only_columns(
        Dossier.reference, Dossier.title, Structure.name.label("structure_name"), Structure.siret,
        Structure.departement, Structure.kind, Dossier.state, Dossier.submitted_at, Dossier.finance,
        Dossier.fse_requested_total, Instruction.fse_retained_total, Instruction.opinion,
        Assignee.full_name.label("assignee_name"),
    )


def export_rows(call: Call, filters: QueueFilters, user: User) -> Iterator[Row[Any]]:
    """Rows read ``BATCH`` at a time (a server-side cursor on PostgreSQL)."""
    result = db.session.execute(export_query(call, filters, user).execution_options(yield_per=BATCH))
    try:
        yield from result
    finally:
        result.close()


def filename(call: Call, extension: str) -> str:
    safe_code = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in call.code)
    return f"dossiers-{safe_code}-{utcnow().astimezone(PARIS):%Y-%m-%d}.{extension}"


# CSV ------------------------------------------------------------------------------------


def csv_text(kind: str, value: Any) -> str:
    """A value the way French Excel reads it: ``12345,67``, ``26/03/2023 23:59``."""
    if value is None:
        return ""
    if kind == MONEY:
        return format(value, "f").replace(".", ",")
    if kind == DATETIME:
        return f"{value.astimezone(PARIS):%d/%m/%Y %H:%M}"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_chunks(rows: Iterator[Row[Any]]) -> Iterator[str]:
    """The CSV (``;``, BOM first), a chunk per dossier."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    writer.writerow([column.header for column in COLUMNS])
    yield "\ufeff" + flush()
    for row in rows:
        writer.writerow([csv_text(column.kind, column.value(row)) for column in COLUMNS])
        yield flush()


# XLSX -----------------------------------------------------------------------------------


def _xlsx_cell(sheet: Any, kind: str, value: Any) -> WriteOnlyCell:
    if kind == DATETIME and value is not None:
        # Excel has no time zones: Paris wall-clock time to the minute, as everywhere in the UI.
        value = value.astimezone(PARIS).replace(tzinfo=None, second=0, microsecond=0)
    cell = WriteOnlyCell(sheet, value=value)
    if kind == MONEY:
        cell.number_format = XLSX_MONEY_FORMAT
    elif kind == DATETIME:
        cell.number_format = XLSX_DATETIME_FORMAT
    elif isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"  # text typed by an applicant is never a formula
    return cell


def write_xlsx(rows: Iterator[Row[Any]], target: IO[bytes], title: str = "Dossiers") -> int:
    """Write the workbook to ``target``; returns the number of dossiers."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, column.kind, column.value(row)) for column in COLUMNS])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    workbook.save(target)
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
