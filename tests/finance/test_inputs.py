"""Validation of rules and dossier inputs through the Python API: refused before computing."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from grants.finance import (
    LEGAL_REFERENCES,
    STRAND_LABELS,
    STRANDS,
    FinanceInputError,
    FinanceRules,
    Post,
    StrandInput,
    compute,
)
from grants.finance.money import to_amount, to_decimal, to_int


def make_rules(**overrides: object) -> FinanceRules:
    values: dict[str, object] = {
        "fse_rate": "0.60",
        "cej_forfait_per_youth": "1600.00",
        "strand_share": {"reperage": "0.40", "sortie_emploi": "0.40"},
        "flat_rate_other_costs": "0.40",
    }
    values.update(overrides)
    return FinanceRules(**values)  # type: ignore[arg-type]


# --- conversions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("42000.00", "42000.00"), ("0", "0"), (" 7.5 ", "7.5"), (12, "12"),
     (Decimal("1.10"), "1.10"), ("-3", "-3"), (".5", "0.5")],
)
def test_to_decimal_accepts_exact_values(value: object, expected: str) -> None:
    result = to_decimal(value, "x")
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.0, "x : nombre décimal attendu, reçu 1.0 (flottant)"),
        (0.1, "x : nombre décimal attendu, reçu 0.1 (flottant)"),
        (True, "x : nombre décimal attendu, reçu true"),
        (None, "x : nombre décimal attendu, reçu null"),
        ("abc", 'x : nombre décimal attendu, reçu "abc"'),
        ("", 'x : nombre décimal attendu, reçu ""'),
        ("1e3", 'x : nombre décimal attendu, reçu "1e3"'),
        ("1_000", 'x : nombre décimal attendu, reçu "1_000"'),
        ("42 000,00", 'x : nombre décimal attendu, reçu "42 000,00"'),
        ("NaN", 'x : nombre décimal attendu, reçu "NaN"'),
        (Decimal("NaN"), "x : nombre décimal fini attendu, reçu NaN"),
        (Decimal("Infinity"), "x : nombre décimal fini attendu, reçu Infinity"),
        ([1], "x : nombre décimal attendu, reçu une liste"),
    ],
)
def test_to_decimal_refuses(value: object, message: str) -> None:
    with pytest.raises(FinanceInputError) as caught:
        to_decimal(value, "x")
    assert str(caught.value) == message
    assert caught.value.field == "x"


def test_to_amount_normalises_and_bounds() -> None:
    assert str(to_amount("42000", "a")) == "42000.00"
    assert str(to_amount(Decimal("1.5"), "a")) == "1.50"
    assert str(to_amount("1.230", "a")) == "1.23"  # a zero third decimal is harmless
    assert str(to_amount("999999999999.99", "a")) == "999999999999.99"
    for bad, reason in [
        ("-0.01", "montant positif ou nul attendu, reçu -0.01"),
        ("1.005", "montant au centime attendu (deux décimales au plus), reçu 1.005"),
        ("1000000000000", "montant trop élevé (au plus 999 999 999 999,99 €), reçu 1000000000000"),
    ]:
        with pytest.raises(FinanceInputError, match=None) as caught:
            to_amount(bad, "a")
        assert caught.value.message == reason


def test_to_int_accepts_true_integers_only() -> None:
    assert to_int(12, "m") == 12
    for bad, shown in [(12.0, "12.0 (flottant)"), (True, "true"), ("12", '"12"'), (None, "null")]:
        with pytest.raises(FinanceInputError) as caught:
            to_int(bad, "m")
        assert caught.value.message == f"nombre entier attendu, reçu {shown}"


# --- rules -------------------------------------------------------------------------


def test_default_rules_are_the_reference_call() -> None:
    rules = FinanceRules.default()
    assert rules.to_dict() == {
        "fse_rate": "0.60",
        "cej_forfait_per_youth": "1600.00",
        "strand_share": {"reperage": "0.40", "sortie_emploi": "0.40"},
        "flat_rate_other_costs": "0.40",
    }
    assert rules == make_rules()
    assert hash(rules) == hash(make_rules())
    assert FinanceRules.from_dict(rules.to_dict()) == rules


def test_rules_are_frozen_and_keep_the_given_spelling() -> None:
    rules = make_rules(fse_rate="0.6", flat_rate_other_costs=0, cej_forfait_per_youth=1600)
    assert rules.to_dict()["fse_rate"] == "0.6"
    assert rules.to_dict()["flat_rate_other_costs"] == "0"
    assert rules.to_dict()["cej_forfait_per_youth"] == "1600.00"
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.fse_rate = Decimal("1")  # type: ignore[misc]
    with pytest.raises(TypeError):
        rules.strand_share["reperage"] = Decimal("1")  # type: ignore[index]


@pytest.mark.parametrize(
    "overrides",
    [
        {"fse_rate": "1"},
        {"fse_rate": "0.0001"},
        {"flat_rate_other_costs": "0"},
        {"flat_rate_other_costs": "0.40"},
        {"flat_rate_other_costs": "0.4000000000"},
        {"strand_share": {"reperage": "0", "sortie_emploi": "1"}},
        {"cej_forfait_per_youth": "0"},
    ],
)
def test_rules_boundaries_accepted(overrides: dict[str, object]) -> None:
    make_rules(**overrides)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"fse_rate": "0"}, "fse_rate", "taux compris dans ]0 ; 1] attendu, reçu 0"),
        ({"fse_rate": "1.01"}, "fse_rate", "taux compris dans ]0 ; 1] attendu, reçu 1.01"),
        ({"fse_rate": 0.6}, "fse_rate", "nombre décimal attendu, reçu 0.6 (flottant)"),
        ({"fse_rate": "0.12345678901"}, "fse_rate",
         "10 décimales au plus attendues, reçu 0.12345678901"),
        ({"flat_rate_other_costs": "0.41"}, "flat_rate_other_costs",
         "taux compris entre 0 et 0,40 attendu (art. 56 du règlement (UE) 2021/1060), "
         "reçu 0.41"),
        ({"flat_rate_other_costs": "-0.01"}, "flat_rate_other_costs",
         "taux compris entre 0 et 0,40 attendu (art. 56 du règlement (UE) 2021/1060), "
         "reçu -0.01"),
        ({"strand_share": {"reperage": "1.5", "sortie_emploi": "0.4"}},
         "strand_share.reperage", "part comprise entre 0 et 1 attendue, reçu 1.5"),
        ({"strand_share": {"reperage": "0.4"}}, "strand_share.sortie_emploi",
         "champ obligatoire manquant"),
        ({"strand_share": {"reperage": "0.4", "sortie_emploi": "0.4", "autre": "0.1"}},
         "strand_share.autre", "volet inconnu (volets attendus : reperage, sortie_emploi)"),
        ({"cej_forfait_per_youth": "-1"}, "cej_forfait_per_youth",
         "montant positif ou nul attendu, reçu -1"),
    ],
)
def test_rules_refused(overrides: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(FinanceInputError) as caught:
        make_rules(**overrides)
    assert (caught.value.field, caught.value.message) == (field, message)


def test_every_parameter_has_a_legal_reference() -> None:
    for name in ("fse_rate", "cej_forfait_per_youth", "strand_share", "flat_rate_other_costs"):
        assert FinanceRules.legal_reference(name) == LEGAL_REFERENCES[name]
    assert "art. 53 du règlement (UE) 2021/1060" in LEGAL_REFERENCES["cej_forfait_per_youth"]
    assert LEGAL_REFERENCES["staff_costs"] == "art. 55 du règlement (UE) 2021/1060"
    assert LEGAL_REFERENCES["flat_rate_other_costs"] == "art. 56 du règlement (UE) 2021/1060"
    assert "appel à projets" in LEGAL_REFERENCES["fse_rate"]


def test_strands_constants() -> None:
    assert STRANDS == ("reperage", "sortie_emploi")
    assert dict(STRAND_LABELS) == {"reperage": "Repérage", "sortie_emploi": "Sortie vers l'emploi"}


# --- posts and strands -------------------------------------------------------------


def test_post_normalises_values() -> None:
    post = Post(" Chargé de mission ", "42000", "1", 24)
    assert post == Post("Chargé de mission", Decimal("42000.00"), Decimal("1"), 24, "staff")
    assert post.to_dict() == {
        "label": "Chargé de mission", "annual_cost": "42000.00", "fte": "1", "months": 24,
        "category": "staff",
    }


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"fte": "1.01"}, "fte", "quotité (ETP) comprise dans ]0 ; 1] attendue, reçu 1.01"),
        ({"fte": "0"}, "fte", "quotité (ETP) comprise dans ]0 ; 1] attendue, reçu 0"),
        ({"fte": 1.0}, "fte", "nombre décimal attendu, reçu 1.0 (flottant)"),
        ({"months": 0}, "months", "nombre de mois compris entre 1 et 48 attendu, reçu 0"),
        ({"months": 49}, "months", "nombre de mois compris entre 1 et 48 attendu, reçu 49"),
        ({"months": 12.0}, "months", "nombre entier attendu, reçu 12.0 (flottant)"),
        ({"annual_cost": "-1"}, "annual_cost", "montant positif ou nul attendu, reçu -1"),
        ({"annual_cost": 42000.0}, "annual_cost",
         "nombre décimal attendu, reçu 42000.0 (flottant)"),
        ({"label": "  "}, "label", 'libellé attendu (texte non vide), reçu "  "'),
        ({"category": "vehicle"}, "category",
         'catégorie attendue : staff ou investment, reçu "vehicle"'),
    ],
)
def test_post_refused(kwargs: dict[str, object], field: str, message: str) -> None:
    values: dict[str, object] = {
        "label": "Chargé", "annual_cost": "42000.00", "fte": "1", "months": 12,
    }
    values.update(kwargs)
    with pytest.raises(FinanceInputError) as caught:
        Post(**values)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.message) == (field, message)


def test_post_boundaries_accepted() -> None:
    Post("a", "0", "0.0000000001", 1)
    Post("a", "999999999999.99", "1", 48, "investment")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"nb_jeunes_qpv": -1}, "nb_jeunes_qpv",
         "nombre de jeunes compris entre 0 et 1\u202f000\u202f000 attendu, reçu -1"),
        ({"nb_jeunes_qpv": 1_000_001}, "nb_jeunes_qpv",
         "nombre de jeunes compris entre 0 et 1\u202f000\u202f000 attendu, reçu 1000001"),
        ({"nb_jeunes_qpv": 1.0}, "nb_jeunes_qpv", "nombre entier attendu, reçu 1.0 (flottant)"),
        ({"nb_jeunes_qpv": True}, "nb_jeunes_qpv", "nombre entier attendu, reçu true"),
        ({"other_cofinancing": "-5"}, "other_cofinancing",
         "montant positif ou nul attendu, reçu -5"),
        ({"requested": "abc"}, "requested", 'nombre décimal attendu, reçu "abc"'),
        ({"posts": "poste"}, "posts", 'liste attendue, reçu "poste"'),
    ],
)
def test_strand_refused(kwargs: dict[str, object], field: str, message: str) -> None:
    values: dict[str, object] = {"nb_jeunes_qpv": 10}
    values.update(kwargs)
    with pytest.raises(FinanceInputError) as caught:
        StrandInput(**values)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.message) == (field, message)


def test_strand_defaults_and_empty() -> None:
    strand = StrandInput(nb_jeunes_qpv=0)
    assert strand == StrandInput.empty()
    assert strand.is_empty
    assert strand.posts == () and strand.requested is None
    assert str(strand.other_cofinancing) == "0.00"
    assert not StrandInput(nb_jeunes_qpv=0, requested="1").is_empty
    assert StrandInput(1, [Post("a", "1", "1", 1)]).posts == (Post("a", "1", "1", 1),)


def test_compute_needs_both_strands_and_no_other() -> None:
    rules = FinanceRules.default()
    with pytest.raises(FinanceInputError) as caught:
        compute(rules, {"reperage": StrandInput.empty()})
    assert caught.value.field == "strands.sortie_emploi"
    assert caught.value.message.startswith("champ obligatoire manquant")
    with pytest.raises(FinanceInputError) as caught:
        compute(rules, {s: StrandInput.empty() for s in (*STRANDS, "formation")})
    assert str(caught.value) == (
        "strands.formation : volet inconnu (volets attendus : reperage, sortie_emploi)"
    )
    with pytest.raises(TypeError):
        compute(rules, {"reperage": StrandInput.empty(), "sortie_emploi": {"nb_jeunes_qpv": 1}})


def test_error_prefix() -> None:
    error = FinanceInputError("fte", "m").with_prefix("strands.reperage.posts[0]")
    assert str(error) == "strands.reperage.posts[0].fte : m"
    assert isinstance(error, ValueError)


def test_huge_values_are_shortened_in_messages() -> None:
    with pytest.raises(FinanceInputError) as caught:
        to_amount("9" * 5000, "a")
    assert caught.value.message == (
        "montant trop élevé (au plus 999 999 999 999,99 €), reçu " + "9" * 40 + "…"
    )
    with pytest.raises(FinanceInputError) as caught:
        StrandInput(nb_jeunes_qpv=10**100)
    assert caught.value.message.endswith("reçu " + "1" + "0" * 39 + "…")
