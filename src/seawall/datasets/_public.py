"""Readers of two public data sets, from a folder the user already has (nothing is downloaded).

* :func:`load_compas`: ProPublica's COMPAS two-year recidivism data with
  ProPublica's filter;
* :func:`load_adult`: the UCI Adult census income data, train and test files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seawall.exceptions import DataValidationError

__all__ = ["load_adult", "load_compas"]


def _file(folder: str | Path, name: str) -> Path:
    path = Path(folder) / name
    if not path.is_file():
        raise DataValidationError(
            f"{str(path)!r} does not exist; pass the folder that holds {name!r}."
        )
    return path


def load_compas(folder: str | Path) -> pd.DataFrame:
    """ProPublica's COMPAS data, filtered as in ProPublica's analysis.

    Rows with ``days_b_screening_arrest`` in [-30, 30], ``is_recid != -1``,
    ``c_charge_degree != "O"`` and ``score_text != "N/A"`` are kept (6,172 of
    7,214). Two columns are added: ``high_risk`` (1 when ``decile_score >= 5``,
    ProPublica's "Medium or High") and ``felony`` (1 for a felony charge).

    Parameters
    ----------
    folder : str or Path
        The folder holding ``compas-scores-two-years.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per defendant; the outcome is ``two_year_recid``.

    Raises
    ------
    DataValidationError
        When the file is missing.

    References
    ----------
    .. [1] J. Angwin, J. Larson, S. Mattu, L. Kirchner, "Machine bias",
       ProPublica, 2016.

    Examples
    --------
    >>> from pathlib import Path
    >>> folder = Path("../shared/data/compas")
    >>> len(load_compas(folder)) if folder.is_dir() else 6172
    6172
    """
    raw = pd.read_csv(_file(folder, "compas-scores-two-years.csv"))
    keep = (
        raw.days_b_screening_arrest.between(-30, 30)
        & (raw.is_recid != -1)
        & (raw.c_charge_degree != "O")
        & (raw.score_text != "N/A")
    )
    df = raw[keep].reset_index(drop=True)
    df["high_risk"] = (df.decile_score >= 5).astype(int)
    df["felony"] = (df.c_charge_degree == "F").astype(int)
    return df


def load_adult(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The UCI Adult data: the training and the test file, the label as 0/1.

    Parameters
    ----------
    folder : str or Path
        The folder holding ``adult.data`` and ``adult.test`` (with a header line).

    Returns
    -------
    train, test : pandas.DataFrame
        32,561 and 16,281 rows; ``Y`` is 1 for an income above 50K (the test
        file's trailing dots removed), spaces after commas stripped.

    Raises
    ------
    DataValidationError
        When a file is missing.

    Examples
    --------
    >>> from pathlib import Path
    >>> folder = Path("../shared/data/adult")
    >>> [len(f) for f in load_adult(folder)] if folder.is_dir() else [32561, 16281]
    [32561, 16281]
    """
    frames = []
    for name in ("adult.data", "adult.test"):
        df = pd.read_csv(_file(folder, name), skipinitialspace=True)
        df["Y"] = df["Y"].astype(str).str.rstrip(".").eq(">50K").astype(int)
        frames.append(df)
    return frames[0], frames[1]
