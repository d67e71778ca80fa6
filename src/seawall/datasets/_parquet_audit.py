"""A classifier's decision log, with planted disparities, as partitioned Parquet.

:func:`write_audit_parquet` feeds scale-out fairness audits (one task per file).
Rows are independent draws, so file ``i`` needs nothing but its own stream,
``SeedSequence(random_state, spawn_key=(0, i))``: it is the same whichever other
files are written, in whatever order. The planted effects' exact expected sizes are
computed from the same constants the draws use. The checks, file names, seeding and
write loop are shared with the fleet writer (``seawall.datasets._parquet``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy.special import ndtr

from seawall._validation import check_real, check_seed
from seawall.datasets._parquet import (
    ROW_GROUP_ROWS,
    Progress,
    check_directory,
    check_progress,
    dictionary_array,
    file_rng,
    write_files,
)
from seawall.datasets._parquet_result import PartitionedData
from seawall.datasets._planted import PlantedEffect

__all__ = ["write_audit_parquet"]

I8 = npt.NDArray[np.int8]

_AUDIT_CALLER = "write_audit_parquet"
# (column, labels, shares), drawn in this order.
_GROUPS: tuple[tuple[str, tuple[str, ...], tuple[float, ...]], ...] = (
    ("sex", ("female", "male"), (0.5, 0.5)),
    ("race", ("A", "B", "C", "D", "E"), (0.55, 0.20, 0.13, 0.08, 0.04)),
    ("age_group", ("18-25", "26-40", "41-60", "61+"), (0.15, 0.35, 0.33, 0.17)),
    (
        "region",
        ("north", "north-east", "east", "south-east", "south")
        + ("south-west", "west", "north-west", "central", "islands"),
        (0.16, 0.12, 0.12, 0.10, 0.12, 0.08, 0.10, 0.08, 0.08, 0.04),
    ),
    (
        "income_band",
        ("very_low", "low", "middle", "high", "very_high"),
        (0.15, 0.25, 0.30, 0.20, 0.10),
    ),
)
_AUDIT_COLUMNS = ("row_id", "label", "prediction", "score") + tuple(g[0] for g in _GROUPS)
_SEX, _RACE, _AGE, _REGION, _INCOME = range(5)
# Legitimate effects on the base rate (log-odds): income band and age group only,
# never race or sex, so every race has the same base rate.
_LABEL_LOGIT = (
    -0.45 + np.array([-0.8, -0.4, 0.0, 0.4, 0.8])[:, None] + np.array([-0.4, 0.0, 0.2, 0.1])
)
_P_LABEL = 1.0 / (1.0 + np.exp(-_LABEL_LOGIT))  # (income band, age group)
# The score is sigmoid(z), z = _OFFSET + separation * (2 y - 1) - penalty + N(0, 1),
# and the decision is score >= 0.5 (z >= 0).
_OFFSET = -0.1
_SEPARATION = 1.2
_SLICE_SEPARATION = 0.6  # the weak slice: the model tells the classes apart less well
_PENALTY = 0.55  # the race group whose scores are pushed down
_GROUP = 2  # race "C"
_SLICE = (5, 1)  # region "south-west" x income band "low"


def _latent_shift() -> npt.NDArray[np.float64]:
    """The mean of z for each (label, in slice, in the group) cell, flattened in that order."""
    y = np.array([-1.0, 1.0])[:, None, None]
    sep = np.array([_SEPARATION, _SLICE_SEPARATION])[None, :, None]
    pen = np.array([0.0, _PENALTY])[None, None, :]
    out: npt.NDArray[np.float64] = (_OFFSET + sep * y - pen).reshape(-1)
    return out


_Z_SHIFT = _latent_shift().astype(np.float32)


def _audit_effects() -> tuple[PlantedEffect, ...]:
    """The two planted effects, with their exact expected sizes.

    The expectation is taken over every cell of (race, region, income band, age
    group, label): P(decision = 1 | cell) = Phi(mean of z in the cell).
    """
    # Axes: (race, age group, region, income band); sex plays no part.
    shares = [np.asarray(_GROUPS[g][2]) for g in (_RACE, _AGE, _REGION, _INCOME)]
    race, age, region, income = np.meshgrid(*shares, indexing="ij", sparse=True)
    p_cell = race * age * region * income
    in_group = (np.arange(5) == _GROUP)[:, None, None, None]
    in_slice = ((np.arange(10) == _SLICE[0])[:, None] & (np.arange(5) == _SLICE[1]))[None, None]
    cell = in_slice * 2 + in_group
    py = _P_LABEL.T[None, :, None, :]
    shift = _latent_shift()
    p_pos = py * ndtr(shift[4 + cell]) + (1 - py) * ndtr(shift[cell])
    p_err = py * (1 - ndtr(shift[4 + cell])) + (1 - py) * ndtr(shift[cell])
    grp = np.broadcast_to(in_group, p_cell.shape)
    slc = np.broadcast_to(in_slice, p_cell.shape)

    def rate(values: Any, mask: Any) -> float:
        return float((values * p_cell)[mask].sum() / p_cell[mask].sum())

    region_name = _GROUPS[_REGION][1][_SLICE[0]]
    income_name = _GROUPS[_INCOME][1][_SLICE[1]]
    group_name = _GROUPS[_RACE][1][_GROUP]
    selection = rate(p_pos, grp) - rate(p_pos, ~grp)
    error = rate(p_err, slc) - rate(p_err, ~slc)
    return (
        PlantedEffect(
            "output_association",
            (),
            group_name,
            selection,
            1.0,
            None,
            f"race == {group_name!r} is selected {-selection:.3f} less often than the "
            f"other races at the same base rate (ratio "
            f"{rate(p_pos, grp) / rate(p_pos, ~grp):.2f}).",
        ),
        PlantedEffect(
            "weak_slice",
            (("region", region_name), ("income_band", income_name)),
            None,
            error,
            float(_GROUPS[_REGION][2][_SLICE[0]] * _GROUPS[_INCOME][2][_SLICE[1]]),
            None,
            f"The model errs {error:.3f} more often in region == {region_name!r} and "
            f"income_band == {income_name!r} than elsewhere.",
        ),
    )


def _codes(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> I8:
    """``n`` draws of a category with the given shares, as int8 codes."""
    inner = np.cumsum(shares)[:-1].astype(np.float32)
    return np.searchsorted(inner, rng.random(n, dtype=np.float32), side="right").astype(np.int8)


def _audit_table(rng: np.random.Generator, first_row: int, n: int) -> pa.Table:
    """One row group of the audit log: ``n`` rows from ``first_row`` on (kernel; valid input)."""
    codes = [_codes(rng, n, shares) for _, _, shares in _GROUPS]
    income, age = codes[_INCOME], codes[_AGE]
    p_label = _P_LABEL.astype(np.float32).reshape(-1)[income.astype(np.intp) * 4 + age]
    label = rng.random(n, dtype=np.float32) < p_label
    in_slice = (codes[_REGION] == _SLICE[0]) & (income == _SLICE[1])
    cell = label.view(np.int8) * 4 + in_slice.view(np.int8) * 2 + (codes[_RACE] == _GROUP)
    z = rng.standard_normal(n, dtype=np.float32)
    z += _Z_SHIFT[cell]
    # score = 1 / (1 + exp(-z)), in place; the clip keeps exp finite.
    np.clip(z, -30.0, 30.0, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    score = np.reciprocal(z, out=z)
    columns: dict[str, pa.Array] = {
        "row_id": pa.array(np.arange(first_row, first_row + n, dtype=np.int64)),
        "label": pa.array(label.view(np.int8)),
        "prediction": pa.array((score >= 0.5).view(np.int8)),
        "score": pa.array(score),
    }
    for (name, labels, _), c in zip(_GROUPS, codes, strict=True):
        columns[name] = dictionary_array(c, labels)
    return pa.table(columns)


def write_audit_parquet(
    directory: str | os.PathLike[str],
    n_rows: int,
    *,
    rows_per_file: int = 5_000_000,
    random_state: int = 0,
    progress: Progress | None = None,
) -> PartitionedData:
    """Write a binary classifier's decision log, with planted disparities, as Parquet files.

    Each row is one decision: the true ``label``, the model's ``score`` and its
    ``prediction`` (``score >= 0.5``), five group columns and a global ``row_id``.
    Rows are independent draws. The base rate depends on ``income_band`` and
    ``age_group`` only (a legitimate difference); two effects are planted
    (:attr:`PartitionedData.effects`, with their exact expected sizes):

    - ``race == "C"`` (13% of rows) has its scores pushed down, so it is selected
      0.101 less often than the other races (0.294 against 0.395; ratio 0.74,
      below the four-fifths rule) at the same base rate (0.387). Its
      false-negative rate rises with it.
    - In the weak slice ``region == "south-west"`` and ``income_band == "low"``
      (2% of rows) the model separates the classes less well: its error rate is
      0.144 higher than elsewhere (0.258 against 0.115), for every group alike.

    ``sex`` and, outside the slice, ``region`` carry no effect.

    Parameters
    ----------
    directory : str or os.PathLike
        Where to write; created if missing, and refused if it holds anything.
    n_rows : int
        The number of rows over all files; at least 1.
    rows_per_file : int, default=5_000_000
        Rows per file (the last file holds the rest); at least 1. Files are drawn
        and written a row group (2**20 rows) at a time, so memory does not grow
        with it.
    random_state : int, default=0
        The seed; a non-negative int. File ``i`` draws from its own stream (see the
        module's notes), so it is the same for every ``n_rows`` that fills it.
    progress : callable or None, default=None
        Called as ``progress(files_done, n_files)`` after each file.

    Returns
    -------
    PartitionedData
        The files (``part-00000.parquet``...), ``n_rows``, the columns and the
        planted ``effects``. Every file has the columns, in order:

        ``row_id`` : int64
            ``0`` to ``n_rows - 1``, contiguous across files: a stable row key.
        ``label``, ``prediction`` : int8
            0 or 1; about 39% and 38% ones.
        ``score`` : float32
            In [0, 1]; ``prediction == (score >= 0.5)`` exactly.
        ``sex``, ``race``, ``age_group``, ``region``, ``income_band`` : dictionary of string
            ``sex`` in {female, male} (half each); ``race`` in {A, B, C, D, E}
            (55, 20, 13, 8, 4%); ``age_group`` in {18-25, 26-40, 41-60, 61+};
            ten regions; ``income_band`` in {very_low, low, middle, high,
            very_high}. Each file's dictionary holds every value.

    Raises
    ------
    InvalidParameterError
        If ``n_rows`` or ``rows_per_file`` is not an int of at least 1,
        ``random_state`` is not a non-negative int, ``progress`` is not callable,
        or ``directory`` is a file or a directory that is not empty.

    See Also
    --------
    make_slices : a small in-memory log with more kinds of planted effect.
    write_fleet_parquet : a fleet's metric series, partitioned the same way.

    References
    ----------
    .. [1] M. Feldman, S. A. Friedler, J. Moeller, C. Scheidegger and
       S. Venkatasubramanian, "Certifying and Removing Disparate Impact", KDD 2015.
    .. [2] Y. Chung, T. Kraska, N. Polyzotis, K. H. Tae and S. E. Whang, "Slice
       Finder: Automated Data Slicing for Model Validation", ICDE 2019.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from seawall.datasets import write_audit_parquet
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     data = write_audit_parquet(Path(tmp) / "audit", 25_000, rows_per_file=10_000)
    ...     frame = pd.read_parquet(data.directory)
    >>> [f.name for f in data.files]
    ['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']
    >>> len(frame), frame["row_id"].is_monotonic_increasing
    (25000, True)
    >>> [e.kind for e in data.effects]
    ['output_association', 'weak_slice']
    >>> rates = frame.groupby("race", observed=True)["prediction"].mean()
    >>> bool(rates["C"] < rates["A"] - 0.05)
    True
    """
    n = int(check_real(n_rows, "n_rows", _AUDIT_CALLER, low=1, integer=True))
    per_file = int(check_real(rows_per_file, "rows_per_file", _AUDIT_CALLER, low=1, integer=True))
    seed = check_seed(random_state, "random_state", _AUDIT_CALLER)
    callback = check_progress(progress, _AUDIT_CALLER)
    path = check_directory(directory, _AUDIT_CALLER)
    n_files = -(-n // per_file)

    def make(i: int) -> Iterator[pa.Table]:
        rng = file_rng(seed, i)
        stop = min((i + 1) * per_file, n)
        for lo in range(i * per_file, stop, ROW_GROUP_ROWS):
            yield _audit_table(rng, lo, min(ROW_GROUP_ROWS, stop - lo))

    files = write_files(path, n_files, make, callback)
    return PartitionedData(path, files, n, _AUDIT_COLUMNS, seed, effects=_audit_effects())
