"""Disparate-impact repair of a partitioned data set: fitted exactly on Dask, applied per partition.

:class:`~seawall.mitigation.DisparateImpactRemover` learns, per numeric
feature, every group's quantile function at ``n_quantiles`` levels: each knot
lies between two order statistics of the group's values. Here those order
statistics come from a distributed sort (:mod:`seawall.distributed._buckets`):

1. **scan**: each partition's groups (their sensitive values), its non-missing
   values per group and feature, a seeded sample of each feature, and for
   categorical features the rows per group and category.
2. **sort**, per numeric feature: each partition sends its values (with their
   group) to the bucket of their range; one task per bucket sorts each group's
   values and returns the few order statistics the knots need (two per knot
   and group, and the pooled ones), nothing else.
3. **apply**: each partition is repaired with the fitted remover and written
   as Parquet. The tie-breaking and category draws of a row come from its
   position in the data set (the files in order), skipped ahead to, not drawn,
   so every row is repaired exactly as the in-memory ``transform`` of the
   whole table repairs it.

The fitted remover equals one fitted in memory on the concatenated partitions
(same knots, bit for bit); the repaired partitions equal the in-memory repair.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from seawall.distributed._buckets import owners, run_buckets, sample, splitters
from seawall.distributed._cluster import connect
from seawall.distributed._files import check_columns, parquet_files, read_columns
from seawall.distributed._reduce import map_parts, staged
from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.mitigation._quantiles import knot_ranks, knots_between
from seawall.mitigation._remover import DisparateImpactRemover, Layout, check_present, floats
from seawall.mitigation._sensitive import GroupEncoder

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["RepairedParts", "fit_remover", "repair"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
#: One partition's values of a feature and their groups, by bucket.
Slices = dict[int, tuple[FloatArray, IntArray]]

_FIT = "DisparateImpactRemover.fit"
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


@dataclass(frozen=True)
class _Scanned:
    """One partition's part of the fit (small: no rows)."""

    rows: int
    combos: pd.DataFrame  # its distinct combinations of sensitive values
    labels: tuple[str, ...]  # their group labels, in the partition's own code order
    present: list[IntArray]  # per numeric feature: non-missing values per local group
    samples: list[FloatArray]  # per numeric feature: a seeded sample of its values
    categories: list[npt.NDArray[Any]]  # per categorical feature: its categories, as met
    counts: list[FloatArray]  # per categorical feature: rows per local group and category


def _in_partition(path: str, exc: DataValidationError) -> DataValidationError:
    return DataValidationError(f"{exc} (in the partition {Path(path).name})")


def _features(frame: pd.DataFrame, j: int, name: str, caller: str) -> FloatArray:
    return floats(frame.iloc[:, j], name, caller)


def _scan(
    item: tuple[int, str], sensitive: list[str], features: list[str], layout: Layout
) -> _Scanned:
    """Groups, non-missing counts, samples and category counts of one partition."""
    index, path = item
    table = read_columns(path, [*sensitive, *features], "the repair")
    frame = table.select(features).to_pandas()
    groups = table.select(sensitive).to_pandas()
    try:
        encoder, codes = GroupEncoder.fit(groups, len(frame), _FIT)
        present, samples = [], []
        for f, j in enumerate(layout.numeric):
            x = _features(frame, j, layout.names[j], _FIT)
            ok = ~np.isnan(x)
            present.append(np.bincount(codes[ok], minlength=encoder.n_groups))
            samples.append(sample(x[ok], [index, f]))
    except DataValidationError as exc:
        raise _in_partition(path, exc) from exc
    categories, counts = [], []
    for j in layout.categorical:
        cat_codes, uniques = pd.factorize(np.asarray(frame.iloc[:, j], dtype=object))
        known = cat_codes >= 0
        c = np.zeros((encoder.n_groups, uniques.size))
        np.add.at(c, (codes[known], cat_codes[known]), 1.0)
        categories.append(np.asarray(uniques, dtype=object))
        counts.append(c)
    combos = groups.drop_duplicates(ignore_index=True)
    return _Scanned(len(frame), combos, encoder.labels, present, samples, categories, counts)


def _split(
    path: str, sensitive: list[str], feature: str, encoder: GroupEncoder, cuts: FloatArray
) -> Slices:
    """A partition's non-missing values of one feature, with their groups, by bucket."""
    table = read_columns(path, [*sensitive, feature], "the repair")
    x = _features(table.select([feature]).to_pandas(), 0, feature, _FIT)
    codes = encoder.encode(table.select(sensitive).to_pandas(), table.num_rows, _FIT)
    ok = ~np.isnan(x)
    x, codes = x[ok], codes[ok]
    bucket = np.searchsorted(cuts, x, side="right")
    out = {}
    for k in np.unique(bucket).tolist():
        sel = bucket == k
        out[k] = (x[sel], codes[sel].astype(np.int32))
    return out


def _sizes(parts: Slices, n_buckets: int, n_groups: int) -> IntArray:
    """Values per bucket and group of one partition."""
    out = np.zeros((n_buckets, n_groups), dtype=np.intp)
    for k, (_, codes) in parts.items():
        out[k] = np.bincount(codes, minlength=n_groups)
    return out


def _order_statistics(
    ranks: list[IntArray], *slices: tuple[FloatArray, IntArray] | None
) -> list[FloatArray]:
    """One bucket: each group's sorted values at its ``ranks``, then the pooled values at theirs."""
    mine = [m for m in slices if m is not None]
    x = np.concatenate([m[0] for m in mine]) if mine else np.empty(0)
    codes = np.concatenate([m[1] for m in mine]) if mine else np.empty(0, dtype=np.int32)
    out = []
    for g, r in enumerate(ranks[:-1]):
        out.append(np.sort(x[codes == g])[r] if r.size else np.empty(0))
    out.append(np.sort(x)[ranks[-1]] if ranks[-1].size else np.empty(0))
    return out


def _knots(
    client: Client,
    files: Sequence[str],
    sensitive: list[str],
    feature: str,
    encoder: GroupEncoder,
    cuts: FloatArray,
    k: int,
) -> tuple[FloatArray, FloatArray]:
    """One feature's knots per group and pooled, from the order statistics of a sort."""
    n_groups = encoder.n_groups
    split = client.map(
        _split,
        list(files),
        sensitive=sensitive,
        feature=feature,
        encoder=encoder,
        cuts=cuts,
        pure=False,
    )
    n_b = cuts.size + 1
    sizes = client.gather(  # type: ignore[no-untyped-call]
        [client.submit(_sizes, f, n_b, n_groups, pure=False) for f in split]
    )
    counts = np.sum(sizes, axis=0)  # (n_buckets, n_groups)
    wanted = []
    for c in [*counts.T, counts.sum(axis=1)]:  # each group's values, then all of them
        pos, lo, hi = knot_ranks(int(c.sum()), k)
        ranks = np.unique(np.concatenate([lo, hi]))
        starts = np.r_[0, np.cumsum(c)]
        wanted.append((pos, lo, hi, ranks, starts, owners(starts, ranks)))
    args = [([w[3][w[5] == b] - w[4][b] for w in wanted],) for b in range(n_b)]
    results = run_buckets(client, split, n_b, _order_statistics, args)
    knots = []
    for g, (pos, lo, hi, ranks, _, _) in enumerate(wanted):
        values = np.concatenate([r[g] for r in results])  # ranks ascend, so do buckets
        at_lo = values[np.searchsorted(ranks, lo)]
        knots.append(knots_between(pos, at_lo, values[np.searchsorted(ranks, hi)]))
    return np.array(knots[:-1]).reshape(n_groups, k), knots[-1]


def _layout(
    remover: DisparateImpactRemover, files: Sequence[str], sensitive: list[str], features: list[str]
) -> Layout:
    """The remover's layout (numeric and categorical features) from the first rows of the data."""
    columns = [*sensitive, *features]
    check_columns(files[0], columns, "the repair")
    for path in files:
        batch = next(pq.ParquetFile(path).iter_batches(batch_size=1_000, columns=columns), None)
        if batch is not None and batch.num_rows:
            head = pa.Table.from_batches([batch]).to_pandas()
            return remover._layout(head[features], head[sensitive], _FIT)[2]
    raise DataValidationError(
        f"the {len(files)} partition(s) to learn the repair from have no rows; "
        "point at the data the repair should be learned from."
    )


def _merged_categories(
    scanned: list[_Scanned], c: int, locals_to_global: list[IntArray], n_groups: int
) -> tuple[npt.NDArray[Any], FloatArray]:
    """One categorical feature's categories in order of first appearance, and its counts."""
    index: dict[Any, int] = {}
    for s in scanned:
        for v in s.categories[c].tolist():
            index.setdefault(v, len(index))
    counts = np.zeros((n_groups, len(index)))
    for s, mapping in zip(scanned, locals_to_global, strict=True):
        cols = np.array([index[v] for v in s.categories[c].tolist()], dtype=np.intp)
        np.add.at(counts, (mapping[:, None], cols[None, :]), s.counts[c])
    return np.asarray(list(index), dtype=object), counts


def _fit(
    client: Client,
    files: Sequence[str],
    remover: DisparateImpactRemover,
    sensitive: list[str],
    features: list[str],
    progress: Callable[[str, int, int], None] | None,
) -> DisparateImpactRemover:
    """Fit ``remover`` (in place) on the partitions ``files``; see :func:`fit_remover`."""
    _, _, k = remover._check_params()
    layout = _layout(remover, files, sensitive, features)
    scanned: list[_Scanned] = map_parts(
        client,
        _scan,
        list(enumerate(files)),
        sensitive,
        features,
        layout,
        progress=staged(progress, "scan"),
        key="seawall-repair-scan",
    )
    combos = pd.concat([s.combos for s in scanned], ignore_index=True).drop_duplicates(
        ignore_index=True
    )
    encoder, _ = GroupEncoder.fit(combos, len(combos), _FIT)
    code_of = {label: i for i, label in enumerate(encoder.labels)}
    local = [np.array([code_of[lb] for lb in s.labels], dtype=np.intp) for s in scanned]
    n_groups = encoder.n_groups
    sort = staged(progress, "sort")
    quantiles = np.empty((len(layout.numeric), n_groups, k))
    pooled = np.empty((len(layout.numeric), k))
    for f, j in enumerate(layout.numeric):
        present = np.zeros(n_groups, dtype=np.intp)
        for s, mapping in zip(scanned, local, strict=True):
            np.add.at(present, mapping, s.present[f])
        check_present(present, encoder, layout.names[j])
        cuts = splitters([s.samples[f] for s in scanned], int(present.sum()))
        name = layout.names[j]
        quantiles[f], pooled[f] = _knots(client, files, sensitive, name, encoder, cuts, k)
        if sort is not None:
            sort(f + 1, len(layout.numeric))
    categories, counts = [], []
    for c in range(len(layout.categorical)):
        cats, cat_counts = _merged_categories(scanned, c, local, n_groups)
        categories.append(cats)
        counts.append(cat_counts)
    return remover._set_fitted(encoder, layout, quantiles, pooled, categories, counts)


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
        return _fit(client, files, fitted, sens, feats, progress)


def _names(
    sensitive: str | Sequence[str], features: str | Sequence[str], remover: DisparateImpactRemover
) -> tuple[list[str], list[str]]:
    if remover.sensitive_column is not None:
        raise InvalidParameterError(
            "remover.sensitive_column is set; on partitioned data pass the protected "
            "columns as sensitive= and leave sensitive_column=None."
        )
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    return sens, [features] if isinstance(features, str) else list(features)


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
            raise _in_partition(path, exc) from exc
        for c in features:
            i = table.schema.get_field_index(c)
            table = table.set_column(i, c, pa.Array.from_pandas(repaired[c]))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out + _PARTIAL)  # renamed by the client once every part is written
    return int(table.num_rows)


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
            _fit(client, fit_files, remover, sens, feats, progress)
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
