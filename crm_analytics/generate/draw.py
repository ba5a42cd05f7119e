"""Cheaper draws than random.choice/randint (which loop on getrandbits): these run
millions of times at large scales. Same seed, same values, so still deterministic."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import TypeVar

T = TypeVar("T")


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def randint(rng: random.Random, a: int, b: int) -> int:
    """Uniform integer in [a, b]."""
    return a + int(rng.random() * (b - a + 1))


# Multiplying a unit is several times cheaper than timedelta(minutes=...) on hot paths.
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
