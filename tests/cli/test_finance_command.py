"""`flask --app wsgi grants finance simulate` is the documented simulator entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.finance.test_simulator import DESIGN_INPUT_TEXT, GOLDEN, plain

ROOT = Path(__file__).resolve().parents[2]


def run_flask(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", "finance", "simulate", *args],
        cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60,
    )


def test_flask_simulate_prints_the_contract_output(tmp_path):
    path = tmp_path / "input.json"
    path.write_text(DESIGN_INPUT_TEXT, encoding="utf-8")
    from_file = run_flask(str(path))
    from_stdin = run_flask("-", stdin=DESIGN_INPUT_TEXT)
    for result in (from_file, from_stdin):
        assert result.returncode == 0, result.stderr
        assert plain(json.loads(result.stdout)) == GOLDEN


def test_flask_simulate_bad_input_exits_2_with_one_french_line():
    bad = DESIGN_INPUT_TEXT.replace('"fte": "1"', '"fte": 1.0')
    result = run_flask("-", stdin=bad)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == ["strands.reperage.posts[0].fte : nombre décimal attendu, reçu 1.0 (flottant)"]
