"""``python -m grants.finance INPUT.json`` (or ``-`` for stdin): run the simulator."""

from __future__ import annotations

import io
import sys

from .simulator import EXIT_BAD_INPUT, EXIT_OK, run

USAGE = (
    "usage : python -m grants.finance [--bilan] ENTRÉE.json\n"
    "  calcule le plan de financement FSE+ d'un dossier (« - » lit l'entrée standard) ;\n"
    "  --bilan : le FSE+ dû sur les réalisations d'un bilan, plafonné par le montant attribué"
)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the simulator; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    # JSON is UTF-8 whatever the terminal's locale says.
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8")
    if args in (["-h"], ["--help"]):
        print(USAGE, file=sys.stdout)
        return EXIT_OK
    bilan = bool(args) and args[0] == "--bilan"
    if bilan:
        args = args[1:]
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return EXIT_BAD_INPUT
    return run(args[0], sys.stdin, sys.stdout, sys.stderr, bilan=bilan)


if __name__ == "__main__":
    sys.exit(main())
