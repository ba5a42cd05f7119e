"""xlsx via python-calamine: first sheet, header in row 1, typed cells rendered as text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
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
    """cell_text of every value, done by Arrow for the common all-text and all-datetime
    columns (the same texts), and value by value otherwise."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {str}:
        texts = pa.array(values, pa.string())
        return pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)
    if kinds == {dt.datetime}:
        try:
            # a safe cast fails when any value has microseconds, which isoformat would show
            seconds = pc.cast(pa.array(values, pa.timestamp("us")), pa.timestamp("s"))
        except (pa.ArrowInvalid, TypeError):
            pass
        else:
            return pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
    return pa.array([cell_text(v) for v in values], pa.string())


def _at_midnight(value: dt.date) -> dt.datetime:
    return dt.datetime.combine(value, dt.time())


def _is_empty(row: list[Any]) -> bool:
    return all(v is None or v == "" for v in row)


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
            # column by column: one tight comprehension per column instead of a Python call
            # per cell with per-cell checks
            for i in range(width):
                values = [row[i] if i < len(row) else None for row in chunk]
                if self._midnight[i]:
                    values = [_at_midnight(v) if type(v) is dt.date else v for v in values]
                arrays.append(_column_texts(values))
            yield arrays
