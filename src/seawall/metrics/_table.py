"""A frozen column table: the base of every tabular result."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np

from seawall._json import json_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ColumnTable", "frozen_array"]


class ColumnTable:
    """Mixin for frozen dataclasses whose fields are equal-length columns.

    Numeric columns are read-only float64 arrays; text and flag columns are tuples.
    """

    __slots__ = ()

    def __len__(self) -> int:
        first = fields(self)[0]  # type: ignore[arg-type]
        return len(getattr(self, first.name))

    def columns(self) -> dict[str, Any]:
        """The columns by name, in field order.

        Returns
        -------
        dict of str to sequence
            Each column.
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-safe dicts with stable keys.

        Returns
        -------
        list of dict
            One dict per row.
        """
        cols = self.columns()
        names = list(cols)
        return [{name: json_value(cols[name][i]) for name in names} for i in range(len(self))]

    def to_dict(self) -> dict[str, list[Any]]:
        """The table as a dict of JSON-safe column lists.

        Returns
        -------
        dict of str to list
            Each column as a list; NaN becomes None.
        """
        return {k: [json_value(v) for v in col] for k, col in self.columns().items()}

    def to_frame(self) -> pd.DataFrame:
        """The table as a pandas DataFrame, one row per entry.

        Returns
        -------
        pandas.DataFrame
            The columns in field order.
        """
        import pandas as pd

        return pd.DataFrame(
            {
                k: list(v) if isinstance(v, tuple) else np.asarray(v)
                for k, v in self.columns().items()
            }
        )


def frozen_array(values: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A read-only float64 copy of ``values``.

    Parameters
    ----------
    values : array-like
        Numbers.

    Returns
    -------
    ndarray of float64
        Not writeable.

    Examples
    --------
    >>> frozen_array([1, 2]).flags.writeable
    False
    """
    out = np.array(values, dtype=np.float64)
    out.setflags(write=False)
    return out
