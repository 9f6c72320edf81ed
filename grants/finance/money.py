"""Exact money arithmetic: input conversion, the two rounding rules and their guards.

Every figure of docs/finance.md is a ``Decimal`` with exactly two decimals.  Intermediate
products (``rate × amount``, ``cost × fte × months / 12``) are computed as exact
fractions and rounded once, by :func:`round_half_up` (``R``) or :func:`round_down`
(``F``); sums and differences of rounded figures are exact by construction and
:data:`EXACT` makes any accidental rounding raise instead of passing silently.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded
from fractions import Fraction

__all__ = [
    "CENT",
    "EXACT",
    "MAX_AMOUNT",
    "MAX_RATIO_PLACES",
    "ZERO",
    "FinanceInputError",
    "check_ratio_places",
    "FloatLiteral",
    "describe",
    "is_cents",
    "round_down",
    "round_half_up",
    "to_amount",
    "to_decimal",
    "to_int",
    "to_optional_amount",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: Largest amount accepted in an input (NUMERIC(14, 2)); also keeps arithmetic bounded.
MAX_AMOUNT = Decimal("999999999999.99")

#: Rates, shares and FTE carry at most this many decimals (``0.3333333333`` is fine).
MAX_RATIO_PLACES = 10

#: Context for sums of rounded figures: wide enough never to round, and trapping
#: ``Inexact``/``Rounded`` so that a hidden second rounding would be a crash, not a cent.
EXACT = Context(prec=100, traps=[InvalidOperation, Inexact, Rounded, Overflow])

# Plain decimal notation only: no exponent, no underscores, no thousands separators,
# so that "1e3", "1_000" or "42 000,00" are refused rather than guessed.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


class FinanceInputError(ValueError):
    """A malformed input value, refused before any computation.

    ``field`` is the path of the offending value (``strands.reperage.posts[0].fte``)
    and ``message`` the French explanation; ``str(error)`` is the one-line message
    shown by the simulator.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} : {message}")
        self.field = field
        self.message = message

    def with_prefix(self, prefix: str) -> FinanceInputError:
        """Return the same error with its field placed under ``prefix``."""
        field = f"{prefix}.{self.field}" if prefix else self.field
        return FinanceInputError(field, self.message)


class FloatLiteral(str):
    """The text of a JSON number written with a fraction or an exponent (``1.0``, ``2e3``).

    The simulator parses JSON floats into this type (``json.loads(parse_float=...)``)
    so that they can be refused with their original spelling instead of being rounded
    through a binary ``float``.
    """


_SHOWN_LENGTH = 40


def _shorten(text: str) -> str:
    # A 4 000-digit number must not turn the one-line error into a wall of digits.
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH] + "…"


def describe(value: object) -> str:
    """Render a received value for an error message, JSON-style (``"abc"``, ``true``, ``1.5``)."""
    if isinstance(value, FloatLiteral):
        return _shorten(str(value))
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(_shorten(value), ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "une liste"
    if isinstance(value, dict):
        return "un objet"
    if isinstance(value, (int, Decimal)):
        return _shorten(str(value))
    return _shorten(repr(value))


def to_decimal(value: object, field: str) -> Decimal:
    """Convert a ``Decimal``, an ``int`` or a plain decimal string to a finite ``Decimal``.

    Floats (and JSON float literals), booleans, NaN, infinities and anything else are
    refused with a :class:`FinanceInputError` naming ``field``.
    """
    if isinstance(value, (float, FloatLiteral)):
        raise FinanceInputError(field, f"nombre décimal attendu, reçu {describe(value)} (flottant)")
    if isinstance(value, bool):
        raise FinanceInputError(field, f"nombre décimal attendu, reçu {describe(value)}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FinanceInputError(field, f"nombre décimal fini attendu, reçu {describe(value)}")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if _DECIMAL_TEXT.fullmatch(text):
            return Decimal(text)
    raise FinanceInputError(field, f"nombre décimal attendu, reçu {describe(value)}")


def to_amount(value: object, field: str) -> Decimal:
    """Convert an amount in euros: non-negative, at most two decimals, returned as ``x.xx``."""
    amount = to_decimal(value, field)
    if amount < 0:
        raise FinanceInputError(field, f"montant positif ou nul attendu, reçu {describe(amount)}")
    if amount > MAX_AMOUNT:
        raise FinanceInputError(
            field, f"montant trop élevé (au plus 999 999 999 999,99 €), reçu {describe(amount)}"
        )
    cents = amount.quantize(CENT)
    if cents != amount:
        raise FinanceInputError(
            field, f"montant au centime attendu (deux décimales au plus), reçu {describe(amount)}"
        )
    return cents


def to_optional_amount(value: object, field: str) -> Decimal | None:
    """Like :func:`to_amount`, but ``None`` stays ``None`` (an absent cap)."""
    return None if value is None else to_amount(value, field)


def to_int(value: object, field: str) -> int:
    """Accept a true integer only: floats, booleans and strings are refused."""
    if isinstance(value, (float, FloatLiteral)):
        raise FinanceInputError(field, f"nombre entier attendu, reçu {describe(value)} (flottant)")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise FinanceInputError(field, f"nombre entier attendu, reçu {describe(value)}")


def check_ratio_places(value: Decimal, field: str) -> None:
    """Refuse a rate, share or FTE with more than :data:`MAX_RATIO_PLACES` decimals.

    Call only on values already known to lie in [0, 1], so the quantization is cheap.
    """
    if value.quantize(Decimal(1).scaleb(-MAX_RATIO_PLACES)) != value:
        raise FinanceInputError(
            field, f"{MAX_RATIO_PLACES} décimales au plus attendues, reçu {describe(value)}"
        )


def _cents(numerator: int) -> Decimal:
    """Build the two-decimal ``Decimal`` worth ``numerator`` cents, exactly."""
    return Decimal(f"{numerator}E-2")


def round_half_up(value: Fraction | Decimal | int) -> Decimal:
    """``R``: round an exact value to the cent, halves away from zero (``0,005 → 0,01``)."""
    hundredths = Fraction(value) * 100
    magnitude = math.floor(abs(hundredths) + Fraction(1, 2))
    return _cents(magnitude if hundredths >= 0 else -magnitude)


def round_down(value: Fraction | Decimal | int) -> Decimal:
    """``F``: truncate an exact non-negative value to the cent (``0,019 → 0,01``)."""
    hundredths = Fraction(value) * 100
    if hundredths < 0:
        # F only ever applies to rate × base, both non-negative; a negative here is a bug.
        raise ValueError("round_down expects a non-negative value")
    return _cents(math.floor(hundredths))


def is_cents(value: Decimal) -> bool:
    """Tell whether ``value`` is a finite ``Decimal`` written with exactly two decimals."""
    return isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent == -2
