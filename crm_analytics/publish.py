"""Write-audit-publish: copy the audited marts from the working warehouse into a new serving
file and atomically rename it over the published one.

Readers holding the old file open keep their snapshot; a failure before the rename leaves the
published file byte-identical.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

# What BI tools and report queries see. staging/intermediate stay in the working warehouse.
PUBLISHED_SCHEMAS = ("marts", "audit")
# DuckDB 1.4-era readers (common in BI drivers) can open files of this storage version.
STORAGE_VERSION = "v1.4.0"


@dataclass(frozen=True)
class PublishResult:
    warehouse: Path
    tables: dict[str, int]  # "schema.table" -> row count


def publish(work_db: Path, warehouse: Path) -> PublishResult:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # A refresh killed mid-publish leaves its half-written file behind; callers hold the
    # instance's refresh lock, so every such file is stale.
    for leftover in warehouse.parent.glob(f".{warehouse.name}.publishing-*"):
        leftover.unlink(missing_ok=True)
    staging_file = warehouse.with_name(f".{warehouse.name}.publishing-{os.getpid()}")
    tables: dict[str, int] = {}
    try:
        con = duckdb.connect(
            str(staging_file), config={"storage_compatibility_version": STORAGE_VERSION}
        )
        try:
            con.execute(f"attach {_literal(work_db)} as work (read_only)")
            found = con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = 'work' and table_type = 'BASE TABLE' "
                "and list_contains(?, table_schema) order by 1, 2",
                [list(PUBLISHED_SCHEMAS)],
            ).fetchall()
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f'create schema "{schema}"')
            for schema, table in found:
                con.execute(
                    f'create table "{schema}"."{table}" as select * from work."{schema}"."{table}"'
                )
                (count,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
                tables[f"{schema}.{table}"] = int(count)
            con.execute("detach work")
            con.execute("checkpoint")
        finally:
            con.close()
        with open(staging_file, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(staging_file, warehouse)
        _fsync_dir(warehouse.parent)
    finally:
        staging_file.unlink(missing_ok=True)
    return PublishResult(warehouse=warehouse, tables=tables)


def _literal(path: Path) -> str:
    """A path as a SQL string literal (ATTACH takes no bound parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
