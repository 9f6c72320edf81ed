"""What is due on what was realised (bilan, contrôle de service fait): hand-computed worked
examples, property tests, and the ``--bilan`` simulator contract."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.finance import FinanceRules, Post, StrandInput, compute, compute_realised
from grants.finance.money import round_down
from grants.finance.simulator import run
from tests.finance.bilan_example import BILAN
from tests.finance.strategies import PROPERTY, amounts, finance_rules, strand_inputs

D = Decimal
RULES = FinanceRules.default()

# The dossier of docs/finance.md's worked example, as planned: the grant is what was retained,
# 120 000,00 € (repérage) + 66 159,99 € (sortie vers l'emploi), and the advance paid at the
# convention's signature is 30 % of it, rounded down: 55 847,99 €.
GRANTED = {"reperage": D("120000.00"), "sortie_emploi": D("66159.99")}
ADVANCE = D("55847.99")
CHARGEE = Post("Chargée de mission repérage", D("41250.00"), D("1"), 24)
ANIMATEUR = Post("Animateur « aller vers »", D("33600.00"), D("0.5"), 18)
CRE = Post("Chargé relations entreprises", D("38500.00"), D("0.8"), 20)


def planned(**changes: StrandInput) -> dict[str, StrandInput]:
    strands = {
        "reperage": StrandInput(150, (CHARGEE, ANIMATEUR), D("10000.00")),
        "sortie_emploi": StrandInput(60, (CRE,), D("0.00")),
    }
    return strands | changes


def figures(result, strand: str | None = None) -> dict[str, str]:
    return (result.totals if strand is None else result.strands[strand]).to_dict()


def codes(result) -> list[tuple[str, str | None]]:
    return [(f.code.value, f.strand) for f in result.findings]


# Worked examples, computed by hand -----------------------------------------------------------


def test_as_planned_everything_granted_is_due():
    result = compute_realised(RULES, planned(), GRANTED, ADVANCE)
    assert figures(result, "reperage")["due"] == "120000.00"  # the grant binds (max 148 068,00)
    assert figures(result, "sortie_emploi")["due"] == "66159.99"  # the maximum, as granted
    assert result.totals.due == D("186159.99") and result.payable == D("130312.00")
    assert codes(result) == []


def test_fewer_young_people_than_planned():
    # Repérage: 40 QPV young people instead of 150. Base socle 1 600 × 40 % × 40 = 25 600,00;
    # base 25 600,00 + 150 780,00 = 176 380,00; maximum F(60 % × 176 380,00) = 105 828,00 €,
    # under the 120 000,00 € granted: that is what is due.
    result = compute_realised(RULES, planned(reperage=StrandInput(40, (CHARGEE, ANIMATEUR), D("10000.00"))),
                              GRANTED, ADVANCE)
    assert figures(result, "reperage") == {
        "socle": "25600.00", "staff": "107700.00", "flat": "43080.00", "renfort": "150780.00",
        "base": "176380.00", "fse_max": "105828.00", "due": "105828.00",
    }
    assert figures(result) == {
        "socle": "64000.00", "staff": "159033.33", "flat": "63613.33", "renfort": "222646.66",
        "base": "286646.66", "fse_max": "171987.99", "due": "171987.99",
    }
    assert result.payable == D("116140.00")  # 171 987,99 − 55 847,99
    assert codes(result) == [("DUE_BELOW_GRANTED", "reperage")]
    assert result.findings[0].message == (
        "Repérage : le FSE+ dû (105\u202f828,00\u00a0€) est inférieur au FSE+ attribué (120\u202f000,00\u00a0€) "
        "de 14\u202f172,00\u00a0€ : le FSE+ ne dépasse pas 60\u00a0% de la base subventionnable réalisée "
        "(176\u202f380,00\u00a0€), soit 105\u202f828,00\u00a0€."
    )


def test_fewer_staff_months():
    # Sortie vers l'emploi: the post 0,8 FTE for 14 months instead of 20.
    # 38 500,00 × 0,8 × 14 / 12 = 35 933,333… → R 35 933,33; flat 40 % = 14 373,332 → R 14 373,33;
    # renforcé 50 306,66; base 38 400,00 + 50 306,66 = 88 706,66; maximum F(53 223,996) = 53 223,99.
    # The renforcé (no other co-financing) is below the maximum: it binds.
    short = Post("Chargé relations entreprises", D("38500.00"), D("0.8"), 14)
    result = compute_realised(RULES, planned(sortie_emploi=StrandInput(60, (short,))), GRANTED, ADVANCE)
    assert figures(result, "sortie_emploi") == {
        "socle": "38400.00", "staff": "35933.33", "flat": "14373.33", "renfort": "50306.66",
        "base": "88706.66", "fse_max": "53223.99", "due": "50306.66",
    }
    assert result.totals.due == D("170306.66") and result.payable == D("114458.67")
    assert codes(result) == [("DUE_BELOW_GRANTED", "sortie_emploi")]
    assert "le renforcé réalisé (50\u202f306,66\u00a0€) est le plafond du FSE+" in result.findings[0].message


def test_more_co_financing_than_planned():
    # Repérage: the town paid 45 000,00 € instead of 10 000,00 €: 150 780,00 − 45 000,00 = 105 780,00
    # is all that is left for FSE+ (no over-financing of the reinforced action).
    result = compute_realised(RULES, planned(reperage=StrandInput(150, (CHARGEE, ANIMATEUR), D("45000.00"))),
                              GRANTED, ADVANCE)
    assert figures(result, "reperage")["due"] == "105780.00"
    assert result.totals.due == D("171939.99") and result.payable == D("116092.00")
    assert codes(result) == [("DUE_BELOW_GRANTED", "reperage")]
    assert ("le renforcé réalisé (150\u202f780,00\u00a0€) diminué des autres cofinancements reçus "
            "(45\u202f000,00\u00a0€) ne laisse que 105\u202f780,00\u00a0€ au FSE+") in result.findings[0].message


def test_advance_above_what_is_due_is_to_be_paid_back():
    # Repérage: 20 young people, one post full time for 6 months (41 250,00 × 6 / 12 = 20 625,00),
    # flat 8 250,00, renforcé 28 875,00, socle 12 800,00, base 41 675,00, maximum 25 005,00;
    # with 10 000,00 € of co-financing, 18 875,00 € is due. Nothing realised on sortie vers l'emploi.
    result = compute_realised(RULES, {
        "reperage": StrandInput(20, (Post("Chargée de mission repérage", D("41250.00"), D("1"), 6),), D("10000.00")),
        "sortie_emploi": StrandInput.empty(),
    }, GRANTED, ADVANCE)
    assert figures(result, "reperage") == {
        "socle": "12800.00", "staff": "20625.00", "flat": "8250.00", "renfort": "28875.00",
        "base": "41675.00", "fse_max": "25005.00", "due": "18875.00",
    }
    assert figures(result, "sortie_emploi")["due"] == "0.00"
    assert result.totals.due == D("18875.00")
    assert result.payable == D("-36972.99") and result.to_recover == D("36972.99")
    assert codes(result) == [("DUE_BELOW_GRANTED", "reperage"), ("DUE_BELOW_GRANTED", "sortie_emploi"),
                             ("REVERSEMENT", None)]
    assert "aucune réalisation n'est déclarée sur ce volet" in result.findings[1].message
    reversement = result.findings[2]
    assert reversement.severity.value == "warning"
    assert "36\u202f972,99\u00a0€ sont à reverser" in reversement.message
    assert result.explanations[-1] == (
        "À reverser = déjà versé 55\u202f847,99\u00a0€ − total FSE+ dû 18\u202f875,00\u00a0€ = 36\u202f972,99\u00a0€"
    )


def test_renfort_below_socle_is_checked_again():
    # 150 young people but a single post for 3 months: renforcé 14 437,50 < base socle 96 000,00.
    result = compute_realised(RULES, planned(reperage=StrandInput(150, (Post("CM", D("41250.00"), D("1"), 3),))),
                              GRANTED, ADVANCE)
    assert ("RENFORT_BELOW_SOCLE", "reperage") in codes(result)
    assert result.has_errors


def test_a_strand_left_out_of_the_grant_is_granted_nothing():
    result = compute_realised(RULES, planned(), {"reperage": D("120000.00")}, D("0.00"))
    assert result.granted["sortie_emploi"] == D("0.00") and figures(result, "sortie_emploi")["due"] == "0.00"


def test_explanation_lines_use_the_requests_words():
    result = compute_realised(RULES, planned(), GRANTED, ADVANCE)
    request = compute(RULES, planned())
    assert result.explanations[:6] == request.strand_explanations["reperage"][:6]
    assert result.explanations[6] == (
        "FSE+ dû repérage = min(maximum 148\u202f068,00\u00a0€ ; renforcé 150\u202f780,00\u00a0€ − autres "
        "cofinancements 10\u202f000,00\u00a0€ ; attribué 120\u202f000,00\u00a0€) = 120\u202f000,00\u00a0€"
    )
    assert len(result.explanations) == 7 + 7 + 8


# Properties ----------------------------------------------------------------------------------


@PROPERTY
@given(rules=finance_rules, reperage=strand_inputs, sortie=strand_inputs,
       granted=st.fixed_dictionaries({"reperage": amounts, "sortie_emploi": amounts}), paid=amounts)
def test_due_never_exceeds_the_grant_nor_the_rate_and_paid_plus_payable_is_due(rules, reperage, sortie, granted, paid):
    result = compute_realised(rules, {"reperage": reperage, "sortie_emploi": sortie}, granted, paid)
    for strand in ("reperage", "sortie_emploi"):
        line = result.strands[strand]
        assert D(0) <= line.due <= granted[strand]
        assert line.due <= round_down(Fraction(rules.fse_rate) * Fraction(line.base))
        assert line.due <= max(D(0), line.renfort - result.inputs[strand].other_cofinancing)
        if line.due < granted[strand]:
            assert any(f.code.value == "DUE_BELOW_GRANTED" and f.strand == strand for f in result.findings)
    assert result.payable + result.paid == result.totals.due
    assert result.totals.due == sum((result.strands[s].due for s in ("reperage", "sortie_emploi")), D("0.00"))
    assert (result.payable < 0) == any(f.code.value == "REVERSEMENT" for f in result.findings)
    # The shared figures are the request's, on the same inputs.
    request = compute(rules, {"reperage": reperage, "sortie_emploi": sortie})
    for key in ("socle", "staff", "flat", "renfort", "base", "fse_max"):
        assert result.totals[key] == request.totals[key]


# The --bilan simulator contract ---------------------------------------------------------------

def simulate_bilan(document: object) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run("-", io.StringIO(json.dumps(document)), stdout, stderr, bilan=True)
    return code, stdout.getvalue(), stderr.getvalue()


def test_bilan_contract_output_shape():
    code, out, err = simulate_bilan(BILAN)
    assert code == 0, err
    output = json.loads(out)
    assert list(output) == ["strands", "totals", "findings", "explanations"]
    assert list(output["strands"]["reperage"]) == ["socle", "staff", "flat", "renfort", "base", "fse_max", "due"]
    assert list(output["totals"]) == ["socle", "staff", "flat", "renfort", "base", "fse_max", "due", "paid", "payable"]
    assert output["strands"]["reperage"]["due"] == "105828.00"
    assert output["totals"] | {} == {
        "socle": "64000.00", "staff": "159033.33", "flat": "63613.33", "renfort": "222646.66",
        "base": "286646.66", "fse_max": "171987.99", "due": "171987.99", "paid": "55847.99", "payable": "116140.00",
    }
    assert [f["code"] for f in output["findings"]] == ["DUE_BELOW_GRANTED"]
    assert set(output["findings"][0]) == {"code", "severity", "strand", "message"}


def test_bilan_payable_is_negative_when_advances_exceed_what_is_due():
    document = json.loads(json.dumps(BILAN))
    document["paid"] = "200000.00"
    code, out, _err = simulate_bilan(document)
    output = json.loads(out)
    assert code == 0 and output["totals"]["payable"] == "-28012.01"
    assert output["findings"][-1]["code"] == "REVERSEMENT" and output["findings"][-1]["strand"] is None


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.pop("granted"), "granted : champ obligatoire manquant"),
    (lambda d: d.pop("paid"), "paid : champ obligatoire manquant"),
    (lambda d: d["granted"].update(autre="1.00"), "granted.autre : volet inconnu"),
    (lambda d: d["granted"].update(reperage=120000.5), "granted.reperage : nombre décimal attendu"),
    (lambda d: d["granted"].update(reperage="-1.00"), "granted.reperage : montant positif ou nul attendu"),
    (lambda d: d.update(paid="abc"), "paid : nombre décimal attendu"),
    (lambda d: d.update(granted=[]), "granted : objet attendu"),
    (lambda d: d["strands"]["reperage"].update(nb_jeunes_qpv="40"), "strands.reperage.nb_jeunes_qpv : nombre entier attendu"),
])
def test_bilan_bad_input_exits_2_naming_the_field(change, field):
    document = json.loads(json.dumps(BILAN))
    change(document)
    code, out, err = simulate_bilan(document)
    assert code == 2 and out == ""
    assert err.startswith(field) and err.count("\n") == 1
