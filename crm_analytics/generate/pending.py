"""Things that happen later: return visits, follow-up purchases, refunds, and corrected
versions of rows already written (posted drafts, late statuses, deletions).

Follow-ups are bounded by rate x horizon (weeks). Corrections are optional realism, so
they are capped by a constant: at any scale the queue stays small.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any

MAX_CORRECTIONS = 20_000

CORRECTION = "correction"


class Pending:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str, Any]] = []
        self._seq = 0
        self.corrections = 0

    def push(self, when: datetime, kind: str, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, kind, payload))

    def correct(self, when: datetime, entity: str, row: tuple[Any, ...], off: int) -> bool:
        """Queue a new version of a row; False when the cap says write nothing."""
        if self.corrections >= MAX_CORRECTIONS:
            return False
        self.corrections += 1
        self.push(when, CORRECTION, (entity, row, off))
        return True

    def pop_due(self, before: datetime) -> tuple[datetime, str, Any] | None:
        if self._heap and self._heap[0][0] < before:
            when, _, kind, payload = heapq.heappop(self._heap)
            if kind == CORRECTION:
                self.corrections -= 1
            return when, kind, payload
        return None

    def __len__(self) -> int:
        return len(self._heap)
