"""Readers turn a landed file into a header plus positional batches of string arrays.

Every reader yields, per batch, one pyarrow string array per header position (None = null),
so the raw-zone writer handles all formats alike. Whole-file problems raise `Rejected`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from .csv_reader import CsvSource
from .errors import Rejected
from .jsonl_reader import JsonlSource
from .xlsx_reader import XlsxSource


class Source(Protocol):
    @property
    def header(self) -> Sequence[str]: ...

    def batches(self) -> Iterator[list[pa.Array]]: ...


def open_source(
    path: Path,
    file_format: str,
    *,
    bad_utf8_line: int | None,
    csv_block_size: int,
    timestamp_columns: frozenset[str] = frozenset(),
) -> Source:
    if path.stat().st_size == 0:
        prefix = "cannot open xlsx: " if file_format == "xlsx" else ""
        raise Rejected(f"{prefix}empty file (0 bytes)")
    if bad_utf8_line is not None and file_format != "xlsx":
        raise Rejected(f"not valid UTF-8 (line {bad_utf8_line})")
    if file_format == "csv":
        return CsvSource(path, block_size=csv_block_size)
    if file_format == "jsonl":
        return JsonlSource(path)
    if file_format == "xlsx":
        return XlsxSource(path, timestamp_columns=timestamp_columns)
    raise ValueError(f"unknown format {file_format!r}")
