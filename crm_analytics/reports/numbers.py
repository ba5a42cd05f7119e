"""Exact arithmetic for report values: sums stay Decimal, ratios are computed exactly and
rounded once, half away from zero, to two decimals (reports.md common rules)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

CENT = Decimal("0.01")

Number = int | Decimal | Fraction


def exact(value: Number | None) -> Fraction | None:
    return None if value is None else Fraction(value)


def round2(value: Number | None) -> Decimal | None:
    """Round an exact value half away from zero to two decimals."""
    if value is None:
        return None
    cents = Fraction(value) * 100
    # Integer arithmetic keeps the tie test exact: |x| + 1/2 floored is half away from zero.
    rounded = math.floor(abs(cents) + Fraction(1, 2))
    return (Decimal(rounded if cents >= 0 else -rounded) / 100).quantize(CENT)


def ratio(numerator: Number | None, denominator: Number | None) -> Fraction | None:
    """Exact ratio; None when the denominator is zero or null."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return Fraction(numerator) / Fraction(denominator)


def money(value: Number | None) -> Decimal:
    """A sum of money: null (no rows) is zero."""
    return Decimal(0) if value is None else Decimal(value)
