"""JSON-safe values: what every ``to_dict()`` turns numbers into."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import numpy as np

__all__ = ["json_record", "json_value"]


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


def json_record(obj: Any) -> dict[str, Any]:
    """Every field of a flat dataclass as a JSON-safe value, in field order.

    Parameters
    ----------
    obj : dataclass instance
        A record whose fields are scalars.

    Returns
    -------
    dict
        Field name to :func:`json_value` of its value.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Row:
    ...     name: str
    ...     value: float
    >>> json_record(Row("a", float("nan")))
    {'name': 'a', 'value': None}
    """
    return {f.name: json_value(getattr(obj, f.name)) for f in fields(obj)}
