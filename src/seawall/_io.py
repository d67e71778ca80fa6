"""Reading tables from files: CSV and Parquet, with clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from seawall.exceptions import DataValidationError

__all__ = ["file_sha256", "read_table", "write_table"]

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


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    r"""Write a DataFrame as CSV, TSV or Parquet, by the file's suffix.

    The file is written next to its destination and renamed into place, so a
    failed write never leaves half a file behind.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : str or Path
        The destination; its suffix (``.csv``, ``.tsv``, ``.parquet``, ``.pq``)
        says the format. Missing parent folders are created.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DataValidationError
        On an unknown suffix, or when the file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> p = write_table(pd.DataFrame({"a": [1]}), Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_text()
    'a\n1\n'
    """
    p = Path(path)
    kind = _FORMATS.get(p.suffix.lower())
    if kind is None:
        raise DataValidationError(
            f"the output file {str(p)!r} has the suffix {p.suffix!r}; expected one of "
            f"{sorted(_FORMATS)} (CSV or Parquet)."
        )
    tmp = p.with_name(f".{p.name}.partial")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        if kind == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, sep="," if kind == "csv" else "\t", index=False)
        tmp.replace(p)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DataValidationError(f"could not write {str(p)!r}: {e}. Check the path.") from e
    return p


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
