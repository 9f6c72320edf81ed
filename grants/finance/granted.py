"""What the committee grants: FSE+ per strand, within the retained plan (DESIGN.md §7).

The committee records the FSE+ granted per strand; by default the retained figure of each
strand. Each strand's grant stays within its retained figure (which already never exceeds
``fse_rate`` × the strand's base subventionnable nor over-finances it), so the total stays
within the retained maximum. The letter states, per strand and in total, the rate that
results: granted / retained base, which is the call's rate only when the whole retained
FSE+ of a strand at the rate's ceiling is granted.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from .money import ZERO, round_down
from .rules import STRANDS

__all__ = ["applied_rate", "split_grant"]


def split_grant(total: Decimal, retained: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Share a total grant between the strands in proportion of their retained FSE+.

    The retained figures themselves when ``total`` is their sum; otherwise the first strand
    gets its share rounded down to the cent and the last the rest, so that the parts add up
    to ``total`` and none exceeds its retained figure (``total`` ≤ the retained total).
    """
    figures = {strand: retained.get(strand, ZERO) for strand in STRANDS}
    whole = sum(figures.values(), ZERO)
    if total == whole:
        return figures
    if whole <= 0:
        return {STRANDS[0]: total, **{strand: ZERO for strand in STRANDS[1:]}}
    shares, given = {}, ZERO
    for strand in STRANDS[:-1]:
        shares[strand] = round_down(Fraction(total) * Fraction(figures[strand]) / Fraction(whole))
        given += shares[strand]
    shares[STRANDS[-1]] = total - given
    return shares


def applied_rate(granted: Decimal, base: Decimal) -> Decimal | None:
    """The share of the base subventionnable the grant covers, exactly (``None`` for a
    strand without base); :func:`grants.finance.format_applied_rate` prints it."""
    if base <= 0:
        return None
    return granted / base
