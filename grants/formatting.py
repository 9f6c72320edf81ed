"""French formats for templates, PDFs and e-mails (Babel, Europe/Paris)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from .finance.formatting import format_eur
from .finance.money import CENT

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"


def money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    if value == value.quantize(CENT):
        return format_eur(value)
    return format_currency(value, "EUR", locale=LOCALE)  # more than cents: Babel rounds them


def percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return format_percent(value, format="#,##0.##\u00a0%", locale=LOCALE)


def number(value: Decimal | int | None) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=LOCALE)


def _in_paris(value: datetime) -> datetime:
    """``value`` in Paris time; at the edge of what ``datetime`` holds (year 9999), as it is."""
    try:
        return value.astimezone(PARIS)
    except (OverflowError, ValueError):
        return value


def paris_datetime(value: datetime | None) -> str:
    """``26/03/2023 à 23:59`` in Paris time."""
    if value is None:
        return "—"
    local = _in_paris(value)
    return f"{local:%d/%m/%Y} à {local:%H:%M}"


def paris_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _in_paris(value).date()
    return f"{value:%d/%m/%Y}"


def long_date(value: date | datetime) -> str:
    """``26 mars 2023``."""
    if isinstance(value, datetime):
        return format_datetime(_in_paris(value), "d MMMM y", locale=LOCALE)
    return format_date(value, "d MMMM y", locale=LOCALE)


def iso_date(value: str | None) -> str:
    """``2024-01-15`` (as stored in a dossier's JSON) → ``15/01/2024``; text that is no date
    (stored before the forms bounded dates) is shown as it is, never an error."""
    if not value:
        return "—"
    try:
        return paris_date(date.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def decimal_text(value: str | Decimal | None) -> str:
    """An exact decimal (string or Decimal) in French: ``12.5`` → ``12,5``."""
    if value in (None, ""):
        return "—"
    return format_decimal(Decimal(str(value)), format="#,##0.##########", locale=LOCALE)


def money_text(value: str | Decimal | None) -> str:
    if value in (None, ""):
        return "—"
    return money(Decimal(str(value)))


def file_size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{format_decimal(max(size / 1024, 0.1), format='#,##0.#', locale=LOCALE)} Ko"
    return f"{format_decimal(size / 1024 / 1024, format='#,##0.#', locale=LOCALE)} Mo"


def register(app) -> None:  # type: ignore[no-untyped-def]
    from .mail import user_text

    app.jinja_env.filters.update(
        user_text=user_text,
        iso_date=iso_date,
        decimal_text=decimal_text,
        money_text=money_text,
        file_size=file_size,
        money=money,
        percent=percent,
        number=number,
        paris_datetime=paris_datetime,
        paris_date=paris_date,
        long_date=long_date,
    )
