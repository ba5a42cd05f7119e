"""Ingestion across runs: duplicates, idempotency, the hash cache, crash recovery."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from crm_analytics.ingest import IngestResult, LedgerRecord, ingest, ledger
from crm_analytics.ingest import run as run_module

T1 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 5, 2, 12, 0, tzinfo=dt.UTC)
CSV = "client_id,location_id,registered_at,updated_at\nc1,l1,r,u\nc2,l1,r,u\n"


def land(tmp_path: Path, entity: str, name: str, data: bytes | str) -> Path:
    path = tmp_path / "landing" / entity / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def run(tmp_path: Path, now: dt.datetime = T1) -> IngestResult:
    return ingest(tmp_path / "landing", tmp_path / "state", now=now)


def statuses(result: IngestResult) -> dict[str, tuple[str, str | None]]:
    return {f"{r.entity}/{r.file_name}": (r.status, r.reason) for r in result.ledger()}


def snapshot(state: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(state)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(state.rglob("*"))
        if p.is_file()
    }


def test_same_bytes_first_lexical_name_wins(tmp_path: Path) -> None:
    land(tmp_path, "clients", "b.csv", CSV)
    land(tmp_path, "clients", "a.csv", CSV)
    land(tmp_path, "clients", "B.csv", CSV)  # upper case sorts first
    land(tmp_path, "locations", "x.csv", "location_id,name,updated_at\nl1,n,u\n")
    result = run(tmp_path)
    assert statuses(result) == {
        "clients/B.csv": ("loaded", None),
        "clients/a.csv": ("duplicate", "same content as B.csv"),
        "clients/b.csv": ("duplicate", "same content as B.csv"),
        "locations/x.csv": ("loaded", None),
    }
    dup = next(r for r in result.ledger() if r.file_name == "a.csv")
    assert (dup.rows_read, dup.parquet_path) == (0, None)
    assert [r.file_name for r in result.duplicates] == ["a.csv", "b.csv"]
    assert len(list((tmp_path / "state/raw/clients").glob("*.parquet"))) == 1


def test_same_bytes_in_other_entities_are_independent(tmp_path: Path) -> None:
    data = "client_id,location_id,registered_at,updated_at,sale_id,amount,status,created_at\n"
    land(tmp_path, "clients", "a.csv", data)
    land(tmp_path, "sales", "a.csv", data)
    result = run(tmp_path)
    assert [(r.entity, r.status) for r in result.ledger()] == [
        ("clients", "loaded"),
        ("sales", "loaded"),
    ]
    assert len(list((tmp_path / "state/raw").rglob("*.parquet"))) == 2


def test_later_lexically_earlier_copy_takes_over(tmp_path: Path) -> None:
    land(tmp_path, "clients", "2026-05-02.csv", CSV)
    first = run(tmp_path, T1)
    (loaded,) = first.loaded
    parquet = tmp_path / "state" / loaded.parquet_path
    before = parquet.read_bytes()
    land(tmp_path, "clients", "2026-05-01.csv", CSV)
    second = run(tmp_path, T2)
    assert statuses(second) == {
        "clients/2026-05-01.csv": ("loaded", None),
        "clients/2026-05-02.csv": ("duplicate", "same content as 2026-05-01.csv"),
    }
    assert [r.file_name for r in second.loaded] == ["2026-05-01.csv"]
    assert [r.file_name for r in second.duplicates] == ["2026-05-02.csv"]
    assert second.loaded[0].rows_read == 2 and second.loaded[0].parquet_path == loaded.parquet_path
    assert parquet.read_bytes() == before  # same content, same Parquet, not rewritten
    demoted = next(r for r in second.ledger() if r.file_name == "2026-05-02.csv")
    assert demoted.ingested_at == T1.isoformat()  # its record keeps its history


def test_removed_loaded_file_keeps_role_and_data(tmp_path: Path) -> None:
    path = land(tmp_path, "clients", "a.csv", CSV)
    run(tmp_path)
    path.unlink()
    land(tmp_path, "clients", "b.csv", CSV)
    result = run(tmp_path)
    assert statuses(result) == {
        "clients/a.csv": ("loaded", None),
        "clients/b.csv": ("duplicate", "same content as a.csv"),
    }


def test_rejected_copy_is_rejected_without_parsing(tmp_path: Path, monkeypatch) -> None:
    bad = "client_id\nc1\n"
    land(tmp_path, "clients", "a.csv", bad)
    run(tmp_path)
    land(tmp_path, "clients", "b.csv", bad)
    monkeypatch.setattr(run_module, "parse", _fail)
    result = run(tmp_path)
    assert [r.reason for r in result.rejected] == [
        "missing required columns: location_id, registered_at, updated_at"
    ]


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("must not parse")


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    land(tmp_path, "clients", "a.csv", CSV)
    land(tmp_path, "clients", "b.csv", CSV)
    land(tmp_path, "clients", "bad.csv", "client_id\n")
    land(tmp_path, "sales", "s.jsonl", '{"x": 1}\n')
    first = run(tmp_path, T1)
    before = snapshot(tmp_path / "state")
    second = run(tmp_path, T2)
    assert snapshot(tmp_path / "state") == before
    assert second.totals["skipped"] == 4
    assert (second.loaded, second.duplicates, second.rejected) == ([], [], [])
    assert second.ledger() == first.ledger()


def test_reingesting_from_scratch_gives_identical_bytes(tmp_path: Path) -> None:
    land(tmp_path, "clients", "a.csv", CSV)
    run(tmp_path, T1)
    one = {k: v[0] for k, v in snapshot(tmp_path / "state").items()}
    os.rename(tmp_path / "state", tmp_path / "state-1")
    run(tmp_path, T1)
    two = {k: v[0] for k, v in snapshot(tmp_path / "state").items()}
    assert one == two


def test_unchanged_stat_skips_reading(tmp_path: Path, monkeypatch) -> None:
    land(tmp_path, "clients", "a.csv", CSV)
    run(tmp_path)
    monkeypatch.setattr(run_module, "digest_file", _fail)
    assert run(tmp_path).skipped == 1


def test_touched_file_is_rehashed_once(tmp_path: Path, monkeypatch) -> None:
    path = land(tmp_path, "clients", "a.csv", CSV)
    run(tmp_path)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    result = run(tmp_path)
    assert result.skipped == 1 and not result.loaded
    (rec,) = result.ledger()
    assert rec.file_mtime_ns == 1_000_000_000  # cache refreshed, status untouched
    monkeypatch.setattr(run_module, "digest_file", _fail)
    assert run(tmp_path).skipped == 1


def test_changed_file_warns_and_loads_new_content(tmp_path: Path) -> None:
    path = land(tmp_path, "clients", "a.csv", CSV)
    land(tmp_path, "clients", "b.csv", CSV)
    run(tmp_path)
    path.write_text(CSV + "c3,l1,r,u\n")
    result = run(tmp_path, T2)
    assert any("changed after it was ingested" in w for w in result.warnings)
    assert statuses(result) == {
        "clients/a.csv": ("loaded", None),
        "clients/b.csv": ("loaded", None),
    }
    recs = {r.file_name: r for r in result.ledger()}
    assert recs["a.csv"].rows_read == 3 and recs["b.csv"].rows_read == 2  # b took over old content
    assert recs["a.csv"].file_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_leftover_temporaries_are_removed(tmp_path: Path) -> None:
    land(tmp_path, "clients", "a.csv", CSV)
    run(tmp_path)
    junk = [
        tmp_path / "state/raw/clients/.0123.parquet.99.abcd.tmp",
        tmp_path / "state/ledger/clients/.0123.json.99.abcd.tmp",
    ]
    for p in junk:
        p.write_bytes(b"half")
    assert run(tmp_path).skipped == 1
    assert not any(p.exists() for p in junk)


def test_crash_before_manifest_is_finished_by_next_run(tmp_path: Path, monkeypatch) -> None:
    land(tmp_path, "clients", "a.csv", CSV)

    def crash(state_dir: Path, record: LedgerRecord) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ledger, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, T1)
    assert len(list((tmp_path / "state/raw/clients").glob("*.parquet"))) == 1
    assert ledger.load_all(tmp_path / "state") == []  # Parquet without manifest: not ingested
    monkeypatch.undo()
    result = run(tmp_path, T2)
    (rec,) = result.loaded
    assert rec.file_name == "a.csv" and rec.rows_read == 2 and rec.ingested_at == T2.isoformat()


def test_crash_during_parquet_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    land(tmp_path, "clients", "a.csv", CSV)
    from crm_analytics.ingest import rawzone

    real = rawzone._check_unnamed_empty

    def crash(*args: object) -> None:
        real(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(rawzone, "_check_unnamed_empty", crash)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path)
    assert [p for p in (tmp_path / "state/raw").rglob("*") if p.is_file()] == []
    monkeypatch.undo()
    assert len(run(tmp_path).loaded) == 1


def test_crash_between_flip_writes_is_completed(tmp_path: Path, monkeypatch) -> None:
    land(tmp_path, "clients", "b.csv", CSV)
    run(tmp_path, T1)
    land(tmp_path, "clients", "a.csv", CSV)
    real = ledger.save
    calls = []

    def save_once(state_dir: Path, record: LedgerRecord) -> None:
        if calls:
            raise KeyboardInterrupt
        calls.append(record.file_name)
        real(state_dir, record)

    monkeypatch.setattr(ledger, "save", save_once)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, T2)
    assert calls == ["a.csv"]  # the new loaded manifest goes first
    monkeypatch.undo()
    assert statuses(run(tmp_path, T2)) == {
        "clients/a.csv": ("loaded", None),
        "clients/b.csv": ("duplicate", "same content as a.csv"),
    }


def test_lost_parquet_is_restored_from_landing(tmp_path: Path) -> None:
    land(tmp_path, "clients", "a.csv", CSV)
    (rec,) = run(tmp_path).loaded
    parquet = tmp_path / "state" / rec.parquet_path
    parquet.unlink()
    result = run(tmp_path, T2)
    assert parquet.exists()
    assert any("restored" in w for w in result.warnings)
    assert result.ledger() == [rec]


def test_ledger_reads_parse_each_manifest_version_once(tmp_path: Path, monkeypatch) -> None:
    land(tmp_path, "clients", "a.csv", CSV)
    land(tmp_path, "clients", "b.csv", CSV)
    run(tmp_path)
    state = tmp_path / "state"
    parsed: list[bytes] = []
    real = LedgerRecord.from_json.__func__
    monkeypatch.setattr(
        LedgerRecord,
        "from_json",
        classmethod(lambda cls, data: parsed.append(data) or real(cls, data)),
    )
    ledger._parsed.clear()
    first = ledger.load_entity(state, "clients")
    assert len(parsed) == 2
    assert ledger.load_entity(state, "clients") == first and len(parsed) == 2
    # a manifest replaced (by a rename, as save() writes) is read again
    ledger.save(state, dataclasses.replace(first["a.csv"], rows_read=99))
    again = ledger.load_entity(state, "clients")
    assert again["a.csv"].rows_read == 99 and again["b.csv"] == first["b.csv"]
    assert len(parsed) == 3
    # and one broken in place is still skipped with a warning, not served from memory
    broken = ledger.manifest_path(state, "clients", "b.csv")
    broken.write_bytes(b"{not json")
    assert set(ledger.load_entity(state, "clients")) == {"a.csv"}
