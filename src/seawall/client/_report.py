"""What a client upload did: the server's counts summed, and every rejected batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Rejected", "UploadReport"]


@dataclass(frozen=True)
class Rejected:
    """A batch the service refused (4xx): rows ``start`` to ``stop`` of the input.

    Attributes
    ----------
    start, stop : int
        The rows of the input in the batch (``stop`` excluded).
    status : int
        The HTTP status.
    message : str
        The service's message (it names the row and field).
    details : tuple of dict
        Field-level problems, with row numbers counted within the batch.
    """

    start: int
    stop: int
    status: int
    message: str
    details: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class UploadReport:
    """The sum of what the service stored, and the batches it refused.

    Attributes
    ----------
    rows_sent : int
        Rows of the input sent.
    inserted, replaced, duplicates, unmatched, missing : int
        The service's counts, summed over accepted batches.
    rejected : tuple of Rejected
        The refused batches; nothing of those was stored.
    retries : int
        Requests sent again after a network error, 429 or 5xx.
    """

    rows_sent: int = 0
    inserted: int = 0
    replaced: int = 0
    duplicates: int = 0
    unmatched: int = 0
    missing: int = 0
    rejected: tuple[Rejected, ...] = field(default=())
    retries: int = 0

    @property
    def ok(self) -> bool:
        """Whether every batch was accepted."""
        return not self.rejected

    @property
    def rows_rejected(self) -> int:
        """Rows in refused batches."""
        return sum(r.stop - r.start for r in self.rejected)
