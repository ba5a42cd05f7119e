"""Locating the DejaVu Sans TTF files: an embedded Unicode font is what lets Cyrillic
names print and stay extractable as text (the PDF core fonts are Latin-1 only)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

FONT_FAMILY = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}  # fpdf2 style -> file
FONT_DIR_ENV = "CRM_FONT_DIR"
KNOWN_DIRS = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu
    "/usr/share/fonts/dejavu",  # Fedora, Alpine
    "/usr/share/fonts/TTF",  # Arch
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/local/share/fonts",
    "/opt/homebrew/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)
SEARCH_ROOTS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


class FontNotFoundError(FileNotFoundError):
    pass


def _bundled_dirs() -> list[Path]:
    # matplotlib ships DejaVu Sans; use it when the system has no fonts installed
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(loc) / "mpl-data" / "fonts" / "ttf" for loc in spec.submodule_search_locations]


def _find(name: str, dirs: Iterable[Path], roots: Iterable[Path]) -> Path | None:
    for directory in dirs:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    for root in roots:
        if root.is_dir():
            for candidate in sorted(root.rglob(name)):
                if candidate.is_file():
                    return candidate
    return None


def locate_fonts(environ: Mapping[str, str] = os.environ) -> dict[str, Path]:
    """fpdf2 style ("" regular, "B" bold) -> TTF path, or FontNotFoundError."""
    override = environ.get(FONT_DIR_ENV)
    dirs = [Path(d) for d in KNOWN_DIRS] + _bundled_dirs()
    roots = [Path(r).expanduser() for r in SEARCH_ROOTS]
    if override:
        # an explicit directory wins, and is searched recursively
        dirs.insert(0, Path(override))
        roots.insert(0, Path(override))
    found = {style: _find(name, dirs, roots) for style, name in FONT_FILES.items()}
    missing = [FONT_FILES[s] for s, path in found.items() if path is None]
    if missing:
        raise FontNotFoundError(
            f"PDF export needs {' and '.join(missing)} (DejaVu Sans, for Cyrillic text) and "
            f"found none in {FONT_DIR_ENV}, the system font directories or matplotlib; "
            f"install the DejaVu fonts (e.g. apt-get install fonts-dejavu-core) "
            f"or set {FONT_DIR_ENV} to a directory holding them"
        )
    return {style: path for style, path in found.items() if path is not None}
