"""A block's streaming state as one Parquet file: a row per series, a column per array.

``StreamState.to_arrays()`` gives per-series vectors (level, scale, ...) and
matrices (seasonal slots, score counters), plus two scalars (the step and the
first counted step). Vectors become columns, matrices fixed-size list columns,
and the scalars the file's metadata, so a block's state reads back bit for bit.
Files are written under a temporary name and renamed, so a reader never sees
half a state.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from seawall.exceptions import DataValidationError
from seawall.monitoring import StreamState

__all__ = ["read_state", "write_state"]

_SCALARS = ("step", "n_init")
_META = b"seawall.stream_state"


def write_state(path: Path, keys: tuple[str, ...], state: StreamState) -> None:
    """Write a block's keys and state to ``path`` (atomically: temporary file, then rename).

    Parameters
    ----------
    path : Path
        The Parquet file to write.
    keys : tuple of str
        The block's series keys, in the state's row order.
    state : StreamState
        The state.

    Examples
    --------
    >>> import tempfile
    >>> from seawall.monitoring import StreamingDetector
    >>> det = StreamingDetector().fit(np.random.default_rng(0).normal(size=(2, 64)))
    >>> p = Path(tempfile.mkdtemp()) / "state.parquet"
    >>> write_state(p, ("a", "b"), det.state_)
    >>> keys, back = read_state(p)
    >>> keys, bool((back.level == det.state_.level).all())
    (('a', 'b'), True)
    """
    arrays = state.to_arrays()
    columns: dict[str, pa.Array] = {"series": pa.array(list(keys), pa.string())}
    for name, arr in arrays.items():
        if name in _SCALARS:
            continue
        if arr.ndim == 1:
            columns[name] = pa.array(arr)
        else:
            width = arr.shape[1]
            flat = pa.array(np.ascontiguousarray(arr).reshape(-1))
            columns[name] = pa.FixedSizeListArray.from_arrays(flat, width)
    meta = {name: int(arrays[name]) for name in _SCALARS}
    table = pa.table(columns).replace_schema_metadata({_META: json.dumps(meta).encode()})
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def read_state(path: Path) -> tuple[tuple[str, ...], StreamState]:
    """Read a block's keys and state written by :func:`write_state`.

    Parameters
    ----------
    path : Path
        The Parquet file.

    Returns
    -------
    keys : tuple of str
        The series keys.
    state : StreamState
        The state.

    Raises
    ------
    DataValidationError
        When the file is not a stream state.
    """
    table = pq.read_table(path)
    meta = (table.schema.metadata or {}).get(_META)
    if meta is None:
        raise DataValidationError(
            f"{str(path)!r} is not a Seawall stream state (no {_META.decode()} metadata); "
            f"point at the directory fit_stream wrote."
        )
    scalars = json.loads(meta)
    arrays: dict[str, npt.ArrayLike] = {n: np.asarray(scalars[n], dtype=np.int64) for n in _SCALARS}
    for name in table.column_names:
        if name == "series":
            continue
        col = table.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(col.type):
            width = col.type.list_size
            arrays[name] = col.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
        else:
            arrays[name] = col.to_numpy(zero_copy_only=False)
    keys = tuple(table.column("series").to_pylist())
    return keys, StreamState.from_arrays(arrays)
