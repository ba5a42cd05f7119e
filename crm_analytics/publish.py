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
    staging_file = warehouse.with_name(f".{warehouse.name}.publishing-{os.getpid()}")
    for leftover in (staging_file, Path(f"{staging_file}.wal")):
        leftover.unlink(missing_ok=True)
    tables: dict[str, int] = {}
    try:
        con = duckdb.connect(str(work_db), read_only=True)
        try:
            con.execute(
                "attach ? as serving (storage_version ?)", [str(staging_file), STORAGE_VERSION]
            )
            rows = con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = current_database() and table_type = 'BASE TABLE' "
                "and table_schema in (select unnest(?)) order by 1, 2",
                [list(PUBLISHED_SCHEMAS)],
            ).fetchall()
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f'create schema serving."{schema}"')
            for schema, table in rows:
                con.execute(
                    f'create table serving."{schema}"."{table}" as '
                    f'select * from "{schema}"."{table}"'
                )
                (count,) = con.execute(
                    f'select count(*) from serving."{schema}"."{table}"'
                ).fetchone()
                tables[f"{schema}.{table}"] = int(count)
            con.execute("checkpoint serving")
            con.execute("detach serving")
        finally:
            con.close()
        with open(staging_file, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(staging_file, warehouse)
        _fsync_dir(warehouse.parent)
    finally:
        staging_file.unlink(missing_ok=True)
    return PublishResult(warehouse=warehouse, tables=tables)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
