"""Reading tables from files: CSV and Parquet, with clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from seawall.exceptions import DataValidationError

__all__ = ["file_sha256", "read_table"]

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".tsv": "tsv"}


def read_table(path: str | Path) -> pd.DataFrame:
    r"""Read a CSV, TSV or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str or Path
        The file; its suffix (``.csv``, ``.tsv``, ``.parquet``, ``.pq``) says its format.

    Returns
    -------
    pandas.DataFrame
        The table, with leading spaces after delimiters stripped (CSV).

    Raises
    ------
    DataValidationError
        When the file is missing, of an unknown format, unreadable or empty.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("a,b\n1, x\n")
    >>> read_table(p).to_dict("list")
    {'a': [1], 'b': ['x']}
    """
    p = Path(path)
    if not p.exists():
        raise DataValidationError(f"the data file {str(p)!r} does not exist; check the path.")
    if p.is_dir():
        raise DataValidationError(
            f"the data file {str(p)!r} is a directory; pass a CSV or Parquet file."
        )
    kind = _FORMATS.get(p.suffix.lower())
    if kind is None:
        raise DataValidationError(
            f"the data file {str(p)!r} has the suffix {p.suffix!r}; expected one of "
            f"{sorted(_FORMATS)} (CSV or Parquet). Rename or convert the file."
        )
    try:
        if kind == "parquet":
            frame = pd.read_parquet(p)
        else:
            frame = pd.read_csv(p, sep="," if kind == "csv" else "\t", skipinitialspace=True)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise DataValidationError(
            f"could not read {str(p)!r} as {kind.upper()}: {e}. Check that the file is a "
            f"valid {kind.upper()} file."
        ) from e
    except ImportError as e:  # pragma: no cover - pyarrow is a dependency
        raise DataValidationError(f"reading {kind} needs pyarrow: {e}") from e
    if frame.shape[0] == 0:
        raise DataValidationError(f"the data file {str(p)!r} has no rows.")
    return frame


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        The hex digest.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
