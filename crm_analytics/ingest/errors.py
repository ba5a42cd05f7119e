"""The one way a reader or the raw-zone writer says "this whole file is rejected"."""

from __future__ import annotations


class Rejected(Exception):
    """The landed file cannot be ingested; `reason` is shown to people and stored in the ledger.

    Reasons must never quote cell values (they may hold phone numbers or e-mails): only row
    and column numbers, column names and counts.
    """

    def __init__(self, reason: str, *, columns: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        # The normalised header when it was read before the failure, for the manifest.
        self.columns = columns
