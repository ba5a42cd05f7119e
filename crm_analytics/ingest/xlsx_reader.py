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
    """cell_text of every value, done by Arrow for columns of text and datetimes only (the
    usual xlsx column, typed or typed-in), and value by value otherwise."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {str}:
        return _text_cells(pa.array(values, pa.string()))
    if kinds <= {str, dt.datetime}:
        datetimes = (
            values if str not in kinds else [v if type(v) is dt.datetime else None for v in values]
        )
        rendered = _datetime_texts(datetimes)
        if rendered is not None:
            if str not in kinds:
                return rendered
            texts = [v if type(v) is str else None for v in values]
            return pc.coalesce(_text_cells(pa.array(texts, pa.string())), rendered)
    return pa.array([cell_text(v) for v in values], pa.string())


def _text_cells(texts: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)


def _datetime_texts(values: list[dt.datetime | None]) -> pa.Array | None:
    """The datetimes as cell_text renders them (isoformat: microseconds only when not zero);
    None when Arrow cannot take them."""
    try:
        stamps = pa.array(values, pa.timestamp("us"))
    except (pa.ArrowInvalid, TypeError):
        return None
    # %S of a microsecond timestamp always carries six decimals
    texts = pc.strftime(stamps, format="%Y-%m-%d %H:%M:%S")
    return pc.replace_substring_regex(texts, pattern=r"\.000000$", replacement="")


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
