"""Financing rules of the call (docs/finance.md) as pure functions over ``Decimal``.

No Flask, no SQLAlchemy: the web app, the PDFs and the simulator
(``python -m grants.finance INPUT.json``) all call :func:`compute`.
"""

from .compute import (
    FIGURE_LABELS,
    FIGURES,
    Finding,
    FindingCode,
    FinancingResult,
    Post,
    PostCategory,
    Severity,
    StrandFigures,
    StrandInput,
    check_envelope,
    compute,
)
from .formatting import format_applied_rate, format_eur, format_rate
from .granted import applied_rate, split_grant
from .money import FinanceInputError, to_amount, to_decimal
from .parsing import parse_bilan_input, parse_input
from .realised import REALISED_FIGURES, RealisedResult, RealisedStrand, compute_realised
from .rules import DEFAULT_ENVELOPE, LEGAL_REFERENCES, STRAND_LABELS, STRANDS, FinanceRules

__all__ = [
    "DEFAULT_ENVELOPE",
    "FIGURES",
    "FIGURE_LABELS",
    "LEGAL_REFERENCES",
    "STRANDS",
    "STRAND_LABELS",
    "REALISED_FIGURES",
    "FinanceInputError",
    "FinanceRules",
    "Finding",
    "FindingCode",
    "FinancingResult",
    "Post",
    "PostCategory",
    "Severity",
    "StrandFigures",
    "RealisedResult",
    "RealisedStrand",
    "StrandInput",
    "applied_rate",
    "check_envelope",
    "compute",
    "compute_realised",
    "format_applied_rate",
    "format_eur",
    "format_rate",
    "parse_bilan_input",
    "parse_input",
    "split_grant",
    "to_amount",
    "to_decimal",
]
