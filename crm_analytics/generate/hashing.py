"""Stateless keyed randomness: attributes of the i-th record without storing the record.

A client population of a million records must not live in memory, so everything about
record i (location, person, contact data) is a pure function of (seed, stream, i).
Python's built-in ``hash`` is salted per process and would break determinism.
"""

from __future__ import annotations

import random

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def mix64(x: int) -> int:
    """SplitMix64 finaliser: a cheap, well-distributed 64-bit bijection."""
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


_STREAM_KEYS: dict[tuple[int, int], int] = {}


def h64(seed: int, stream: int, i: int) -> int:
    key = _STREAM_KEYS.get((seed, stream))
    if key is None:
        key = _STREAM_KEYS[seed, stream] = mix64((seed & _MASK) ^ (stream << 48))
    return mix64(key ^ i)


def unit(seed: int, stream: int, i: int) -> float:
    """A uniform float in [0, 1) keyed by (seed, stream, i)."""
    return h64(seed, stream, i) / 18446744073709551616.0


def keyed_random(seed: int, stream: int, i: int) -> random.Random:
    """A private generator for one record, for attributes that need many draws."""
    return random.Random(h64(seed, stream, i))
