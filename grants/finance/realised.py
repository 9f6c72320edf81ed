"""What is due on what was realised: the bilan and the *contrôle de service fait*.

The same formulas as the request (:func:`grants.finance.compute`), on the *realised* inputs
(QPV young people actually accompanied, posts actually paid, co-financing actually
received), capped per strand by the FSE+ granted::

    due_s     = max(0, min(F(fse_rate × base_s), renfort_s − other_s, granted_s))
    payable   = Σ due_s − paid          (negative: an amount to recover, finding REVERSEMENT)

``socle``, ``staff``, ``flat``, ``renfort``, ``base`` and ``fse_max`` are exactly the
request's figures on the realised inputs (the same rounding: ``R`` on socle, staff lines
and flat rate, ``F`` on the maximum), with the same explanation lines; the request's
``requested`` cap plays no part (the grant replaces it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from types import MappingProxyType

from .compute import Finding, FindingCode, FinancingResult, Severity, StrandInput, compute
from .formatting import format_eur, format_rate
from .money import EXACT, ZERO, FinanceInputError, to_amount
from .rules import STRAND_LABELS, STRANDS, FinanceRules

__all__ = ["REALISED_FIGURES", "RealisedResult", "RealisedStrand", "compute_realised"]

#: Figure keys of a strand of the bilan, in the contract's order.
REALISED_FIGURES: tuple[str, ...] = ("socle", "staff", "flat", "renfort", "base", "fse_max", "due")

# The request's findings that still speak on realised inputs (REQUEST_ABOVE_MAX cannot:
# there is no request).
_KEPT_FINDINGS = (
    FindingCode.INVESTMENT_NOT_ELIGIBLE, FindingCode.RENFORT_BELOW_SOCLE, FindingCode.OVER_FINANCED,
)
# The request's explanation lines kept, by position: socle, staff, flat, renfort, base, fse_max.
_KEPT_LINES = 6


@dataclass(frozen=True)
class RealisedStrand:
    """The figures of one strand on realised inputs, each a two-decimal ``Decimal``."""

    socle: Decimal
    staff: Decimal
    flat: Decimal
    renfort: Decimal
    base: Decimal
    fse_max: Decimal
    due: Decimal

    def __getitem__(self, key: str) -> Decimal:
        if key not in REALISED_FIGURES:
            raise KeyError(key)
        return getattr(self, key)

    def to_dict(self) -> dict[str, str]:
        return {key: format(self[key], "f") for key in REALISED_FIGURES}


@dataclass(frozen=True)
class RealisedResult:
    """The bilan's computation, with what produced it: rules, realised inputs, grant, paid."""

    rules: FinanceRules
    inputs: Mapping[str, StrandInput]
    granted: Mapping[str, Decimal]
    paid: Decimal
    strands: Mapping[str, RealisedStrand]
    totals: RealisedStrand
    findings: tuple[Finding, ...]
    explanations: tuple[str, ...]
    __hash__ = None  # type: ignore[assignment]

    @property
    def payable(self) -> Decimal:
        """What remains to pay (negative: what the beneficiary must pay back)."""
        with localcontext(EXACT):
            return self.totals.due - self.paid

    @property
    def to_recover(self) -> Decimal:
        """The *reversement* asked of the beneficiary (0,00 € when nothing is owed back)."""
        return max(ZERO, -self.payable)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == Severity.ERROR for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        """Exactly the ``--bilan`` simulator's output object."""
        totals = self.totals.to_dict() | {"paid": format(self.paid, "f"), "payable": format(self.payable, "f")}
        return {
            "strands": {strand: self.strands[strand].to_dict() for strand in STRANDS},
            "totals": totals,
            "findings": [finding.to_dict() for finding in self.findings],
            "explanations": list(self.explanations),
        }

    def to_snapshot(self) -> dict[str, object]:
        """The simulator input that reproduces this result, and the result."""
        return {
            "input": {
                "rules": self.rules.to_dict(),
                "strands": {strand: self.inputs[strand].to_dict() for strand in STRANDS},
                "granted": {strand: format(self.granted[strand], "f") for strand in STRANDS},
                "paid": format(self.paid, "f"),
            },
            "result": self.to_dict(),
        }


def compute_realised(
    rules: FinanceRules, strands: Mapping[str, StrandInput], granted: Mapping[str, object],
    paid: object = ZERO,
) -> RealisedResult:
    """Compute what is due on realised inputs, capped per strand by ``granted`` (a strand
    left out is granted 0,00 €), and what remains to pay after ``paid``."""
    grants = _granted(granted)
    already = to_amount(paid, "paid")
    # The request's computation on the realised inputs, without any request cap.
    plain = {strand: _without_request(data) for strand, data in strands.items()}
    request = compute(rules, plain)
    figures: dict[str, RealisedStrand] = {}
    findings: list[Finding] = []
    lines: list[str] = []
    for strand in STRANDS:
        outcome = request.strands[strand]
        other = request.inputs[strand].other_cofinancing
        grant = grants[strand]
        with localcontext(EXACT):
            available = outcome.renfort - other
            capped = min(outcome.fse_max, available, grant)
            due = max(ZERO, capped)
        figures[strand] = RealisedStrand(
            socle=outcome.socle, staff=outcome.staff, flat=outcome.flat, renfort=outcome.renfort,
            base=outcome.base, fse_max=outcome.fse_max, due=due,
        )
        findings.extend(f for f in request.findings if f.strand == strand and f.code in _KEPT_FINDINGS)
        if due < grant:
            findings.append(_due_below_granted(rules, strand, due, grant, figures[strand], other))
        lines.extend(request.strand_explanations[strand][:_KEPT_LINES])
        lines.append(_due_line(strand, outcome.fse_max, outcome.renfort, other, grant, capped, due))
    totals = _sum(figures)
    with localcontext(EXACT):
        payable = totals.due - already
    lines.extend(_total_lines(request, figures, totals, already, payable))
    if payable < 0:
        findings.append(Finding(
            FindingCode.REVERSEMENT, Severity.WARNING, None,
            f"Les versements déjà effectués ({format_eur(already)}) dépassent le FSE+ dû "
            f"({format_eur(totals.due)}) : {format_eur(-payable)} sont à reverser par le bénéficiaire.",
        ))
    return RealisedResult(
        rules=rules, inputs=request.inputs, granted=MappingProxyType(grants), paid=already,
        strands=MappingProxyType(figures), totals=totals, findings=tuple(findings), explanations=tuple(lines),
    )


def _granted(granted: Mapping[str, object]) -> dict[str, Decimal]:
    if not isinstance(granted, Mapping):
        raise FinanceInputError("granted", "objet attendu (un montant attribué par volet)")
    for strand in granted:
        if strand not in STRANDS:
            raise FinanceInputError(
                f"granted.{strand}", f"volet inconnu (volets attendus : {', '.join(STRANDS)})"
            )
    return {strand: to_amount(granted.get(strand, "0.00"), f"granted.{strand}") for strand in STRANDS}


def _without_request(data: StrandInput) -> StrandInput:
    if not isinstance(data, StrandInput):
        raise TypeError("strands must map to StrandInput")
    return StrandInput(nb_jeunes_qpv=data.nb_jeunes_qpv, posts=data.posts,
                       other_cofinancing=data.other_cofinancing, requested=None)


def _due_below_granted(rules: FinanceRules, strand: str, due: Decimal, grant: Decimal, figures: RealisedStrand,
                       other: Decimal) -> Finding:
    """Why the strand earns less than its grant: the cap that binds, with its figures."""
    label = STRAND_LABELS[strand]
    fse_max, renfort = figures.fse_max, figures.renfort
    with localcontext(EXACT):
        available = renfort - other
    if figures.base == 0:
        cause = "aucune réalisation n'est déclarée sur ce volet"
    elif available >= fse_max:
        cause = (f"le FSE+ ne dépasse pas {format_rate(rules.fse_rate)} de la base subventionnable réalisée "
                 f"({format_eur(figures.base)}), soit {format_eur(fse_max)}")
    elif other > 0:
        cause = (f"le renforcé réalisé ({format_eur(renfort)}) diminué des autres cofinancements reçus "
                 f"({format_eur(other)}) ne laisse que {format_eur(max(ZERO, available))} au FSE+")
    else:
        cause = f"le renforcé réalisé ({format_eur(renfort)}) est le plafond du FSE+"
    return Finding(
        FindingCode.DUE_BELOW_GRANTED, Severity.WARNING, strand,
        f"{label} : le FSE+ dû ({format_eur(due)}) est inférieur au FSE+ attribué ({format_eur(grant)}) "
        f"de {format_eur(grant - due)} : {cause}.",
    )


def _due_line(strand: str, fse_max: Decimal, renfort: Decimal, other: Decimal, grant: Decimal,
              capped: Decimal, due: Decimal) -> str:
    formula = (f"min(maximum {format_eur(fse_max)} ; renforcé {format_eur(renfort)} − autres cofinancements "
               f"{format_eur(other)} ; attribué {format_eur(grant)})")
    suffix = ""
    if capped < 0:
        formula = f"max(0 ; {formula})"
        suffix = " (jamais négatif)"
    return f"FSE+ dû {STRAND_LABELS[strand].lower()} = {formula} = {format_eur(due)}{suffix}"


def _sum(figures: Mapping[str, RealisedStrand]) -> RealisedStrand:
    with localcontext(EXACT):
        sums = {key: sum((figures[s][key] for s in STRANDS), ZERO) for key in REALISED_FIGURES}
    return RealisedStrand(**sums)


def _total_lines(request: FinancingResult, figures: Mapping[str, RealisedStrand], totals: RealisedStrand,
                 paid: Decimal, payable: Decimal) -> list[str]:
    # The request's total lines for the six shared figures, then the bilan's own.
    lines = list(request.total_explanations[:_KEPT_LINES])
    parts = " + ".join(f"{format_eur(figures[s].due)} ({STRAND_LABELS[s].lower()})" for s in STRANDS)
    lines.append(f"Total FSE+ dû = {parts} = {format_eur(totals.due)}")
    if payable < 0:
        lines.append(f"À reverser = déjà versé {format_eur(paid)} − total FSE+ dû {format_eur(totals.due)} = "
                     f"{format_eur(-payable)}")
    else:
        lines.append(f"Reste à verser = total FSE+ dû {format_eur(totals.due)} − déjà versé {format_eur(paid)} = "
                     f"{format_eur(payable)}")
    return lines
