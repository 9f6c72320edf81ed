"""Hand-computed worked examples of docs/finance.md, one row per dossier.

Every expected figure below was computed by hand (the comment of each row shows the
arithmetic), never by calling the code. Figure order in the tuples:
socle, staff, flat, renfort, base, fse_max, fse, self.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.finance import FinanceRules, Post, StrandInput, compute

FIGURES = ("socle", "staff", "flat", "renfort", "base", "fse_max", "fse", "self")
EMPTY_FIGURES = ("0.00",) * 8

DEFAULT_RULES = {
    "fse_rate": "0.60",
    "cej_forfait_per_youth": "1600.00",
    "share_reperage": "0.40",
    "share_sortie_emploi": "0.40",
    "flat_rate_other_costs": "0.40",
}


def rules(**overrides: str) -> FinanceRules:
    values = {**DEFAULT_RULES, **overrides}
    return FinanceRules(
        fse_rate=Decimal(values["fse_rate"]),
        cej_forfait_per_youth=Decimal(values["cej_forfait_per_youth"]),
        strand_share={
            "reperage": Decimal(values["share_reperage"]),
            "sortie_emploi": Decimal(values["share_sortie_emploi"]),
        },
        flat_rate_other_costs=Decimal(values["flat_rate_other_costs"]),
    )


def post(cost: str, fte: str, months: int, category: str = "staff", label: str = "Poste") -> Post:
    return Post(label, Decimal(cost), Decimal(fte), months, category)


def strand(
    youth: int, *posts: Post, other: str = "0.00", requested: str | None = None
) -> StrandInput:
    return StrandInput(
        nb_jeunes_qpv=youth,
        posts=posts,
        other_cofinancing=Decimal(other),
        requested=None if requested is None else Decimal(requested),
    )


EMPTY = StrandInput.empty()

# (id, rules overrides, reperage, sortie_emploi, expected reperage, expected sortie,
#  expected totals, expected finding codes as (code, strand))
EXAMPLES = [
    pytest.param(
        {},
        # socle 1600 × 0.40 × 120 = 76 800; staff 42 000 × 1 × 24/12 = 84 000;
        # flat 33 600; renfort 117 600; base 194 400; max 0.6 × 194 400 = 116 640;
        # fse min(116 640, 117 600) = 116 640; self 194 400 − 76 800 − 116 640 = 960
        strand(120, post("42000.00", "1", 24)),
        # socle 1600 × 0.40 × 80 = 51 200, no post: base 51 200, max 30 720, fse 0
        strand(80),
        ("76800.00", "84000.00", "33600.00", "117600.00", "194400.00", "116640.00",
         "116640.00", "960.00"),
        ("51200.00", "0.00", "0.00", "0.00", "51200.00", "30720.00", "0.00", "0.00"),
        ("128000.00", "84000.00", "33600.00", "117600.00", "245600.00", "147360.00",
         "116640.00", "960.00"),
        [("RENFORT_BELOW_SOCLE", "sortie_emploi")],
        id="design-example",
    ),
    pytest.param(
        {},
        # socle 640 × 50 = 32 000; staff 36 000; flat 14 400; renfort 50 400;
        # base 82 400; max 49 440; fse 49 440; self 82 400 − 32 000 − 49 440 = 960
        strand(50, post("36000.00", "1", 12)),
        # socle 640 × 30 = 19 200; staff 40 000 × 0.5 × 24/12 = 40 000; flat 16 000;
        # renfort 56 000; base 75 200; max 45 120; fse min(45 120, 56 000 − 5 000, 40 000)
        # = 40 000; self 75 200 − 19 200 − 5 000 − 40 000 = 11 000
        strand(30, post("40000.00", "0.5", 24), other="5000.00", requested="40000.00"),
        ("32000.00", "36000.00", "14400.00", "50400.00", "82400.00", "49440.00",
         "49440.00", "960.00"),
        ("19200.00", "40000.00", "16000.00", "56000.00", "75200.00", "45120.00",
         "40000.00", "11000.00"),
        ("51200.00", "76000.00", "30400.00", "106400.00", "157600.00", "94560.00",
         "89440.00", "11960.00"),
        [],
        id="typical-both-strands",
    ),
    pytest.param(
        {},
        # socle 64 000; staff 45 000 + 30 000 × 0.8 = 69 000; flat 27 600;
        # renfort 96 600; base 160 600; max 96 360; fse 96 360;
        # self 160 600 − 64 000 − 96 360 = 240
        strand(100, post("45000.00", "1", 12), post("30000.00", "0.8", 12)),
        EMPTY,
        ("64000.00", "69000.00", "27600.00", "96600.00", "160600.00", "96360.00",
         "96360.00", "240.00"),
        EMPTY_FIGURES,
        ("64000.00", "69000.00", "27600.00", "96600.00", "160600.00", "96360.00",
         "96360.00", "240.00"),
        [],
        id="sortie-strand-empty",
    ),
    pytest.param(
        {},
        # socle 0; staff 30 000; flat 12 000; renfort 42 000; base 42 000;
        # max 25 200; fse 25 200; self 16 800
        strand(0, post("30000.00", "1", 12)),
        EMPTY,
        ("0.00", "30000.00", "12000.00", "42000.00", "42000.00", "25200.00",
         "25200.00", "16800.00"),
        EMPTY_FIGURES,
        ("0.00", "30000.00", "12000.00", "42000.00", "42000.00", "25200.00",
         "25200.00", "16800.00"),
        [],
        id="zero-young-people",
    ),
    pytest.param(
        {},
        # socle 38 400; staff 40 000; flat 16 000; renfort 56 000; base 94 400;
        # max 56 640; fse min(56 640, 56 000, 50 000) = 50 000; self 6 000
        strand(60, post("40000.00", "1", 12), requested="50000.00"),
        EMPTY,
        ("38400.00", "40000.00", "16000.00", "56000.00", "94400.00", "56640.00",
         "50000.00", "6000.00"),
        EMPTY_FIGURES,
        ("38400.00", "40000.00", "16000.00", "56000.00", "94400.00", "56640.00",
         "50000.00", "6000.00"),
        [],
        id="requested-below-max",
    ),
    pytest.param(
        {},
        # socle 12 800; staff 40 000; flat 16 000; renfort 56 000; base 68 800;
        # max 41 280; fse min(41 280, 56 000, 45 000) = 41 280; self 14 720
        strand(20, post("40000.00", "1", 12), requested="45000.00"),
        EMPTY,
        ("12800.00", "40000.00", "16000.00", "56000.00", "68800.00", "41280.00",
         "41280.00", "14720.00"),
        EMPTY_FIGURES,
        ("12800.00", "40000.00", "16000.00", "56000.00", "68800.00", "41280.00",
         "41280.00", "14720.00"),
        [("REQUEST_ABOVE_MAX", "reperage")],
        id="requested-above-max",
    ),
    pytest.param(
        {},
        # as requested-below-max but 60 000 asked: above the max 56 640 (warning), and
        # the renforcé 56 000 binds: fse 56 000; self 94 400 − 38 400 − 56 000 = 0
        strand(60, post("40000.00", "1", 12), requested="60000.00"),
        EMPTY,
        ("38400.00", "40000.00", "16000.00", "56000.00", "94400.00", "56640.00",
         "56000.00", "0.00"),
        EMPTY_FIGURES,
        ("38400.00", "40000.00", "16000.00", "56000.00", "94400.00", "56640.00",
         "56000.00", "0.00"),
        [("REQUEST_ABOVE_MAX", "reperage")],
        id="requested-above-max-renfort-binds",
    ),
    pytest.param(
        {},
        # other co-financing 20 000: fse min(56 640, 56 000 − 20 000) = 36 000;
        # self 94 400 − 38 400 − 20 000 − 36 000 = 0
        strand(60, post("40000.00", "1", 12), other="20000.00"),
        EMPTY,
        ("38400.00", "40000.00", "16000.00", "56000.00", "94400.00", "56640.00",
         "36000.00", "0.00"),
        EMPTY_FIGURES,
        ("38400.00", "40000.00", "16000.00", "56000.00", "94400.00", "56640.00",
         "36000.00", "0.00"),
        [],
        id="other-cofinancing-limits-fse",
    ),
    pytest.param(
        {},
        # socle 6 400; staff 20 000; flat 8 000; renfort 28 000; base 34 400; max 20 640;
        # other 30 000 > renfort: fse max(0, −2 000) = 0; self 34 400 − 6 400 − 30 000 = −2 000
        strand(10, post("20000.00", "1", 12), other="30000.00"),
        EMPTY,
        ("6400.00", "20000.00", "8000.00", "28000.00", "34400.00", "20640.00",
         "0.00", "-2000.00"),
        EMPTY_FIGURES,
        ("6400.00", "20000.00", "8000.00", "28000.00", "34400.00", "20640.00",
         "0.00", "-2000.00"),
        [("OVER_FINANCED", "reperage")],
        id="over-financed",
    ),
    pytest.param(
        {"flat_rate_other_costs": "0"},
        # socle 32 000; staff 36 000; flat 0; renfort 36 000; base 68 000; max 40 800;
        # fse min(40 800, 36 000) = 36 000; self 68 000 − 32 000 − 36 000 = 0
        strand(50, post("36000.00", "1", 12)),
        # socle 0; staff 24 000 × 6/12 = 12 000; flat 0; base 12 000; max 7 200; self 4 800
        strand(0, post("24000.00", "1", 6)),
        ("32000.00", "36000.00", "0.00", "36000.00", "68000.00", "40800.00",
         "36000.00", "0.00"),
        ("0.00", "12000.00", "0.00", "12000.00", "12000.00", "7200.00", "7200.00",
         "4800.00"),
        ("32000.00", "48000.00", "0.00", "48000.00", "80000.00", "48000.00",
         "43200.00", "4800.00"),
        [],
        id="flat-rate-0",
    ),
    pytest.param(
        {"fse_rate": "0.50", "cej_forfait_per_youth": "2000.00", "share_reperage": "0.50",
         "share_sortie_emploi": "0.30", "flat_rate_other_costs": "0.40"},
        # socle 2 000 × 0.5 × 40 = 40 000; staff 50 000; flat 20 000; renfort 70 000;
        # base 110 000; max 55 000; fse 55 000; self 15 000
        strand(40, post("50000.00", "1", 12)),
        # socle 2 000 × 0.3 × 50 = 30 000; staff 45 000; flat 18 000; renfort 63 000;
        # base 93 000; max 46 500; fse 46 500; self 16 500
        strand(50, post("45000.00", "1", 12)),
        ("40000.00", "50000.00", "20000.00", "70000.00", "110000.00", "55000.00",
         "55000.00", "15000.00"),
        ("30000.00", "45000.00", "18000.00", "63000.00", "93000.00", "46500.00",
         "46500.00", "16500.00"),
        ("70000.00", "95000.00", "38000.00", "133000.00", "203000.00", "101500.00",
         "101500.00", "31500.00"),
        [],
        id="flat-rate-0.40-other-call",
    ),
    pytest.param(
        {},
        # staff R(31 415.93 × 0.5 × 7 / 12) = R(9 162.979583…) = 9 162.98;
        # flat R(3 665.192) = 3 665.19; renfort 12 828.17; base 19 228.17;
        # max F(11 536.902) = 11 536.90; fse 11 536.90; self 19 228.17 − 6 400 − 11 536.90
        strand(10, post("31415.93", "0.5", 7)),
        EMPTY,
        ("6400.00", "9162.98", "3665.19", "12828.17", "19228.17", "11536.90",
         "11536.90", "1291.27"),
        EMPTY_FIGURES,
        ("6400.00", "9162.98", "3665.19", "12828.17", "19228.17", "11536.90",
         "11536.90", "1291.27"),
        [],
        id="fte-0.5-months-7",
    ),
    pytest.param(
        {},
        # staff R(42 000.01 × 0.5) = R(21 000.005) = 21 000.01 (half-up, not half-even);
        # flat R(8 400.004) = 8 400.00; renfort 29 400.01; max F(17 640.006) = 17 640.00
        strand(0, post("42000.01", "0.5", 12)),
        EMPTY,
        ("0.00", "21000.01", "8400.00", "29400.01", "29400.01", "17640.00",
         "17640.00", "11760.01"),
        EMPTY_FIGURES,
        ("0.00", "21000.01", "8400.00", "29400.01", "29400.01", "17640.00",
         "17640.00", "11760.01"),
        [],
        id="R-boundary-005-staff",
    ),
    pytest.param(
        {"cej_forfait_per_youth": "1234.57", "share_reperage": "0.50"},
        # socle R(1 234.57 × 0.5 × 1) = R(617.285) = 617.29; staff 12 000 × 1/12 = 1 000;
        # flat 400; renfort 1 400; base 2 017.29; max F(1 210.374) = 1 210.37;
        # fse 1 210.37; self 2 017.29 − 617.29 − 1 210.37 = 189.63
        strand(1, post("12000.00", "1", 1)),
        EMPTY,
        ("617.29", "1000.00", "400.00", "1400.00", "2017.29", "1210.37", "1210.37",
         "189.63"),
        EMPTY_FIGURES,
        ("617.29", "1000.00", "400.00", "1400.00", "2017.29", "1210.37", "1210.37",
         "189.63"),
        [],
        id="R-boundary-005-socle",
    ),
    pytest.param(
        {"flat_rate_other_costs": "0.25"},
        # staff 10 000.02; flat R(2 500.005) = 2 500.01; renfort 12 500.03;
        # max F(7 500.018) = 7 500.01; self 12 500.03 − 7 500.01 = 5 000.02
        strand(0, post("10000.02", "1", 12)),
        EMPTY,
        ("0.00", "10000.02", "2500.01", "12500.03", "12500.03", "7500.01", "7500.01",
         "5000.02"),
        EMPTY_FIGURES,
        ("0.00", "10000.02", "2500.01", "12500.03", "12500.03", "7500.01", "7500.01",
         "5000.02"),
        [],
        id="R-boundary-005-flat",
    ),
    pytest.param(
        {"fse_rate": "0.70", "flat_rate_other_costs": "0"},
        # base 1 428.57; max F(0.70 × 1 428.57) = F(999.999) = 999.99 (not 1 000.00);
        # self 1 428.57 − 999.99 = 428.58
        strand(0, post("1428.57", "1", 12)),
        EMPTY,
        ("0.00", "1428.57", "0.00", "1428.57", "1428.57", "999.99", "999.99", "428.58"),
        EMPTY_FIGURES,
        ("0.00", "1428.57", "0.00", "1428.57", "1428.57", "999.99", "999.99", "428.58"),
        [],
        id="F-boundary-999",
    ),
    pytest.param(
        {},
        # the investment line (80 000) is not counted: same figures as a lone 36 000 post
        strand(
            50,
            post("36000.00", "1", 12),
            post("80000.00", "1", 12, category="investment", label="Camion job-truck"),
        ),
        EMPTY,
        ("32000.00", "36000.00", "14400.00", "50400.00", "82400.00", "49440.00",
         "49440.00", "960.00"),
        EMPTY_FIGURES,
        ("32000.00", "36000.00", "14400.00", "50400.00", "82400.00", "49440.00",
         "49440.00", "960.00"),
        [("INVESTMENT_NOT_ELIGIBLE", "reperage")],
        id="investment-line-refused",
    ),
    pytest.param(
        {},
        # socle 640 × 200 = 128 000 > renfort 56 000; base 184 000; max 110 400;
        # fse min(110 400, 56 000) = 56 000; self 184 000 − 128 000 − 56 000 = 0
        strand(200, post("40000.00", "1", 12)),
        EMPTY,
        ("128000.00", "40000.00", "16000.00", "56000.00", "184000.00", "110400.00",
         "56000.00", "0.00"),
        EMPTY_FIGURES,
        ("128000.00", "40000.00", "16000.00", "56000.00", "184000.00", "110400.00",
         "56000.00", "0.00"),
        [("RENFORT_BELOW_SOCLE", "reperage")],
        id="renfort-below-socle",
    ),
    pytest.param(
        {},
        # renfort 32 000 × 1.4 = 44 800 = socle 640 × 70: equality is allowed;
        # base 89 600; max 53 760; fse 44 800; self 0
        strand(70, post("32000.00", "1", 12)),
        EMPTY,
        ("44800.00", "32000.00", "12800.00", "44800.00", "89600.00", "53760.00",
         "44800.00", "0.00"),
        EMPTY_FIGURES,
        ("44800.00", "32000.00", "12800.00", "44800.00", "89600.00", "53760.00",
         "44800.00", "0.00"),
        [],
        id="renfort-equals-socle",
    ),
    pytest.param(
        {},
        # requested 0: fse 0; self 34 400 − 6 400 − 0 − 0 = 28 000
        strand(10, post("20000.00", "1", 12), requested="0.00"),
        EMPTY,
        ("6400.00", "20000.00", "8000.00", "28000.00", "34400.00", "20640.00", "0.00",
         "28000.00"),
        EMPTY_FIGURES,
        ("6400.00", "20000.00", "8000.00", "28000.00", "34400.00", "20640.00", "0.00",
         "28000.00"),
        [],
        id="requested-zero",
    ),
    pytest.param(
        {},
        # other = renfort = 28 000: nothing left for FSE+, not over-financed; self 0
        strand(10, post("20000.00", "1", 12), other="28000.00"),
        EMPTY,
        ("6400.00", "20000.00", "8000.00", "28000.00", "34400.00", "20640.00", "0.00",
         "0.00"),
        EMPTY_FIGURES,
        ("6400.00", "20000.00", "8000.00", "28000.00", "34400.00", "20640.00", "0.00",
         "0.00"),
        [],
        id="other-equals-renfort",
    ),
    pytest.param(
        {},
        # each post R(1 000.01 / 12) = R(83.334166…) = 83.33, staff 166.66 (rounding the
        # sum instead would give 166.67); flat R(66.664) = 66.66; renfort 233.32 < socle
        # 1 920; base 2 153.32; max F(1 291.992) = 1 291.99; fse 233.32; self 0
        strand(3, post("1000.01", "1", 1), post("1000.01", "1", 1)),
        EMPTY,
        ("1920.00", "166.66", "66.66", "233.32", "2153.32", "1291.99", "233.32", "0.00"),
        EMPTY_FIGURES,
        ("1920.00", "166.66", "66.66", "233.32", "2153.32", "1291.99", "233.32", "0.00"),
        [("RENFORT_BELOW_SOCLE", "reperage")],
        id="rounding-per-post-line",
    ),
    pytest.param(
        {},
        # repérage: socle 6 400; renfort 28 000; base 34 400; max 20 640; fse 20 640;
        # self 34 400 − 6 400 − 20 640 = 7 360.
        # sortie: an investment line only (not counted) and 5 young people: socle 3 200 >
        # renfort 0; max F(0.6 × 3 200) = 1 920 ≥ requested 1 000, so no warning;
        # fse min(1 920, 0, 1 000) = 0
        strand(10, post("20000.00", "1", 12)),
        strand(
            5,
            post("15000.00", "1", 12, category="investment", label="Véhicule"),
            requested="1000.00",
        ),
        ("6400.00", "20000.00", "8000.00", "28000.00", "34400.00", "20640.00",
         "20640.00", "7360.00"),
        ("3200.00", "0.00", "0.00", "0.00", "3200.00", "1920.00", "0.00", "0.00"),
        ("9600.00", "20000.00", "8000.00", "28000.00", "37600.00", "22560.00",
         "20640.00", "7360.00"),
        [("INVESTMENT_NOT_ELIGIBLE", "sortie_emploi"), ("RENFORT_BELOW_SOCLE", "sortie_emploi")],
        id="findings-on-second-strand",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "reperage", "sortie", "expected_rep", "expected_sortie", "expected_totals",
     "expected_findings"),
    EXAMPLES,
)
def test_worked_example(
    overrides: dict[str, str],
    reperage: StrandInput,
    sortie: StrandInput,
    expected_rep: tuple[str, ...],
    expected_sortie: tuple[str, ...],
    expected_totals: tuple[str, ...],
    expected_findings: list[tuple[str, str]],
) -> None:
    result = compute(rules(**overrides), {"reperage": reperage, "sortie_emploi": sortie})
    output = result.to_dict()
    assert output["strands"]["reperage"] == dict(zip(FIGURES, expected_rep, strict=True))
    assert output["strands"]["sortie_emploi"] == dict(zip(FIGURES, expected_sortie, strict=True))
    assert output["totals"] == dict(zip(FIGURES, expected_totals, strict=True))
    assert [(f["code"], f["strand"]) for f in output["findings"]] == expected_findings


def test_at_least_fifteen_examples() -> None:
    assert len(EXAMPLES) >= 15
