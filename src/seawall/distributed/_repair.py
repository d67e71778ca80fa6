"""Disparate-impact repair of a partitioned data set: fitted exactly on Dask, applied per partition.

The remover is fitted by :mod:`seawall.distributed._repair_fit` (exact knots
from a distributed sort, equal to the in-memory fit bit for bit). Then one
task per partition repairs it with the fitted remover and writes it as
Parquet. The tie-breaking and category draws of a row come from its position
in the data set (the files in order), skipped ahead to, not drawn, so every
row is repaired exactly as the in-memory ``transform`` of the whole table
repairs it. Files are written under a temporary name and renamed into place
once every partition is written, so a failed repair leaves none behind.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from seawall.distributed._cluster import connect
from seawall.distributed._files import check_columns, parquet_files
from seawall.distributed._reduce import map_parts, staged
from seawall.distributed._repair_fit import fit_on_cluster, in_partition
from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.mitigation._remover import DisparateImpactRemover

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["RepairedParts", "fit_remover", "repair"]

#: The suffix of a repaired partition until every partition is written.
_PARTIAL = ".partial"
_TRANSFORM = "DisparateImpactRemover.transform"


@dataclass(frozen=True)
class RepairedParts:
    """The repaired data set: where each partition went, and the remover that repaired it.

    Attributes
    ----------
    files : tuple of str
        The repaired partitions, one per input partition, in the same order.
    n_rows : int
        Rows repaired.
    remover : DisparateImpactRemover
        The fitted remover (its ``quantiles_``, ``groups_``, ...).
    """

    files: tuple[str, ...]
    n_rows: int
    remover: DisparateImpactRemover


def fit_remover(
    source: str | Path | Sequence[str | Path],
    remover: DisparateImpactRemover,
    *,
    sensitive: str | Sequence[str],
    features: str | Sequence[str],
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DisparateImpactRemover:
    """Fit a disparate-impact remover on partitioned Parquet data, exactly as in memory.

    The fitted remover equals ``remover.fit(X[features], sensitive_features=X[sensitive])``
    with ``X`` the partitions concatenated, whatever the partitioning; apply it
    in memory with ``transform`` or to partitions with :func:`repair`.

    Parameters
    ----------
    source : str, Path or sequence of them
        The partitions: a directory, a glob or a list of Parquet files.
    remover : DisparateImpactRemover
        Its parameters say what to learn; it is not modified.
    sensitive : str or sequence of str
        The protected attribute column(s).
    features : str or sequence of str
        The feature columns.
    scheduler : distributed.Client or str, default="local"
        As for :func:`seawall.distributed.connect`.
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(stage, done, total)``: "scan" (partitions) and "sort" (features).

    Returns
    -------
    DisparateImpactRemover
        A fitted clone of ``remover``.

    Raises
    ------
    DataValidationError
        On a missing column or bad values (naming the partition), or no rows.
    InvalidParameterError
        When ``remover`` has ``sensitive_column`` set (pass ``sensitive=``).
    InsufficientDataError
        When a group has no value of a numeric feature.

    Examples
    --------
    >>> remover = fit_remover("train-parts", DisparateImpactRemover(), sensitive="sex",
    ...                       features=["age", "hours"], n_workers=2)  # doctest: +SKIP
    >>> remover.quantiles_.shape  # doctest: +SKIP
    (2, 2, 1001)
    """
    sens, feats = _names(sensitive, features, remover)
    files = parquet_files(source)
    fitted = clone(remover)
    with connect(scheduler, n_workers=n_workers) as client:
        return fit_on_cluster(client, files, fitted, sens, feats, progress)


def _names(
    sensitive: str | Sequence[str], features: str | Sequence[str], remover: DisparateImpactRemover
) -> tuple[list[str], list[str]]:
    if remover.sensitive_column is not None:
        raise InvalidParameterError(
            "remover.sensitive_column is set; on partitioned data pass the protected "
            "columns as sensitive= and leave sensitive_column=None."
        )
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    feats = [features] if isinstance(features, str) else list(features)
    if not sens or not feats:
        raise InvalidParameterError(
            f"repair: sensitive= and features= must each name at least one column; got "
            f"{sens!r} and {feats!r}."
        )
    both = sorted(set(sens) & set(feats))
    if both:
        raise InvalidParameterError(
            f"repair: the column {both[0]!r} is both sensitive and a feature; the protected "
            "attribute is not repaired, so name it only in sensitive=."
        )
    return sens, feats


def _num_rows(path: str) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


def _apply(
    item: tuple[str, str, int],
    remover: DisparateImpactRemover,
    sensitive: list[str],
    features: list[str],
) -> int:
    """Repair one partition, its first row at ``offset`` in the data set, and write it."""
    path, out, offset = item
    table: pa.Table = pq.read_table(path)
    missing = [c for c in [*sensitive, *features] if c not in table.column_names]
    if missing:
        check_columns(path, missing, "the repair")
    if table.num_rows == 0:  # nothing to repair; the numeric features' type as elsewhere
        for j in remover.numeric_features_.tolist():
            i = table.schema.get_field_index(features[j])
            table = table.set_column(i, features[j], table.column(i).cast(pa.float64()))
    else:
        X = table.select(features).to_pandas()
        try:
            X, _, s = remover._input(
                X, table.select(sensitive).to_pandas(), _TRANSFORM, reset=False
            )
            repaired = remover._repair(X, s, _TRANSFORM, offset)
        except DataValidationError as exc:
            raise in_partition(path, exc) from exc
        for c in features:
            i = table.schema.get_field_index(c)
            table = table.set_column(i, c, pa.Array.from_pandas(repaired[c]))
    numeric = [features[j] for j in remover.numeric_features_.tolist()]
    table = table.replace_schema_metadata(_as_floats(table.schema.metadata, numeric))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out + _PARTIAL)  # renamed by the client once every part is written
    return int(table.num_rows)


def _as_floats(
    metadata: dict[bytes, bytes] | None, columns: list[str]
) -> dict[bytes, bytes] | None:
    """A file's pandas metadata with ``columns`` recorded as float64, as the repair made them.

    Without it, pandas would read a repaired ``Int64`` column back as integers
    (and fail on the fractions).

    Examples
    --------
    >>> meta = {b"pandas": b'{"columns": [{"name": "k", "pandas_type": "Int64", '
    ...         b'"numpy_type": "Int64", "metadata": null}]}'}
    >>> json.loads(_as_floats(meta, ["k"])[b"pandas"])["columns"][0]["pandas_type"]
    'float64'
    """
    if not metadata or b"pandas" not in metadata:
        return metadata
    doc = json.loads(metadata[b"pandas"])
    for col in doc.get("columns", []):
        if col.get("name") in columns:
            col.update(pandas_type="float64", numpy_type="float64", metadata=None)
    return {**metadata, b"pandas": json.dumps(doc).encode()}


def _targets(files: Sequence[str], out: Path) -> list[str]:
    """Where each partition goes: its path relative to the partitions' common folder, under out."""
    root = os.path.commonpath([str(Path(f).resolve().parent) for f in files])
    return [str(out / Path(f).resolve().relative_to(root)) for f in files]


def _check_out(out: Path, files: Sequence[str]) -> None:
    if out.exists() and not out.is_dir():
        raise DataValidationError(
            f"the output {str(out)!r} is a file; give a directory for the repaired partitions."
        )
    inside = [f for f in files if Path(f).resolve().is_relative_to(out.resolve())]
    if inside:
        raise DataValidationError(
            f"the output directory {str(out)!r} holds the input partition {inside[0]!r}; "
            "write the repair to a directory of its own."
        )
    if out.is_dir() and any(out.rglob("*.parquet")):
        raise DataValidationError(
            f"the output directory {str(out)!r} already holds Parquet files; give an empty "
            "or new directory, so that old and new partitions are not mixed."
        )


def repair(
    source: str | Path | Sequence[str | Path],
    remover: DisparateImpactRemover,
    *,
    sensitive: str | Sequence[str],
    features: str | Sequence[str],
    out: str | Path,
    fit_on: str | Path | Sequence[str | Path] | None = None,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RepairedParts:
    """Repair the features of a partitioned Parquet data set on Dask; write it as Parquet.

    The distributed :class:`~seawall.mitigation.DisparateImpactRemover`: fitted
    on the partitions exactly as ``fit`` on all their rows (unless ``remover``
    is already fitted), then each partition is repaired by one task and written
    under ``out`` with the same relative path, every column kept and the
    features replaced. The result equals the in-memory ``transform`` of the
    files concatenated in order: a tied row's draw comes from its position in
    the data set, so it changes if the rows are partitioned in another order.

    Parameters
    ----------
    source : str, Path or sequence of them
        The partitions: a directory, a glob or a list of Parquet files.
    remover : DisparateImpactRemover
        Its parameters (``repair_level``, ``mode``, ``categorical``,
        ``n_quantiles``, ``random_state``...); a fitted one is applied as it is.
        Not modified: a fitted copy is returned.
    sensitive : str or sequence of str
        The protected attribute column(s).
    features : str or sequence of str
        The feature columns to repair.
    out : str or Path
        A new or empty directory for the repaired partitions.
    fit_on : str, Path, sequence of them, or None, default=None
        Partitions to learn the repair from (e.g. the training data); None
        learns it from ``source``.
    scheduler : distributed.Client or str, default="local"
        As for :func:`seawall.distributed.connect`.
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(stage, done, total)``: "scan", "sort" (features done)
        and "repair" (partitions done).

    Returns
    -------
    RepairedParts
        The written files, the rows and the fitted remover.

    Raises
    ------
    DataValidationError
        On a missing column, bad values (naming the partition), a group not seen
        in fit, or an output directory that is not new or empty.
    InvalidParameterError
        When ``remover`` has ``sensitive_column`` set (pass ``sensitive=``), or
        is fitted while ``fit_on`` is given.
    InsufficientDataError
        When a group has no value of a numeric feature.

    Examples
    --------
    >>> from seawall.datasets import write_audit_parquet  # doctest: +SKIP
    >>> write_audit_parquet("parts", n_rows=100_000, n_files=4)  # doctest: +SKIP
    >>> run = repair("parts", DisparateImpactRemover(), sensitive="sex",
    ...              features=["score"], out="repaired", n_workers=2)  # doctest: +SKIP
    >>> len(run.files)  # doctest: +SKIP
    4
    """
    sens, feats = _names(sensitive, features, remover)
    fitted = _is_fitted(remover)
    if fitted and fit_on is not None:
        raise InvalidParameterError(
            "repair: the remover is already fitted and fit_on= was given; pass an unfitted "
            "remover to learn from fit_on, or drop fit_on to apply the fitted one."
        )
    files = parquet_files(source)
    out_dir = Path(out)
    _check_out(out_dir, files)
    remover = copy.deepcopy(remover) if fitted else clone(remover)
    remover.set_output(transform="pandas")
    with connect(scheduler, n_workers=n_workers) as client:
        if not fitted:
            fit_files = files if fit_on is None else parquet_files(fit_on)
            fit_on_cluster(client, fit_files, remover, sens, feats, progress)
        check_columns(files[0], [*sens, *feats], "the repair")
        sizes = map_parts(client, _num_rows, list(files), key="seawall-repair-rows")
        offsets = np.r_[0, np.cumsum(sizes)[:-1]].tolist()
        targets = _targets(files, out_dir)
        try:
            rows = map_parts(
                client,
                _apply,
                list(zip(files, targets, offsets, strict=True)),
                remover,
                sens,
                feats,
                progress=staged(progress, "repair"),
                key="seawall-repair-apply",
                settle=True,
            )
        except BaseException:
            for t in targets:  # a failed repair leaves no partition behind
                Path(t + _PARTIAL).unlink(missing_ok=True)
            raise
    for t in targets:
        os.replace(t + _PARTIAL, t)
    return RepairedParts(tuple(targets), int(sum(rows)), remover)


def _is_fitted(remover: DisparateImpactRemover) -> bool:
    try:
        check_is_fitted(remover)
    except NotFittedError:
        return False
    return True
