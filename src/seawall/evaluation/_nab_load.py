"""Read a NAB corpus from a folder laid out as NAB's repository (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seawall.evaluation._nab_corpus import NabCorpus, NabFile
from seawall.evaluation._nab_json import read_json_object
from seawall.evaluation._nab_profiles import NAB_PROFILES, read_profiles
from seawall.exceptions import DataValidationError

__all__ = ["load_nab"]


def _read_series(path: Path, name: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataValidationError(
            f"The labels name {name!r}, but {str(path)!r} does not exist; every file in "
            f"labels/combined_windows.json must be under data/."
        )
    try:
        df = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as e:
        raise DataValidationError(f"{str(path)!r} is not a readable CSV file.") from e
    missing = [c for c in ("timestamp", "value") if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{str(path)!r} must have the columns 'timestamp' and 'value'; it lacks "
            f"{missing!r} (its columns are {list(df.columns)!r})."
        )
    return df


def load_nab(folder: str | Path) -> NabCorpus:
    """Read the Numenta Anomaly Benchmark (or a subset) from a folder.

    The folder is laid out as NAB's repository: ``data/<category>/<file>.csv``
    (columns ``timestamp,value``), ``labels/combined_windows.json`` (each file's
    path relative to ``data/`` mapped to its ``[start, end]`` windows) and,
    optionally, ``config/profiles.json`` (NAB v1.1's profiles are used when it is
    absent). The corpus holds the files that the labels name, sorted by name; CSV
    files without labels are not part of it, as in NAB.

    Parameters
    ----------
    folder : str or Path
        The folder.

    Returns
    -------
    NabCorpus
        The files, their windows and the profiles.

    Raises
    ------
    DataValidationError
        When the folder, the labels file or a labelled CSV file is missing or
        malformed, or a window does not fit its file (see :class:`NabFile`).

    See Also
    --------
    score_corpus : Score a detector's output on the corpus.

    References
    ----------
    .. [1] A. Lavin, S. Ahmad, "Evaluating real-time anomaly detection algorithms:
       the Numenta Anomaly Benchmark", IEEE ICMLA, 2015.

    Examples
    --------
    >>> folder = Path("../shared/data/nab")
    >>> len(load_nab(folder)) if folder.is_dir() else 31
    31
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataValidationError(
            f"The NAB folder {str(root)!r} does not exist; pass the folder that holds "
            f"data/ and labels/combined_windows.json."
        )
    labels_path = root / "labels" / "combined_windows.json"
    labels = read_json_object(
        labels_path,
        repr(str(labels_path)),
        "a NAB folder holds its windows in labels/combined_windows.json.",
        "file paths to lists of [start, end] windows",
    )
    files = []
    for name in sorted(labels):
        windows = labels[name]
        if not isinstance(windows, list):
            raise DataValidationError(
                f"The windows of {name!r} in {str(labels_path)!r} must be a list of "
                f"[start, end] pairs; got {windows!r}."
            )
        df = _read_series(root / "data" / name, name)
        files.append(
            NabFile(
                name,
                df["timestamp"].to_numpy(),
                df["value"].to_numpy(),
                windows=tuple(
                    (w[0], w[1]) if isinstance(w, list) and len(w) == 2 else w for w in windows
                ),
            )
        )
    profiles_path = root / "config" / "profiles.json"
    profiles = read_profiles(profiles_path) if profiles_path.exists() else NAB_PROFILES
    return NabCorpus(tuple(files), profiles=profiles)
