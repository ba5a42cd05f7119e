"""xlsx via python-calamine: first sheet, header in row 1, typed cells rendered as text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineWorkbook

from .errors import Rejected
from .values import cell_text

_BATCH_ROWS = 65_536


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def _column_texts(values: list[Any]) -> pa.Array:
    """cell_text of every value, done by Arrow per cell type for columns of text, datetimes,
    numbers and booleans (typed cells with some typed in as text are the usual xlsx column),
    and value by value for anything else or any value Arrow would render otherwise."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {str}:
        return _text_cells(pa.array(values, pa.string()))
    if kinds <= _ARROW_KINDS.keys():
        parts = []
        for kind in kinds:
            of_kind = (
                values if len(kinds) == 1 else [v if type(v) is kind else None for v in values]
            )
            part = _ARROW_KINDS[kind](of_kind)
            if part is None:
                break
            parts.append(part)
        else:
            return parts[0] if len(parts) == 1 else pc.coalesce(*parts)
    return pa.array([cell_text(v) for v in values], pa.string())


def _float_texts(values: list[float | None]) -> pa.Array | None:
    """Floats as number_text renders them, or None when one would differ: Arrow's shortest
    round-trip text is Python's repr, except that it keeps exponents and the sign of -0."""
    texts = pc.cast(pa.array(values, pa.float64()), pa.string())
    if pc.any(pc.match_substring_regex(texts, "[a-z]|^-0$")).as_py():
        return None
    return texts


def _bool_texts(values: list[bool | None]) -> pa.Array:
    return pc.cast(pa.array(values, pa.bool_()), pa.string())


def _text_cells(texts: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)


def _datetime_texts(values: list[dt.datetime | None]) -> pa.Array | None:
    """The datetimes as cell_text renders them (isoformat: microseconds only when not zero);
    None when Arrow cannot take them."""
    try:
        stamps = pa.array(values, pa.timestamp("us"))
    except (pa.ArrowInvalid, TypeError):
        return None
    # Arrow's own text of a timestamp is isoformat's with a space; a cast is several times
    # cheaper than strftime (xlsx is a third of the ingest's CPU for 3 % of the bytes).
    seconds = pc.cast(stamps, pa.timestamp("s"), safe=False)
    texts = pc.cast(seconds, pa.string())
    whole = pc.equal(pc.cast(seconds, pa.timestamp("us")), stamps)
    if pc.all(whole).as_py() is not False:
        return texts
    return pc.if_else(whole, texts, pc.cast(stamps, pa.string()))


def _at_midnight(value: dt.date) -> dt.datetime:
    return dt.datetime.combine(value, dt.time())


def _is_empty(row: list[Any]) -> bool:
    # list.count compares in C; no calamine cell type equals None or "" unless it is one
    return row.count(None) + row.count("") == len(row)


_ARROW_KINDS: dict[type, Callable[[list[Any]], pa.Array | None]] = {
    str: lambda values: _text_cells(pa.array(values, pa.string())),
    dt.datetime: _datetime_texts,
    float: _float_texts,
    bool: _bool_texts,
}


class XlsxSource:
    def __init__(self, path: Path, *, timestamp_columns: frozenset[str] = frozenset()) -> None:
        try:
            workbook = CalamineWorkbook.from_path(str(path))
            try:
                # skip_empty_area=False keeps row 1 as the header even when it or column A is
                # empty; calamine would otherwise start at the first non-empty cell.
                rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
            finally:
                workbook.close()
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException as e:  # calamine raises its own types and pyo3 panics
            raise Rejected(f"cannot open xlsx: {_short(e)}") from None
        if not rows or _is_empty(rows[0]):
            raise Rejected("no header row (row 1 of the first sheet is empty)")
        self.header: list[str] = [cell_text(c) or "" for c in rows[0]]
        # calamine returns a datetime cell at midnight as a date; in a timestamp column that
        # typed cell still means midnight, whereas a text date alone stays invalid there.
        self._midnight = [h.strip().lower() in timestamp_columns for h in self.header]
        # Fully empty rows are not records (like blank lines in csv/jsonl); keeping them
        # would only produce rows staging quarantines for missing values.
        self._rows = [r for r in rows[1:] if not _is_empty(r)]

    def batches(self) -> Iterator[list[pa.Array]]:
        width = len(self.header)
        rows = self._rows
        for start in range(0, len(rows), _BATCH_ROWS):
            chunk = rows[start : start + _BATCH_ROWS]
            arrays = []
            # column by column (calamine's rows are as wide as the sheet, so zip transposes
            # them in C; a ragged row would take the comprehension)
            if set(map(len, chunk)) == {width}:
                columns = [list(column) for column in zip(*chunk, strict=True)]
            else:
                columns = [
                    [row[i] if i < len(row) else None for row in chunk] for i in range(width)
                ]
            for i, values in enumerate(columns):
                if self._midnight[i]:
                    values = [_at_midnight(v) if type(v) is dt.date else v for v in values]
                arrays.append(_column_texts(values))
            yield arrays
