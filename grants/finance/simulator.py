"""The financing simulator: a JSON input file in, the computed result as JSON out.

Contract (docs/finance.md): the input is ``{"rules": {…}, "strands": {…}}``, the output
``{"strands", "totals", "findings", "explanations"}``. With ``bilan=True`` (``--bilan``), the
input also carries ``granted`` and ``paid`` and the strands hold the realised figures; the
output's strands give what is ``due`` and its totals what was ``paid`` and what is ``payable``.  Exit code 0 when the input is
valid (even if the result carries error findings), 2 on bad input with one French line
on stderr naming the field; never a traceback for bad input.
"""

from __future__ import annotations

import json
from typing import TextIO

from .compute import compute
from .money import FinanceInputError
from .parsing import load_json, parse_bilan_input, parse_input
from .realised import compute_realised

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "STDIN", "run", "simulate"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2

#: Path meaning "read the standard input".
STDIN = "-"


def simulate(data: object, *, bilan: bool = False) -> dict[str, object]:
    """Compute the contract's output object from an already-parsed input document."""
    if bilan:
        rules, strands, granted, paid = parse_bilan_input(data)
        return compute_realised(rules, strands, granted, paid).to_dict()
    rules, strands = parse_input(data)
    return compute(rules, strands).to_dict()


def _read(path: str, stdin: TextIO) -> tuple[str, str]:
    """Return the input text and the name to give it in error messages."""
    if path == STDIN:
        source = "entrée standard"
        try:
            return stdin.read(), source
        except UnicodeDecodeError:
            raise FinanceInputError(source, "texte UTF-8 attendu") from None
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read(), path
    except FileNotFoundError:
        raise FinanceInputError(path, "fichier introuvable") from None
    except IsADirectoryError:
        raise FinanceInputError(path, "est un répertoire, fichier JSON attendu") from None
    except PermissionError:
        raise FinanceInputError(path, "lecture du fichier non autorisée") from None
    except UnicodeDecodeError:
        raise FinanceInputError(path, "fichier texte UTF-8 attendu") from None
    except OSError as error:
        raise FinanceInputError(path, f"lecture impossible ({error.strerror})") from None


def run(path: str, stdin: TextIO, stdout: TextIO, stderr: TextIO, *, bilan: bool = False) -> int:
    """Read ``path`` (``-`` for ``stdin``), print the result on ``stdout``; return the exit code."""
    try:
        text, source = _read(path, stdin)
        output = simulate(load_json(text, source), bilan=bilan)
    except FinanceInputError as error:
        print(error, file=stderr)
        return EXIT_BAD_INPUT
    try:
        rendered = json.dumps(output, ensure_ascii=False, indent=2)
        stdout.write(rendered + "\n")
    except UnicodeEncodeError:
        # A stdout that cannot encode "€" or U+202F still gets valid (escaped) JSON.
        stdout.write(json.dumps(output, ensure_ascii=True, indent=2) + "\n")
    stdout.flush()
    return EXIT_OK
