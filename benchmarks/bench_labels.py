"""Benchmark: label x group x context association discovery on a multi-label output.

A synthetic image tagger's output: ``--items`` items, ``--labels`` labels whose
frequencies follow a Zipf law (``--zipf``), about ``--tags`` labels per item, 3
protected groups (50/30/20%) and ``--attributes`` context attributes of 6, 12, 3,
8 and 2 values (the 12-valued one has an "(other)" bucket). A few associations
are planted: labels 20, 300 and 3000 are over-represented in group 2, and label
150 in group 1 within ``attribute 0 == 2``. ``--use-generator`` takes the data of
``seawall.datasets.make_tagging`` instead (3 groups, its first ``--attributes`` of
region, device, topic and time of day; ``--tags`` and ``--zipf`` do not apply).

Each scenario times the whole discovery, stage by stage:

1. ``count_labels`` (the sparse products),
2. ``label_hypotheses`` (the flat 2x2 tables),
3. ``proportion_effect`` on every hypothesis (two-sided),
4. Holm's adjustment (``adjust_pvalues``).

Scenarios: (a) the whole population only (``max_depth=0``), (b) depth 1 and 2
over the context attributes (``--skip-deep-effects``: stages 1-2 only there).
Then the cost of ``proportion_effect`` is split into its parts (Newcombe interval,
Katz and Koopman ratio intervals, z-test, exact hypergeometric test) on a sample
of the hypotheses of the deepest scenario, by calling the same functions on the
same inputs.

Times are ``time.perf_counter`` wall-clock seconds of one run; peak RSS is
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, the high-water mark of the whole
process so far (data generation included), printed after each scenario.

    .venv/bin/python benchmarks/bench_labels.py                      # 1M x 10k, ~10 min
    .venv/bin/python benchmarks/bench_labels.py --skip-deep-effects  # ~1 min
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import special, stats

from seawall.associations._effects import EXACT_BELOW, proportion_effect
from seawall.associations._labels import count_labels, label_hypotheses
from seawall.metrics._intervals import (
    SCORE_RATIO_BELOW,
    katz_ratio_interval,
    koopman_ratio_interval,
    newcombe_interval,
)
from seawall.metrics._significance import adjust_pvalues

CARDINALITIES = (6, 12, 3, 8, 2)
OTHER = (-1, 11, -1, -1, -1)  # attribute 1's last value is the "(other)" bucket
N_GROUPS = 3
ALPHA = 0.05


@dataclass
class Data:
    labels: Any  # scipy.sparse.csr_array, (n_items, n_labels)
    group: np.ndarray
    codes: list[np.ndarray]
    cardinalities: list[int]
    excluded: list[int]


def _zipf_codes(rng: np.random.Generator, n: int, k: int, s: float) -> np.ndarray:
    """``n`` draws of ``range(k)`` with probability proportional to ``1 / (rank + 1) ** s``."""
    cdf = np.cumsum(1.0 / np.arange(1, k + 1) ** s)
    draws = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    return np.minimum(draws, k - 1).astype(np.intp)


def make_data(
    n_items: int, n_labels: int, n_attributes: int, tags: float, zipf: float, seed: int
) -> Data:
    rng = np.random.default_rng(seed)
    group = rng.choice(N_GROUPS, size=n_items, p=[0.5, 0.3, 0.2]).astype(np.intp)
    cards = list(CARDINALITIES[:n_attributes])
    codes = [_zipf_codes(rng, n_items, c, 0.7) for c in cards]
    per_item = 1 + rng.poisson(tags - 1.0, n_items)
    rows = np.repeat(np.arange(n_items), per_item)
    cols = _zipf_codes(rng, rows.size, n_labels, zipf)
    planted_rows, planted_cols = [rows], [cols]
    for label, extra in ((20, 0.02), (300, 0.005), (3000, 0.001)):
        if label < n_labels:
            hit = np.flatnonzero((group == 2) & (rng.random(n_items) < extra))
            planted_rows.append(hit)
            planted_cols.append(np.full(hit.size, label))
    if n_attributes and n_labels > 150:
        hit = np.flatnonzero((group == 1) & (codes[0] == 2) & (rng.random(n_items) < 0.01))
        planted_rows.append(hit)
        planted_cols.append(np.full(hit.size, 150))
    r, c = np.concatenate(planted_rows), np.concatenate(planted_cols)
    labels = sp.csr_array((np.ones(r.size, dtype=np.float32), (r, c)), shape=(n_items, n_labels))
    labels.data[:] = 1.0  # an item tagged twice with a label carries it once
    return Data(labels, group, codes, cards, [OTHER[a] for a in range(n_attributes)])


def data_from_generator(n_items: int, n_labels: int, n_attributes: int, seed: int) -> Data:
    """The planted data of ``seawall.datasets.make_tagging`` (4 context attributes at most)."""
    import pandas as pd

    from seawall.datasets import make_tagging

    planted = make_tagging(n_items, n_labels, random_state=seed)
    frame = planted.frame
    group = pd.factorize(frame["user_group"], sort=True)[0].astype(np.intp)
    columns = ["region", "device", "topic", "time_of_day"][:n_attributes]
    codes = [pd.factorize(frame[c], sort=True)[0].astype(np.intp) for c in columns]
    cards = [int(c.max()) + 1 for c in codes]
    print(f"make_tagging: context attributes {columns}; planted {planted.tag_names[-3:]}")
    return Data(planted.tags, group, codes, cards, [-1] * len(codes))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_scenario(
    data: Data, name: str, max_depth: int, min_support: float, *, effects: bool
) -> Any:
    """Run and time one discovery; returns its hypotheses."""
    t0 = time.perf_counter()
    tables = count_labels(
        data.labels,
        data.group,
        N_GROUPS,
        data.codes if max_depth else [],
        data.cardinalities if max_depth else [],
        data.excluded if max_depth else [],
        max_depth=max_depth,
        min_support=min_support,
    )
    t1 = time.perf_counter()
    hyp = label_hypotheses(tables)
    t2 = time.perf_counter()
    times = {"count_labels": t1 - t0, "label_hypotheses": t2 - t1}
    lc = tables.label_counts
    table_mb = (lc.data.nbytes + lc.indices.nbytes + lc.indptr.nbytes) / 2**20
    dense_mb = len(tables) * N_GROUPS * tables.n_labels * 4 / 2**20
    fields = ("label", "context", "group", "x1", "n1", "x2", "n2")
    hyp_mb = sum(getattr(hyp, f).nbytes for f in fields) / 2**20
    print(f"\n== {name}: max_depth={max_depth}, min_support={min_support:g}")
    print(
        f"   contexts {len(tables):,} (evaluated {tables.n_evaluated:,}, "
        f"pruned {tables.n_pruned:,}); label_counts nnz {lc.nnz:,} ({table_mb:.1f} MB "
        f"sparse; dense int32 would be {dense_mb:.1f} MB)"
    )
    print(f"   hypotheses {len(hyp):,} ({hyp_mb:.1f} MB), skipped {hyp.n_skipped:,}")
    if effects:
        t3 = time.perf_counter()
        effect = proportion_effect(hyp.x1, hyp.n1, hyp.x2, hyp.n2)
        t4 = time.perf_counter()
        adjusted = adjust_pvalues(effect.p_value, "holm")
        t5 = time.perf_counter()
        times |= {"proportion_effect": t4 - t3, "holm": t5 - t4}
        significant = np.flatnonzero(adjusted < ALPHA)
        print(
            f"   exact tests {int(effect.exact.sum()):,}; "
            f"Holm-significant at {ALPHA}: {significant.size:,}"
        )
        for i in significant[np.argsort(adjusted[significant], kind="stable")[:6]]:
            print(
                f"     label {hyp.label[i]:>5} context {hyp.context[i]:>4} group {hyp.group[i]}:"
                f" {effect.first[i]:.4f} vs {effect.second[i]:.4f}, p_holm={adjusted[i]:.2e}"
            )
    times["total"] = sum(times.values())
    for k, v in times.items():
        print(f"   {k:<18} {v:8.3f} s")
    print(f"   peak RSS so far    {peak_rss_mb():8.0f} MB")
    return hyp


def effect_breakdown(hyp: Any, sample: int, seed: int) -> None:
    """Time the parts of ``proportion_effect`` (two-sided) on a sample of hypotheses."""
    m = len(hyp)
    rows = np.random.default_rng(seed).permutation(m)[:sample] if sample < m else np.arange(m)
    x1, n1, x2, n2 = (getattr(hyp, f)[rows] for f in ("x1", "n1", "x2", "n2"))
    z = float(special.ndtri(0.975))
    parts: dict[str, float] = {}
    t = time.perf_counter()
    newcombe_interval(x1, n1, x2, n2, z)
    parts["newcombe interval"] = time.perf_counter() - t
    t = time.perf_counter()
    katz_ratio_interval(x1, n1, x2, n2, z)
    parts["katz ratio interval"] = time.perf_counter() - t
    few = np.minimum(x1, x2) < SCORE_RATIO_BELOW
    t = time.perf_counter()
    koopman_ratio_interval(x1[few], n1[few], x2[few], n2[few], z)
    parts[f"koopman ratio interval ({int(few.sum()):,} cells)"] = time.perf_counter() - t
    t = time.perf_counter()
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
        zval = (x1 / n1 - x2 / n2) / se
        expected = np.minimum.reduce(
            [n1 * pooled, n1 * (1.0 - pooled), n2 * pooled, n2 * (1.0 - pooled)]
        )
    2.0 * special.ndtr(-np.abs(zval))
    parts["z-test"] = time.perf_counter() - t
    exact = (expected < EXACT_BELOW) & (n1 > 0) & (n2 > 0) & (se > 0)
    k, big, good, draws = (np.round(v[exact]).astype(np.int64) for v in (x1, n1 + n2, x1 + x2, n1))
    t = time.perf_counter()
    stats.hypergeom.sf(k - 1, big, good, draws)
    stats.hypergeom.cdf(k, big, good, draws)
    parts[f"exact hypergeometric ({int(exact.sum()):,} cells)"] = time.perf_counter() - t
    t = time.perf_counter()
    proportion_effect(x1, n1, x2, n2)
    parts["proportion_effect (all of it)"] = time.perf_counter() - t
    # Hypotheses of one (context, group) share n1 and n2, so (context, group, label
    # total, x1) bounds the number of distinct 2x2 tables from above.
    cell = hyp.context * N_GROUPS + hyp.group
    top = int(max(hyp.x1.max(initial=0), (hyp.x1 + hyp.x2).max(initial=0))) + 1
    key = (cell * top + (hyp.x1 + hyp.x2).astype(np.int64)) * top + hyp.x1.astype(np.int64)
    distinct = np.unique(key).size
    print(f"\n== proportion_effect, part by part, on {x1.size:,} of the {m:,} hypotheses")
    for name, v in parts.items():
        print(f"   {name:<48} {v:8.3f} s  ({v / x1.size * 1e6:6.2f} us per hypothesis)")
    print(f"   distinct 2x2 tables among all {m:,} hypotheses: at most {distinct:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tags", type=float, default=5.0, help="mean labels per item")
    parser.add_argument("--zipf", type=float, default=1.1, help="exponent of label frequencies")
    parser.add_argument("--attributes", type=int, default=3, choices=range(0, 6))
    parser.add_argument("--max-depth", type=int, default=2, help="deepest scenario")
    parser.add_argument(
        "--min-support", type=float, default=None, help="default: 0.1%% of the items"
    )
    parser.add_argument(
        "--skip-deep-effects",
        action="store_true",
        help="run proportion_effect and Holm on the whole population only (they take "
        "minutes at depth 2)",
    )
    parser.add_argument(
        "--breakdown-sample",
        type=int,
        default=200_000,
        help="hypotheses of the deepest scenario on which proportion_effect is split into "
        "its parts (0: skip)",
    )
    parser.add_argument(
        "--use-generator",
        action="store_true",
        help="the data of seawall.datasets.make_tagging (region, device, topic, time_of_day)",
    )
    args = parser.parse_args()
    min_support = args.min_support if args.min_support is not None else 0.001 * args.items

    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    t = time.perf_counter()
    if args.use_generator:
        data = data_from_generator(args.items, args.labels, args.attributes, args.seed)
    else:
        data = make_data(args.items, args.labels, args.attributes, args.tags, args.zipf, args.seed)
    print(
        f"data: {data.labels.shape[0]:,} items x {data.labels.shape[1]:,} labels, "
        f"{data.labels.nnz:,} tags, {N_GROUPS} groups, attributes {data.cardinalities} "
        f"(made in {time.perf_counter() - t:.2f} s; peak RSS {peak_rss_mb():.0f} MB)"
    )
    hyp = run_scenario(data, "(a) whole population", 0, min_support, effects=True)
    for depth in range(1, min(args.max_depth, args.attributes) + 1):
        hyp = run_scenario(
            data, f"(b) depth {depth}", depth, min_support, effects=not args.skip_deep_effects
        )
    if args.breakdown_sample > 0:
        effect_breakdown(hyp, args.breakdown_sample, args.seed)


if __name__ == "__main__":
    main()
