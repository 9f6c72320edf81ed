"""The ``grants`` console script installed by ``make install`` (``[project.scripts]``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GRANTS = Path(sys.executable).with_name("grants")


def grants(*args: str, tmp_path: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRANTS_", "DATABASE_URL"))}
    env |= {"GRANTS_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    return subprocess.run([str(GRANTS), *args], input=stdin, capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=False, timeout=300)


def test_console_script_is_installed_and_lists_the_commands(tmp_path):
    assert GRANTS.is_file(), "make install puts the grants command in the virtual environment"
    result = grants("--help", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("check-integrity", "demo-data", "pdf", "qpv", "finance", "db", "backup"):
        assert command in result.stdout


def test_commands_read_as_typed(tmp_path):
    """``grants db upgrade`` then ``grants check-integrity``, from any folder."""
    assert grants("db", "upgrade", tmp_path=tmp_path).returncode == 0
    checked = grants("check-integrity", tmp_path=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Intégrité vérifiée, aucun problème" in checked.stdout
    imported = grants("qpv", "import", "--packaged", tmp_path=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "204 QPV, 161 communes" in imported.stdout


def test_simulator_through_the_console_script(tmp_path):
    plan = ('{"rules": {"fse_rate": "0.60", "cej_forfait_per_youth": "1600.00", "strand_share": '
            '{"reperage": "0.40", "sortie_emploi": "0.40"}, "flat_rate_other_costs": "0.40"}, "strands": '
            '{"reperage": {"nb_jeunes_qpv": 10, "posts": [], "other_cofinancing": "0.00", "requested": null}, '
            '"sortie_emploi": {"nb_jeunes_qpv": 0, "posts": [], "other_cofinancing": "0.00", "requested": null}}}')
    result = grants("finance", "simulate", "-", tmp_path=tmp_path, stdin=plan)
    assert result.returncode == 0, result.stderr
    assert '"socle": "6400.00"' in result.stdout


def test_bilan_simulator_through_the_console_script(tmp_path):
    import json

    from tests.finance.bilan_example import BILAN

    result = grants("finance", "simulate", "--bilan", "-", tmp_path=tmp_path, stdin=json.dumps(BILAN))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["payable"] == "116140.00"
    bad = grants("finance", "simulate", "--bilan", "-", tmp_path=tmp_path, stdin='{"rules": {}}')
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
