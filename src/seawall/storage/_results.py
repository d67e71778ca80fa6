"""The frozen result of every write to the store: what was read and what was kept."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from seawall._json import json_record

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["IngestResult"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one write did: rows read, rows stored, rows recognised as duplicates.

    Every row read is counted exactly once:
    ``rows_read == inserted + replaced + duplicates + unmatched + missing``
    (labels given without a model count each model they are attributed to).

    Attributes
    ----------
    table : str
        The table written (``"predictions"``, ``"labels"``, ``"models"``,
        ``"metric_points"``, ``"anomalies"``, ``"incidents"`` or ``"feedback"``).
    rows_read : int
        Rows in the input.
    inserted : int
        Rows stored under a key the table did not hold yet.
    replaced : int
        Rows that overwrote a stored row with the same key and different values
        (always 0 for predictions and feedback, where the first write wins).
    duplicates : int
        Rows skipped: a key repeated within the input, or (where the first write
        wins) a key already stored, or (where the latest write wins) a row equal
        to the stored one.
    unmatched : int
        Labels given without a model whose request id matched no stored
        prediction, so they could not be attributed and were not stored.
    missing : int
        Label rows without a label value (not known yet); not stored.
    """

    table: str
    rows_read: int
    inserted: int
    replaced: int = 0
    duplicates: int = 0
    unmatched: int = 0
    missing: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-safe primitives.

        Returns
        -------
        dict
            Every field, in declaration order.

        Examples
        --------
        >>> result = IngestResult("labels", rows_read=3, inserted=2, duplicates=1)
        >>> result.to_dict()["duplicates"]
        1
        """
        return json_record(self)

    def to_frame(self) -> pd.DataFrame:
        """The counts as a one-row DataFrame (pandas is imported lazily).

        Returns
        -------
        pandas.DataFrame
            One column per field.
        """
        import pandas as pd

        return pd.DataFrame(
            [[getattr(self, f.name) for f in fields(self)]], columns=[f.name for f in fields(self)]
        )
