"""Crash-safe file replacement and the state directory lock.

Every file of the state directory is written under a hidden temporary name in its final
folder, fsynced, then renamed over the target: readers see the old file or the new one,
never half of one. Temporaries a crash left behind are swept at the start of a run.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `dest` durably."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        yield tmp
        _fsync_path(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # The rename itself is durable only once the directory entry is flushed.
    _fsync_path(dest.parent, os.O_RDONLY | os.O_DIRECTORY)


def atomic_write_bytes(dest: Path, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Delete temporaries left by an interrupted run (call only while holding the lock)."""
    removed = []
    if root.is_dir():
        for path in root.glob(f"*/.*{TEMP_SUFFIX}"):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Serialise runs on one state directory (two concurrent runs would race on the ledger)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / ".ingest.lock").open("a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
