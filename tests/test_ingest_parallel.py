"""Parsing in worker processes (crm_analytics/ingest/parallel.py) changes only who parses:
the ledger, the Parquet files and every status and reason are those of a sequential run."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pyarrow.parquet as pq

from crm_analytics.ingest import ingest, ledger_records, parallel
from crm_analytics.ingest.parallel import MIN_PARALLEL_PARSES, Prefetch

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HEADER = "sale_id,location_id,amount,status,created_at,updated_at\n"


def landing(root: Path, days: int = MIN_PARALLEL_PARSES + 2) -> Path:
    sales = root / "landing" / "sales"
    sales.mkdir(parents=True)
    for day in range(1, days + 1):
        rows = "".join(
            f"S{day}-{n},L1,{n}.50,draft,2025-02-{day:02d} 10:00,2025-02-{day:02d} 10:00\n"
            for n in range(50)
        )
        (sales / f"2025-02-{day:02d}.csv").write_text(HEADER + rows, encoding="utf-8")
    # a copy of day 1 (a duplicate), a file missing a required column (rejected, with its
    # header recorded) and a JSON Lines file with a bad line (rejected)
    (sales / "2025-02-01_copy.csv").write_bytes((sales / "2025-02-01.csv").read_bytes())
    (sales / "2025-03-01.csv").write_text("sale_id,location_id,status\nX,L1,draft\n", "utf-8")
    (sales / "2025-03-02.jsonl").write_text('{"sale_id": "Y"}\nnot json\n', encoding="utf-8")
    return root / "landing"


def snapshot(state: Path) -> tuple[list[dict], dict[str, list[dict]]]:
    where = ("file_path", "file_mtime_ns")  # the two landings differ only there
    records = [
        {k: v for k, v in json.loads(r.to_json()).items() if k not in where}
        for r in ledger_records(state)
    ]
    tables = {
        p.name: pq.read_table(p).to_pylist() for p in sorted((state / "raw").rglob("*.parquet"))
    }
    return records, tables


def test_parallel_ingest_equals_sequential(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_INGEST_WORKERS", "1")
    sequential = ingest(landing(tmp_path / "a"), tmp_path / "a" / "state", now=NOW)
    monkeypatch.setenv("CRM_INGEST_WORKERS", "2")
    taken = []
    take = Prefetch.take

    def spy(self, entity, landed):
        outcome = take(self, entity, landed)
        taken.append(outcome is not None)
        return outcome

    monkeypatch.setattr(Prefetch, "take", spy)
    digested = []
    take_digest = Prefetch.take_digest

    def digest_spy(self, landed):
        digest = take_digest(self, landed)
        digested.append(digest is not None)
        return digest

    monkeypatch.setattr(Prefetch, "take_digest", digest_spy)
    parallel = ingest(landing(tmp_path / "b"), tmp_path / "b" / "state", now=NOW)
    # every new content (11 days, 2 rejected files) was parsed by a worker
    assert taken.count(True) == MIN_PARALLEL_PARSES + 4
    # and every landed file (those, and the duplicate copy) hashed by one
    assert digested == [True] * (MIN_PARALLEL_PARSES + 5)

    assert parallel.totals == sequential.totals
    assert snapshot(tmp_path / "b" / "state") == snapshot(tmp_path / "a" / "state")
    statuses = {r.file_name: (r.status, r.reason) for r in parallel.ledger()}
    assert statuses["2025-02-01.csv"] == ("loaded", None)
    assert statuses["2025-02-01_copy.csv"][0] == "duplicate"
    assert statuses["2025-03-01.csv"] == (
        "rejected",
        "missing required columns: amount, created_at, updated_at",
    )
    assert statuses["2025-03-02.jsonl"][0] == "rejected"
    rejected = next(r for r in parallel.ledger() if r.file_name == "2025-03-01.csv")
    assert rejected.columns == ("sale_id", "location_id", "status")


def test_a_few_new_files_are_parsed_on_threads_as_a_sequential_run_would(tmp_path, monkeypatch):
    # one day of extracts: too few files to pay for worker processes, enough to share threads
    monkeypatch.setenv("CRM_INGEST_WORKERS", "1")
    sequential = ingest(landing(tmp_path / "a", days=3), tmp_path / "a" / "state", now=NOW)
    monkeypatch.setenv("CRM_INGEST_WORKERS", "2")
    parsed_on = []
    parse = parallel.parse

    def spy(*args):
        parsed_on.append(threading.current_thread().name)
        return parse(*args)

    monkeypatch.setattr(parallel, "parse", spy)
    threaded = ingest(landing(tmp_path / "b", days=3), tmp_path / "b" / "state", now=NOW)
    # three days and two rejected files: five new contents, fewer than MIN_PARALLEL_PARSES
    assert len(parsed_on) == 5 < MIN_PARALLEL_PARSES
    assert all(name.startswith("parse") for name in parsed_on)
    assert threaded.totals == sequential.totals
    assert snapshot(tmp_path / "b" / "state") == snapshot(tmp_path / "a" / "state")
