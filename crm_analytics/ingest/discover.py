"""Finding landed files: `<landing>/<entity>/<name>.csv|.xlsx|.jsonl`; everything else ignored."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from crm_analytics.contract import ENTITY_NAMES

# Lower case only: the contract names these extensions, so `.CSV` is "another extension".
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl"}
TEXT_FORMATS = frozenset(("csv", "jsonl"))


@dataclass(frozen=True)
class LandedFile:
    entity: str
    name: str
    path: Path  # absolute
    format: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class IgnoredPath:
    path: Path
    reason: str

    @property
    def warning(self) -> str:
        return f"ignored {self.path}: {self.reason}"


@dataclass
class Discovery:
    files: dict[str, list[LandedFile]]  # entity -> files in lexical order of name
    ignored: list[IgnoredPath]


def _is_hidden(name: str) -> bool:
    # Dot files and the `~$name.xlsx` lock files Excel leaves next to an open workbook.
    return name.startswith((".", "~$"))


def discover(landing: Path) -> Discovery:
    landing = landing.absolute()
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder not found: {landing}")
    files: dict[str, list[LandedFile]] = {entity: [] for entity in ENTITY_NAMES}
    ignored: list[IgnoredPath] = []
    entities = set(ENTITY_NAMES)
    with os.scandir(landing) as top:
        for entry in sorted(top, key=lambda e: e.name):
            path = landing / entry.name
            if not entry.is_dir():
                ignored.append(IgnoredPath(path, "file at the top of the landing folder"))
            elif entry.name not in entities:
                ignored.append(IgnoredPath(path, "folder is not an entity name"))
            else:
                files[entry.name] = _scan_entity(entry.name, path, ignored)
    return Discovery(files, ignored)


def _scan_entity(entity: str, folder: Path, ignored: list[IgnoredPath]) -> list[LandedFile]:
    found: list[LandedFile] = []
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        path = folder / entry.name
        if entry.is_dir():
            ignored.append(IgnoredPath(path, "sub-folder of an entity folder"))
            continue
        if _is_hidden(entry.name):
            ignored.append(IgnoredPath(path, "hidden or temporary file"))
            continue
        fmt = FORMATS.get(os.path.splitext(entry.name)[1])
        if fmt is None:
            ignored.append(IgnoredPath(path, "not a .csv, .xlsx or .jsonl file"))
            continue
        if not entry.is_file():
            ignored.append(IgnoredPath(path, "not a regular file"))
            continue
        try:
            st = entry.stat()
        except OSError as e:
            ignored.append(IgnoredPath(path, f"cannot stat: {e.strerror}"))
            continue
        found.append(LandedFile(entity, entry.name, path, fmt, st.st_size, st.st_mtime_ns))
    return found
