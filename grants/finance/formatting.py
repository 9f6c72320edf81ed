"""French display of amounts, rates and counts, through Babel's ``fr_FR`` locale.

Babel's output is kept as is: the group separator is a narrow no-break space (U+202F)
and the space before ``€`` or ``%`` a no-break space (U+00A0), so ``76 800,00 €`` and
``40 %`` never wrap in the middle on a web page or in a PDF.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent

from .money import CENT

__all__ = ["LOCALE", "format_applied_rate", "format_count", "format_eur", "format_number", "format_rate"]

LOCALE = "fr_FR"
# Parsed once: Babel re-parses a locale given by name on every call.
_LOCALE = Locale.parse(LOCALE)


# What Babel's fr_FR currency pattern (``#,##0.00\u00a0¤``) produces, written out: a page
# of the officer queue formats a hundred amounts, and Babel takes ~30 µs for each (it
# walks its pattern machinery every time) where this takes ~1 µs. A property test holds it
# equal to ``babel.numbers.format_currency`` for every amount to the cent.
_GROUP = "\u202f"  # narrow no-break space
_BEFORE_SYMBOL = "\u00a0"  # no-break space


def format_eur(amount: Decimal) -> str:
    """Format an amount already rounded to the cent: ``Decimal("76800.00")`` → ``76 800,00 €``.

    Babel would round a third decimal half-even; refusing it keeps "round once, where the
    rules say" true for displayed figures too.
    """
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValueError(f"format_eur expects an amount rounded to the cent, got {amount}")
    digits = f"{abs(amount):,.2f}".replace(",", _GROUP).replace(".", ",")
    return f"{'-' if amount.is_signed() else ''}{digits}{_BEFORE_SYMBOL}€"


def format_eur_babel(amount: Decimal) -> str:
    """Babel's own formatting, the reference :func:`format_eur` is tested against."""
    return format_currency(amount, "EUR", locale=_LOCALE)


def format_rate(rate: Decimal) -> str:
    """Format a rate without losing digits: ``0.60`` → ``60 %``, ``0.375`` → ``37,5 %``."""
    return format_percent(rate, locale=_LOCALE, decimal_quantization=False)


def format_applied_rate(granted: Decimal, base: Decimal) -> str:
    """The rate a grant covers of its base, with the precision that is true: exact when it
    has at most one decimal as a percentage (``60 %``, ``40,5 %``), else rounded half-up to
    one decimal (120 000,00 / 297 320,00 → ``40,4 %``; 59 996 / 100 000 → ``60,0 %``,
    never ``60 %``). ``—`` without a base."""
    if base <= 0:
        return "—"
    ratio = Fraction(granted) / Fraction(base)
    per_mille = ratio * 1000
    if per_mille.denominator == 1:
        return format_rate(Decimal(per_mille.numerator) / 1000)
    rounded = math.floor(per_mille + Fraction(1, 2))
    return format_percent(Decimal(rounded) / 1000, format="#,##0.0\u00a0%", locale=_LOCALE)


def format_number(value: Decimal | int) -> str:
    """Format a plain number without losing digits: ``0.50`` → ``0,5``, ``1200`` → ``1 200``."""
    return format_decimal(value, locale=_LOCALE, decimal_quantization=False)


def format_count(count: int, singular: str, plural: str) -> str:
    """Format a count with its noun; French keeps 0 and 1 singular (``0 jeune``, ``2 jeunes``)."""
    return f"{format_number(count)} {singular if count < 2 else plural}"
