"""The fit of a disparate-impact remover on partitioned data: exact knots from a distributed sort.

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

The fitted remover equals one fitted in memory on the concatenated partitions
(same knots, bit for bit), whatever the partitioning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from seawall.distributed._buckets import by_bucket, owners, run_buckets, sample, splitters
from seawall.distributed._files import check_columns, read_columns
from seawall.distributed._reduce import map_parts, staged
from seawall.exceptions import DataValidationError
from seawall.mitigation._columns import Layout, categories_of, check_present, floats
from seawall.mitigation._quantiles import knot_ranks, knots_between
from seawall.mitigation._remover import DisparateImpactRemover
from seawall.mitigation._sensitive import GroupEncoder

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["fit_on_cluster", "in_partition"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
#: One partition's values of a feature and their groups, by bucket.
Slices = dict[int, tuple[FloatArray, IntArray]]

_FIT = "DisparateImpactRemover.fit"


@dataclass(frozen=True)
class _Scanned:
    """One partition's part of the fit (small: no rows)."""

    combos: pd.DataFrame  # its distinct combinations of sensitive values
    labels: tuple[str, ...]  # their group labels, in the partition's own code order
    present: list[IntArray]  # per numeric feature: non-missing values per local group
    samples: list[FloatArray]  # per numeric feature: a seeded sample of its values
    categories: list[npt.NDArray[Any]]  # per categorical feature: its categories, as met
    counts: list[FloatArray]  # per categorical feature: rows per local group and category


def in_partition(path: str, exc: DataValidationError) -> DataValidationError:
    return DataValidationError(f"{exc} (in the partition {Path(path).name})")


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
            x = floats(frame.iloc[:, j], layout.names[j], _FIT)
            ok = ~np.isnan(x)
            present.append(np.bincount(codes[ok], minlength=encoder.n_groups))
            samples.append(sample(x[ok], [index, f]))
    except DataValidationError as exc:
        raise in_partition(path, exc) from exc
    categories, counts = [], []
    for j in layout.categorical:
        cats, cat_counts = categories_of(frame.iloc[:, j], codes, encoder.n_groups)
        categories.append(cats)
        counts.append(cat_counts)
    combos = groups.drop_duplicates(ignore_index=True)
    return _Scanned(combos, encoder.labels, present, samples, categories, counts)


def _split(
    path: str, sensitive: list[str], feature: str, encoder: GroupEncoder, cuts: FloatArray
) -> Slices:
    """A partition's non-missing values of one feature, with their groups, by bucket."""
    table = read_columns(path, [*sensitive, feature], "the repair")
    x = floats(table.select([feature]).to_pandas().iloc[:, 0], feature, _FIT)
    codes = encoder.encode(table.select(sensitive).to_pandas(), table.num_rows, _FIT)
    ok = ~np.isnan(x)
    return by_bucket(cuts, x[ok], codes[ok].astype(np.int32))


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
    # Each group's values, then all of them: the ranks their knots need, and where.
    wanted = [_Wanted.of(c, k) for c in [*counts.T, counts.sum(axis=1)]]
    args = [([w.local(b) for w in wanted],) for b in range(n_b)]
    results = run_buckets(client, split, n_b, _order_statistics, args)
    knots = [w.knots(np.concatenate([r[g] for r in results])) for g, w in enumerate(wanted)]
    return np.array(knots[:-1]).reshape(n_groups, k), knots[-1]


@dataclass(frozen=True)
class _Wanted:
    """The order statistics one group's knots need, and the bucket each lies in."""

    pos: FloatArray  # each knot's fractional rank
    lo: IntArray  # the ranks on either side of it
    hi: IntArray
    ranks: IntArray  # the distinct ranks needed, ascending
    starts: IntArray  # the group's first rank in each bucket
    owner: IntArray  # the bucket of each needed rank

    @classmethod
    def of(cls, per_bucket: IntArray, k: int) -> _Wanted:
        """From the group's values per bucket and the number of knots."""
        pos, lo, hi = knot_ranks(int(per_bucket.sum()), k)
        ranks = np.unique(np.concatenate([lo, hi]))
        starts = np.r_[0, np.cumsum(per_bucket)]
        return cls(pos, lo, hi, ranks, starts, owners(starts, ranks))

    def local(self, b: int) -> IntArray:
        """The needed ranks that bucket ``b`` holds, counted from its first value."""
        out: IntArray = self.ranks[self.owner == b] - self.starts[b]
        return out

    def knots(self, values: FloatArray) -> FloatArray:
        """The knots, from the values at ``ranks`` (gathered bucket by bucket: ascending)."""
        at_lo = values[np.searchsorted(self.ranks, self.lo)]
        return knots_between(self.pos, at_lo, values[np.searchsorted(self.ranks, self.hi)])


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


def fit_on_cluster(
    client: Client,
    files: Sequence[str],
    remover: DisparateImpactRemover,
    sensitive: list[str],
    features: list[str],
    progress: Callable[[str, int, int], None] | None,
) -> DisparateImpactRemover:
    """Fit ``remover`` (in place) on the partitions ``files``.

    See :func:`seawall.distributed.fit_remover`; ``progress`` is called with
    ``(stage, done, total)``, stages "scan" (partitions) and "sort" (features).
    """
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
