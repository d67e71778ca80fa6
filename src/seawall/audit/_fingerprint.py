"""A reproducible SHA-256 fingerprint of the audited data and of the environment."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata

import pandas as pd

__all__ = ["data_fingerprint", "environment_versions"]


def data_fingerprint(frame: pd.DataFrame, columns: list[str]) -> str:
    """SHA-256 over the named columns' names and row hashes, in order.

    Row hashes come from :func:`pandas.util.hash_pandas_object` (index excluded),
    so the fingerprint depends on the values and their order, not on the file
    format the data came in.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    columns : list of str
        The columns the audit used.

    Returns
    -------
    str
        ``"sha256:"`` followed by the hex digest.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    >>> data_fingerprint(a, ["x", "y"]) == data_fingerprint(a.copy(), ["x", "y"])
    True
    >>> data_fingerprint(a, ["x", "y"]) == data_fingerprint(a.iloc[::-1], ["x", "y"])
    False
    """
    h = hashlib.sha256()
    for col in columns:
        h.update(col.encode("utf-8") + b"\x00")
        values = frame[col]
        if values.dtype.kind not in "biufcmM":
            # Text-like columns hash by their text, whatever the string dtype.
            values = (
                values.astype(object)
                .where(values.notna(), None)
                .map(lambda v: None if v is None else str(v))
            )
        hashed = pd.util.hash_pandas_object(values, index=False)
        h.update(hashed.to_numpy().tobytes())
    return "sha256:" + h.hexdigest()


def environment_versions() -> dict[str, str]:
    """Versions of Python and of the libraries the numbers depend on.

    Returns
    -------
    dict of str to str
        Package name to version.

    Examples
    --------
    >>> "numpy" in environment_versions()
    True
    """
    out = {"python": platform.python_version()}
    for name in ("seawall", "numpy", "scipy", "pandas", "pyarrow", "scikit-learn"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            from seawall._version import __version__

            out[name] = __version__ if name == "seawall" else "not installed"
    return out
