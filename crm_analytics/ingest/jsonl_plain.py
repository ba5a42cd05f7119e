"""JSON Lines files of plain values, read whole by DuckDB.

Most extracts hold only texts, integers, booleans and nulls under lower-case keys. For those,
DuckDB's JSON reader gives exactly the texts the line-by-line parser does, at a fraction of
its cost (Python per value). Anything else declines (None) and the exact parser reads the
file, so every rejection and every number's digits still come from one place.

DuckDB is more lenient than JSON: it accepts NaN and Infinity, trailing commas, and reads a
float as a double (1.10 comes back as 1.1). A conservative pattern over each line declines
those files; it may also decline a plain file whose texts happen to look like them, which only
costs speed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from .columns import normalise_header

# Larger files stream through the exact parser in batches, so memory stays bounded.
MAX_BYTES = 64 << 20

# After a key (`"...":`), a value must start as a text, an integer of at most 18 digits,
# true, false or null; a float, NaN/Infinity, a nested value or a longer integer declines.
# Trailing commas, and escapes DuckDB and Python decode differently (lone surrogates, NUL),
# decline too.
_NOT_PLAIN = (
    r'"\s*:\s*(-?[^"0-9tfn\s-]|-[^0-9]|-?[0-9]+[.eE]|-?[0-9]{19}|t[^r]|f[^a]|n[^u])'
    r"|,\s*[}\]]"
    r"|\\u[dD][89a-fA-F]|\\u0000"
)

_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    # one per thread: a day's files are parsed on threads
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(config={"threads": 1})
        _local.con = con
    return con


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_plain(path: Path) -> tuple[list[str], pa.Table] | None:
    """(header, one string column per header key) when every line is a plain object."""
    if path.stat().st_size > MAX_BYTES:
        return None
    con = _connection()
    try:
        # one row per distinct key list, in the order the lists first appear
        key_lists = con.execute(
            """
            select keys, min(line) as first_line, bool_or(not_plain) as not_plain
            from (
                select
                    row_number() over () as line,
                    json_keys(obj) as keys,
                    regexp_matches(obj, ?) as not_plain
                from read_json_objects(?, format = 'newline_delimited') as objects (obj)
            )
            group by keys
            order by first_line
            """,
            [_NOT_PLAIN, str(path)],
        ).fetchall()
    except duckdb.Error:
        return None
    header: dict[str, None] = {}
    for keys, _, not_plain in key_lists:
        if keys is None or not_plain or len(set(keys)) != len(keys):
            return None
        for key in keys:
            header.setdefault(key, None)
    # keys that normalise to something else (or to each other) go the exact way
    if not header or any(normalise_header(key) != key for key in header):
        return None
    columns = ", ".join(f"{_literal(key)}: 'VARCHAR'" for key in header)
    try:
        # the columns struct is a constant of the reader; keys are quoted as literals
        table = con.sql(
            f"select * from read_json($path, format = 'newline_delimited', "
            f"columns = {{{columns}}})",
            params={"path": str(path)},
        ).to_arrow_table()
    except duckdb.Error:
        return None
    return list(header), table
