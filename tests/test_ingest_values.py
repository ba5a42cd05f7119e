"""Rendering typed values (xlsx cells, JSON numbers) as raw-zone text."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from crm_analytics.ingest.values import cell_text, compact_json, json_value_text, number_text

INTEGER = re.compile(r"-?[0-9]+")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text(x: float) -> None:
    text = number_text(x)
    assert "e" not in text.lower()
    assert Decimal(text) == Decimal(repr(x))  # the shortest round-trip digits, exactly
    assert float(text) == x
    if x.is_integer():
        assert INTEGER.fullmatch(text)
        assert int(text) == int(Decimal(repr(x)))
    else:
        assert PLAIN_DECIMAL.fullmatch(text)


@given(st.integers(min_value=-(10**40), max_value=10**40).map(float))
def test_integral_float_is_integer_text(x: float) -> None:
    assert INTEGER.fullmatch(number_text(x))


# Beyond 4000 digits the text keeps E-notation rather than grow without bound.
@given(
    st.decimals(allow_nan=False, allow_infinity=False).filter(lambda d: abs(d.adjusted()) < 4000)
)
def test_decimal_text_round_trips(d: Decimal) -> None:
    text = number_text(d)
    assert Decimal(text) == d
    assert "e" not in text.lower()
    assert bool(INTEGER.fullmatch(text)) == (d == d.to_integral_value())


def test_examples() -> None:
    assert number_text(3.0) == "3"
    assert number_text(-0.0) == "0"
    assert number_text(0.1) == "0.1"
    assert number_text(1e-7) == "0.0000001"
    assert number_text(1e22) == "10000000000000000000000"
    assert number_text(Decimal("12.50")) == "12.50"  # digits kept as they arrived
    assert number_text(Decimal("1E+3")) == "1000"
    assert number_text(Decimal("2.000")) == "2"
    assert number_text(7) == "7"
    assert number_text(Decimal("1E+99999")) == "1E+99999"


def test_cells() -> None:
    assert cell_text("") is None and cell_text(None) is None
    assert cell_text(" x ") == " x "
    assert cell_text(True) == "true" and cell_text(False) == "false"
    assert cell_text(dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02 03:04:05"
    assert cell_text(dt.datetime(2026, 1, 2, 3, 4, 5, 7)) == "2026-01-02 03:04:05.000007"
    assert cell_text(dt.date(2026, 1, 2)) == "2026-01-02"
    assert cell_text(dt.time(3, 4, 5)) == "03:04:05"
    assert cell_text(dt.timedelta(hours=26, minutes=3)) == "26:03:00"
    assert cell_text(12.0) == "12" and cell_text(12.25) == "12.25"


def test_json_values() -> None:
    assert json_value_text(None) is None
    assert json_value_text("") == ""
    assert json_value_text(True) == "true"
    assert json_value_text(10**30) == "1" + "0" * 30
    assert json_value_text([1, Decimal("2.50"), {"k": None}]) == '[1,2.50,{"k":null}]'
    assert compact_json({"a": 'ж"', "b": [True, False]}) == '{"a":"ж\\"","b":[true,false]}'
