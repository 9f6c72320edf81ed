"""French display of amounts, rates and counts, through Babel's ``fr_FR`` locale.

Babel's output is kept as is: the group separator is a narrow no-break space (U+202F)
and the space before ``€`` or ``%`` a no-break space (U+00A0), so ``76 800,00 €`` and
``40 %`` never wrap in the middle on a web page or in a PDF.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent

from .money import CENT

__all__ = ["LOCALE", "format_count", "format_eur", "format_number", "format_rate"]

LOCALE = "fr_FR"
# Parsed once: Babel re-parses a locale given by name on every call.
_LOCALE = Locale.parse(LOCALE)


@lru_cache(maxsize=4096)
def format_eur(amount: Decimal) -> str:
    """Format an amount already rounded to the cent: ``Decimal("76800.00")`` → ``76 800,00 €``.

    Babel would round a third decimal half-even; refusing it keeps "round once, where the
    rules say" true for displayed figures too.  Cached: an explanation quotes the same
    figures several times, and Babel's formatting dominates the cost of :func:`compute`.
    """
    if amount != amount.quantize(CENT):
        raise ValueError(f"format_eur expects an amount rounded to the cent, got {amount}")
    return format_currency(amount, "EUR", locale=_LOCALE)


def format_rate(rate: Decimal) -> str:
    """Format a rate without losing digits: ``0.60`` → ``60 %``, ``0.375`` → ``37,5 %``."""
    return format_percent(rate, locale=_LOCALE, decimal_quantization=False)


def format_number(value: Decimal | int) -> str:
    """Format a plain number without losing digits: ``0.50`` → ``0,5``, ``1200`` → ``1 200``."""
    return format_decimal(value, locale=_LOCALE, decimal_quantization=False)


def format_count(count: int, singular: str, plural: str) -> str:
    """Format a count with its noun; French keeps 0 and 1 singular (``0 jeune``, ``2 jeunes``)."""
    return f"{format_number(count)} {singular if count < 2 else plural}"
