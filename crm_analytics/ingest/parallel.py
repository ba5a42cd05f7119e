"""Hash and parse new contents in worker processes while the ledger logic stays sequential.

Hashing a landed file (sha256, UTF-8 check) and parsing it (CSV, xlsx, JSON Lines -> Parquet)
are independent of every other file and, for xlsx and JSON Lines, Python-bound: a full load of
a year of daily extracts spends most of its ingest time there. `Prefetch.digest` hashes the
files the ledger does not know and `Prefetch.start` parses the contents it has never seen, in
one process pool; `_EntityRun` then takes the finished results instead of computing them.
Everything else (statuses, duplicates, manifests, their order) is decided exactly as before,
one entity at a time.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from crm_analytics import batch_process
from crm_analytics.contract import Entity

from .discover import TEXT_FORMATS, LandedFile
from .errors import Rejected
from .hashing import FileDigest, digest_file
from .rawzone import Parsed, ingest_file

# Below this many parses, starting worker processes costs more than it saves; a few parses
# share threads instead (reading CSV and writing Parquet release the GIL, and one day's
# extracts are mostly CSV beside one xlsx that takes the longest).
MIN_PARALLEL_PARSES = 8
# (parsed, None) or (None, (reason, columns)): plain data, since an exception's extra
# attributes do not survive pickling
Outcome = tuple[Parsed | None, tuple[str, tuple[str, ...]] | None]


def workers() -> int:
    configured = os.environ.get("CRM_INGEST_WORKERS")
    if configured:
        return max(1, int(configured))
    return min(os.cpu_count() or 1, 4)


def parse(
    entity: Entity, landed: LandedFile, dest: Path, bad_utf8_line: int | None, now: datetime
) -> Outcome:
    """ingest_file with its rejection returned rather than raised."""
    try:
        return ingest_file(entity, landed, dest, bad_utf8_line=bad_utf8_line, ingested_at=now), None
    except Rejected as e:
        return None, (e.reason, e.columns)


def digest(landed: LandedFile) -> FileDigest | None:
    """digest_file, or None when the file cannot be read (the caller retries and reports)."""
    try:
        return digest_file(landed.path, check_utf8=landed.format in TEXT_FORMATS)
    except OSError:
        return None


class Prefetch:
    """Digests and parses submitted up front; `take_digest` and `take` hand each result over
    once."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._futures: dict[tuple[str, str], Future[Outcome]] = {}
        self._digests: dict[Path, Future[FileDigest | None]] = {}

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the caller may be a threaded process (Dagster, dbt's runner)
            self._pool = ProcessPoolExecutor(
                max_workers=workers(),
                mp_context=multiprocessing.get_context("spawn"),
                # a parsed xlsx sheet is a list per row, all alive until its Parquet is written
                initializer=batch_process.tune_gc,
            )
        return self._pool

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="parse")
        return self._threads

    def digest(self, files: Iterable[LandedFile]) -> None:
        """Hash (and check the UTF-8 of) the files the ledger does not know, in parallel."""
        files = list(files)
        if len(files) < MIN_PARALLEL_PARSES or workers() < 2:
            return
        for landed in sorted(files, key=lambda f: -f.size):
            self._digests[landed.path] = self._workers().submit(digest, landed)

    def take_digest(self, landed: LandedFile) -> FileDigest | None:
        future = self._digests.pop(landed.path, None)
        return None if future is None else future.result()

    def start(
        self, jobs: Iterable[tuple[Entity, LandedFile, FileDigest, Path]], now: datetime
    ) -> None:
        jobs = list(jobs)
        if len(jobs) < 2 or workers() < 2:
            return
        pool = self._workers() if len(jobs) >= MIN_PARALLEL_PARSES else self._thread_pool()
        # largest first, so the pool does not end waiting on one big file
        for entity, landed, file_digest, dest in sorted(jobs, key=lambda j: -j[1].size):
            key = (entity.name, landed.name)
            self._futures[key] = pool.submit(
                parse, entity, landed, dest, file_digest.bad_utf8_line, now
            )

    def take(self, entity: Entity, landed: LandedFile) -> Outcome | None:
        future = self._futures.pop((entity.name, landed.name), None)
        return None if future is None else future.result()

    def close(self) -> None:
        if self._pool is not None:
            # a parse nobody took (the ledger logic decided otherwise) still finishes: its
            # Parquet is written atomically under its content hash, so it is harmless
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._threads is not None:
            self._threads.shutdown(wait=True, cancel_futures=True)
            self._threads = None
        self._futures.clear()
        self._digests.clear()
