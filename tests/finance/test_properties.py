"""Property tests over random valid dossiers (hypothesis, 500 examples each)."""

from __future__ import annotations

import io
import json
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from grants.finance import FinanceRules, compute
from grants.finance.compute import FIGURES
from grants.finance.money import round_down, round_half_up
from grants.finance.parsing import parse_input
from grants.finance.simulator import run
from tests.finance.strategies import PROPERTY, dossiers, finance_rules

STRANDS = ("reperage", "sortie_emploi")
TWO_DECIMALS = re.compile(r"-?\d+\.\d\d")

def error_strands(result) -> set[str | None]:
    return {f.strand for f in result.findings if f.severity == "error"}


# Each test below checks a group of related properties on the same 500 dossiers: drawing
# a dossier costs hypothesis more than computing it, so grouping keeps the run short.


@PROPERTY
@given(finance_rules, dossiers)
def test_fse_bounds(rules: FinanceRules, strands) -> None:
    """fse ≤ fse_max ≤ fse_rate × base; fse ≤ renfort − other when that is ≥ 0; fse ≤ requested."""
    result = compute(rules, strands)
    for strand in STRANDS:
        figures, data = result.strands[strand], strands[strand]
        assert 0 <= figures.fse <= figures.fse_max
        assert figures.fse_max <= rules.fse_rate * figures.base
        room = figures.renfort - data.other_cofinancing
        if room >= 0:
            assert figures.fse <= room
        else:
            assert figures.fse == 0
        if data.requested is not None:
            assert figures.fse <= data.requested


@PROPERTY
@given(finance_rules, dossiers)
def test_balance_and_signs(rules: FinanceRules, strands) -> None:
    """socle + other + fse + self = base; self ≥ 0 and no negative figure without an error."""
    result = compute(rules, strands)
    for strand in STRANDS:
        figures = result.strands[strand]
        other = strands[strand].other_cofinancing
        assert figures.socle + other + figures.fse + figures.self_financing == figures.base
        negatives = [key for key in FIGURES if figures[key] < 0]
        if strand not in error_strands(result):
            assert figures.self_financing >= 0
            assert negatives == []
        if negatives:
            codes = {f.code for f in result.findings if f.strand == strand}
            assert negatives == ["self"] and "OVER_FINANCED" in codes
    totals = result.totals
    other_total = sum(strands[s].other_cofinancing for s in STRANDS)
    assert totals.socle + other_total + totals.fse + totals.self_financing == totals.base
    if not result.has_errors:
        assert all(totals[key] >= 0 for key in FIGURES)


@PROPERTY
@given(finance_rules, dossiers)
def test_totals_and_two_decimals(rules: FinanceRules, strands) -> None:
    """Totals are the sums of the strand lines; every figure has exactly two decimals."""
    result = compute(rules, strands)
    for key in FIGURES:
        assert result.totals[key] == sum(result.strands[s][key] for s in STRANDS)
    for figures in [*result.strands.values(), result.totals]:
        for key in FIGURES:
            assert figures[key].as_tuple().exponent == -2
    output = result.to_dict()
    for row in [output["strands"][s] for s in STRANDS] + [output["totals"]]:
        assert list(row) == list(FIGURES)
        for value in row.values():
            assert TWO_DECIMALS.fullmatch(value), value


@PROPERTY
@given(finance_rules, dossiers)
def test_deterministic_and_reproducible(rules: FinanceRules, strands) -> None:
    """Computing twice gives the same result, and so does recomputing a stored snapshot."""
    first = compute(rules, strands)
    second = compute(rules, dict(strands))
    assert first == second
    assert json.dumps(first.to_dict()) == json.dumps(second.to_dict())
    snapshot = json.loads(json.dumps(first.to_snapshot()))
    again = compute(*parse_input(snapshot["input"]))
    assert again == first
    assert again.to_dict() == snapshot["result"]


@PROPERTY
@given(finance_rules, dossiers)
def test_figures_and_findings_follow_the_rules(rules: FinanceRules, strands) -> None:
    """Recompute each line with Decimal's own rounding modes; findings match their conditions."""
    result = compute(rules, strands)
    cent = Decimal("0.01")
    with localcontext() as context:
        context.prec = 200
        for strand in STRANDS:
            data, figures = strands[strand], result.strands[strand]
            socle = (rules.cej_forfait_per_youth * rules.strand_share[strand]
                     * data.nb_jeunes_qpv).quantize(cent, ROUND_HALF_UP)
            staff = sum(
                (
                    (p.annual_cost * p.fte * p.months / 12).quantize(cent, ROUND_HALF_UP)
                    for p in data.posts
                    if p.category == "staff"
                ),
                Decimal("0.00"),
            )
            flat = (rules.flat_rate_other_costs * staff).quantize(cent, ROUND_HALF_UP)
            base = socle + staff + flat
            fse_max = (rules.fse_rate * base).quantize(cent, ROUND_DOWN)
            caps = [fse_max, staff + flat - data.other_cofinancing]
            if data.requested is not None:
                caps.append(data.requested)
            fse = max(Decimal("0.00"), min(caps))
            assert (figures.socle, figures.staff, figures.flat, figures.renfort) == (
                socle, staff, flat, staff + flat)
            assert (figures.base, figures.fse_max, figures.fse) == (base, fse_max, fse)

            codes = [f.code for f in result.findings if f.strand == strand]
            assert ("RENFORT_BELOW_SOCLE" in codes) == (figures.renfort < figures.socle)
            assert ("OVER_FINANCED" in codes) == (data.other_cofinancing > figures.renfort)
            assert ("REQUEST_ABOVE_MAX" in codes) == (
                data.requested is not None and data.requested > figures.fse_max
            )
            investments = [p for p in data.posts if p.category == "investment"]
            assert codes.count("INVESTMENT_NOT_ELIGIBLE") == len(investments)
            if data.is_empty:
                assert codes == []
                assert all(figures[key] == 0 for key in FIGURES)
    # one explanation line per figure, for each strand and for the totals
    assert len(result.explanations) == 3 * len(FIGURES)


@settings(PROPERTY, max_examples=200)
@given(finance_rules, dossiers)
def test_simulator_agrees_with_compute(rules: FinanceRules, strands) -> None:
    result = compute(rules, strands)
    document = result.to_snapshot()["input"]
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run("-", io.StringIO(json.dumps(document)), stdout, stderr)
    assert (code, stderr.getvalue()) == (0, "")
    assert json.loads(stdout.getvalue()) == result.to_dict()


@PROPERTY
@given(st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**6))
def test_rounding_functions_against_decimal(value: Fraction) -> None:
    with localcontext() as context:
        context.prec = 100
        decimal = Decimal(value.numerator) / Decimal(value.denominator)
        # For denominators up to 10^6 a 100-digit quotient can only tie where the
        # fraction itself ties, so Decimal's rounding is a faithful reference here.
        assert round_half_up(value) == decimal.quantize(Decimal("0.01"), ROUND_HALF_UP)
        if value >= 0:
            assert round_down(value) == decimal.quantize(Decimal("0.01"), ROUND_DOWN)
