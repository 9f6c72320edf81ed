"""French formats for templates, PDFs and e-mails (Babel, Europe/Paris)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"


def money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return format_currency(value, "EUR", locale=LOCALE)


def percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return format_percent(value, format="#,##0.##\u00a0%", locale=LOCALE)


def number(value: Decimal | int | None) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=LOCALE)


def paris_datetime(value: datetime | None) -> str:
    """``26/03/2023 à 23:59`` in Paris time."""
    if value is None:
        return "—"
    local = value.astimezone(PARIS)
    return f"{local:%d/%m/%Y} à {local:%H:%M}"


def paris_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return f"{value:%d/%m/%Y}"


def long_date(value: date | datetime) -> str:
    """``26 mars 2023``."""
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(PARIS), "d MMMM y", locale=LOCALE)
    return format_date(value, "d MMMM y", locale=LOCALE)


def register(app) -> None:  # type: ignore[no-untyped-def]
    app.jinja_env.filters.update(
        money=money,
        percent=percent,
        number=number,
        paris_datetime=paris_datetime,
        paris_date=paris_date,
        long_date=long_date,
    )
