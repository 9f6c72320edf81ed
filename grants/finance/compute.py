"""The financing computation of docs/finance.md: figures, findings and explanation lines.

Per strand ``s`` (``N_s`` QPV young people, ``R`` = half-up to the cent, ``F`` = down to
the cent)::

    socle_s   = R(cej_forfait_per_youth × strand_share_s × N_s)
    staff_s   = Σ staff posts R(annual_cost × fte × months / 12)
    flat_s    = R(flat_rate_other_costs × staff_s)
    renfort_s = staff_s + flat_s
    base_s    = socle_s + renfort_s
    fse_max_s = F(fse_rate × base_s)
    fse_s     = max(0, min(fse_max_s, renfort_s − other_s, requested_s))
    self_s    = base_s − socle_s − other_s − fse_s

Totals are the sums of the rounded strand figures; nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from .formatting import format_count, format_eur, format_number, format_rate
from .money import (
    EXACT,
    ZERO,
    FinanceInputError,
    check_ratio_places,
    describe,
    round_down,
    round_half_up,
    to_amount,
    to_decimal,
    to_int,
    to_optional_amount,
)
from .rules import LEGAL_REFERENCES, STRAND_LABELS, STRANDS, FinanceRules

__all__ = [
    "FIGURES",
    "FIGURE_LABELS",
    "MAX_MONTHS",
    "MAX_YOUTH",
    "Finding",
    "FindingCode",
    "FinancingResult",
    "Post",
    "PostCategory",
    "Severity",
    "StrandFigures",
    "StrandInput",
    "check_envelope",
    "compute",
]

#: Figure keys, in the order of the formulas and of the contract's output objects.
FIGURES: tuple[str, ...] = ("socle", "staff", "flat", "renfort", "base", "fse_max", "fse", "self")

#: French names of the figures, with the slide's vocabulary (for tables and PDFs).
FIGURE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "socle": "Base socle",
        "staff": "Frais de personnel directs",
        "flat": "Forfait coûts restants",
        "renfort": "Renforcé",
        "base": "Base subventionnable",
        "fse_max": "FSE+ maximum",
        "fse": "FSE+ retenu",
        "self": "Autofinancement",
    }
)

MAX_MONTHS = 48
#: Sanity bound on the number of young people of a strand (keeps figures storable).
MAX_YOUTH = 1_000_000

_TWELVE = Fraction(12)


class Severity(StrEnum):
    """``error`` blocks submission or selection; ``warning`` is only shown."""

    ERROR = "error"
    WARNING = "warning"


class FindingCode(StrEnum):
    """Stable finding codes (docs/finance.md); never rename one, add new ones instead."""

    RENFORT_BELOW_SOCLE = "RENFORT_BELOW_SOCLE"
    REQUEST_ABOVE_MAX = "REQUEST_ABOVE_MAX"
    OVER_FINANCED = "OVER_FINANCED"
    INVESTMENT_NOT_ELIGIBLE = "INVESTMENT_NOT_ELIGIBLE"
    ENVELOPE_EXCEEDED = "ENVELOPE_EXCEEDED"
    # On realised inputs (grants.finance.realised): a bilan or a contrôle de service fait.
    DUE_BELOW_GRANTED = "DUE_BELOW_GRANTED"
    REVERSEMENT = "REVERSEMENT"


class PostCategory(StrEnum):
    """Expense category of a resource line: only staff costs are eligible at real cost."""

    STAFF = "staff"
    INVESTMENT = "investment"


@dataclass(frozen=True)
class Finding:
    """A rule check outcome; ``strand`` is ``None`` for a dossier- or call-level finding."""

    code: FindingCode
    severity: Severity
    strand: str | None
    message: str

    def __post_init__(self) -> None:
        # Accept the plain strings of a stored finding; an unknown code is a ValueError.
        object.__setattr__(self, "code", FindingCode(self.code))
        object.__setattr__(self, "severity", Severity(self.severity))

    @classmethod
    def from_dict(cls, data: Mapping[str, str | None]) -> Finding:
        """Rebuild a finding from its stored :meth:`to_dict` form."""
        code, severity = data["code"], data["severity"]
        if code is None or severity is None or data["message"] is None:
            raise ValueError("a finding needs a code, a severity and a message")
        return cls(FindingCode(code), Severity(severity), data["strand"], data["message"])

    def to_dict(self) -> dict[str, str | None]:
        """The contract's finding object."""
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "strand": self.strand,
            "message": self.message,
        }


@dataclass(frozen=True)
class Post:
    """A resource line of a strand: a post (``staff``) or a refused ``investment`` line.

    Values are validated on construction; ``FinanceInputError.field`` is the attribute
    name (``fte``), which callers prefix with the line's place in their form.
    """

    label: str
    annual_cost: Decimal
    fte: Decimal
    months: int
    category: PostCategory | str = PostCategory.STAFF

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise FinanceInputError(
                "label", f"libellé attendu (texte non vide), reçu {describe(self.label)}"
            )
        annual_cost = to_amount(self.annual_cost, "annual_cost")
        fte = to_decimal(self.fte, "fte")
        if not 0 < fte <= 1:
            raise FinanceInputError(
                "fte", f"quotité (ETP) comprise dans ]0 ; 1] attendue, reçu {describe(fte)}"
            )
        check_ratio_places(fte, "fte")
        months = to_int(self.months, "months")
        if not 1 <= months <= MAX_MONTHS:
            raise FinanceInputError(
                "months",
                f"nombre de mois compris entre 1 et {MAX_MONTHS} attendu, reçu {describe(months)}",
            )
        try:
            category = PostCategory(self.category)
        except ValueError:
            raise FinanceInputError(
                "category",
                f"catégorie attendue : staff ou investment, reçu {describe(self.category)}",
            ) from None
        object.__setattr__(self, "label", self.label.strip())
        object.__setattr__(self, "annual_cost", annual_cost)
        object.__setattr__(self, "fte", fte)
        object.__setattr__(self, "months", months)
        object.__setattr__(self, "category", category)

    def to_dict(self) -> dict[str, object]:
        """The simulator's input object for this line."""
        return {
            "label": self.label,
            "annual_cost": format(self.annual_cost, "f"),
            "fte": format(self.fte, "f"),  # plain notation, never "1E-10"
            "months": self.months,
            "category": str(self.category),
        }


@dataclass(frozen=True)
class StrandInput:
    """What a dossier declares for one strand.

    An empty strand (0 young people, no line, no co-financing, no request) is allowed:
    a structure may answer on one strand only; all its figures are then 0,00 €.
    """

    nb_jeunes_qpv: int
    posts: tuple[Post, ...] = ()
    other_cofinancing: Decimal = ZERO
    requested: Decimal | None = None

    def __post_init__(self) -> None:
        youth = to_int(self.nb_jeunes_qpv, "nb_jeunes_qpv")
        if not 0 <= youth <= MAX_YOUTH:
            raise FinanceInputError(
                "nb_jeunes_qpv",
                f"nombre de jeunes compris entre 0 et {format_number(MAX_YOUTH)} attendu, "
                f"reçu {describe(youth)}",
            )
        if isinstance(self.posts, (str, bytes)) or not isinstance(self.posts, Iterable):
            raise FinanceInputError("posts", f"liste attendue, reçu {describe(self.posts)}")
        posts = tuple(self.posts)
        for index, post in enumerate(posts):
            if not isinstance(post, Post):
                raise TypeError(f"posts[{index}] must be a Post, got {type(post).__name__}")
        object.__setattr__(self, "nb_jeunes_qpv", youth)
        object.__setattr__(self, "posts", posts)
        object.__setattr__(
            self, "other_cofinancing", to_amount(self.other_cofinancing, "other_cofinancing")
        )
        object.__setattr__(self, "requested", to_optional_amount(self.requested, "requested"))

    @classmethod
    def empty(cls) -> StrandInput:
        """A strand the dossier does not apply for."""
        return cls(nb_jeunes_qpv=0)

    @property
    def is_empty(self) -> bool:
        """No young people, no line, no co-financing and no request."""
        return (
            self.nb_jeunes_qpv == 0
            and not self.posts
            and self.other_cofinancing == 0
            and not self.requested
        )

    def to_dict(self) -> dict[str, object]:
        """The simulator's input object for this strand."""
        return {
            "nb_jeunes_qpv": self.nb_jeunes_qpv,
            "posts": [post.to_dict() for post in self.posts],
            "other_cofinancing": format(self.other_cofinancing, "f"),
            "requested": None if self.requested is None else format(self.requested, "f"),
        }


@dataclass(frozen=True)
class StrandFigures:
    """The eight figures of a strand (or of the totals), each a ``Decimal`` with two decimals.

    ``self`` is a reserved-looking name in Python, hence ``self_financing``; indexing
    with the contract's keys (``figures["self"]``) works for every figure.
    """

    socle: Decimal
    staff: Decimal
    flat: Decimal
    renfort: Decimal
    base: Decimal
    fse_max: Decimal
    fse: Decimal
    self_financing: Decimal

    def __getitem__(self, key: str) -> Decimal:
        if key not in FIGURES:
            raise KeyError(key)
        return self.self_financing if key == "self" else getattr(self, key)

    def to_dict(self) -> dict[str, str]:
        """The contract's figures object: amounts as strings with two decimals."""
        return {key: format(self[key], "f") for key in FIGURES}


@dataclass(frozen=True)
class FinancingResult:
    """Everything computed for a dossier, with the rules and inputs that produced it."""

    rules: FinanceRules
    inputs: Mapping[str, StrandInput]
    strands: Mapping[str, StrandFigures]
    totals: StrandFigures
    findings: tuple[Finding, ...]
    strand_explanations: Mapping[str, tuple[str, ...]]
    total_explanations: tuple[str, ...]
    __hash__ = None  # type: ignore[assignment]  # holds mappings: compare, do not hash

    @property
    def explanations(self) -> tuple[str, ...]:
        """All explanation lines: each strand's, in strand order, then the totals'."""
        lines: list[str] = []
        for strand in STRANDS:
            lines.extend(self.strand_explanations[strand])
        lines.extend(self.total_explanations)
        return tuple(lines)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.WARNING)

    @property
    def has_errors(self) -> bool:
        """True when a finding blocks submission or selection."""
        return bool(self.errors)

    @property
    def self_total_shown(self) -> bool:
        """False when the autofinancement total would add an over-financed strand's
        negative figure to the other's positive one (see :func:`self_financing_not_summed`):
        tables then print no total for that line."""
        return not self_financing_not_summed(self.strands)

    def to_dict(self) -> dict[str, object]:
        """Exactly the simulator's output object: strands, totals, findings, explanations."""
        return {
            "strands": {strand: self.strands[strand].to_dict() for strand in STRANDS},
            "totals": self.totals.to_dict(),
            "findings": [finding.to_dict() for finding in self.findings],
            "explanations": list(self.explanations),
        }

    def to_snapshot(self) -> dict[str, object]:
        """What to store with the dossier: the simulator input that reproduces the result.

        ``snapshot["input"]`` is a valid simulator input, so
        ``compute(*parse_input(snapshot["input"])).to_dict() == snapshot["result"]``.
        """
        return {
            "input": {
                "rules": self.rules.to_dict(),
                "strands": {strand: self.inputs[strand].to_dict() for strand in STRANDS},
            },
            "result": self.to_dict(),
        }


# --- computation -------------------------------------------------------------------


@dataclass
class _StrandOutcome:
    figures: StrandFigures
    findings: list[Finding] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)


def compute(rules: FinanceRules, strands: Mapping[str, StrandInput]) -> FinancingResult:
    """Compute every figure, finding and explanation line of a dossier.

    ``strands`` must hold both strands of :data:`STRANDS` (an unused one is
    ``StrandInput.empty()``); an unknown or missing strand raises
    :class:`FinanceInputError`.
    """
    if not isinstance(rules, FinanceRules):
        raise TypeError(f"rules must be FinanceRules, got {type(rules).__name__}")
    for strand in strands:
        if strand not in STRANDS:
            raise FinanceInputError(
                f"strands.{strand}", f"volet inconnu (volets attendus : {', '.join(STRANDS)})"
            )
    for strand in STRANDS:
        if strand not in strands:
            raise FinanceInputError(
                f"strands.{strand}",
                "champ obligatoire manquant (un volet non demandé s'écrit avec "
                "0 jeune, aucun poste et 0.00 de cofinancement)",
            )
        if not isinstance(strands[strand], StrandInput):
            raise TypeError(f"strands[{strand!r}] must be a StrandInput")

    outcomes = {strand: _compute_strand(rules, strand, strands[strand]) for strand in STRANDS}
    figures = MappingProxyType({strand: outcomes[strand].figures for strand in STRANDS})
    totals = _sum_figures([figures[strand] for strand in STRANDS])
    return FinancingResult(
        rules=rules,
        inputs=MappingProxyType({strand: strands[strand] for strand in STRANDS}),
        strands=figures,
        totals=totals,
        findings=tuple(f for strand in STRANDS for f in outcomes[strand].findings),
        strand_explanations=MappingProxyType(
            {strand: tuple(outcomes[strand].explanations) for strand in STRANDS}
        ),
        total_explanations=_total_explanations(figures, totals),
    )


def _compute_strand(rules: FinanceRules, strand: str, data: StrandInput) -> _StrandOutcome:
    label = STRAND_LABELS[strand]
    name = label.lower()
    share = rules.strand_share[strand]
    other = data.other_cofinancing
    requested = data.requested
    findings: list[Finding] = []

    socle_exact = (
        Fraction(rules.cej_forfait_per_youth) * Fraction(share) * data.nb_jeunes_qpv
    )
    socle = round_half_up(socle_exact)

    # The EXACT context turns any rounding in the sums below into an exception.
    with localcontext(EXACT):
        staff = ZERO
        post_terms: list[tuple[Post, Decimal, bool]] = []
        excluded: list[Post] = []
        for post in data.posts:
            if post.category is PostCategory.INVESTMENT:
                excluded.append(post)
                findings.append(_investment_finding(strand, label, post))
                continue
            exact = Fraction(post.annual_cost) * Fraction(post.fte) * post.months / _TWELVE
            amount = round_half_up(exact)
            staff += amount
            post_terms.append((post, amount, exact != amount))

        flat_exact = Fraction(rules.flat_rate_other_costs) * Fraction(staff)
        flat = round_half_up(flat_exact)
        renfort = staff + flat
        base = socle + renfort
        fse_max_exact = Fraction(rules.fse_rate) * Fraction(base)
        fse_max = round_down(fse_max_exact)
        available = renfort - other
        caps = [fse_max, available] if requested is None else [fse_max, available, requested]
        capped = min(caps)
        fse = max(ZERO, capped)
        self_financing = base - socle - other - fse
        surplus = other - renfort  # > 0 only when over-financed

    figures = StrandFigures(
        socle=socle,
        staff=staff,
        flat=flat,
        renfort=renfort,
        base=base,
        fse_max=fse_max,
        fse=fse,
        self_financing=self_financing,
    )

    # Findings, in a fixed order so that stored results compare equal.
    if renfort < socle:
        findings.append(
            Finding(
                FindingCode.RENFORT_BELOW_SOCLE,
                Severity.ERROR,
                strand,
                f"{label} : le renforcé ({format_eur(renfort)}) doit être au moins égal à la "
                f"base socle ({format_eur(socle)}) ; le FSE+ s'ajoute à la base socle de "
                "l'État (CEJ), il ne la remplace pas.",
            )
        )
    if surplus > 0:
        findings.append(
            Finding(
                FindingCode.OVER_FINANCED,
                Severity.ERROR,
                strand,
                f"{label} : les autres cofinancements ({format_eur(other)}) dépassent le "
                f"renforcé ({format_eur(renfort)}) ; l'opération serait surfinancée de "
                f"{format_eur(surplus)} (autofinancement négatif).",
            )
        )
    if requested is not None and requested > fse_max:
        findings.append(
            Finding(
                FindingCode.REQUEST_ABOVE_MAX,
                Severity.WARNING,
                strand,
                f"{label} : le FSE+ demandé ({format_eur(requested)}) dépasse le maximum de "
                f"{format_rate(rules.fse_rate)} de la base subventionnable "
                f"({format_eur(fse_max)}) ; {_retained_after_cap(fse, fse_max, renfort, other)}.",
            )
        )

    explanations = [
        _socle_line(rules, name, share, data.nb_jeunes_qpv, socle, socle_exact),
        _staff_line(name, post_terms, excluded, staff),
        _line(
            f"Forfait coûts restants {name}",
            f"{format_rate(rules.flat_rate_other_costs)} × {format_eur(staff)}",
            flat,
            [_rounding_note(flat_exact, flat, "arrondi au centime"),
             LEGAL_REFERENCES["flat_rate_other_costs"]],
        ),
        _line(
            f"Renforcé {name}",
            f"frais de personnel directs {format_eur(staff)} + forfait coûts restants "
            f"{format_eur(flat)}",
            renfort,
        ),
        _line(
            f"Base subventionnable {name}",
            f"base socle {format_eur(socle)} + renforcé {format_eur(renfort)}",
            base,
            [
                f"base socle : {LEGAL_REFERENCES['cej_forfait_per_youth']} ; "
                f"{LEGAL_REFERENCES['strand_share']}"
            ],
        ),
        _line(
            f"FSE+ maximum {name}",
            f"{format_rate(rules.fse_rate)} × {format_eur(base)}",
            fse_max,
            [_rounding_note(fse_max_exact, fse_max, "arrondi au centime inférieur"),
             LEGAL_REFERENCES["fse_rate"]],
        ),
        _fse_line(name, fse_max, renfort, other, requested, capped, fse),
        _line(
            f"Autofinancement {name}",
            f"base subventionnable {format_eur(base)} − base socle {format_eur(socle)} − "
            f"autres cofinancements {format_eur(other)} − FSE+ retenu {format_eur(fse)}",
            self_financing,
        ),
    ]
    return _StrandOutcome(figures, findings, explanations)


def _retained_after_cap(fse: Decimal, fse_max: Decimal, renfort: Decimal, other: Decimal) -> str:
    """What a request above the maximum leads to, with the cap that really binds: the
    maximum itself, or what the other co-financing leaves of the renforcé (nothing at all
    when the strand is over-financed, which ``OVER_FINANCED`` explains with its figures)."""
    if fse == fse_max:
        return f"le FSE+ retenu est ramené à {format_eur(fse)}"
    if other > renfort:
        return "aucun FSE+ n'est retenu, le volet étant surfinancé"
    if fse == 0:
        return (
            f"aucun FSE+ n'est retenu : les autres cofinancements ({format_eur(other)}) "
            f"couvrent déjà tout le renforcé ({format_eur(renfort)})"
        )
    return (
        f"le FSE+ retenu est limité à {format_eur(fse)}, ce que les autres cofinancements "
        f"({format_eur(other)}) laissent du renforcé ({format_eur(renfort)})"
    )


def _investment_finding(strand: str, label: str, post: Post) -> Finding:
    return Finding(
        FindingCode.INVESTMENT_NOT_ELIGIBLE,
        Severity.ERROR,
        strand,
        f"{label}, ligne « {post.label} » : le FSE+ ne finance pas l'investissement "
        "(véhicules, « job-trucks », équipements) : seuls les frais de personnel sont "
        "retenus au réel. Cette ligne n'est pas comptée.",
    )


def _sum_figures(rows: Sequence[StrandFigures]) -> StrandFigures:
    with localcontext(EXACT):
        sums = {key: sum((row[key] for row in rows), ZERO) for key in FIGURES}
    return StrandFigures(
        socle=sums["socle"],
        staff=sums["staff"],
        flat=sums["flat"],
        renfort=sums["renfort"],
        base=sums["base"],
        fse_max=sums["fse_max"],
        fse=sums["fse"],
        self_financing=sums["self"],
    )


def check_envelope(envelope: Decimal, granted_total: Decimal) -> list[Finding]:
    """``ENVELOPE_EXCEEDED`` (error) when the FSE+ granted exceeds the call's envelope."""
    envelope = to_amount(envelope, "envelope")
    granted_total = to_amount(granted_total, "granted_total")
    if granted_total <= envelope:
        return []
    return [
        Finding(
            FindingCode.ENVELOPE_EXCEEDED,
            Severity.ERROR,
            None,
            f"Le total FSE+ accordé ({format_eur(granted_total)}) dépasse l'enveloppe de "
            f"l'appel ({format_eur(envelope)}) de {format_eur(granted_total - envelope)}.",
        )
    ]


# --- explanation lines ---------------------------------------------------------------

_TOTAL_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "socle": "Total base socle",
        "staff": "Total frais de personnel directs",
        "flat": "Total forfait coûts restants",
        "renfort": "Total renforcé",
        "base": "Total base subventionnable",
        "fse_max": "Total FSE+ maximum",
        "fse": "Total FSE+ retenu",
        "self": "Total autofinancement",
    }
)


def _line(head: str, formula: str, result: Decimal, notes: Iterable[str | None] = ()) -> str:
    """``head = formula = result (note ; note)``; ``None`` notes are dropped."""
    kept = [note for note in notes if note]
    suffix = f" ({' ; '.join(kept)})" if kept else ""
    return f"{head} = {formula} = {format_eur(result)}{suffix}"


def _rounding_note(exact: Fraction, rounded: Decimal, note: str) -> str | None:
    """Say that a figure was rounded, only when rounding actually changed it."""
    return None if Fraction(rounded) == exact else note


def _socle_line(
    rules: FinanceRules,
    name: str,
    share: Decimal,
    youth: int,
    socle: Decimal,
    exact: Fraction,
) -> str:
    # Kept exactly in the call's wording; the legal reference is on the base line.
    return _line(
        f"Base socle {name}",
        f"{format_eur(rules.cej_forfait_per_youth)} × {format_rate(share)} × "
        f"{format_count(youth, 'jeune', 'jeunes')}",
        socle,
        [_rounding_note(exact, socle, "arrondi au centime")],
    )


def _post_formula(post: Post) -> str:
    return (
        f"{post.label} : {format_eur(post.annual_cost)} × {format_number(post.fte)} ETP × "
        f"{format_number(post.months)} mois / 12"
    )


def _staff_line(
    name: str,
    terms: Sequence[tuple[Post, Decimal, bool]],
    excluded: Sequence[Post],
    staff: Decimal,
) -> str:
    head = f"Frais de personnel directs {name}"
    notes: list[str | None] = []
    if not terms:
        formula = "aucun poste"
    elif len(terms) == 1:
        post, _amount, rounded = terms[0]
        formula = _post_formula(post)
        notes.append("arrondi au centime" if rounded else None)
    else:
        formula = " + ".join(format_eur(amount) for _post, amount, _rounded in terms)
        notes.extend(
            f"{_post_formula(post)} = {format_eur(amount)}"
            + (", arrondi au centime" if rounded else "")
            for post, amount, rounded in terms
        )
    notes.append(LEGAL_REFERENCES["staff_costs"])
    for post in excluded:
        notes.append(f"« {post.label} » exclu : investissement non éligible au FSE+")
    return _line(head, formula, staff, notes)


def _fse_line(
    name: str,
    fse_max: Decimal,
    renfort: Decimal,
    other: Decimal,
    requested: Decimal | None,
    capped: Decimal,
    fse: Decimal,
) -> str:
    terms = [
        f"maximum {format_eur(fse_max)}",
        f"renforcé {format_eur(renfort)} − autres cofinancements {format_eur(other)}",
    ]
    if requested is not None:
        terms.append(f"demandé {format_eur(requested)}")
    formula = f"min({' ; '.join(terms)})"
    notes: list[str | None] = []
    if capped < 0:
        formula = f"max(0 ; {formula})"
        notes.append("jamais négatif")
    if requested is None:
        notes.append("aucun montant demandé : pas de plafond de demande")
    return _line(f"FSE+ retenu {name}", formula, fse, notes)


def _total_explanations(
    strands: Mapping[str, StrandFigures], totals: StrandFigures
) -> tuple[str, ...]:
    lines = []
    for key in FIGURES:
        if key == "self" and self_financing_not_summed(strands):
            lines.append(_self_financing_apart(strands))
            continue
        parts = " + ".join(
            f"{format_eur(strands[strand][key])} ({STRAND_LABELS[strand].lower()})"
            for strand in STRANDS
        )
        lines.append(_line(_TOTAL_NAMES[key], parts, totals[key]))
    return tuple(lines)


def self_financing_not_summed(strands: Mapping[str, StrandFigures]) -> bool:
    """True when one strand's autofinancement is negative (over-financed) and another's
    positive: the surplus of one strand does not pay for the other, so their sum (the
    ``self`` total, kept as the sum for the contract) says nothing and is not shown."""
    values = [strands[strand].self_financing for strand in STRANDS]
    return any(v < 0 for v in values) and any(v > 0 for v in values)


def _self_financing_apart(strands: Mapping[str, StrandFigures]) -> str:
    parts = " ; ".join(
        f"{STRAND_LABELS[strand].lower()} {format_eur(strands[strand].self_financing)}"
        + (", surfinancé" if strands[strand].self_financing < 0 else "")
        for strand in STRANDS
    )
    return (
        f"{_TOTAL_NAMES['self']} : non additionné, l'excédent d'un volet surfinancé ne "
        f"couvre pas l'autofinancement de l'autre ({parts})"
    )
