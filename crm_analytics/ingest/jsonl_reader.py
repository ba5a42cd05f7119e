"""JSON Lines: one object per non-blank line; the header is the union of keys.

The first pass validates every line and collects the keys, so the Parquet schema is known
before anything is written. A file of up to _SINGLE_PASS_BYTES keeps its rows (as text) from
that pass, since parsing JSON in Python is most of the cost; a larger one is read a second
time, so memory stays bounded. A file of plain values is read by DuckDB instead
(`jsonl_plain`); this parser reads every other file and gives every rejection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from .columns import normalise_header
from .errors import Rejected
from .jsonl_plain import read_plain
from .values import json_value_text

_BATCH_ROWS = 65_536
# A daily extract is a few MB; its rows as text take several times that in memory.
_SINGLE_PASS_BYTES = 32 << 20


class _Object(dict[str, Any]):
    repeated_key = False


def _object_hook(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    obj.repeated_key = len(obj) != len(pairs)
    return obj


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _plain_object(text: str) -> _Object | None:
    """The line's object when it is a plain one, parsed by orjson (several times faster than
    json with hooks); None sends the line to the exact parser.

    Plain: no backslash escapes, and only text, integer, boolean and null values. Floats need
    their digits kept (Decimal), nested values their number texts, and orjson keeps the last
    of repeated keys silently: with no escapes and no nesting, every comma outside the keys
    and texts separates two pairs, so a repeated key shows as fewer keys than pairs."""
    if "\\" in text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(value) is not dict:
        return None
    commas_in_texts = 0
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            commas_in_texts += item.count(",")
        elif kind not in (int, bool) and item is not None:
            return None
        commas_in_texts += key.count(",")
    if text.count(",") - commas_in_texts + 1 != len(value):
        return None
    return _Object(value)


def _has_lone_surrogate(value: Any) -> bool:
    # json accepts "\\ud800" alone; no UTF-8 text (nor Parquet) can hold it
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _records(path: Path) -> Iterator[tuple[int, _Object]]:
    """(physical line number, object) for every non-blank line."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                # Without the newline, a syntax error's column refers to this line.
                text = raw.rstrip(b"\r\n").decode("utf-8")
            except UnicodeDecodeError:
                raise Rejected(f"not valid UTF-8 (line {number})") from None
            if number == 1:
                text = text.removeprefix("\ufeff")
            if not text.strip():
                continue
            fast = _plain_object(text)
            if fast is not None:
                yield number, fast
                continue
            try:
                value = json.loads(
                    text,
                    parse_float=Decimal,
                    parse_constant=_no_constants,
                    object_pairs_hook=_object_hook,
                )
            except json.JSONDecodeError as e:
                # e.msg names the problem without quoting the line.
                raise Rejected(
                    f"line {number} is not a JSON object (invalid JSON: {e.msg}, column {e.colno})"
                ) from None
            except ValueError as e:  # NaN/Infinity, or an integer too long to convert
                raise Rejected(f"line {number} is not a JSON object ({e})") from None
            if not isinstance(value, _Object):
                raise Rejected(f"line {number} is not a JSON object (got {_json_type(value)})")
            if "\\u" in text and _has_lone_surrogate(value):
                raise Rejected(f"line {number} has a \\u escape of half a character (a surrogate)")
            yield number, value


class JsonlSource:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._plain: pa.Table | None = None
        self.header: list[str] = []
        plain = read_plain(path)
        if plain is not None:
            self.header, self._plain = plain
            return
        seen: dict[str, None] = {}
        records = 0
        kept: list[dict[str, str | None]] | None = (
            [] if path.stat().st_size <= _SINGLE_PASS_BYTES else None
        )
        for number, obj in _records(path):
            records += 1
            names = [normalise_header(k) for k in obj]
            if obj.repeated_key or len(set(names)) != len(names):
                raise Rejected(f"line {number} has a duplicate key")
            for name in names:
                seen.setdefault(name, None)
            if kept is not None:
                kept.append(dict(zip(names, map(json_value_text, obj.values()), strict=True)))
        self._kept = kept
        if records == 0:
            raise Rejected("no records (only blank lines)")
        if not seen:
            raise Rejected("no keys in any line")
        self.header = list(seen)

    def _texts(self) -> Iterator[dict[str, str | None]]:
        """Each record as normalised key -> raw-zone text."""
        if self._kept is not None:
            yield from self._kept
            return
        for _, obj in _records(self._path):
            yield {normalise_header(k): json_value_text(v) for k, v in obj.items()}

    def batches(self) -> Iterator[list[pa.Array]]:
        if self._plain is not None:
            for batch in self._plain.to_batches(_BATCH_ROWS):
                yield list(batch.columns)
            return
        index = {name: i for i, name in enumerate(self.header)}
        width = len(self.header)
        rows: list[list[str | None]] = []
        for texts in self._texts():
            row: list[str | None] = [None] * width
            for name, text in texts.items():
                row[index[name]] = text
            rows.append(row)
            if len(rows) >= _BATCH_ROWS:
                yield _to_arrays(rows, width)
                rows = []
        if rows:
            yield _to_arrays(rows, width)


def _to_arrays(rows: list[list[str | None]], width: int) -> list[pa.Array]:
    return [pa.array([row[i] for row in rows], pa.string()) for i in range(width)]
