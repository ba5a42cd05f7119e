"""Atomic file writes, private (0600) when a file holds contact data."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_MODE = 0o600
DEFAULT_MODE = 0o666  # narrowed by the process umask, as for any ordinary file


def check_target(path: Path) -> None:
    """Refuse a target a file cannot replace, before any work is done."""
    if path.is_dir():
        raise ValueError(f"output path {str(path)!r} is an existing directory; give a file path")


def write_atomic(path: Path, data: bytes, *, private: bool) -> Path:
    """Write `data` to `path` so that a reader sees the old file or the whole new one.

    The temporary file is created with its final mode (os.open honours it at creation),
    so contact data never sits in a file other users could read, even briefly.
    """
    check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(
        tmp,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
        PRIVATE_MODE if private else DEFAULT_MODE,
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
