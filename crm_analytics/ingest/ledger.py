"""The ledger: one JSON manifest per landed file, `ledger/<entity>/<sha1(name)>.json`."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

from crm_analytics.contract import ENTITY_NAMES

from .atomic import atomic_write_bytes

log = logging.getLogger("crm_analytics.ingest")

Status = Literal["loaded", "duplicate", "rejected"]
LOADED: Status = "loaded"
DUPLICATE: Status = "duplicate"
REJECTED: Status = "rejected"


@dataclass(frozen=True)
class LedgerRecord:
    entity: str
    file_name: str
    file_path: str  # absolute, as landed
    file_hash: str  # sha256 of the bytes
    file_size: int
    file_mtime_ns: int
    file_format: str  # csv | xlsx | jsonl
    status: Status
    reason: str | None  # why rejected, or which file a duplicate repeats; None when loaded
    rows_read: int  # records parsed; 0 unless loaded
    columns: tuple[str, ...]  # normalised header, file order
    extra_columns: tuple[str, ...]  # schema drift: columns not in the contract
    parquet_path: str | None  # relative to the state dir; only when loaded
    ingested_at: str  # ISO 8601 UTC, when the file was first recorded

    def to_json(self) -> bytes:
        doc = asdict(self)
        doc["columns"] = list(self.columns)
        doc["extra_columns"] = list(self.extra_columns)
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> LedgerRecord:
        doc: dict[str, Any] = json.loads(data)
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in doc.items() if k in names}
        values["columns"] = tuple(values["columns"])
        values["extra_columns"] = tuple(values["extra_columns"])
        return cls(**values)


def ledger_dir(state_dir: Path, entity: str) -> Path:
    return state_dir / "ledger" / entity


def manifest_path(state_dir: Path, entity: str, file_name: str) -> Path:
    key = hashlib.sha1(file_name.encode("utf-8")).hexdigest()
    return ledger_dir(state_dir, entity) / f"{key}.json"


def save(state_dir: Path, record: LedgerRecord) -> None:
    atomic_write_bytes(manifest_path(state_dir, record.entity, record.file_name), record.to_json())


# manifest path -> ((inode, size, mtime), record). A refresh reads the ledger several times
# (ingest, raw views, build plan, freshness check): thousands of small files parsed again
# each time. A manifest is only ever replaced whole by a rename (a new inode), so one whose
# inode, size and mtime are unchanged holds the record parsed before.
_parsed: dict[Path, tuple[tuple[int, int, int], LedgerRecord]] = {}


def load_entity(state_dir: Path, entity: str) -> dict[str, LedgerRecord]:
    """file name -> record. An unreadable manifest is skipped with a warning, which makes
    its file count as new: re-ingesting is the safe way to repair the ledger."""
    records: dict[str, LedgerRecord] = {}
    folder = ledger_dir(state_dir, entity)
    if not folder.is_dir():
        return records
    for path in sorted(folder.glob("*.json")):
        try:
            stat = path.stat()
            version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            cached = _parsed.get(path)
            if cached is not None and cached[0] == version:
                record = cached[1]
            else:
                record = LedgerRecord.from_json(path.read_bytes())
                _parsed[path] = (version, record)
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("unreadable ledger manifest %s ignored (%s)", path, type(e).__name__)
            continue
        records[record.file_name] = record
    return records


def load_all(state_dir: Path) -> list[LedgerRecord]:
    """Every record, by entity (contract order) then file name."""
    out: list[LedgerRecord] = []
    for entity in ENTITY_NAMES:
        out.extend(sorted(load_entity(state_dir, entity).values(), key=lambda r: r.file_name))
    return out
