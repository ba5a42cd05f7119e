"""Typed values (xlsx cells, JSON scalars) rendered as the text the raw zone keeps.

The raw zone is all text so that staging applies one set of parsing rules to every format;
these renderings are what staging expects from a typed cell (see raw-extracts.md).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

# Beyond this many digits a plain rendering would be absurdly long (1e999999999 would become a
# billion characters); such values are nonsense in CRM data, so keep them in E-notation.
_MAX_PLAIN_EXPONENT = 4000


def number_text(value: int | float | Decimal) -> str:
    """Integral numbers as integer text (`3.0` -> `3`), others as plain decimal text.

    Floats go through their shortest round-trip repr, so `0.1` gives `0.1`, not the binary
    expansion, and the text parses back to the same float.
    """
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Fast path for the usual float (every xlsx number is one): its repr without an
        # exponent is already the plain decimal text, minus a trailing ".0".
        text = repr(value)
        if value != 0 and text[-1].isdigit() and "e" not in text:
            return text[:-2] if text.endswith(".0") else text
    d = Decimal(repr(value)) if isinstance(value, float) else value
    if not d.is_finite():
        return str(d)
    if abs(d.adjusted()) > _MAX_PLAIN_EXPONENT:
        return str(d)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d, "f")


def temporal_text(value: dt.datetime | dt.date | dt.time | dt.timedelta) -> str:
    if isinstance(value, dt.datetime):
        # isoformat adds .ffffff only when microseconds are non-zero, as staging expects.
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None).isoformat()
    # Duration cells ([h]:mm:ss); rare, rendered as hours:minutes:seconds.
    micros = value // dt.timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    seconds, micro = divmod(abs(micros), 1_000_000)
    hours, rest = divmod(seconds, 3600)
    text = f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{text}.{micro:06d}" if micro else text


def cell_text(value: Any) -> str | None:
    """One xlsx cell as python-calamine returns it -> raw-zone text (None = empty)."""
    if type(value) is str:  # the common case first: text cells stay exactly as typed
        return value if value != "" else None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return temporal_text(value)
    return str(value)


def json_value_text(value: Any) -> str | None:
    """One top-level JSON value (parsed with parse_float=Decimal) -> raw-zone text."""
    if type(value) is str:
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return number_text(value)
    return compact_json(value)


def compact_json(value: Any) -> str:
    """Compact JSON text of a nested value, numbers kept with the digits they arrived with.

    json.dumps cannot emit Decimal as a number, hence this small serializer.
    """
    if isinstance(value, dict):
        items = ",".join(
            f"{json.dumps(k, ensure_ascii=False)}:{compact_json(v)}" for k, v in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ",".join(compact_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
