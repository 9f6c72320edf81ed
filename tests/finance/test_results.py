"""Explanation lines, finding messages, French formatting and the envelope check."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.finance import (
    FIGURE_LABELS,
    FIGURES,
    FinanceInputError,
    FinanceRules,
    Finding,
    FindingCode,
    Post,
    Severity,
    StrandInput,
    check_envelope,
    compute,
    format_eur,
    format_rate,
)
from grants.finance.formatting import format_eur_babel

NNBSP, NBSP = "\u202f", "\u00a0"


def plain(text: str) -> str:
    """Babel's no-break spaces as ordinary spaces, to write expectations legibly."""
    return text.replace(NNBSP, " ").replace(NBSP, " ")


def run(reperage: StrandInput, sortie: StrandInput | None = None, rules=None):
    return compute(
        rules or FinanceRules.default(),
        {"reperage": reperage, "sortie_emploi": sortie or StrandInput.empty()},
    )


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("76800.00", f"76{NNBSP}800,00{NBSP}€"),
        ("0.00", f"0,00{NBSP}€"),
        ("0.01", f"0,01{NBSP}€"),
        ("-2000.00", f"-2{NNBSP}000,00{NBSP}€"),
        ("999999999999.99", f"999{NNBSP}999{NNBSP}999{NNBSP}999,99{NBSP}€"),
        ("1600", f"1{NNBSP}600,00{NBSP}€"),
    ],
)
def test_format_eur_is_babel_french(amount: str, expected: str) -> None:
    assert format_eur(Decimal(amount)) == expected


def test_format_eur_refuses_unrounded_amounts() -> None:
    with pytest.raises(ValueError):
        format_eur(Decimal("0.005"))


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("0.60", "60 %"), ("0.4", "40 %"), ("0.375", "37,5 %"), ("1", "100 %"), ("0", "0 %"),
     ("0.3333", "33,33 %")],
)
def test_format_rate(rate: str, expected: str) -> None:
    assert plain(format_rate(Decimal(rate))) == expected


def test_design_example_explanations_start_with_the_reference_sentence() -> None:
    result = run(StrandInput(120, (Post("Chargé de mission", "42000.00", "1", 24),)))
    lines = result.explanations
    assert lines[0] == f"Base socle repérage = 1{NNBSP}600,00{NBSP}€ × 40{NBSP}% × 120 jeunes = " \
        f"76{NNBSP}800,00{NBSP}€"
    assert plain(lines[1]) == (
        "Frais de personnel directs repérage = Chargé de mission : 42 000,00 € × 1 ETP × "
        "24 mois / 12 = 84 000,00 € (art. 55 du règlement (UE) 2021/1060)"
    )
    assert plain(lines[2]) == (
        "Forfait coûts restants repérage = 40 % × 84 000,00 € = 33 600,00 € "
        "(art. 56 du règlement (UE) 2021/1060)"
    )
    # one line per figure: 8 per strand, then 8 totals
    assert len(lines) == 24
    assert result.strand_explanations["reperage"] == lines[:8]
    assert result.strand_explanations["sortie_emploi"] == lines[8:16]
    assert result.total_explanations == lines[16:]
    heads = [line.split(" = ")[0] for line in lines]
    assert heads[:8] == [
        "Base socle repérage", "Frais de personnel directs repérage",
        "Forfait coûts restants repérage", "Renforcé repérage",
        "Base subventionnable repérage", "FSE+ maximum repérage", "FSE+ retenu repérage",
        "Autofinancement repérage",
    ]
    assert heads[8] == "Base socle sortie vers l'emploi"
    assert heads[16:] == [
        "Total base socle", "Total frais de personnel directs", "Total forfait coûts restants",
        "Total renforcé", "Total base subventionnable", "Total FSE+ maximum",
        "Total FSE+ retenu", "Total autofinancement",
    ]
    assert list(FIGURE_LABELS) == list(FIGURES)


def test_explanations_show_rounding_and_several_posts() -> None:
    result = run(
        StrandInput(
            1,
            (
                Post("Chargé de mission", "31415.93", "0.5", 7),
                Post("Animateur", "12000.00", "1", 12),
                Post("Camion job-truck", "80000.00", "1", 12, "investment"),
            ),
            other_cofinancing="100.00",
            requested="5000.00",
        ),
        rules=FinanceRules("0.70", "1234.57", {"reperage": "0.5", "sortie_emploi": "0.4"}, "0.25"),
    )
    lines = [plain(line) for line in result.strand_explanations["reperage"]]
    # socle R(617.285) = 617.29
    assert lines[0] == (
        "Base socle repérage = 1 234,57 € × 50 % × 1 jeune = 617,29 € (arrondi au centime)"
    )
    # 31 415.93 × 0.5 × 7 / 12 = 9 162.979583… → 9 162.98; 12 000; the truck is excluded
    assert lines[1] == (
        "Frais de personnel directs repérage = 9 162,98 € + 12 000,00 € = 21 162,98 € "
        "(Chargé de mission : 31 415,93 € × 0,5 ETP × 7 mois / 12 = 9 162,98 €, arrondi au "
        "centime ; Animateur : 12 000,00 € × 1 ETP × 12 mois / 12 = 12 000,00 € ; "
        "art. 55 du règlement (UE) 2021/1060 ; « Camion job-truck » exclu : investissement "
        "non éligible au FSE+)"
    )
    # 0.25 × 21 162.98 = 5 290.745 → 5 290.75
    assert lines[2] == (
        "Forfait coûts restants repérage = 25 % × 21 162,98 € = 5 290,75 € "
        "(arrondi au centime ; art. 56 du règlement (UE) 2021/1060)"
    )
    assert lines[3] == (
        "Renforcé repérage = frais de personnel directs 21 162,98 € + forfait coûts restants "
        "5 290,75 € = 26 453,73 €"
    )
    assert lines[4] == (
        "Base subventionnable repérage = base socle 617,29 € + renforcé 26 453,73 € = "
        "27 071,02 € (base socle : montant par jeune fixé par l'appel à projets, coût unitaire "
        "au sens de l'art. 53 du règlement (UE) 2021/1060 ; part du volet fixée par l'appel "
        "à projets)"
    )
    # 0.70 × 27 071.02 = 18 949.714 → 18 949.71
    assert lines[5] == (
        "FSE+ maximum repérage = 70 % × 27 071,02 € = 18 949,71 € (arrondi au centime "
        "inférieur ; taux d'intervention FSE+ fixé par l'appel à projets)"
    )
    assert lines[6] == (
        "FSE+ retenu repérage = min(maximum 18 949,71 € ; renforcé 26 453,73 € − autres "
        "cofinancements 100,00 € ; demandé 5 000,00 €) = 5 000,00 €"
    )
    # 27 071.02 − 617.29 − 100 − 5 000 = 21 353.73
    assert lines[7] == (
        "Autofinancement repérage = base subventionnable 27 071,02 € − base socle 617,29 € − "
        "autres cofinancements 100,00 € − FSE+ retenu 5 000,00 € = 21 353,73 €"
    )


def test_explanations_for_an_over_financed_strand() -> None:
    result = run(StrandInput(10, (Post("Chargé", "20000.00", "1", 12),), "30000.00"))
    fse_line = plain(result.strand_explanations["reperage"][6])
    assert fse_line == (
        "FSE+ retenu repérage = max(0 ; min(maximum 20 640,00 € ; renforcé 28 000,00 € − "
        "autres cofinancements 30 000,00 €)) = 0,00 € (jamais négatif ; aucun montant "
        "demandé : pas de plafond de demande)"
    )
    assert plain(result.total_explanations[-1]) == (
        "Total autofinancement = -2 000,00 € (repérage) + 0,00 € (sortie vers l'emploi) = "
        "-2 000,00 €"
    )


def test_finding_messages() -> None:
    result = run(
        StrandInput(
            200,
            (Post("Chargé", "40000.00", "1", 12), Post("Véhicule", "9000.00", "1", 12,
                                                       "investment")),
            other_cofinancing="60000.00",
            requested="200000.00",
        )
    )
    assert [(f.code, f.severity, f.strand) for f in result.findings] == [
        ("INVESTMENT_NOT_ELIGIBLE", "error", "reperage"),
        ("RENFORT_BELOW_SOCLE", "error", "reperage"),
        ("OVER_FINANCED", "error", "reperage"),
        ("REQUEST_ABOVE_MAX", "warning", "reperage"),
    ]
    messages = [plain(f.message) for f in result.findings]
    assert messages == [
        "Repérage, ligne « Véhicule » : le FSE+ ne finance pas l'investissement (véhicules, "
        "« job-trucks », équipements) : seuls les frais de personnel sont retenus au réel. "
        "Cette ligne n'est pas comptée.",
        "Repérage : le renforcé (56 000,00 €) doit être au moins égal à la base socle "
        "(128 000,00 €) ; le FSE+ s'ajoute à la base socle de l'État (CEJ), il ne la "
        "remplace pas.",
        "Repérage : les autres cofinancements (60 000,00 €) dépassent le renforcé "
        "(56 000,00 €) ; l'opération serait surfinancée de 4 000,00 € (autofinancement "
        "négatif).",
        # The 0,00 € retained comes from the over-financing, named once, not from the maximum.
        "Repérage : le FSE+ demandé (200 000,00 €) dépasse le maximum de 60 % de la base "
        "subventionnable (110 400,00 €) ; aucun FSE+ n'est retenu, le volet étant surfinancé.",
    ]
    assert result.has_errors
    assert [f.code for f in result.warnings] == ["REQUEST_ABOVE_MAX"]
    assert len(result.errors) == 3


@pytest.mark.parametrize(
    ("other", "retained", "message"),
    [
        # 10 young people (base socle 6 400,00 €), one post of 20 000,00 € for 12 months:
        # renforcé 28 000,00 €, base 34 400,00 €, maximum 20 640,00 €; 25 000,00 € asked.
        ("0.00", "20640.00", "le FSE+ retenu est ramené à 20 640,00 €."),
        ("10000.00", "18000.00", "le FSE+ retenu est limité à 18 000,00 €, ce que les autres "
                                 "cofinancements (10 000,00 €) laissent du renforcé (28 000,00 €)."),
        ("28000.00", "0.00", "aucun FSE+ n'est retenu : les autres cofinancements (28 000,00 €) "
                             "couvrent déjà tout le renforcé (28 000,00 €)."),
        ("30000.00", "0.00", "aucun FSE+ n'est retenu, le volet étant surfinancé."),
    ],
)
def test_a_request_above_the_maximum_names_the_cap_that_binds(other: str, retained: str, message: str) -> None:
    result = run(StrandInput(10, (Post("Chargé", "20000.00", "1", 12),), other, requested="25000.00"))
    assert result.strands["reperage"].fse == Decimal(retained)
    [finding] = [f for f in result.findings if f.code == "REQUEST_ABOVE_MAX"]
    assert plain(finding.message) == (
        "Repérage : le FSE+ demandé (25 000,00 €) dépasse le maximum de 60 % de la base "
        "subventionnable (20 640,00 €) ; " + message
    )
    assert "Repérage : Repérage" not in plain(finding.message)


def test_an_over_financed_strand_is_not_added_to_the_other_autofinancement() -> None:
    # Repérage: autofinancement 7 360,00 €; sortie vers l'emploi: over-financed by 2 000,00 €.
    result = run(StrandInput(10, (Post("Chargé", "20000.00", "1", 12),)),
                 StrandInput(10, (Post("Chargée", "20000.00", "1", 12),), "30000.00"))
    assert result.strands["reperage"].self_financing == Decimal("7360.00")
    assert result.strands["sortie_emploi"].self_financing == Decimal("-2000.00")
    assert result.totals.self_financing == Decimal("5360.00")  # the contract's sum is kept
    assert result.self_total_shown is False
    assert plain(result.total_explanations[-1]) == (
        "Total autofinancement : non additionné, l'excédent d'un volet surfinancé ne couvre pas "
        "l'autofinancement de l'autre (repérage 7 360,00 € ; sortie vers l'emploi -2 000,00 €, "
        "surfinancé)"
    )
    assert len(result.explanations) == 24
    # Same signs (or a zero) add up as before.
    assert run(StrandInput(10, (Post("Chargé", "20000.00", "1", 12),), "30000.00")).self_total_shown


def test_empty_strands_give_zero_and_no_finding() -> None:
    result = run(StrandInput.empty(), StrandInput.empty())
    assert result.findings == ()
    assert not result.has_errors
    assert set(result.to_dict()["totals"].values()) == {"0.00"}


def test_result_is_json_ready() -> None:
    result = run(StrandInput(120, (Post("Chargé de mission", "42000.00", "1", 24),)))
    output = result.to_dict()
    assert list(output) == ["strands", "totals", "findings", "explanations"]
    assert json.loads(json.dumps(output)) == output
    snapshot = result.to_snapshot()
    assert list(snapshot) == ["input", "result"]
    assert snapshot["input"]["rules"] == FinanceRules.default().to_dict()
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert result.strands["reperage"]["self"] == Decimal("960.00")
    with pytest.raises(KeyError):
        result.totals["autre"]


def test_check_envelope() -> None:
    assert check_envelope(Decimal("4000000.00"), Decimal("4000000.00")) == []
    assert check_envelope(Decimal("4000000.00"), Decimal("0")) == []
    findings = check_envelope(Decimal("4000000.00"), Decimal("4000000.01"))
    assert findings == [
        Finding(
            FindingCode.ENVELOPE_EXCEEDED,
            Severity.ERROR,
            None,
            f"Le total FSE+ accordé (4{NNBSP}000{NNBSP}000,01{NBSP}€) dépasse l'enveloppe de "
            f"l'appel (4{NNBSP}000{NNBSP}000,00{NBSP}€) de 0,01{NBSP}€.",
        )
    ]
    assert findings[0].to_dict()["strand"] is None
    assert Finding.from_dict(findings[0].to_dict()) == findings[0]
    with pytest.raises(ValueError):
        Finding("UNKNOWN_CODE", "error", None, "?")  # type: ignore[arg-type]
    with pytest.raises(FinanceInputError):
        check_envelope(4_000_000.0, Decimal("1"))  # type: ignore[arg-type]


@settings(max_examples=2000, deadline=None)
@given(st.decimals(min_value=Decimal("-99999999999999.99"), max_value=Decimal("99999999999999.99"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_format_eur_equals_babel_for_every_amount(amount: Decimal) -> None:
    assert format_eur(amount) == format_eur_babel(amount)


@pytest.mark.parametrize("amount", ["-0.00", "0.00", "0.01", "-0.01", "999.99", "1000.00", "-1234567.89"])
def test_format_eur_equals_babel_at_the_edges(amount: str) -> None:
    assert format_eur(Decimal(amount)) == format_eur_babel(Decimal(amount))


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_format_eur_refuses_non_finite_amounts(amount: str) -> None:
    with pytest.raises(ValueError):
        format_eur(Decimal(amount))
