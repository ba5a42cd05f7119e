"""CSV via pyarrow's streaming reader: no per-row Python, bounded memory.

pyarrow error messages quote the offending row, so they are never passed on; reasons are
rebuilt from counts and, for ragged rows, a Python re-scan that finds the record number
(only on that failure path, where speed does not matter).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from .errors import Rejected

# enough for a header and a few records
HEADER_BLOCK_SIZE = 64 << 10


class BlockTooSmall(Exception):
    """A single record is larger than the read block; the caller retries with a bigger one."""


class CsvSource:
    def __init__(self, path: Path, *, block_size: int) -> None:
        self._path = path
        self._block_size = block_size
        self._ragged: tuple[int, int] | None = None  # (expected, actual) of the first bad row
        self._header_only = False
        self.header: list[str] = self._read_header()

    def _on_invalid_row(self, row: pacsv.InvalidRow) -> str:
        if self._ragged is None:
            self._ragged = (row.expected_columns, row.actual_columns)
        return "error"

    def _parse_options(self) -> pacsv.ParseOptions:
        # RFC 4180: quotes doubled inside quoted fields, no backslash escapes, and quoted
        # fields may span lines (which makes pyarrow use its slower quote-aware chunker).
        return pacsv.ParseOptions(
            delimiter=",",
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            invalid_row_handler=self._on_invalid_row,
        )

    def _read_options(self, block_size: int | None = None) -> pacsv.ReadOptions:
        return pacsv.ReadOptions(block_size=block_size or self._block_size, use_threads=True)

    def _read_header(self) -> list[str]:
        # pyarrow names the columns from the header but offers no "all columns are strings"
        # switch; so open once to learn the names, then again with every column typed string.
        # Opening infers types over the whole first block: a small block first, since with
        # the read block that was about half the parse time of a day's file.
        try:
            try:
                reader = pacsv.open_csv(
                    self._path,
                    read_options=self._read_options(min(HEADER_BLOCK_SIZE, self._block_size)),
                    parse_options=self._parse_options(),
                )
            except pa.ArrowInvalid as e:
                if "straddling" not in str(e):
                    raise
                reader = pacsv.open_csv(
                    self._path,
                    read_options=self._read_options(),
                    parse_options=self._parse_options(),
                )
        except pa.ArrowInvalid as e:
            if "Empty CSV file" in str(e):
                return self._header_without_rows()
            raise self._translate(e) from None
        except UnicodeDecodeError:
            raise Rejected("not valid UTF-8 (line 1)") from None
        names = list(reader.schema.names)
        reader.close()
        return names

    def _header_without_rows(self) -> list[str]:
        # pyarrow cannot infer the column count of a file whose only row lacks a final
        # newline ("a,b"); such a file is small, so let the csv module read it.
        with closing(_python_records(self._path)) as rows:
            records = [r for r in rows if r]
        if not records:
            raise Rejected("no header row")
        if len(records) > 1:
            raise Rejected("cannot parse CSV")
        self._header_only = True
        return records[0]

    def batches(self) -> Iterator[list[pa.Array]]:
        if self._header_only:
            return
        convert = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in self.header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=True,
        )
        try:
            reader = pacsv.open_csv(
                self._path,
                read_options=self._read_options(),
                parse_options=self._parse_options(),
                convert_options=convert,
            )
            with reader:
                for batch in reader:
                    yield batch.columns
        except pa.ArrowInvalid as e:
            raise self._translate(e) from None

    def _translate(self, error: pa.ArrowInvalid) -> Exception:
        message = str(error)
        if self._ragged is not None:
            expected, actual = self._ragged
            record = _first_ragged_record(self._path, expected)
            where = f"row {record}" if record is not None else "a row"
            return Rejected(f"{where} has {actual} fields, header has {expected}")
        if "straddling" in message:
            return BlockTooSmall()
        if "UTF8" in message or "UTF-8" in message:
            return Rejected("not valid UTF-8")
        # Unknown failure: keep only the leading message parts, which name the problem;
        # the tail may quote the row.
        return Rejected("cannot parse CSV: " + ": ".join(message.split(": ")[:2])[:200])


def _python_records(path: Path) -> Iterator[list[str]]:
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # a long quoted field must not fail the scan
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            yield from csv.reader(f, strict=False)
    finally:
        csv.field_size_limit(limit)


def _first_ragged_record(path: Path, expected: int) -> int | None:
    """1-based data record number of the first record with the wrong field count.

    Blank lines are skipped, as pyarrow does, so numbers match `_row_number`.
    """
    with closing(_python_records(path)) as rows:
        records = (r for r in rows if r)
        next(records, None)  # header
        for number, record in enumerate(records, start=1):
            if len(record) != expected:
                return number
    return None
