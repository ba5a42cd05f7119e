"""Write-audit-publish: dbt builds and audits the marts in the serving database (a file of its
own); publishing copies that file and atomically renames the copy over the published one.

Copying the file costs a sequential read and write, however few rows changed; copying the
tables row by row cost more than an incremental refresh's whole build. Readers holding the old
file open keep their snapshot; a failure before the rename leaves the published file
byte-identical.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

# What BI tools and report queries see. staging/intermediate stay in the working warehouse.
PUBLISHED_SCHEMAS = ("marts", "audit")
# DuckDB 1.4-era readers (common in BI drivers) can open files of this storage version; the
# serving database is attached with it (dbt_project/profiles.yml).
STORAGE_VERSION = "v1.4.0"


@dataclass(frozen=True)
class PublishResult:
    warehouse: Path
    tables: dict[str, int]  # "schema.table" -> row count


def publish(serving_db: Path, warehouse: Path) -> PublishResult:
    if not serving_db.exists():
        raise FileNotFoundError(f"nothing to publish: {serving_db} does not exist")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # A refresh killed mid-publish leaves its half-written file behind; callers hold the
    # instance's refresh lock, so every such file is stale.
    for leftover in warehouse.parent.glob(f".{warehouse.name}.publishing-*"):
        leftover.unlink(missing_ok=True)
    staging_file = warehouse.with_name(f".{warehouse.name}.publishing-{os.getpid()}")
    try:
        # A writer killed before its checkpoint leaves a WAL beside the file: fold it in, so
        # the single copied file is the whole database.
        if serving_db.with_name(serving_db.name + ".wal").exists():
            with duckdb.connect(str(serving_db)) as con:
                con.execute("checkpoint")
        shutil.copyfile(serving_db, staging_file)
        with duckdb.connect(str(staging_file), read_only=True) as con:
            tables = _row_counts(con)
        with open(staging_file, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(staging_file, warehouse)
        _fsync_dir(warehouse.parent)
    finally:
        staging_file.unlink(missing_ok=True)
    return PublishResult(warehouse=warehouse, tables=tables)


def _row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    found = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where list_contains(?, schema_name) and not temporary order by 1, 2",
        [list(PUBLISHED_SCHEMAS)],
    ).fetchall()
    tables = {}
    for schema, table in found:
        (count,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
        tables[f"{schema}.{table}"] = int(count)
    return tables


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
