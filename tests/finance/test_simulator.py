"""The simulator CLI: golden output for docs/finance.md's example, and every bad-input class."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grants.finance.__main__ import main
from grants.finance.simulator import run

REPO = Path(__file__).resolve().parents[2]

# docs/finance.md, section 7 "The simulator", verbatim (checked below).
DESIGN_INPUT_TEXT = """
{"rules": {"fse_rate": "0.60", "cej_forfait_per_youth": "1600.00",
           "strand_share": {"reperage": "0.40", "sortie_emploi": "0.40"},
           "flat_rate_other_costs": "0.40"},
 "strands": {"reperage": {"nb_jeunes_qpv": 120,
                          "posts": [{"label": "Chargé de mission", "annual_cost": "42000.00",
                                     "fte": "1", "months": 24}],
                          "other_cofinancing": "0.00", "requested": null},
             "sortie_emploi": {"nb_jeunes_qpv": 80, "posts": [], "other_cofinancing": "0.00",
                               "requested": null}}}
"""
DESIGN_INPUT = json.loads(DESIGN_INPUT_TEXT)


def test_the_contract_example_is_the_documented_one():
    assert DESIGN_INPUT_TEXT.strip() in (REPO / "docs" / "finance.md").read_text(encoding="utf-8")

ARTICLE_53 = (
    "(base socle : montant par jeune fixé par l'appel à projets, coût unitaire au sens de "
    "l'art. 53 du règlement (UE) 2021/1060 ; part du volet fixée par l'appel à projets)"
)
RATE_REF = "(taux d'intervention FSE+ fixé par l'appel à projets)"
NO_REQUEST = "(aucun montant demandé : pas de plafond de demande)"

# Computed by hand: repérage socle 1 600 × 40 % × 120 = 76 800; staff 42 000 × 24/12 =
# 84 000; flat 40 % = 33 600; renfort 117 600; base 194 400; max 60 % = 116 640; fse
# min(116 640, 117 600) = 116 640; self 960. Sortie: socle 51 200, no post, max 30 720,
# fse 0, renfort 0 < socle 51 200 → RENFORT_BELOW_SOCLE.
# Babel's no-break spaces are written as plain spaces here and compared after plain().
GOLDEN = {
    "strands": {
        "reperage": {
            "socle": "76800.00", "staff": "84000.00", "flat": "33600.00",
            "renfort": "117600.00", "base": "194400.00", "fse_max": "116640.00",
            "fse": "116640.00", "self": "960.00",
        },
        "sortie_emploi": {
            "socle": "51200.00", "staff": "0.00", "flat": "0.00", "renfort": "0.00",
            "base": "51200.00", "fse_max": "30720.00", "fse": "0.00", "self": "0.00",
        },
    },
    "totals": {
        "socle": "128000.00", "staff": "84000.00", "flat": "33600.00", "renfort": "117600.00",
        "base": "245600.00", "fse_max": "147360.00", "fse": "116640.00", "self": "960.00",
    },
    "findings": [
        {
            "code": "RENFORT_BELOW_SOCLE",
            "severity": "error",
            "strand": "sortie_emploi",
            "message": "Sortie vers l'emploi : le renforcé (0,00 €) doit être au moins égal à "
            "la base socle (51 200,00 €) ; le FSE+ s'ajoute à la base socle de l'État (CEJ), "
            "il ne la remplace pas.",
        }
    ],
    "explanations": [
        "Base socle repérage = 1 600,00 € × 40 % × 120 jeunes = 76 800,00 €",
        "Frais de personnel directs repérage = Chargé de mission : 42 000,00 € × 1 ETP × "
        "24 mois / 12 = 84 000,00 € (art. 55 du règlement (UE) 2021/1060)",
        "Forfait coûts restants repérage = 40 % × 84 000,00 € = 33 600,00 € "
        "(art. 56 du règlement (UE) 2021/1060)",
        "Renforcé repérage = frais de personnel directs 84 000,00 € + forfait coûts restants "
        "33 600,00 € = 117 600,00 €",
        "Base subventionnable repérage = base socle 76 800,00 € + renforcé 117 600,00 € = "
        f"194 400,00 € {ARTICLE_53}",
        f"FSE+ maximum repérage = 60 % × 194 400,00 € = 116 640,00 € {RATE_REF}",
        "FSE+ retenu repérage = min(maximum 116 640,00 € ; renforcé 117 600,00 € − autres "
        f"cofinancements 0,00 €) = 116 640,00 € {NO_REQUEST}",
        "Autofinancement repérage = base subventionnable 194 400,00 € − base socle "
        "76 800,00 € − autres cofinancements 0,00 € − FSE+ retenu 116 640,00 € = 960,00 €",
        "Base socle sortie vers l'emploi = 1 600,00 € × 40 % × 80 jeunes = 51 200,00 €",
        "Frais de personnel directs sortie vers l'emploi = aucun poste = 0,00 € "
        "(art. 55 du règlement (UE) 2021/1060)",
        "Forfait coûts restants sortie vers l'emploi = 40 % × 0,00 € = 0,00 € "
        "(art. 56 du règlement (UE) 2021/1060)",
        "Renforcé sortie vers l'emploi = frais de personnel directs 0,00 € + forfait coûts "
        "restants 0,00 € = 0,00 €",
        "Base subventionnable sortie vers l'emploi = base socle 51 200,00 € + renforcé "
        f"0,00 € = 51 200,00 € {ARTICLE_53}",
        f"FSE+ maximum sortie vers l'emploi = 60 % × 51 200,00 € = 30 720,00 € {RATE_REF}",
        "FSE+ retenu sortie vers l'emploi = min(maximum 30 720,00 € ; renforcé 0,00 € − "
        f"autres cofinancements 0,00 €) = 0,00 € {NO_REQUEST}",
        "Autofinancement sortie vers l'emploi = base subventionnable 51 200,00 € − base "
        "socle 51 200,00 € − autres cofinancements 0,00 € − FSE+ retenu 0,00 € = 0,00 €",
        "Total base socle = 76 800,00 € (repérage) + 51 200,00 € (sortie vers l'emploi) = "
        "128 000,00 €",
        "Total frais de personnel directs = 84 000,00 € (repérage) + 0,00 € (sortie vers "
        "l'emploi) = 84 000,00 €",
        "Total forfait coûts restants = 33 600,00 € (repérage) + 0,00 € (sortie vers "
        "l'emploi) = 33 600,00 €",
        "Total renforcé = 117 600,00 € (repérage) + 0,00 € (sortie vers l'emploi) = "
        "117 600,00 €",
        "Total base subventionnable = 194 400,00 € (repérage) + 51 200,00 € (sortie vers "
        "l'emploi) = 245 600,00 €",
        "Total FSE+ maximum = 116 640,00 € (repérage) + 30 720,00 € (sortie vers l'emploi) = "
        "147 360,00 €",
        "Total FSE+ retenu = 116 640,00 € (repérage) + 0,00 € (sortie vers l'emploi) = "
        "116 640,00 €",
        "Total autofinancement = 960,00 € (repérage) + 0,00 € (sortie vers l'emploi) = "
        "960,00 €",
    ],
}


def plain(value: object) -> object:
    """Replace Babel's no-break spaces (U+202F, U+00A0) by plain spaces, recursively."""
    if isinstance(value, str):
        return value.replace("\u202f", " ").replace("\u00a0", " ")
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def run_in_process(path: str, stdin_text: str = "") -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(path, io.StringIO(stdin_text), stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def run_subprocess(args: list[str], stdin_text: str = "") -> tuple[int, str, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "grants.finance", *args],
        input=stdin_text.encode("utf-8"),
        capture_output=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    return (
        completed.returncode,
        completed.stdout.decode("utf-8"),
        completed.stderr.decode("utf-8"),
    )


# --- golden output -----------------------------------------------------------------


def test_golden_output_in_process(tmp_path: Path) -> None:
    path = tmp_path / "dossier.json"
    path.write_text(DESIGN_INPUT_TEXT, encoding="utf-8")
    code, out, err = run_in_process(str(path))
    assert (code, err) == (0, "")
    output = json.loads(out)
    assert plain(output) == GOLDEN
    # Babel's exact characters: narrow no-break space for thousands, no-break before €/%.
    assert output["explanations"][0] == (
        "Base socle repérage = 1\u202f600,00\u00a0€ × 40\u00a0% × 120 jeunes = "
        "76\u202f800,00\u00a0€"
    )


def test_golden_output_subprocess_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "dossier.json"
    path.write_text(DESIGN_INPUT_TEXT, encoding="utf-8")
    code, out, err = run_subprocess([str(path)])
    assert (code, err) == (0, "")
    assert plain(json.loads(out)) == GOLDEN
    code, out_stdin, err = run_subprocess(["-"], DESIGN_INPUT_TEXT)
    assert (code, err) == (0, "")
    assert out_stdin == out


def test_stdin_in_process() -> None:
    code, out, err = run_in_process("-", DESIGN_INPUT_TEXT)
    assert (code, err) == (0, "")
    assert plain(json.loads(out)) == GOLDEN


def test_optional_keys() -> None:
    """``requested`` may be omitted (no cap) and ``category`` defaults to ``staff``."""
    document = copy.deepcopy(DESIGN_INPUT)
    del document["strands"]["reperage"]["requested"]
    document["strands"]["reperage"]["posts"][0]["category"] = "staff"
    code, out, err = run_in_process("-", json.dumps(document))
    assert (code, err) == (0, "")
    assert plain(json.loads(out)) == GOLDEN


def test_integers_are_exact_amounts() -> None:
    document = copy.deepcopy(DESIGN_INPUT)
    document["rules"]["fse_rate"] = "0.6"
    document["rules"]["cej_forfait_per_youth"] = 1600
    document["strands"]["reperage"]["posts"][0].update(annual_cost=42000, fte=1)
    document["strands"]["reperage"]["other_cofinancing"] = 0
    code, out, _err = run_in_process("-", json.dumps(document))
    assert code == 0
    assert json.loads(out)["totals"] == GOLDEN["totals"]


def test_error_findings_do_not_change_the_exit_code() -> None:
    code, out, _err = run_in_process("-", DESIGN_INPUT_TEXT)
    assert code == 0
    assert json.loads(out)["findings"][0]["severity"] == "error"


# --- bad input ---------------------------------------------------------------------

Mutation = Callable[[dict], None]


def edit(mutation: Mutation) -> str:
    document = copy.deepcopy(DESIGN_INPUT)
    mutation(document)
    return json.dumps(document, ensure_ascii=False)


def replace_in_text(old: str, new: str) -> str:
    assert old in DESIGN_INPUT_TEXT
    return DESIGN_INPUT_TEXT.replace(old, new, 1)


def rep(document: dict) -> dict:
    return document["strands"]["reperage"]


def post0(document: dict) -> dict:
    return rep(document)["posts"][0]


POST = "strands.reperage.posts[0]"

BAD_INPUTS = [
    pytest.param(
        edit(lambda d: rep(d).pop("nb_jeunes_qpv")),
        "strands.reperage.nb_jeunes_qpv : champ obligatoire manquant",
        id="missing-key",
    ),
    pytest.param(
        edit(lambda d: d.pop("rules")), "rules : champ obligatoire manquant", id="missing-rules"
    ),
    pytest.param(
        edit(lambda d: d["strands"].pop("sortie_emploi")),
        "strands.sortie_emploi : champ obligatoire manquant",
        id="missing-strand",
    ),
    pytest.param(
        edit(lambda d: d["strands"].update(formation=d["strands"]["reperage"])),
        "strands.formation : volet inconnu (volets attendus : reperage, sortie_emploi)",
        id="unknown-strand",
    ),
    pytest.param(
        edit(lambda d: rep(d).update(requestd="1000.00")),
        "strands.reperage.requestd : champ inconnu",
        id="unknown-key",
    ),
    pytest.param(
        replace_in_text('"fte": "1"', '"fte": 1.0'),
        f"{POST}.fte : nombre décimal attendu, reçu 1.0 (flottant)",
        id="float-fte",
    ),
    pytest.param(
        replace_in_text('"annual_cost": "42000.00"', '"annual_cost": 42000.50'),
        f"{POST}.annual_cost : nombre décimal attendu, reçu 42000.50 (flottant)",
        id="float-amount",
    ),
    pytest.param(
        replace_in_text('"fse_rate": "0.60"', '"fse_rate": 6e-1'),
        "rules.fse_rate : nombre décimal attendu, reçu 6e-1 (flottant)",
        id="float-exponent-rate",
    ),
    pytest.param(
        replace_in_text('"fte": "1"', '"fte": NaN'),
        f"{POST}.fte : nombre décimal attendu, reçu NaN (flottant)",
        id="nan",
    ),
    pytest.param(
        edit(lambda d: rep(d).update(other_cofinancing="-1.00")),
        "strands.reperage.other_cofinancing : montant positif ou nul attendu, reçu -1.00",
        id="negative-amount",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(annual_cost=-5)),
        f"{POST}.annual_cost : montant positif ou nul attendu, reçu -5",
        id="negative-integer",
    ),
    pytest.param(
        edit(lambda d: rep(d).update(requested="beaucoup")),
        'strands.reperage.requested : nombre décimal attendu, reçu "beaucoup"',
        id="non-numeric",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(annual_cost="42 000,00")),
        f'{POST}.annual_cost : nombre décimal attendu, reçu "42 000,00"',
        id="french-formatted-number",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(annual_cost="42000.001")),
        f"{POST}.annual_cost : montant au centime attendu (deux décimales au plus), "
        "reçu 42000.001",
        id="sub-cent-amount",
    ),
    pytest.param(
        edit(lambda d: rep(d).update(nb_jeunes_qpv=True)),
        "strands.reperage.nb_jeunes_qpv : nombre entier attendu, reçu true",
        id="boolean",
    ),
    pytest.param(
        edit(lambda d: rep(d).update(nb_jeunes_qpv=-1)),
        "strands.reperage.nb_jeunes_qpv : nombre de jeunes compris entre 0 et "
        "1\u202f000\u202f000 attendu, reçu -1",
        id="negative-youth",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(fte="1.5")),
        f"{POST}.fte : quotité (ETP) comprise dans ]0 ; 1] attendue, reçu 1.5",
        id="fte-above-1",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(fte="0")),
        f"{POST}.fte : quotité (ETP) comprise dans ]0 ; 1] attendue, reçu 0",
        id="fte-0",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(months=0)),
        f"{POST}.months : nombre de mois compris entre 1 et 48 attendu, reçu 0",
        id="months-0",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(months=49)),
        f"{POST}.months : nombre de mois compris entre 1 et 48 attendu, reçu 49",
        id="months-49",
    ),
    pytest.param(
        replace_in_text('"months": 24', '"months": 24.0'),
        f"{POST}.months : nombre entier attendu, reçu 24.0 (flottant)",
        id="months-float",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(months="24")),
        f'{POST}.months : nombre entier attendu, reçu "24"',
        id="months-string",
    ),
    pytest.param(
        edit(lambda d: d["rules"].update(flat_rate_other_costs="0.41")),
        "rules.flat_rate_other_costs : taux compris entre 0 et 0,40 attendu "
        "(art. 56 du règlement (UE) 2021/1060), reçu 0.41",
        id="flat-rate-0.41",
    ),
    pytest.param(
        edit(lambda d: d["rules"].update(fse_rate="0")),
        "rules.fse_rate : taux compris dans ]0 ; 1] attendu, reçu 0",
        id="fse-rate-0",
    ),
    pytest.param(
        edit(lambda d: d["rules"]["strand_share"].update(reperage="1.2")),
        "rules.strand_share.reperage : part comprise entre 0 et 1 attendue, reçu 1.2",
        id="share-above-1",
    ),
    pytest.param(
        edit(lambda d: d["rules"].update(strand_share=["0.4", "0.4"])),
        "rules.strand_share : objet attendu, reçu une liste",
        id="share-not-object",
    ),
    pytest.param(
        edit(lambda d: rep(d).update(posts={"label": "x"})),
        "strands.reperage.posts : liste attendue, reçu un objet",
        id="posts-not-list",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(category="vehicle")),
        f'{POST}.category : catégorie attendue : staff ou investment, reçu "vehicle"',
        id="unknown-category",
    ),
    pytest.param(
        edit(lambda d: post0(d).update(label="")),
        f'{POST}.label : libellé attendu (texte non vide), reçu ""',
        id="empty-label",
    ),
    pytest.param(
        "[1, 2]", "(racine) : objet attendu, reçu une liste", id="root-not-object"
    ),
    pytest.param(
        replace_in_text('"requested": null}', '"requested": null, "requested": "5.00"}'),
        "{source} : JSON invalide : champ « requested » présent deux fois dans un objet",
        id="duplicate-key",
    ),
    pytest.param(
        '{"rules": {"fse_rate": "0.60",}}',
        "{source} : JSON invalide ligne 1, colonne 31 : nom de champ entre guillemets attendu",
        id="malformed-json",
    ),
    pytest.param(
        '{"rules": ',
        "{source} : JSON invalide ligne 1, colonne 11 : valeur attendue",
        id="truncated-json",
    ),
    pytest.param("", "{source} : JSON invalide ligne 1, colonne 1 : valeur attendue", id="empty"),
]


def check_bad_input(code: int, out: str, err: str, expected: str) -> None:
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.rstrip("\n") == expected


@pytest.mark.parametrize(("text", "expected"), BAD_INPUTS)
def test_bad_input_in_process(text: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "dossier.json"
    path.write_text(text, encoding="utf-8")
    check_bad_input(*run_in_process(str(path)), expected.format(source=path))
    check_bad_input(*run_in_process("-", text), expected.format(source="entrée standard"))


# Each `python -m grants.finance` pays for importing the whole `grants` package, so the
# subprocess run covers one case per bad-input class of the issue, launched in parallel;
# every case above also runs in-process.
SUBPROCESS_CASES = {
    "missing-key", "unknown-strand", "float-fte", "negative-amount", "non-numeric",
    "fte-above-1", "fte-0", "months-0", "months-49", "flat-rate-0.41", "malformed-json",
}


def test_bad_input_subprocess(tmp_path: Path) -> None:
    cases = [case for case in BAD_INPUTS if case.id in SUBPROCESS_CASES]
    assert {case.id for case in cases} == SUBPROCESS_CASES
    jobs = []
    for case in cases:
        text, expected = case.values
        path = tmp_path / f"{case.id}.json"
        path.write_text(text, encoding="utf-8")
        jobs.append((case.id, path, expected.format(source=path)))
    jobs.append(("file-not-found", tmp_path / "absent.json",
                 f"{tmp_path / 'absent.json'} : fichier introuvable"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: run_subprocess([str(job[1])]), jobs))
    for (case_id, _path, expected), (code, out, err) in zip(jobs, results, strict=True):
        assert (case_id, code, out, err) == (case_id, 2, "", expected + "\n")


def test_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    check_bad_input(*run_in_process(str(missing)), f"{missing} : fichier introuvable")


def test_directory_and_bad_encoding(tmp_path: Path) -> None:
    check_bad_input(
        *run_in_process(str(tmp_path)), f"{tmp_path} : est un répertoire, fichier JSON attendu"
    )
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"a": "é"}'.encode("latin-1"))
    check_bad_input(*run_in_process(str(latin1)), f"{latin1} : fichier texte UTF-8 attendu")


def test_pathological_json(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000, encoding="utf-8")
    check_bad_input(
        *run_in_process(str(deep)), f"{deep} : JSON invalide : imbrication trop profonde"
    )
    long_int = tmp_path / "long.json"
    long_int.write_text('{"a": ' + "1" * 5000 + "}", encoding="utf-8")
    check_bad_input(
        *run_in_process(str(long_int)), f"{long_int} : JSON invalide : nombre trop long"
    )


def test_command_line_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("usage : python -m grants.finance")
    assert main(["a.json", "b.json"]) == 2
    assert main(["--help"]) == 0
    assert "ENTRÉE.json" in capsys.readouterr().out
    code, out, err = run_subprocess([])
    assert code == 2 and out == "" and err.startswith("usage :") and "Traceback" not in err
