"""Sheet names and column widths: the rules Excel imposes on a workbook's layout."""

from __future__ import annotations

import re

# control characters XML 1.0 cannot carry (the set openpyxl refuses too)
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
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


class ColumnWidth:
    """A column width (in characters) fitting the longest line of the texts seen, within
    bounds."""

    def __init__(self, *texts: str) -> None:
        self._longest = 0
        for text in texts:
            self.fit(text)

    def fit(self, text: str) -> None:
        for line in text.splitlines():
            self._longest = max(self._longest, len(line))

    @property
    def at_most(self) -> bool:
        """No text can widen the column any more: the rest need not be measured."""
        return self._longest + 2 >= MAX_WIDTH

    @property
    def width(self) -> float:
        return float(min(MAX_WIDTH, max(MIN_WIDTH, self._longest + 2)))
