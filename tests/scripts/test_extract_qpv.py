"""scripts/extract_qpv.py: the packaged QPV list is what the official ANCT file gives."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from grants.qpv_reference import PACKAGED_QPV_FILE

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "extract_qpv.py"


def official_format(packaged: bytes) -> bytes:
    """The packaged rows as the ANCT publishes them: one row per QPV, ``;``-separated, the
    communes of a QPV in one cell (``"59220;59339"``), Windows-1252, other regions included."""
    communes: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(packaged.decode("utf-8"))):
        communes[(row["code_qp"], row["nom_qp"])].append((row["insee_com"], row["lib_com"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["code_qp", "lib_qp", "insee_com", "lib_com", "siren_epci"])
    writer.writerow(["QN07501M", "Quartier parisien", "75056", "Paris", "200054781"])  # not in the region
    for (code, name), places in communes.items():
        writer.writerow([code, name, ";".join(i for i, _ in places), ";".join(n for _, n in places), ""])
    return out.getvalue().encode("cp1252")


def run_script(source: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(source), "--output", str(tmp_path / "out.csv"),
         "--readme", str(tmp_path / "README.md")],
        capture_output=True, text=True, check=False, timeout=120,
    )


def test_official_anct_file_gives_the_packaged_list(tmp_path):
    packaged = PACKAGED_QPV_FILE.read_bytes()
    source = tmp_path / "listeqp2024-cog2024.csv"
    source.write_bytes(official_format(packaged))
    result = run_script(source, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "286 lignes, 204 QPV, 161 communes" in result.stdout
    assert (tmp_path / "out.csv").read_bytes() == packaged
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "| **Total** | Hauts-de-France | **204** | **161** | **286** |" in readme
    assert "Licence Ouverte" in readme and "listeqp2024-cog2024.csv" in readme


def test_normalised_file_gives_the_same_list_and_keeps_the_rest_of_the_readme(tmp_path):
    (tmp_path / "README.md").write_text("# Données\n\nAutre section.\n", encoding="utf-8")
    source = tmp_path / "qpv_hdf_2024.csv"
    source.write_bytes(PACKAGED_QPV_FILE.read_bytes().replace(b"\n", b"\r\n"))
    for _ in range(2):  # the second run replaces its own section
        result = run_script(source, tmp_path)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.csv").read_bytes() == PACKAGED_QPV_FILE.read_bytes()
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Données\n\nAutre section.\n") and readme.count("## `qpv_hdf_2024.csv`") == 1


def test_an_incomplete_source_is_refused(tmp_path):
    source = tmp_path / "partielle.csv"
    source.write_bytes(b"code_qp,nom_qp,insee_com,lib_com,dep\nQN05972M,Secteur Sud,59350,Lille,59\n")
    result = run_script(source, tmp_path)
    assert result.returncode != 0
    assert "1 QPV trouvés dans la source, 204 attendus" in result.stderr
    assert not (tmp_path / "out.csv").exists()
