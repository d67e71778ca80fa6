"""The search/confirm split by a seeded hash of a row key, whatever the rows' order.

A random permutation of the rows depends on their order, so the same data read
in another order, or spread over partitions, would be split differently. A key
per row (an id) hashed with the seed gives each row its split from its key
alone: row ``i`` confirms iff ``u(key_i) < test_size``, where ``u`` is the
hash's top 53 bits as a number in [0, 1). Rows that share a key share a split,
which keeps repeated measurements of one unit on the same side.

Integer keys (and integral float keys, so a column read as float because of a
missing value hashes the same) are mixed with SplitMix64; other keys (text)
are hashed by :func:`pandas.util.hash_array` first. The seed enters through
the final mix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import check_lengths, to_1d

__all__ = ["held_out_by_key", "key_uniforms"]

U64 = npt.NDArray[np.uint64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
# Distinguishes a non-integral float's bit pattern from the integer with the same bits.
_FLOAT_TAG = np.uint64(0xD6E8FEB86659FD93)
# pandas' hash_array takes a 16-byte key; the seed is mixed in afterwards.
_HASH_KEY = "seawall-split-01"
_TWO_63 = 2.0**63


def _splitmix64(x: U64) -> U64:
    """SplitMix64's finaliser, elementwise (wrapping uint64 arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    out: U64 = z ^ (z >> np.uint64(31))
    return out


def _key_bits(keys: np.ndarray[Any, Any]) -> U64:
    """A uint64 per key that depends only on the key's value."""
    kind = keys.dtype.kind
    if kind in "biu":
        return keys.astype(np.int64).view(np.uint64)
    if kind in "Mm":
        return keys.view(np.int64).view(np.uint64)
    if kind == "f":
        x = keys.astype(np.float64)
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(x) & (np.floor(x) == x) & (np.abs(x) < _TWO_63)
        as_int = np.where(integral, x, 0.0).astype(np.int64).view(np.uint64)
        return np.where(integral, as_int, x.view(np.uint64) ^ _FLOAT_TAG)
    hashed: U64 = pd.util.hash_array(
        np.asarray(keys, dtype=object), hash_key=_HASH_KEY, categorize=False
    )
    return hashed


def key_uniforms(
    keys: object, random_state: int, name: str = "split_key"
) -> npt.NDArray[np.float64]:
    """A number in [0, 1) per row from a seeded hash of its key.

    Parameters
    ----------
    keys : array-like of shape (n,)
        One key per row (integers, text, ...).
    random_state : int
        The seed.
    name : str, default="split_key"
        The input's name, for messages.

    Returns
    -------
    ndarray of float64, shape (n,)
        The same number for the same key and seed, whatever the row order.

    Examples
    --------
    >>> u = key_uniforms([1, 2, 3], 0)
    >>> bool(((u >= 0) & (u < 1)).all()), key_uniforms([3], 0)[0] == u[2]
    (True, np.True_)
    """
    arr = to_1d(keys, name)
    seed = np.full(1, int(random_state), dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = _splitmix64(_key_bits(arr) ^ _splitmix64(seed)[0])
    return (mixed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def held_out_by_key(
    keys: object, test_size: float, random_state: int, *, n: int, name: str = "split_key"
) -> npt.NDArray[np.bool_]:
    """Which rows confirm: those whose seeded key hash falls below ``test_size``.

    Parameters
    ----------
    keys : array-like of shape (n,)
        One key per row.
    test_size : float
        The expected share of rows held out.
    random_state : int
        The seed.
    n : int
        The number of rows the keys must have.
    name : str, default="split_key"
        The input's name, for messages.

    Returns
    -------
    ndarray of bool, shape (n,)
        True for the rows held out to confirm.

    Raises
    ------
    DataValidationError
        When the keys do not align with the rows.

    Examples
    --------
    >>> held = held_out_by_key(np.arange(10_000), 0.3, 0, n=10_000)
    >>> round(float(held.mean()), 2)
    0.3
    """
    u = key_uniforms(keys, random_state, name)
    check_lengths({"the data": n, name: int(u.shape[0])})
    return u < test_size
