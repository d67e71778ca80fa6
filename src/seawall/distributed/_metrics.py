"""Group fairness metrics of a partitioned Parquet data set, counted on a Dask cluster."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from seawall._validation import check_real
from seawall.audit._fingerprint import data_fingerprint
from seawall.distributed._cells import (
    OUTCOME,
    ROWS,
    SQUARED,
    SQUARES,
    SUMS,
    WEIGHT,
    CellSpec,
    count_cells,
)
from seawall.distributed._cells import merge_cells as _merge_tables
from seawall.distributed._cluster import connect
from seawall.distributed._files import check_columns, parquet_files, read_columns
from seawall.distributed._reduce import map_reduce
from seawall.distributed._scores import ScoreParts, distributed_score_stats
from seawall.exceptions import DataValidationError, InsufficientDataError
from seawall.metrics._assembly import CommonParams, checked_count_tables, sensitive_columns
from seawall.metrics._counts import CountTables
from seawall.metrics._group_metrics import metrics_from_tables
from seawall.metrics._regression import regression_from_sums
from seawall.metrics._result import GroupMetrics

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "Counted",
    "cell_spec",
    "combined_fingerprint",
    "count_partitions",
    "group_metrics",
    "regression_metrics",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Counted:
    """A data set's confusion count tables, merged from its partitions.

    Attributes
    ----------
    tables : CountTables
        The counts per fine cell, as one pass over the whole table would give.
    n_rows : int
        Rows counted.
    n_partitions : int
        Parquet files read.
    fingerprint : str or None
        ``"sha256:"`` and the digest of the partitions' fingerprints in file
        order (each the SHA-256 of the audited columns' row hashes), when asked.
    sums, squares : ndarray of float64, shape (n_fine, 5), or None
        For regression: per fine cell, the weighted sums and sums of squares of
        :data:`~seawall.metrics._regression.REGRESSION_QUANTITIES`.
    """

    tables: CountTables
    n_rows: int
    n_partitions: int
    fingerprint: str | None
    sums: FloatArray | None = None
    squares: FloatArray | None = None

    def metrics(
        self,
        reference: str | Mapping[str, str] | None,
        params: CommonParams,
        scores: ScoreParts | None = None,
        n_bootstrap: int = 0,
    ) -> GroupMetrics:
        """The group metrics of the counted data (classification or regression).

        Parameters
        ----------
        reference : str, mapping of str to str, or None
            The reference group(s).
        params : CommonParams
            The level, minimum group size, correction and seed.
        scores : ScoreParts or None, default=None
            The score histogram and AUCs, for the score metrics.
        n_bootstrap : int, default=0
            Bootstrap replicates of the score metrics (seeded by ``params.seed``).

        Returns
        -------
        GroupMetrics
            As the in-memory function returns it.
        """
        if self.sums is not None and self.squares is not None:
            return regression_from_sums(
                self.tables, self.sums, self.squares, reference, params, self.n_rows
            )
        stats = None if scores is None else scores.stats(n_bootstrap, params.seed)
        return metrics_from_tables(self.tables, reference, params, self.n_rows, stats, n_bootstrap)


def _count_part(
    item: tuple[int, str], spec: CellSpec, fingerprint: bool
) -> tuple[pa.Table, dict[int, str]]:
    """One partition's cells and, when asked, its fingerprint, from one read of the file."""
    index, path = item
    table = read_columns(path, spec.columns, "the audit")
    cells = count_cells(table, spec, Path(path).name)
    if not fingerprint:
        return cells, {}
    return cells, {index: data_fingerprint(table.to_pandas(), spec.columns)}


def _merge(
    spec: CellSpec, *parts: tuple[pa.Table, dict[int, str]]
) -> tuple[pa.Table, dict[int, str]]:
    digests: dict[int, str] = {}
    for _, d in parts:
        digests.update(d)
    return _merge_tables(spec, *(t for t, _ in parts)), digests


def count_partitions(
    client: Client,
    files: Sequence[str],
    spec: CellSpec,
    *,
    fingerprint: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Counted:
    """Count every partition on the cluster and merge the tables exactly.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    files : sequence of str
        The partitions, in order.
    spec : CellSpec
        The columns.
    fingerprint : bool, default=False
        Also fingerprint the audited columns of every partition.
    progress : callable or None, default=None
        Called with ``(partitions_done, n_partitions)``.

    Returns
    -------
    Counted
        The merged tables.

    Raises
    ------
    InsufficientDataError
        When the partitions hold no row.
    DataValidationError
        When ``positive_label`` never occurs, a sensitive feature has one
        group, or a partition holds bad values (the message names it).
    """
    check_columns(files[0], spec.columns, "the audit")
    merged, digests = map_reduce(
        client,
        _count_part,
        list(enumerate(files)),
        partial(_merge, spec),
        spec,
        fingerprint,
        progress=progress,
        key="seawall-count",
    )
    frame = merged.to_pandas()
    rows = frame[ROWS].to_numpy(dtype=np.float64)
    n_rows = int(rows.sum())
    if n_rows == 0:
        raise InsufficientDataError(
            f"the {len(files)} partition(s) hold no row; an audit needs at least one."
        )
    outcome = frame[OUTCOME].to_numpy(dtype=np.int8)
    if spec.positive_label is not None and not rows[outcome >= 2].sum():
        raise DataValidationError(
            f"positive_label={spec.positive_label!r} does not occur in the label column "
            f"{spec.label!r} of any of the {len(files)} partition(s)."
        )
    columns = sensitive_columns(frame[list(spec.sensitive)], len(frame))
    regression = spec.task == "regression"
    tables = checked_count_tables(
        columns,
        outcome,
        1 if regression else 4,
        frame[WEIGHT].to_numpy(dtype=np.float64) if spec.weight else None,
        multiplicity=rows,
        squared_weight=frame[SQUARED].to_numpy(dtype=np.float64) if spec.weight else None,
    )
    sums = squares = None
    if regression:
        cell = tables.row_cells()

        def per_cell(names: tuple[str, ...]) -> FloatArray:
            cols = [np.bincount(cell, frame[c].to_numpy(np.float64), tables.n_fine) for c in names]
            return np.stack(cols, axis=1).astype(np.float64)

        sums, squares = per_cell(SUMS), per_cell(SQUARES)
    digest = combined_fingerprint([digests[i] for i in range(len(files))]) if fingerprint else None
    return Counted(tables, n_rows, len(files), digest, sums, squares)


def combined_fingerprint(digests: Sequence[str]) -> str:
    """The fingerprint of a partitioned data set: SHA-256 of its partitions' fingerprints in order.

    Examples
    --------
    >>> combined_fingerprint(["sha256:ab", "sha256:cd"])[:15]
    'sha256:19025c76'
    """
    h = hashlib.sha256()
    for d in digests:
        h.update(d.encode("ascii") + b"\n")
    return "sha256:" + h.hexdigest()


def group_metrics(
    source: str | Path | Sequence[str | Path],
    *,
    label: str,
    prediction: str,
    sensitive: str | Sequence[str],
    score: str | None = None,
    weight: str | None = None,
    positive_label: str | None = None,
    reference: str | Mapping[str, str] | None = None,
    min_group_size: int = 30,
    confidence_level: float = 0.95,
    correction: Literal["holm", "bh", "none"] = "holm",
    n_bootstrap: int = 1000,
    n_calibration_bins: int = 10,
    random_state: int = 0,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GroupMetrics:
    """:func:`seawall.metrics.group_metrics` of a partitioned Parquet data set, on Dask.

    Each worker reads one partition's label, prediction, sensitive (and weight)
    columns and counts its rows per combination of sensitive values and
    outcome; the small count tables are added up in a tree on the cluster, and
    the client computes every metric, interval and test from the merged table,
    which is exactly the table of the whole data. The result equals
    ``group_metrics`` on the data in memory (counts exactly, weighted sums to
    floating-point rounding), whatever the partitioning.

    With ``score``, three more passes give the score metrics exactly (see
    :mod:`seawall.distributed._scores`): the exact AUC needs the scores in
    order, which is a distributed sort, so the cluster holds about 21 bytes a
    row while it runs.

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory of Parquet files, a glob, a file or a list of files
        (see :func:`parquet_files`); workers must be able to open the paths.
    label, prediction : str
        The true outcome and the model's decision columns (0/1 or bool).
    sensitive : str or sequence of str
        The sensitive feature column(s); with several, their intersection too.
    score : str or None, default=None
        The model's score or probability column (adds AUC, Brier score and
        calibration error).
    weight : str or None, default=None
        A column of non-negative row weights.
    positive_label : str or None, default=None
        The label value that counts as positive, when labels are not 0/1.
    reference, min_group_size, confidence_level, correction
        As for :func:`seawall.metrics.group_metrics`.
    n_bootstrap, n_calibration_bins, random_state
        As for :func:`seawall.metrics.group_metrics` (score metrics only).
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"`` (see :func:`connect`).
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(partitions_done, n_partitions)``.

    Returns
    -------
    GroupMetrics
        As :func:`seawall.metrics.group_metrics` returns it.

    Raises
    ------
    DataValidationError
        On a missing column or bad values (naming the partition), or an
        unknown reference group.
    InvalidParameterError
        On a parameter out of range.
    ConfigError
        When Dask is missing or the scheduler cannot be reached.

    See Also
    --------
    seawall.metrics.group_metrics : The same on data in memory.

    Examples
    --------
    >>> from seawall.datasets import write_audit_parquet  # doctest: +SKIP
    >>> data = write_audit_parquet("parts", 1_000_000, rows_per_file=250_000)  # doctest: +SKIP
    >>> res = group_metrics(data.directory, label="label", prediction="prediction",
    ...                     sensitive=["sex", "race"], n_workers=2)  # doctest: +SKIP
    """
    caller = "group_metrics"
    params = CommonParams(caller, confidence_level, min_group_size, correction, random_state)
    n_boot = int(check_real(n_bootstrap, "n_bootstrap", caller, low=0, integer=True))
    n_calib = int(check_real(n_calibration_bins, "n_calibration_bins", caller, low=2, integer=True))
    spec = cell_spec(label, prediction, sensitive, weight, positive_label, score=score)
    files = parquet_files(source)
    with connect(scheduler, n_workers=n_workers) as client:
        counted = count_partitions(client, files, spec, progress=progress)
        parts = None
        if score is not None:
            parts = distributed_score_stats(
                client, files, spec, score, counted.tables, counted.n_rows, n_calib
            )
    return counted.metrics(reference, params, parts, n_boot)


def regression_metrics(
    source: str | Path | Sequence[str | Path],
    *,
    label: str,
    prediction: str,
    sensitive: str | Sequence[str],
    weight: str | None = None,
    reference: str | Mapping[str, str] | None = None,
    min_group_size: int = 30,
    confidence_level: float = 0.95,
    correction: Literal["holm", "bh", "none"] = "holm",
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GroupMetrics:
    """:func:`seawall.metrics.regression_metrics` of a partitioned Parquet data set, on Dask.

    Each worker adds up, per combination of sensitive values, the rows, weights
    and the weighted sums and sums of squares of the target, the prediction, the
    error, its absolute value and its square; the client computes the means,
    Welch intervals and tests from the merged sums. The result equals the
    in-memory one up to floating-point rounding of the sums.

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory of Parquet files, a glob, a file or a list of files.
    label, prediction : str
        The target and the model's prediction columns (numbers).
    sensitive : str or sequence of str
        The sensitive feature column(s).
    weight : str or None, default=None
        A column of non-negative row weights.
    reference, min_group_size, confidence_level, correction
        As for :func:`seawall.metrics.regression_metrics`.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"``.
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(partitions_done, n_partitions)``.

    Returns
    -------
    GroupMetrics
        As :func:`seawall.metrics.regression_metrics` returns it.

    Raises
    ------
    DataValidationError
        On a missing column or a non-numeric or missing value (naming the partition).

    Examples
    --------
    >>> res = regression_metrics("parts/", label="y", prediction="y_hat",
    ...                          sensitive="region")  # doctest: +SKIP
    """
    caller = "regression_metrics"
    params = CommonParams(caller, confidence_level, min_group_size, correction, 0)
    spec = cell_spec(label, prediction, sensitive, weight, None, task="regression")
    files = parquet_files(source)
    with connect(scheduler, n_workers=n_workers) as client:
        counted = count_partitions(client, files, spec, progress=progress)
    return counted.metrics(reference, params)


def cell_spec(
    label: str,
    prediction: str,
    sensitive: str | Sequence[str],
    weight: str | None,
    positive_label: str | None,
    *,
    task: str = "classification",
    score: str | None = None,
) -> CellSpec:
    """Validate column names into a :class:`CellSpec`.

    Raises
    ------
    InvalidParameterError
        When a name is not a string, no sensitive column is named, or a column
        plays two roles.
    """
    from seawall._validation import param_error
    from seawall.exceptions import InvalidParameterError

    sens = (sensitive,) if isinstance(sensitive, str) else tuple(sensitive)
    if not sens:
        raise InvalidParameterError(
            "The 'sensitive' parameter must name at least one column. Got () instead."
        )
    roles = {"label": label, "prediction": prediction, "weight": weight, "score": score}
    roles.update({f"sensitive ({i + 1})": s for i, s in enumerate(sens)})
    seen: dict[str, str] = {}
    for role, col in roles.items():
        if col is None and role in ("weight", "score"):
            continue
        if not isinstance(col, str) or not col:
            raise param_error(role, "group_metrics", "a column name", col)
        if col in seen:
            raise InvalidParameterError(
                f"the column {col!r} is named as {seen[col]} and as {role}; give each role "
                f"its own column."
            )
        seen[col] = role
    return CellSpec(label, prediction, sens, weight, positive_label, task, score)
