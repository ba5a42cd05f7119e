"""Sheet names and column widths: the rules Excel imposes on a workbook's layout."""

from __future__ import annotations

import re
from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

MAX_TITLE = 31
INVALID_TITLE_CHARS = re.compile(r"[\[\]:*?/\\]")
# Excel reserves "History" for change tracking and refuses a sheet of that name
RESERVED_TITLES = frozenset({"history"})
MIN_WIDTH = 8
MAX_WIDTH = 60


class SheetNames:
    """Hands out valid, unique sheet titles (Excel compares them case-insensitively)."""

    def __init__(self) -> None:
        self._taken: set[str] = set(RESERVED_TITLES)

    def claim(self, wanted: str) -> str:
        base = ILLEGAL_CHARACTERS_RE.sub("", INVALID_TITLE_CHARS.sub(" ", wanted))
        # Excel refuses titles that start or end with an apostrophe
        base = " ".join(base.split()).strip("'").strip() or "Sheet"
        base = base[:MAX_TITLE].rstrip()
        title, n = base, 2
        while title.casefold() in self._taken:
            suffix = f" ({n})"
            title = base[: MAX_TITLE - len(suffix)].rstrip() + suffix
            n += 1
        self._taken.add(title.casefold())
        return title


def fit_width(texts: Iterable[str]) -> float:
    """A column width (in characters) fitting the longest line, within bounds."""
    longest = max((len(line) for text in texts for line in text.splitlines() or [""]), default=0)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))
