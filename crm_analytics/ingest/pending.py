"""Landed files the raw zone has not recorded yet (what a landing sensor reacts to)."""

from __future__ import annotations

from pathlib import Path

from .discover import LandedFile, discover
from .ledger import load_all


def pending_files(landing: Path, state_dir: Path) -> list[LandedFile]:
    """Files whose name, size or mtime the ledger does not know, in entity/name order."""
    known = {
        (record.entity, record.file_name): (record.file_size, record.file_mtime_ns)
        for record in load_all(state_dir)
    }
    found = discover(landing)
    return [
        landed
        for entity in sorted(found.files)
        for landed in found.files[entity]
        if known.get((landed.entity, landed.name)) != (landed.size, landed.mtime_ns)
    ]
