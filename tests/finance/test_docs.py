"""docs/finance.md's worked example is recomputed by the simulator, to the cent."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from grants.finance import FIGURE_LABELS, FIGURES, FindingCode
from grants.finance.simulator import simulate

DOC = Path(__file__).resolve().parents[2] / "docs" / "finance.md"


def block_after(marker: str, text: str) -> str:
    """The fenced code block that follows an HTML comment marker."""
    match = re.search(rf"<!-- {re.escape(marker)} -->\s*```json\n(.*?)\n```", text, re.S)
    assert match, f"no JSON block after {marker}"
    return match.group(1)


def french_amount(cell: str) -> Decimal:
    """``"51 333,33 €"`` → ``Decimal("51333.33")``."""
    digits = cell.strip().removesuffix("€").strip()
    digits = re.sub(r"[ \u202f\u00a0]", "", digits).replace(",", ".")
    return Decimal(digits)


def test_worked_example_output_matches_the_simulator() -> None:
    text = DOC.read_text(encoding="utf-8")
    document = json.loads(block_after("worked-example:input", text))
    documented = json.loads(block_after("worked-example:output", text))
    assert simulate(document) == documented


def test_bilan_example_output_matches_the_simulator() -> None:
    text = DOC.read_text(encoding="utf-8")
    document = json.loads(block_after("bilan-example:input", text))
    documented = json.loads(block_after("bilan-example:output", text))
    assert simulate(document, bilan=True) == documented


def test_worked_example_figures_table_matches_the_simulator() -> None:
    text = DOC.read_text(encoding="utf-8")
    output = simulate(json.loads(block_after("worked-example:input", text)))
    table = text.split("<!-- worked-example:figures -->", 1)[1].strip().split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = [french_amount(cell) for cell in cells[1:]]
    label_to_key = {label: key for key, label in FIGURE_LABELS.items()}
    assert set(rows) == set(FIGURE_LABELS.values())
    for label, (reperage, sortie, total) in rows.items():
        key = label_to_key[label]
        assert reperage == Decimal(output["strands"]["reperage"][key]), label
        assert sortie == Decimal(output["strands"]["sortie_emploi"][key]), label
        assert total == Decimal(output["totals"][key]), label
    assert len(rows) == len(FIGURES)


def test_findings_table_lists_every_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code in FindingCode:
        assert f"| `{code.value}` |" in text
