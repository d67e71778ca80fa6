"""Reading one partition of prediction logs: its columns, and the keys in its path.

Files written with hive-style partitioning (``logs/model=fraud/part-0.parquet``,
as Spark, Dask or ``pyarrow.parquet.write_to_dataset`` write them) do not hold
the partition column: its value is in the path. A column that a file lacks is
taken from a ``name=value`` directory of its path when there is one (as text),
so logs partitioned by model that way need no model column in the files.
Dictionary-encoded columns are read as their values: each file has its own
dictionary.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from urllib.parse import unquote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from seawall.exceptions import DataValidationError

__all__ = ["check_part", "hive_keys", "read_part"]

_ROLE = "the windowed metrics"


def hive_keys(path: str) -> dict[str, str]:
    """The ``name=value`` directories of a path, innermost last.

    Parameters
    ----------
    path : str
        A file's path.

    Returns
    -------
    dict of str to str
        Each key's value, URL-decoded.

    Examples
    --------
    >>> hive_keys("logs/model=fraud%2Fv2/day=2024-01-01/part-0.parquet")
    {'model': 'fraud/v2', 'day': '2024-01-01'}
    """
    keys: dict[str, str] = {}
    for segment in PurePath(path).parts[:-1]:
        name, sep, value = segment.partition("=")
        if sep and name:
            keys[unquote(name)] = unquote(value)
    return keys


def check_part(path: str, columns: Sequence[str]) -> list[str]:
    """Check that a partition has the columns (in the file or its path); return the file's.

    Parameters
    ----------
    path : str
        The file.
    columns : sequence of str
        The columns needed.

    Returns
    -------
    list of str
        The needed columns the file holds (the others come from its path).

    Raises
    ------
    DataValidationError
        When a column is neither in the file nor a key of its path.
    """
    names = pq.read_schema(path).names
    keys = hive_keys(path)
    missing = [c for c in columns if c not in names and c not in keys]
    if missing:
        raise DataValidationError(
            f"column {missing[0]!r} needed by {_ROLE} is not in {path!r}; its columns are "
            f"{names!r}. Check the column names (every partition must have them, in the "
            f"file or as a name=value directory of its path)."
        )
    return [c for c in columns if c in names]


def read_part(path: str, columns: Sequence[str]) -> pd.DataFrame:
    """Read columns of one partition as pandas (path keys as text, dictionaries decoded).

    Parameters
    ----------
    path : str
        The file.
    columns : sequence of str
        The columns.

    Returns
    -------
    pandas.DataFrame
        The columns, in the order asked.

    Raises
    ------
    DataValidationError
        When a column is neither in the file nor a key of its path.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp()) / "model=m1"
    >>> folder.mkdir()
    >>> pd.DataFrame({"x": pd.Categorical(["a", "b"])}).to_parquet(folder / "p.parquet")
    >>> frame = read_part(str(folder / "p.parquet"), ["model", "x"])
    >>> frame.values.tolist(), str(frame["x"].dtype) != "category"
    ([['m1', 'a'], ['m1', 'b']], True)
    """
    held = check_part(path, columns)
    table = pq.read_table(path, columns=held)
    keys = hive_keys(path)
    data = {}
    for c in columns:
        if c in held:
            col = table.column(c)
            data[c] = col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col
        else:
            data[c] = pa.array([keys[c]] * table.num_rows, pa.string())
    frame: pd.DataFrame = pa.table(data).to_pandas()
    return frame
