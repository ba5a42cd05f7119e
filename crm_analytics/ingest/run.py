"""`ingest()`: landing folder -> raw zone + ledger, one entity at a time.

Per entity the ledger is read once; a landed file whose manifest has the same size and
mtime is skipped without reading it. Only files with new content are hashed and parsed,
and only the content groups (files sharing a hash) they touch are re-resolved: among the
non-rejected files of one content, the lexically first name is `loaded`, the others
`duplicate`. Parquet is written before any manifest, and new `loaded` manifests before the
`duplicate` ones they displace, so a crash never hides or doubles data for long: the next
run completes the job (and the views de-duplicate by content meanwhile).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from crm_analytics.contract import ENTITY_NAMES, Entity, entities

from . import ledger
from .atomic import remove_stale_temporaries, state_lock
from .discover import TEXT_FORMATS, IgnoredPath, LandedFile, discover
from .hashing import FileDigest, digest_file
from .ledger import DUPLICATE, LOADED, REJECTED, LedgerRecord, Status
from .parallel import Prefetch, parse
from .rawzone import parquet_relpath, parquet_rows

log = logging.getLogger("crm_analytics.ingest")


@dataclass(frozen=True)
class SchemaDrift:
    entity: str
    file_name: str
    extra_columns: tuple[str, ...]

    @property
    def warning(self) -> str:
        return (
            f"schema drift: {self.entity}/{self.file_name} has columns not in the contract: "
            + ", ".join(self.extra_columns)
        )


@dataclass
class IngestResult:
    state_dir: Path
    # Records written by this run, by their new status. `duplicates` includes files that
    # were loaded before and lost that role to a lexically earlier copy landed now.
    loaded: list[LedgerRecord] = field(default_factory=list)
    duplicates: list[LedgerRecord] = field(default_factory=list)
    rejected: list[LedgerRecord] = field(default_factory=list)
    skipped: int = 0  # landed files already in the ledger with the same content
    ignored: list[IgnoredPath] = field(default_factory=list)
    drift: list[SchemaDrift] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # every warning logged by the run

    @property
    def rows_loaded(self) -> int:
        return sum(r.rows_read for r in self.loaded)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "loaded": len(self.loaded),
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejected),
            "skipped": self.skipped,
            "ignored": len(self.ignored),
            "rows_loaded": self.rows_loaded,
        }

    def ledger(self) -> list[LedgerRecord]:
        """Every ledger record of the state directory (all runs), not only this run's."""
        return ledger.load_all(self.state_dir)

    def warn(self, message: str) -> None:
        log.warning("%s", message)
        self.warnings.append(message)


def ingest(landing: Path, state_dir: Path, *, now: datetime | None = None) -> IngestResult:
    now = datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    state_dir = Path(state_dir).absolute()
    discovery = discover(Path(landing))
    result = IngestResult(state_dir=state_dir, ignored=discovery.ignored)
    for ignored in discovery.ignored:
        result.warn(ignored.warning)
    with state_lock(state_dir):
        for stale in [
            *remove_stale_temporaries(state_dir / "raw"),
            *remove_stale_temporaries(state_dir / "ledger"),
        ]:
            log.info("removed temporary file left by an interrupted run: %s", stale)
        contract = entities()
        runs = [_EntityRun(state_dir, contract[name], now, result) for name in ENTITY_NAMES]
        prefetch = Prefetch()
        try:
            prefetch.digest(
                landed
                for run in runs
                for landed in discovery.files[run.entity.name]
                if run.needs_digest(landed)
            )
            for run in runs:
                run.check(discovery.files[run.entity.name], prefetch)
            prefetch.start((job for run in runs for job in run.new_content_jobs()), now)
            for run in runs:
                run.finish(prefetch)
        finally:
            prefetch.close()
    log.info("ingest finished: %s", result.totals)
    return result


@dataclass(frozen=True)
class _Content:
    """What one content (bytes) gives in one format: its columns, or why it is rejected."""

    columns: tuple[str, ...]
    extra_columns: tuple[str, ...]
    reason: str | None = None  # set when rejected
    rows: int | None = None  # known when just parsed

    @classmethod
    def of(cls, record: LedgerRecord) -> _Content:
        reason = record.reason if record.status == REJECTED else None
        return cls(record.columns, record.extra_columns, reason)


class _EntityRun:
    def __init__(self, state_dir: Path, entity: Entity, now: datetime, result: IngestResult):
        self.state_dir = state_dir
        self.entity = entity
        self.now = now
        self.result = result
        self.on_disk = ledger.load_entity(state_dir, entity.name)
        self.records = dict(self.on_disk)  # the ledger as it will be after this run
        self.landed: dict[str, LandedFile] = {}
        self.pending: dict[str, tuple[LandedFile, FileDigest]] = {}  # new or changed content
        self.touched: dict[str, str] = {}  # content hashes to re-resolve -> first name seen
        self.prefetch: Prefetch | None = None

    def check(self, files: list[LandedFile], prefetch: Prefetch | None = None) -> None:
        self.prefetch = prefetch
        for landed in files:
            self._check(landed)
        self._touch_inconsistent()

    def needs_digest(self, landed: LandedFile) -> bool:
        """False when the ledger has this file with the same size and mtime (the cache)."""
        known = self.records.get(landed.name)
        return not (
            known is not None
            and known.file_size == landed.size
            and known.file_mtime_ns == landed.mtime_ns
        )

    def new_content_jobs(self) -> list[tuple[Entity, LandedFile, FileDigest, Path]]:
        """The parses _resolve will ask for first: per content the ledger has never seen and
        per format, its lexically first new name."""
        known = {r.file_hash for r in self.records.values() if r.file_name not in self.pending}
        jobs: dict[tuple[str, str], tuple[Entity, LandedFile, FileDigest, Path]] = {}
        for name in sorted(self.pending):
            landed, digest = self.pending[name]
            parquet = self._parquet(digest.sha256)
            if digest.sha256 in known or parquet.exists():
                continue
            jobs.setdefault((digest.sha256, landed.format), (self.entity, landed, digest, parquet))
        return list(jobs.values())

    def finish(self, prefetch: Prefetch | None = None) -> None:
        self.prefetch = prefetch
        for file_hash in sorted(self.touched, key=self.touched.__getitem__):
            self._resolve(file_hash)
        self._save_changes()

    def run(self, files: list[LandedFile]) -> None:
        self.check(files)
        self.finish()

    def _label(self, name: str) -> str:
        return f"{self.entity.name}/{name}"

    def _parquet(self, file_hash: str) -> Path:
        return self.state_dir / parquet_relpath(self.entity.name, file_hash)

    def _touch(self, file_hash: str, name: str) -> None:
        self.touched.setdefault(file_hash, name)

    def _touch_inconsistent(self) -> None:
        """Contents whose loaded name is not the lexically first: a run died mid-way."""
        groups: dict[str, list[LedgerRecord]] = defaultdict(list)
        for r in self.records.values():
            if r.status != REJECTED:
                groups[r.file_hash].append(r)
        for file_hash, group in groups.items():
            group.sort(key=lambda r: r.file_name)
            if group[0].status != LOADED or any(r.status == LOADED for r in group[1:]):
                self._touch(file_hash, group[0].file_name)

    def _check(self, landed: LandedFile) -> None:
        """Decide whether a landed file needs work, hashing it only when the cache misses."""
        self.landed[landed.name] = landed
        known = self.records.get(landed.name)
        if known is not None and not self.needs_digest(landed):
            if known.status == LOADED and not self._parquet(known.file_hash).exists():
                self._touch(known.file_hash, landed.name)  # raw file lost: restore it
            else:
                self.result.skipped += 1
            return
        digest = self.prefetch.take_digest(landed) if self.prefetch else None
        try:
            if digest is None:
                digest = digest_file(landed.path, check_utf8=landed.format in TEXT_FORMATS)
        except OSError as e:
            self.result.warn(f"cannot read {landed.path} ({e.strerror}); retried next run")
            return
        if digest.size != landed.size:
            self.result.warn(f"{landed.path} is still changing; retried next run")
            return
        if known is not None and known.file_hash == digest.sha256:
            # Same bytes with a new mtime (copied or touched): refresh the cache fields only.
            self.records[landed.name] = replace(
                known, file_mtime_ns=landed.mtime_ns, file_path=str(landed.path)
            )
            if known.status == LOADED and not self._parquet(known.file_hash).exists():
                self._touch(known.file_hash, landed.name)
            else:
                self.result.skipped += 1
            return
        if known is not None:
            self.result.warn(
                f"{self._label(landed.name)} changed after it was ingested (files must not "
                "change once landed); its new content replaces the old one in the ledger"
            )
            self._touch(known.file_hash, landed.name)
        self.pending[landed.name] = (landed, digest)
        self._touch(digest.sha256, landed.name)

    def _parse(self, landed: LandedFile, digest: FileDigest) -> _Content:
        outcome = self.prefetch.take(self.entity, landed) if self.prefetch else None
        if outcome is None:
            outcome = parse(
                self.entity, landed, self._parquet(digest.sha256), digest.bad_utf8_line, self.now
            )
        parsed, rejected = outcome
        if rejected is not None:
            reason, columns = rejected
            return _Content(columns, (), reason=reason)
        assert parsed is not None
        return _Content(parsed.columns, parsed.extra_columns, rows=parsed.rows)

    def _resolve(self, file_hash: str) -> None:
        parquet = self._parquet(file_hash)
        existing = sorted(
            (
                r
                for r in self.records.values()
                if r.file_hash == file_hash and r.file_name not in self.pending
            ),
            key=lambda r: r.file_name,
        )
        new_names = sorted(n for n, (_, d) in self.pending.items() if d.sha256 == file_hash)
        has_parquet = parquet.exists()
        rows: int | None = None

        # Same bytes in the same format parse the same way: reuse what the ledger knows.
        by_format: dict[str, _Content] = {}
        for r in existing:
            if r.file_format not in by_format or r.status != REJECTED:
                by_format[r.file_format] = _Content.of(r)
        contents: dict[str, _Content] = {}
        for name in new_names:
            landed, digest = self.pending[name]
            content = by_format.get(landed.format)
            if content is None or (content.reason is None and not has_parquet):
                content = self._parse(landed, digest)
                if content.reason is None:
                    has_parquet, rows = True, content.rows
                by_format[landed.format] = content
            contents[name] = content

        candidates = sorted(
            [r.file_name for r in existing if r.status != REJECTED]
            + [n for n in new_names if contents[n].reason is None]
        )
        if candidates and not has_parquet:
            rows = self._restore(file_hash, candidates)
            has_parquet = rows is not None
        canonical = candidates[0] if candidates and has_parquet else None
        if canonical is not None and rows is None:
            rows = next(
                (r.rows_read for r in existing if r.status == LOADED), None
            ) or parquet_rows(parquet)

        relpath = parquet_relpath(self.entity.name, file_hash)
        for name in new_names:
            landed, _ = self.pending[name]
            content = contents[name]
            status, reason = _status(name, canonical, content.reason)
            self.records[name] = LedgerRecord(
                entity=self.entity.name,
                file_name=name,
                file_path=str(landed.path),
                file_hash=file_hash,
                file_size=landed.size,
                file_mtime_ns=landed.mtime_ns,
                file_format=landed.format,
                status=status,
                reason=reason,
                rows_read=(rows or 0) if status == LOADED else 0,
                columns=content.columns,
                extra_columns=content.extra_columns,
                parquet_path=relpath if status == LOADED else None,
                ingested_at=self.now.isoformat(),
            )
        if canonical is None:
            return
        for r in existing:
            if r.status == REJECTED:
                continue
            status, reason = _status(r.file_name, canonical, None)
            self.records[r.file_name] = replace(
                r,
                status=status,
                reason=reason,
                rows_read=(rows or 0) if status == LOADED else 0,
                parquet_path=relpath if status == LOADED else None,
            )

    def _restore(self, file_hash: str, candidates: list[str]) -> int | None:
        """Re-create a content's missing Parquet from a landed copy; its row count or None."""
        for name in candidates:
            landed = self.landed.get(name)
            if landed is None:
                continue
            try:
                digest = digest_file(landed.path, check_utf8=landed.format in TEXT_FORMATS)
            except OSError:
                continue
            if digest.sha256 != file_hash:
                continue
            content = self._parse(landed, digest)
            if content.reason is None:
                self.result.warn(f"raw Parquet of {self._label(name)} was missing; restored")
                return content.rows
        self.result.warn(
            f"raw Parquet of {self._label(candidates[0])} is missing and no landed copy is "
            "left to restore it from; its rows are absent from the raw views"
        )
        return None

    def _save_changes(self) -> None:
        changed = [r for name, r in self.records.items() if self.on_disk.get(name) != r]
        # Loaded first: until the displaced duplicates are written, a content has two
        # loaded names, which the views tolerate; the reverse order would briefly lose it.
        order = {LOADED: 0, DUPLICATE: 1, REJECTED: 2}
        changed.sort(key=lambda r: (order[r.status], r.file_name))
        for record in changed:
            ledger.save(self.state_dir, record)
        for record in changed:
            self._report(record, self.on_disk.get(record.file_name))

    def _report(self, record: LedgerRecord, before: LedgerRecord | None) -> None:
        label = self._label(record.file_name)
        new_content = record.file_name in self.pending
        if not new_content and (before is None or before.status == record.status):
            return  # only the cached stat fields changed
        if record.status == LOADED:
            self.result.loaded.append(record)
            log.info("loaded %s: %d rows", label, record.rows_read)
            if new_content and record.extra_columns:
                drift = SchemaDrift(record.entity, record.file_name, record.extra_columns)
                self.result.drift.append(drift)
                self.result.warn(drift.warning)
        elif record.status == DUPLICATE:
            self.result.duplicates.append(record)
            log.info("duplicate %s: %s", label, record.reason)
        else:
            self.result.rejected.append(record)
            self.result.warn(f"rejected {label}: {record.reason}")


def _status(
    name: str, canonical: str | None, rejected_reason: str | None
) -> tuple[Status, str | None]:
    if rejected_reason is not None:
        return REJECTED, rejected_reason
    if name == canonical:
        return LOADED, None
    return DUPLICATE, f"same content as {canonical}"
