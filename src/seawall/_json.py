"""JSON-safe values: what every ``to_dict()`` turns numbers into."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["json_value"]


def json_value(v: object) -> Any:
    """Turn a numpy or Python scalar into a JSON-safe primitive.

    NaN (undefined) becomes ``None``; an infinite bound (a ratio whose reference
    has no success) becomes the string ``"inf"`` or ``"-inf"``, so it stays
    distinct from an undefined one.

    Parameters
    ----------
    v : object
        A scalar.

    Returns
    -------
    object
        ``None``, ``bool``, ``int``, ``float`` or ``str``.

    Examples
    --------
    >>> json_value(np.float64("nan")) is None, json_value(np.int64(3)), json_value(np.inf)
    (True, 3, 'inf')
    """
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        if math.isnan(v):
            return None
        return "inf" if v > 0 else "-inf"
    return v
