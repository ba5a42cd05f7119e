"""Bad rows: the ~0.5% of an extract that staging must quarantine or null out.

Derived from the contract, so every kind of bad value the contract defines is exercised
for whatever columns a file has: an unparseable or missing required value, a required
status outside its list (quarantined) and an unparseable optional value (nulled).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from crm_analytics.contract import Column

BAD_TIMESTAMPS = (
    "2026-02-30 10:00",
    "31/12/2025 10:00",
    "2026-05-01 10:00+03",
    "вчера",
    "2026-05-01",
    "2026-05-01T10:00:00z",
    "25:61",
    "2026-13-01 09:00",
    "n/a",
)
BAD_OPTIONAL = {
    "money": ("n/a", "+100", "12,34,56", "руб.", "1.2.3"),
    "integer": ("3.0", "много", "1e3", "∞"),
    "boolean": ("maybe", "2", "возможно", "-"),
    "timestamp": ("2026-02-30 10:00", "скоро", "2026-05-01"),
    "date": ("31.02.2026", "2026/05/01", "завтра"),
}
BAD_ENUMS = ("unknown", "postedd", "arived", "pending", "в работе", "N/A", "paid")

Corruption = Callable[[list[Any], random.Random], None]


def corruptions(columns: list[Column], key: str, empty: Any) -> list[Corruption]:
    """The ways a row of a file with these columns (in output order) can go bad."""
    found: list[Corruption] = []

    def setter(idx: int, choices: tuple[str, ...] | None) -> Corruption:
        def apply(cells: list[Any], rng: random.Random) -> None:
            cells[idx] = empty if choices is None else rng.choice(choices)

        return apply

    for idx, col in enumerate(columns):
        if col.name == key:
            continue
        if col.required:
            found.append(setter(idx, None))
            if col.type == "timestamp":
                found.append(setter(idx, BAD_TIMESTAMPS))
            if col.values:
                found.append(setter(idx, BAD_ENUMS))
        elif col.values:
            found.append(setter(idx, BAD_ENUMS))
        elif col.type in BAD_OPTIONAL:
            found.append(setter(idx, BAD_OPTIONAL[col.type]))
    return found
