"""Exact money, rates and datetimes on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from grants.models import Call


@pytest.mark.parametrize(
    "amount", [Decimal("99999999999999.99"), Decimal("0.01"), Decimal("0.00"), Decimal("1234567.89")]
)
def test_money_round_trip_is_exact(db, make_call, amount):
    call = make_call(envelope=amount, cej_forfait_per_youth=amount)
    db.session.remove()
    stored = db.session.get(Call, call.id)
    assert stored.envelope == amount
    assert str(stored.envelope) == f"{amount:.2f}"
    # And summing in SQL stays exact too (integer cents).
    total = db.session.execute(text("SELECT SUM(envelope) FROM calls WHERE id = :id"), {"id": call.id}).scalar()
    assert int(total) == int(amount * 100)


@pytest.mark.parametrize("bad", [1.5, Decimal("0.001"), "12.00"])
def test_money_refuses_floats_and_sub_cent_values(db, make_call, bad):
    with pytest.raises((StatementError, TypeError, ValueError)):
        make_call(envelope=bad)
    db.session.rollback()


@pytest.mark.parametrize(("rate", "expected"), [("0.60", "0.60"), ("0.375", "0.375"), ("1", "1.00"), ("0.0001", "0.0001")])
def test_rate_round_trip(db, make_call, rate, expected):
    call = make_call(fse_rate=Decimal(rate))
    db.session.remove()
    assert str(db.session.get(Call, call.id).fse_rate) == expected


def test_datetimes_come_back_aware_and_equal(db, make_call):
    paris = datetime(2023, 3, 26, 23, 59, tzinfo=ZoneInfo("Europe/Paris"))
    call = make_call(opens_at=paris - timedelta(days=120), closes_at=paris)
    db.session.remove()
    stored = db.session.get(Call, call.id)
    assert stored.closes_at == paris
    assert stored.closes_at.tzinfo is not None
    assert stored.closes_at.astimezone(UTC).hour == 21  # summer time started that morning


def test_naive_datetimes_are_refused(db, make_call):
    with pytest.raises(StatementError):
        make_call(opens_at=datetime(2023, 1, 1), closes_at=datetime(2023, 2, 1))
    db.session.rollback()


def test_database_refuses_a_call_closing_before_it_opens(db, make_call):
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):
        make_call(opens_at=now, closes_at=now - timedelta(days=1))
    db.session.rollback()


def test_database_refuses_a_flat_rate_above_forty_percent(db, make_call):
    with pytest.raises(IntegrityError):
        make_call(flat_rate_other_costs=Decimal("0.41"))
    db.session.rollback()
    assert db.session.scalars(select(Call)).all() == []
