"""Hypothesis strategies shared by the finance property tests: valid rules and strands."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from grants.finance import FinanceRules, Post, StrandInput
from grants.finance.compute import MAX_MONTHS, MAX_YOUTH
from grants.finance.money import MAX_AMOUNT

# database=None: no .hypothesis/ directory in the shared checkout; too_slow is only a
# warning about the machine, not about the rules.
PROPERTY = settings(
    max_examples=500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

MAX_CENTS = int(MAX_AMOUNT * 100)


def scaled(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    """Decimals k × 10^-places for k in [low, high], exactly."""
    return st.integers(low, high).map(lambda k: Decimal(f"{k}E-{places}"))


amounts = st.one_of(
    scaled(0, 10_000_000, 2),  # up to 100 000,00 €: the realistic range
    scaled(0, MAX_CENTS, 2),  # anything storable
    st.sampled_from([Decimal("0.00"), Decimal("0.01"), Decimal("0.05")]),
)
rates = st.one_of(scaled(1, 100, 2), scaled(1, 10_000, 4), st.just(Decimal(1)))
flat_rates = st.one_of(scaled(0, 40, 2), scaled(0, 4_000, 4))
shares = st.one_of(scaled(0, 100, 2), scaled(0, 10_000, 4))
ftes = st.one_of(scaled(1, 100, 2), scaled(1, 10_000_000_000, 10))
youth = st.one_of(st.integers(0, 500), st.integers(0, MAX_YOUTH))

finance_rules = st.builds(
    FinanceRules,
    fse_rate=rates,
    cej_forfait_per_youth=st.one_of(scaled(0, 500_000, 2), amounts),
    strand_share=st.fixed_dictionaries({"reperage": shares, "sortie_emploi": shares}),
    flat_rate_other_costs=flat_rates,
)
posts = st.builds(
    Post,
    label=st.sampled_from(["Chargé de mission", "Chargé relations entreprises", "Véhicule"]),
    annual_cost=amounts,
    fte=ftes,
    months=st.integers(1, MAX_MONTHS),
    category=st.sampled_from(["staff"] * 9 + ["investment"]),
)
strand_inputs = st.builds(
    StrandInput,
    nb_jeunes_qpv=youth,
    posts=st.lists(posts, max_size=4).map(tuple),
    other_cofinancing=st.one_of(st.just(Decimal("0.00")), amounts),
    requested=st.one_of(st.none(), amounts),
)
dossiers = st.fixed_dictionaries({"reperage": strand_inputs, "sortie_emploi": strand_inputs})
