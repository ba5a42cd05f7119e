"""Write-audit-publish: dbt builds and audits the marts in the serving database (a file of its
own); publishing renames that file over the published one.

The rename never blocks: readers holding the old file open keep their snapshot, and a failure
before it leaves the published file as it was. The serving file is gone afterwards, so the next
incremental build first needs a copy of the published file to build on (`restore_serving`).
That copy is the one sequential read and write of the marts a refresh costs; the CLI starts it
in the background as the refresh begins (`start_restoring_serving`), so it overlaps process
start and ingest instead of adding to the refresh.
"""

from __future__ import annotations

import os
import shutil
import threading
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
    # Leftovers of the copy-and-rename publishing of earlier versions, and retired files whose
    # removal a process did not live to finish.
    for pattern in (f".{warehouse.name}.publishing-*", f".{warehouse.name}.retired-*"):
        for leftover in warehouse.parent.glob(pattern):
            leftover.unlink(missing_ok=True)
    wal = _wal(serving_db)
    with duckdb.connect(str(serving_db)) as con:
        # A writer killed before its checkpoint leaves a WAL beside the file: fold it in, so
        # the renamed file is the whole database.
        if wal.exists():
            con.execute("checkpoint")
        tables = _row_counts(con)
    with open(serving_db, "rb+") as handle:
        os.fsync(handle.fileno())
    retired = _retire(warehouse)
    os.replace(serving_db, warehouse)
    _fsync_dir(warehouse.parent)
    if retired is not None:
        # Freeing the old file's gigabytes takes the file system a few tenths of a second: not
        # in the rename readers wait for, but beside what the refresh does next.
        threading.Thread(target=retired.unlink, args=(True,), daemon=True).start()
    return PublishResult(warehouse=warehouse, tables=tables)


def _retire(warehouse: Path) -> Path | None:
    """A second name for the published file, so that renaming over it does not free it."""
    retired = warehouse.with_name(f".{warehouse.name}.retired-{os.getpid()}")
    try:
        os.link(warehouse, retired)
    except FileNotFoundError:
        return None  # first publish
    except OSError:
        return None  # no hard links here: the rename frees the old file itself
    return retired


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


_restoring: dict[Path, threading.Thread] = {}


def start_restoring_serving(serving_db: Path, warehouse: Path) -> None:
    """Begin `restore_serving` in a background thread; `restore_serving` waits for it.

    The copy is plain file I/O (the GIL is released), so it runs beside Python start-up and
    ingest. If the build turns out full, the copy is simply discarded."""
    if serving_db.exists() or not warehouse.exists() or serving_db in _restoring:
        return
    thread = threading.Thread(
        target=_copy_published, args=(serving_db, warehouse), name="restore-serving", daemon=True
    )
    _restoring[serving_db] = thread
    thread.start()


def restore_serving(serving_db: Path, warehouse: Path) -> bool:
    """Make sure the serving database exists to build on: after a publish it is a copy of the
    published file. True when it exists afterwards."""
    _wait_for_restore(serving_db)
    if not serving_db.exists() and warehouse.exists():
        _copy_published(serving_db, warehouse)
    return serving_db.exists()


def discard_serving(serving_db: Path) -> None:
    """Before a full build: no leftovers of renamed or removed models."""
    _wait_for_restore(serving_db)
    for path in (serving_db, _wal(serving_db)):
        path.unlink(missing_ok=True)


def _wait_for_restore(serving_db: Path) -> None:
    thread = _restoring.pop(serving_db, None)
    if thread is not None:
        thread.join()
    # copies of a process killed mid-way
    for leftover in serving_db.parent.glob(f".{serving_db.name}.restoring-*"):
        leftover.unlink(missing_ok=True)


def _copy_published(serving_db: Path, warehouse: Path) -> None:
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    partial = serving_db.with_name(f".{serving_db.name}.restoring-{os.getpid()}")
    try:
        shutil.copyfile(warehouse, partial)
        # written back now, in the background, rather than by publish's fsync at the end
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        # the published file was renamed in whole; a WAL beside it is not ours
        _wal(serving_db).unlink(missing_ok=True)
        os.replace(partial, serving_db)
    except FileNotFoundError:
        pass  # the published file went away meanwhile: the build is full then
    finally:
        partial.unlink(missing_ok=True)


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
