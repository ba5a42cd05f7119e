"""DuckDB views over the raw zone: `raw.<entity>` and the table `raw.ingested_files`.

Ledger values (file names may be anything) reach DuckDB only as Arrow data, never as SQL
text; the SQL holds only identifiers from the contract or headers (quoted) and Parquet paths
under the state directory (escaped literals). DDL cannot take bound parameters, and a view
must not depend on session variables because dbt queries it from its own connection.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from crm_analytics.contract import ENTITY_NAMES, Entity, entities

from . import ledger
from .columns import INGESTED_AT, PARQUET_FILE, ROW_NUMBER, SOURCE_FILE
from .ledger import LOADED, LedgerRecord

log = logging.getLogger("crm_analytics.ingest")

SCHEMA = "raw"
NEW_FILES_SCHEMA = "raw_new"
LEDGER_TABLE = "ingested_files"

_LEDGER_SCHEMA = pa.schema(
    [
        ("entity", pa.string()),
        ("file_name", pa.string()),
        ("file_path", pa.string()),
        ("file_hash", pa.string()),
        ("file_size", pa.int64()),
        ("file_mtime_ns", pa.int64()),
        ("file_format", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("rows_read", pa.int64()),
        ("columns", pa.string()),
        ("extra_columns", pa.string()),
        ("parquet_path", pa.string()),
        # Naive UTC: a TIMESTAMPTZ would show and cast in the session's time zone.
        ("ingested_at", pa.timestamp("us")),
    ]
)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    # DuckDB string literals are standard SQL: only the quote needs doubling.
    if "\x00" in text:
        raise ValueError("NUL in a path")
    return "'" + text.replace("'", "''") + "'"


def write_raw_views(con: duckdb.DuckDBPyConnection, state_dir: Path) -> None:
    state_dir = Path(state_dir).absolute()
    records = ledger.load_all(state_dir)
    contract = entities()
    con.begin()
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        _write_ledger_table(con, records)
        for name in ENTITY_NAMES:
            loaded = [r for r in records if r.entity == name and r.status == LOADED]
            con.execute(_view_sql(contract[name], loaded, state_dir))
        con.commit()
    except BaseException:
        con.rollback()
        raise


def write_new_file_views(
    con: duckdb.DuckDBPyConnection, state_dir: Path, new_files: dict[str, set[str]]
) -> None:
    """`raw_new.<entity>`: the rows of only the given loaded files (those landed since the
    last build), which an incremental build parses; `raw.<entity>` stays every file."""
    state_dir = Path(state_dir).absolute()
    records = ledger.load_all(state_dir)
    contract = entities()
    con.begin()
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {NEW_FILES_SCHEMA}")
        for name in ENTITY_NAMES:
            wanted = new_files.get(name, set())
            loaded = [
                r
                for r in records
                if r.entity == name and r.status == LOADED and r.file_name in wanted
            ]
            con.execute(_view_sql(contract[name], loaded, state_dir, NEW_FILES_SCHEMA))
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _write_ledger_table(con: duckdb.DuckDBPyConnection, records: list[LedgerRecord]) -> None:
    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)

    table = pa.Table.from_pylist(
        [
            {
                **{f: getattr(r, f) for f in _LEDGER_SCHEMA.names},
                "columns": ",".join(r.columns),
                "extra_columns": ",".join(r.extra_columns),
                "ingested_at": utc(r.ingested_at),
            }
            for r in records
        ],
        schema=_LEDGER_SCHEMA,
    )
    con.register("__crm_ingest_ledger", table)
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {SCHEMA}.{LEDGER_TABLE} AS SELECT * FROM __crm_ingest_ledger"
        )
    finally:
        con.unregister("__crm_ingest_ledger")


def _empty_view_sql(entity: Entity, schema: str) -> str:
    cols = [f"CAST(NULL AS VARCHAR) AS {ident(c)}" for c in entity.column_names]
    cols += [
        f"CAST(NULL AS VARCHAR) AS {SOURCE_FILE}",
        f"CAST(NULL AS BIGINT) AS {ROW_NUMBER}",
        f"CAST(NULL AS TIMESTAMP) AS {INGESTED_AT}",
    ]
    return (
        f"CREATE OR REPLACE VIEW {schema}.{ident(entity.name)} AS SELECT {', '.join(cols)} LIMIT 0"
    )


def _view_sql(
    entity: Entity, loaded: list[LedgerRecord], state_dir: Path, schema: str = SCHEMA
) -> str:
    # Files sharing a schema are read by one read_parquet (no union_by_name: that would
    # open every footer each time the view is bound); schemas differ only by drift columns.
    by_schema: dict[tuple[str, ...], list[str]] = defaultdict(list)
    extras: dict[str, None] = {}
    seen_paths: set[str] = set()
    for r in sorted(loaded, key=lambda r: r.file_name):
        assert r.parquet_path is not None
        if r.parquet_path in seen_paths:
            continue  # two loaded names for one content: only mid-run after a crash
        path = state_dir / r.parquet_path
        if not path.exists():
            log.warning("raw Parquet missing, left out of raw.%s: %s", entity.name, path)
            continue
        seen_paths.add(r.parquet_path)
        by_schema[r.extra_columns].append(str(path))
        extras.update(dict.fromkeys(r.extra_columns))
    if not by_schema:
        return _empty_view_sql(entity, schema)

    reads = [
        "SELECT * FROM read_parquet(["
        + ", ".join(literal(p) for p in paths)
        + f"], filename = {literal(PARQUET_FILE)})"
        for paths in by_schema.values()
    ]
    data_cols = [*entity.column_names, *extras]
    select = [f"p.{ident(c)}" for c in data_cols] + [
        f"f.file_name AS {SOURCE_FILE}",
        f"p.{ROW_NUMBER}",
        f"timezone('UTC', p.{INGESTED_AT}) AS {INGESTED_AT}",
    ]
    prefix = literal(str(state_dir) + "/")
    return (
        f"CREATE OR REPLACE VIEW {schema}.{ident(entity.name)} AS\n"
        f"SELECT {', '.join(select)}\n"
        f"FROM ({' UNION ALL BY NAME '.join(reads)}) AS p\n"
        "JOIN (\n"
        f"  SELECT {prefix} || parquet_path AS parquet_file, min(file_name) AS file_name\n"
        f"  FROM {SCHEMA}.{LEDGER_TABLE}\n"
        f"  WHERE entity = {literal(entity.name)} AND status = 'loaded'\n"
        "  GROUP BY parquet_path\n"
        f") AS f ON p.{PARQUET_FILE} = f.parquet_file"
    )
