"""Financing parameters of a call, validated on construction, with their legal references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from .money import FinanceInputError, check_ratio_places, describe, to_amount, to_decimal

__all__ = [
    "DEFAULT_ENVELOPE",
    "LEGAL_REFERENCES",
    "STRANDS",
    "STRAND_LABELS",
    "FinanceRules",
]

#: The two financed strands (*volets*) of a dossier, in display order.
STRANDS: tuple[str, ...] = ("reperage", "sortie_emploi")

STRAND_LABELS: Mapping[str, str] = MappingProxyType(
    {"reperage": "Repérage", "sortie_emploi": "Sortie vers l'emploi"}
)

#: FSE+ envelope of the reference call (not part of the per-dossier rules).
DEFAULT_ENVELOPE = Decimal("4000000.00")

_REGULATION = "règlement (UE) 2021/1060"

#: Where each parameter (and the staff-cost rule) comes from: the short citation quoted
#: in the explanation lines; docs/finance.md gives the full wording.
LEGAL_REFERENCES: Mapping[str, str] = MappingProxyType(
    {
        "fse_rate": "taux d'intervention FSE+ fixé par l'appel à projets",
        "cej_forfait_per_youth": (
            "montant par jeune fixé par l'appel à projets, coût unitaire au sens de "
            f"l'art. 53 du {_REGULATION}"
        ),
        "strand_share": "part du volet fixée par l'appel à projets",
        "flat_rate_other_costs": f"art. 56 du {_REGULATION}",
        "staff_costs": f"art. 55 du {_REGULATION}",
    }
)

_MAX_FLAT_RATE = Decimal("0.40")


@dataclass(frozen=True)
class FinanceRules:
    """The financing parameters a call sets (docs/finance.md), checked when built.

    Values may be given as ``Decimal``, ``int`` or decimal strings; floats are refused.
    Rates keep the spelling they were given (``"0.60"`` stays ``0.60``) so that
    :meth:`to_dict` gives back what the call stored.
    """

    fse_rate: Decimal
    cej_forfait_per_youth: Decimal
    strand_share: Mapping[str, Decimal]
    flat_rate_other_costs: Decimal

    def __post_init__(self) -> None:
        fse_rate = to_decimal(self.fse_rate, "fse_rate")
        if not 0 < fse_rate <= 1:
            raise FinanceInputError(
                "fse_rate", f"taux compris dans ]0 ; 1] attendu, reçu {describe(fse_rate)}"
            )
        check_ratio_places(fse_rate, "fse_rate")

        forfait = to_amount(self.cej_forfait_per_youth, "cej_forfait_per_youth")

        flat_rate = to_decimal(self.flat_rate_other_costs, "flat_rate_other_costs")
        if not 0 <= flat_rate <= _MAX_FLAT_RATE:
            raise FinanceInputError(
                "flat_rate_other_costs",
                "taux compris entre 0 et 0,40 attendu "
                f"(art. 56 du {_REGULATION}), reçu {describe(flat_rate)}",
            )
        check_ratio_places(flat_rate, "flat_rate_other_costs")

        if not isinstance(self.strand_share, Mapping):
            raise FinanceInputError("strand_share", "objet attendu (une part par volet)")
        shares: dict[str, Decimal] = {}
        for strand in self.strand_share:
            if strand not in STRANDS:
                raise FinanceInputError(
                    f"strand_share.{strand}",
                    f"volet inconnu (volets attendus : {', '.join(STRANDS)})",
                )
        for strand in STRANDS:
            field = f"strand_share.{strand}"
            if strand not in self.strand_share:
                raise FinanceInputError(field, "champ obligatoire manquant")
            share = to_decimal(self.strand_share[strand], field)
            if not 0 <= share <= 1:
                raise FinanceInputError(
                    field, f"part comprise entre 0 et 1 attendue, reçu {describe(share)}"
                )
            check_ratio_places(share, field)
            shares[strand] = share

        # Frozen dataclass: normalised values are stored through object.__setattr__.
        object.__setattr__(self, "fse_rate", fse_rate)
        object.__setattr__(self, "cej_forfait_per_youth", forfait)
        object.__setattr__(self, "strand_share", MappingProxyType(shares))
        object.__setattr__(self, "flat_rate_other_costs", flat_rate)

    def __hash__(self) -> int:
        # The generated hash would choke on the mappingproxy; hash its items instead.
        return hash(
            (
                self.fse_rate,
                self.cej_forfait_per_youth,
                tuple(self.strand_share.items()),
                self.flat_rate_other_costs,
            )
        )

    @classmethod
    def default(cls) -> FinanceRules:
        """The reference call's values (the CEJ forfait is the demo value 1 600,00 €)."""
        return cls(
            fse_rate=Decimal("0.60"),
            cej_forfait_per_youth=Decimal("1600.00"),
            strand_share={"reperage": Decimal("0.40"), "sortie_emploi": Decimal("0.40")},
            flat_rate_other_costs=Decimal("0.40"),
        )

    @classmethod
    def from_dict(cls, data: object) -> FinanceRules:
        """Build the rules from the simulator's ``"rules"`` object (see :mod:`.parsing`)."""
        from .parsing import parse_rules  # local: parsing builds on this module

        return parse_rules(data, path="")

    def to_dict(self) -> dict[str, object]:
        """The contract's ``"rules"`` object: every value a string, as given."""
        # Format "f": plain notation, never "1E-7", which the simulator would refuse.
        return {
            "fse_rate": format(self.fse_rate, "f"),
            "cej_forfait_per_youth": format(self.cej_forfait_per_youth, "f"),
            "strand_share": {
                strand: format(self.strand_share[strand], "f") for strand in STRANDS
            },
            "flat_rate_other_costs": format(self.flat_rate_other_costs, "f"),
        }

    @staticmethod
    def legal_reference(parameter: str) -> str:
        """The legal reference text of ``parameter`` (a key of :data:`LEGAL_REFERENCES`)."""
        return LEGAL_REFERENCES[parameter]
