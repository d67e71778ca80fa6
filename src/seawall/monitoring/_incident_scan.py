"""The grouping kernel of :func:`group_incidents`: episodes, link keys and a scan for causes.

1. **Episodes.** Flagged runs of one *unit* (a model) that overlap in time, or have
   at most ``gap`` steps between them, form an episode: anomalies of one model at the same
   time are always related.
2. **Link keys.** Each series carries keys such as ``(source, metric) =
   ("crm-feed", "drift")``; an episode carries the keys of its runs, each active
   from the run's first step to ``gap + 1`` steps after its last (so runs at most
   ``gap`` steps apart are together).
3. **Scan.** For every key and step, ``k`` episodes (distinct units) carrying the
   key are active, out of the ``m`` units that have it. Under independent
   anomalies at the background rate ``r`` (the average share of the *other*
   (unit, key) pairs of the same key column and metric active per step),
   ``k ~ Binomial(m, r)``; a key is
   *significant* at a step when ``P(K >= k) <= alpha`` and ``k >= min_shared``. The
   most significant (key, step) is taken first: every free episode carrying the key
   during its significant interval joins one group; their counts are removed and
   the scan repeats until nothing is significant (the iterative removal of
   spatial scan statistics [1]_: a group explains its members away, so a team
   that is significant only because of a region's drift does not form a group of
   its own). A regional drift links models whose anomalies are days apart; two
   models that share a small source link on one coincidence; two volume blips in
   a region of 300 models do not.
4. **Merge.** Two groups that overlap in time are one incident when at least half
   of one's episodes carry the other's defining label (its value, whatever the
   metric), e.g. the drift and the null-rate groups of one broken source.
5. Episodes left over are incidents of one model each.

References
----------
.. [1] Z. Zhang, R. Assunção and M. Kulldorff, "Spatial scan statistics adjusted
   for multiple clusters", Journal of Probability and Statistics, 2010.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from seawall.monitoring._runs import Runs

__all__ = ["Links", "build_links", "episodes", "scan_groups"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_MERGE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Links:
    """The link keys of every series (internal).

    Attributes
    ----------
    codes : ndarray of int64, shape (n_series, n_specs)
        Each series' key per link spec (a global key id), -1 when a column is missing.
    labels : list of dict
        Per key, its label values by column, e.g. ``{"source": "a", "metric": "drift"}``.
    ident : ndarray of int64, shape (n_keys,)
        Per key, the id of its label without the pairing column (for the merge).
    base : ndarray of int64, shape (n_keys,)
        Per key, its background group (spec and pairing value).
    units : ndarray of int64, shape (n_keys,)
        Per key, the distinct units that carry it.
    base_pairs : ndarray of int64, shape (n_bases,)
        Per background group, the distinct (unit, key) pairs.
    """

    codes: IntArray
    labels: list[dict[str, str]]
    ident: IntArray
    base: IntArray
    units: IntArray
    base_pairs: IntArray


def build_links(
    frame: pd.DataFrame, specs: Sequence[tuple[str, ...]], unit: IntArray, pair_col: str | None
) -> Links:
    """Factorise every link spec over the series' labels (a kernel: columns exist).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per series with the label columns.
    specs : sequence of tuple of str
        The link specs (column tuples).
    unit : ndarray of int64, shape (n_series,)
        Each series' unit code.
    pair_col : str or None
        The pairing column (``"metric"``) left out of a key's identity.

    Returns
    -------
    Links
        The keys.

    Examples
    --------
    >>> f = pd.DataFrame({"source": ["a", "a", None], "metric": ["drift"] * 3})
    >>> links = build_links(f, [("source", "metric")], np.array([0, 1, 2]), "metric")
    >>> links.codes[:, 0].tolist(), links.labels, links.units.tolist()
    ([0, 0, -1], [{'source': 'a', 'metric': 'drift'}], [2])
    """
    n = len(frame)
    codes = np.full((n, len(specs)), -1, dtype=np.int64)
    labels: list[dict[str, str]] = []
    ident_names: dict[tuple[object, ...], int] = {}
    base_names: dict[tuple[object, ...], int] = {}
    ident: list[int] = []
    base: list[int] = []
    for j, spec in enumerate(specs):
        cols = list(spec)
        sub = frame[cols].astype(object)
        ok = sub.notna().all(axis=1).to_numpy()
        if not ok.any():
            continue
        keyed = sub[ok].astype(str)
        grouped = keyed.groupby(cols, sort=True)
        local = grouped.ngroup().to_numpy(dtype=np.int64)
        offset = len(labels)
        codes[ok, j] = local + offset
        for values in grouped.size().index:
            vals = values if isinstance(values, tuple) else (values,)
            lab = dict(zip(cols, (str(v) for v in vals), strict=True))
            labels.append(lab)
            core = tuple((c, v) for c, v in lab.items() if c != pair_col)
            ident.append(ident_names.setdefault(core, len(ident_names)))
            pair = tuple((c, v) for c, v in lab.items() if c == pair_col)
            base.append(base_names.setdefault((j, *pair), len(base_names)))
    n_keys = len(labels)
    flat_key = codes.reshape(-1)
    flat_unit = np.repeat(unit, len(specs))
    keep = flat_key >= 0
    # Each distinct (key, unit) pair once, packed in one integer: a 1-D unique is fast.
    stride = int(unit.max(initial=-1)) + 1
    pairs = np.unique(flat_key[keep] * stride + flat_unit[keep])
    units = np.bincount(pairs // stride, minlength=n_keys).astype(np.int64)
    base_arr = np.asarray(base, dtype=np.int64)
    base_pairs = np.bincount(base_arr, weights=units, minlength=len(base_names)).astype(np.int64)
    return Links(codes, labels, np.asarray(ident, dtype=np.int64), base_arr, units, base_pairs)


def episodes(runs: Runs, unit: IntArray, gap: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Merge the runs of each unit that overlap within ``gap`` steps into episodes.

    Parameters
    ----------
    runs : Runs
        The flagged runs (at least one).
    unit : ndarray of int64, shape (n_series,)
        Each series' unit code.
    gap : int
        Most steps allowed between two runs of one episode.

    Returns
    -------
    run_episode : ndarray of int64, shape (n_runs,)
        Each run's episode.
    ep_unit, ep_start, ep_end : ndarray of int64, shape (n_episodes,)
        Each episode's unit, first and last flagged step.

    Examples
    --------
    >>> from seawall.monitoring._runs import find_runs
    >>> mask = np.array([[1, 0, 0, 0, 1], [0, 1, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=bool)
    >>> out = episodes(find_runs(mask), np.array([0, 0, 1]), gap=1)
    >>> [a.tolist() for a in out]
    [[0, 1, 0, 2], [0, 0, 1], [0, 4, 0], [1, 4, 0]]
    """
    u = unit[runs.series]
    order = np.lexsort((runs.start, u))
    su, ss, se = u[order], runs.start[order], runs.end[order]
    # Offsetting each unit by more than the history's length lets one running
    # maximum over all units stand for a running maximum within each unit.
    big = int(max(se.max(initial=0), 0) + gap + 3)
    reach = np.maximum.accumulate(se + gap + 1 + su * big)
    new = np.ones(su.size, dtype=bool)
    new[1:] = (su[1:] != su[:-1]) | (ss[1:] + su[1:] * big > reach[:-1])
    ep_sorted = np.cumsum(new) - 1
    run_episode = np.empty(su.size, dtype=np.int64)
    run_episode[order] = ep_sorted
    first = np.flatnonzero(new)
    ep_start = np.minimum.reduceat(ss, first)
    ep_end = np.maximum.reduceat(se, first)
    return run_episode, su[first].astype(np.int64), ep_start, ep_end


def _pairs(
    runs: Runs, run_episode: IntArray, links: Links, gap: int, n_steps: int
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Unique (episode, key) pairs with the span during which the episode carries the key."""
    n_specs = links.codes.shape[1]
    key = links.codes[runs.series].reshape(-1)
    ep = np.repeat(run_episode, n_specs)
    start = np.repeat(runs.start, n_specs)
    end = np.repeat(runs.end, n_specs)
    ok = key >= 0
    ep, key, start, end = ep[ok], key[ok], start[ok], end[ok]
    if ep.size == 0:
        return ep, key, start, end
    order = np.lexsort((key, ep))
    ep, key, start, end = ep[order], key[order], start[order], end[order]
    first = np.flatnonzero(np.r_[True, (ep[1:] != ep[:-1]) | (key[1:] != key[:-1])])
    ws = np.minimum.reduceat(start, first)
    we = np.maximum.reduceat(end, first)
    return ep[first], key[first], ws, np.minimum(we + gap + 1, n_steps - 1)


def scan_groups(
    runs: Runs,
    unit: IntArray,
    links: Links,
    *,
    gap: int,
    n_steps: int,
    alpha: float,
    min_shared: int,
) -> tuple[IntArray, list[int]]:
    """Group the runs into incidents (see the module docstring).

    Parameters
    ----------
    runs : Runs
        The flagged runs (at least one).
    unit : ndarray of int64, shape (n_series,)
        Each series' unit code.
    links : Links
        The link keys.
    gap, n_steps : int
        Steps allowed between related runs; length of the history.
    alpha : float
        Significance level of a key at a step.
    min_shared : int
        Fewest units a key must link.

    Returns
    -------
    run_group : ndarray of int64, shape (n_runs,)
        Each run's incident (groups first, then the single-model incidents).
    group_key : list of int
        For each incident, the key that formed it (-1 for a single model's).
    """
    run_episode, ep_unit, ep_start, ep_end = episodes(runs, unit, gap)
    n_ep = ep_unit.size
    pe, pk, ws, we = _pairs(runs, run_episode, links, gap, n_steps)
    n_keys = len(links.labels)
    assigned = np.full(n_ep, -1, dtype=np.int64)
    formed: list[tuple[int, int, int]] = []
    if n_keys and pe.size:
        rate = _background(links, pk, (we - ws + 1).astype(np.float64), n_steps)
        kcrit = stats.binom.isf(alpha, links.units, rate) + 1
        kcrit = np.where(links.units >= min_shared, np.maximum(kcrit, min_shared), np.inf)
        counts = _coverage(pk, ws, we, n_keys, n_steps)
        # logsf of every significant (key, step), +inf elsewhere; kept up to date
        # row by row as groups take their members away.
        score = np.full((n_keys, n_steps), np.inf)

        def refresh(keys: IntArray) -> None:
            c = counts[keys]
            r, t = np.nonzero(c >= kcrit[keys, None])
            vals = np.full(c.shape, np.inf)
            if r.size:
                kk = keys[r]
                lsf = stats.binom.logsf(c[r, t] - 1, links.units[kk], rate[kk])
                # Beyond float range logsf is -inf: such cells come first, the
                # most members first.
                vals[r, t] = np.where(np.isfinite(lsf), lsf, -1e6 - c[r, t])
            score[keys] = vals

        refresh(np.flatnonzero(counts.max(axis=1) >= kcrit))
        while True:
            # The most significant cell; ties go to the lower key id, then step.
            flat = int(np.argmin(score))
            key, t = divmod(flat, n_steps)
            if not np.isfinite(score[key, t]):
                break
            quiet = np.flatnonzero(~np.isfinite(score[key]))
            a = int(quiet[quiet < t].max(initial=-1)) + 1
            b = int(quiet[quiet > t].min(initial=n_steps)) - 1
            take = (pk == key) & (assigned[pe] < 0) & (ws <= b) & (we >= a)
            members = np.unique(pe[take])
            assigned[members] = len(formed)
            formed.append((key, a, b))
            gone = np.flatnonzero(np.isin(pe, members))
            touched, pos = np.unique(pk[gone], return_inverse=True)
            counts[touched] -= _coverage(pos, ws[gone], we[gone], touched.size, n_steps)
            refresh(touched)
    merged, group_key = _merge(formed, assigned, ep_start, ep_end, pe, pk, links, gap)
    # Episodes no key explained are incidents of one model each.
    free = np.flatnonzero(merged < 0)
    n_groups = len(group_key)
    merged[free] = n_groups + np.arange(free.size)
    group_key.extend([-1] * free.size)
    return merged[run_episode], group_key


def _coverage(
    rows: IntArray, start: IntArray, end: IntArray, n_rows: int, n_steps: int
) -> IntArray:
    """How many [start, end] spans cover each step, per row (a difference array)."""
    diff = np.zeros((n_rows, n_steps + 1), dtype=np.int64)
    np.add.at(diff, (rows, start), 1)
    np.add.at(diff, (rows, end + 1), -1)
    out: IntArray = np.cumsum(diff[:, :n_steps], axis=1)
    return out


def _background(links: Links, pk: IntArray, span: FloatArray, n_steps: int) -> FloatArray:
    """Each key's background rate: the busy share of the *other* keys of its group.

    Leaving the key's own pairs out keeps an event from inflating the rate it is
    tested against; a group with no other activity gets the floor of one active
    (unit, key) pair-step in the whole history.
    """
    n_keys = len(links.labels)
    busy_key = np.bincount(pk, weights=span, minlength=n_keys)
    busy_base = np.bincount(links.base, weights=busy_key, minlength=links.base_pairs.size)
    other_busy = busy_base[links.base] - busy_key
    other_pairs = (links.base_pairs[links.base] - links.units).astype(np.float64)
    floor = 1.0 / (n_steps * np.maximum(links.base_pairs[links.base], 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = other_busy / (n_steps * other_pairs)
    rate = np.where((other_pairs > 0) & (other_busy > 0), rate, floor)
    out: FloatArray = np.clip(rate, floor, 0.5)
    return out


def _merge(
    formed: list[tuple[int, int, int]],
    assigned: IntArray,
    ep_start: IntArray,
    ep_end: IntArray,
    pe: IntArray,
    pk: IntArray,
    links: Links,
    gap: int,
) -> tuple[IntArray, list[int]]:
    """Merge groups that overlap in time and share a defining label (step 4)."""
    n_groups = len(formed)
    if n_groups == 0:
        return assigned.copy(), []
    member = assigned >= 0
    g_of_ep = assigned[member]
    size = np.bincount(g_of_ep, minlength=n_groups).astype(np.float64)
    gs = np.full(n_groups, np.iinfo(np.int64).max)
    ge = np.full(n_groups, -1)
    np.minimum.at(gs, g_of_ep, ep_start[member])
    np.maximum.at(ge, g_of_ep, ep_end[member])
    idents = links.ident[[key for key, _, _ in formed]]
    n_ident = int(links.ident.max()) + 1
    carry = sparse.csr_array(
        (np.ones(pe.size), (pe, links.ident[pk])), shape=(assigned.size, n_ident)
    )
    carry.sum_duplicates()
    carry.data[:] = 1.0  # two keys with the same label count once
    membership = sparse.csr_array(
        (np.ones(g_of_ep.size), (g_of_ep, np.flatnonzero(member))),
        shape=(n_groups, assigned.size),
    )
    carried = (membership @ carry).toarray()[:, idents]  # [h, g]: h's episodes with g's label
    share = carried / size[:, None]
    overlap = (gs[:, None] <= ge[None, :] + gap) & (gs[None, :] <= ge[:, None] + gap)
    adjacent = overlap & ((share >= _MERGE_SHARE) | (share.T >= _MERGE_SHARE))
    _, comp = connected_components(sparse.csr_array(adjacent), directed=False)
    # Each merged incident is named after its first (most significant) group.
    first: dict[int, int] = {}
    for g in range(n_groups):
        first.setdefault(int(comp[g]), g)
    order = sorted(first, key=lambda c: first[c])
    new_id = {c: i for i, c in enumerate(order)}
    out = np.where(member, 0, -1).astype(np.int64)
    out[member] = [new_id[int(comp[g])] for g in g_of_ep]
    return out, [formed[first[c]][0] for c in order]
