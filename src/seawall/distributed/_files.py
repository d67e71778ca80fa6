"""Partitioned Parquet inputs: a directory or a glob becomes a sorted list of files.

Each file is one partition and one task; a worker reads only the columns a task
needs. Workers must see the same paths as the client (a shared file system, or
a URL that pyarrow opens, such as ``s3://bucket/logs/``).
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from seawall.exceptions import DataValidationError

__all__ = ["check_columns", "parquet_files", "read_columns"]


def parquet_files(source: str | Path | Sequence[str | Path]) -> tuple[str, ...]:
    """The Parquet files of a data set, sorted by path.

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory (every ``*.parquet`` file under it, recursively, as written
        by Spark, Dask or :func:`seawall.datasets.write_audit_parquet`), a glob
        (``logs/2026-*/*.parquet``), one file, or a list of files.

    Returns
    -------
    tuple of str
        The files, sorted: their order is the data set's row order.

    Raises
    ------
    DataValidationError
        When nothing matches, or a listed file does not exist.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> d = Path(tempfile.mkdtemp())
    >>> for i in range(2):
    ...     pd.DataFrame({"x": [i]}).to_parquet(d / f"part-{i}.parquet")
    >>> [Path(f).name for f in parquet_files(d)]
    ['part-0.parquet', 'part-1.parquet']
    """
    if isinstance(source, str | Path):
        text = str(source)
        path = Path(text)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*.parquet") if p.is_file())
            where = f"the directory {text!r}"
        elif glob.has_magic(text):
            found = sorted(p for p in glob.glob(text, recursive=True) if Path(p).is_file())
            where = f"the pattern {text!r}"
        elif path.is_file():
            return (text,)
        else:
            raise DataValidationError(
                f"the data {text!r} is neither a directory, a glob nor a file; pass a "
                f"directory of Parquet files, a pattern such as 'logs/*.parquet', or a file."
            )
        if not found:
            raise DataValidationError(
                f"{where} holds no Parquet file (*.parquet); point at the folder the "
                f"partitions were written to."
            )
        return tuple(found)
    files = tuple(str(p) for p in source)
    if not files:
        raise DataValidationError("the list of Parquet files is empty; give at least one file.")
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise DataValidationError(
            f"{len(missing)} of the {len(files)} Parquet files do not exist, e.g. "
            f"{missing[0]!r}; check the paths."
        )
    return tuple(sorted(files))


def check_columns(path: str, columns: Sequence[str], role: str) -> None:
    """Check that a Parquet file has the named columns, from its schema alone.

    Run on the client against the first partition, so a misspelt column is
    reported before any task starts; :func:`read_columns` checks every partition.

    Parameters
    ----------
    path : str
        The file.
    columns : sequence of str
        The columns needed.
    role : str
        What the columns are for, for the error message.

    Raises
    ------
    DataValidationError
        When a column is missing.
    """
    names = pq.read_schema(path).names
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataValidationError(
            f"column {missing[0]!r} needed by {role} is not in {path!r}; its columns are "
            f"{names!r}. Check the column names (every partition must have them)."
        )


def read_columns(path: str, columns: Sequence[str], role: str) -> pa.Table:
    """Read the named columns of one Parquet file, or say which are missing.

    Parameters
    ----------
    path : str
        The file.
    columns : sequence of str
        The columns to read.
    role : str
        What the columns are for, for the error message ("the audit").

    Returns
    -------
    pyarrow.Table
        The columns, in the order asked.

    Raises
    ------
    DataValidationError
        When a column is missing from the file.
    """
    check_columns(path, columns, role)
    return pq.read_table(path, columns=list(columns))
