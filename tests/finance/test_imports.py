"""grants/finance stays pure: standard library and Babel only, no Flask nor SQLAlchemy."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grants.finance

PACKAGE = Path(grants.finance.__file__).resolve().parent
ALLOWED_THIRD_PARTY = {"babel"}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the absolute imports of a module (relative ones stay inside)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_stdlib_and_babel_are_imported() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "compute.py", "rules.py", "money.py"}
    for path in files:
        modules = imported_modules(path)
        assert not modules & {"flask", "sqlalchemy", "flask_sqlalchemy", "wtforms"}, path
        foreign = modules - set(sys.stdlib_module_names) - ALLOWED_THIRD_PARTY - {"__future__"}
        assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_public_api() -> None:
    expected = {
        "FinanceRules", "Post", "StrandInput", "compute", "FinancingResult", "Finding",
        "FinanceInputError", "STRANDS", "STRAND_LABELS", "check_envelope",
    }
    assert expected <= set(grants.finance.__all__)
    for name in grants.finance.__all__:
        assert hasattr(grants.finance, name), name
