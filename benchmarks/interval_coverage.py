"""Coverage of Seawall's 95% intervals, checked by simulation against known truths.

Requirement: nominal 95% intervals cover the true value in 93.5-96.5% of
simulated draws, for groups as small as 30 rows.

Data model (every truth is known in closed form or by 1-D quadrature)
----------------------------------------------------------------------
Each group ``g`` has a base rate ``pi`` and a binormal latent score
``s | y=1 ~ N(+d/2, 1)``, ``s | y=0 ~ N(-d/2, 1)``. The decision is
``y_pred = 1{s >= t}``, so ``TPR = Phi(d/2 - t)``, ``FPR = Phi(-d/2 - t)``,
``selection rate = pi TPR + (1 - pi) FPR`` and ``precision = pi TPR / selection``.
The score handed to Seawall is ``sigmoid(a (logit(pi) + d s) + b)``: with
``a = 1, b = 0`` it is the exact posterior ``P(y=1 | s)`` (perfectly calibrated);
any ``a > 0`` keeps the ranking, so ``AUC = Phi(d / sqrt 2)`` always. The Brier
score and the population ECE with 10 equal-width bins
(``sqrt(sum_k p_k d_k**2)``, ``p_k = P(p in bin k)``, ``d_k = E[y - p | p in bin
k]``, the estimand of Seawall's debiased ECE) are integrals over ``s``, computed
with ``scipy.integrate.quad``. For a calibrated score (group A) the population
ECE is 0, a boundary any equal-tailed interval covers at least 97.5% of the
time; group B's score is miscalibrated and its ECE positive.

Scenarios (group A is the reference; ``n`` is the size given by ``--sizes``)
-------------------------------------------------------------------------------
``gap``     A and B differ; every group has ``n`` rows, drawn i.i.d. Every
            interval is checked: Wilson per group, Newcombe difference and Katz
            ratio B vs A, equalized-odds difference (pairwise simultaneous
            construction), the summary spread (max - min and min / max), and the
            bootstrap intervals of AUC, Brier and ECE (per group, B - A, spread).
``null``    A and B identical (every true gap is 0 and every true ratio 1);
            ``n`` rows per group; closed-form intervals only.
``ystrat``  as ``gap``, but each group has exactly ``n`` positives and ``n``
            negatives: TPR and FPR have their own denominator equal to ``n``.
``pstrat``  as ``gap``, but each group has exactly ``n`` predicted positives
            and ``n`` predicted negatives: precision's denominator equals ``n``.
``three``   three groups A, B, C with ``n`` rows each: the spread (max - min,
            min / max, equalized odds) is a genuine Bonferroni construction over
            3 pairs, so it is conservative by design.

"Groups as small as 30 rows": with ``n = 30`` in ``gap``/``null``/``three`` a
group has 30 rows, so TPR, FPR and precision are rates over a random and
smaller denominator (about 12 positives in A, 7.5 in B, 6 predicted positives
in B). ``ystrat``/``pstrat`` give the second reading: the metric's *own*
denominator is exactly ``n``.

For the closed-form intervals the script also prints the *exact* coverage (no
Monte Carlo error): the binomial (or binomial-mixture, over the random
denominators) sum of ``P(counts) * 1{interval covers truth}``, using Seawall's
own interval kernels. It is computed for per-group Wilson intervals, Newcombe
and Katz B vs A, and the 2-group spread; for the ``gap``/``null`` mixtures of
pairwise intervals only up to ``n <= --exact-max-n`` (default 300).

Undefined intervals (NaN, e.g. a precision with no predicted positive) count
as misses and are shown in the ``undef`` column. The Monte Carlo standard
error is ``sqrt(c (1 - c) / draws)``. PASS means 93.5% <= coverage <= 96.5%.

Every draw calls ``group_metrics(..., n_bootstrap=--bootstrap)`` (default 1000,
the library default) for ``gap``, and with ``n_bootstrap=0`` for the scenarios that
check closed-form intervals only. ``--workers`` processes (default 2) share the draws.

``--diagnose`` adds candidate fixes for what misses the band, computed here (not
Seawall code): exact coverage of Jeffreys / Clopper-Pearson / Agresti-Coull next to
Wilson and of Koopman's score interval next to Katz; a count-level simulation of
the simultaneous constructions with Bonferroni on one bound only; and, on the rows
of each group, percentile / basic / BCa Poisson bootstrap, a stratified bootstrap,
DeLong on the logit scale (AUC), a t interval (Brier), and for the ECE the
plug-in squared ECE next to the debiased one with percentile, recentred
percentile and normal intervals.

Run::

    PYTHONPATH=src .venv/bin/python benchmarks/interval_coverage.py             # 2000 draws
    PYTHONPATH=src .venv/bin/python benchmarks/interval_coverage.py --quick     # smoke run
    PYTHONPATH=src .venv/bin/python benchmarks/interval_coverage.py --diagnose-only --sizes 30,100
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import integrate, special, stats

from seawall.metrics import (
    group_metrics,
    katz_ratio_interval,
    newcombe_interval,
    wilson_interval,
)

FloatArray = npt.NDArray[np.float64]

LEVEL = 0.95
BAND = (0.935, 0.965)
Z = float(stats.norm.ppf(0.5 + LEVEL / 2.0))
PROPORTIONS = ("selection_rate", "tpr", "fpr", "precision")
SCORES = ("auc", "brier", "ece")
N_CALIBRATION_BINS = 10

# Coverage codes of one interval in one draw.
UNDEFINED, COVERED, TRUTH_BELOW, TRUTH_ABOVE = 0, 1, 2, 3


# ============================================================================ model
@dataclass(frozen=True)
class GroupModel:
    """One group's data-generating process (see the module docstring)."""

    base_rate: float
    d: float
    threshold: float
    slope: float = 1.0
    shift: float = 0.0

    # ------------------------------------------------------------ closed forms
    @property
    def tpr(self) -> float:
        return float(special.ndtr(self.d / 2.0 - self.threshold))

    @property
    def fpr(self) -> float:
        return float(special.ndtr(-self.d / 2.0 - self.threshold))

    @property
    def selection_rate(self) -> float:
        return self.base_rate * self.tpr + (1.0 - self.base_rate) * self.fpr

    @property
    def precision(self) -> float:
        return self.base_rate * self.tpr / self.selection_rate

    @property
    def npv_complement(self) -> float:
        """P(y = 1 | y_pred = 0)."""
        return self.base_rate * (1.0 - self.tpr) / (1.0 - self.selection_rate)

    @property
    def auc(self) -> float:
        return float(special.ndtr(self.d / math.sqrt(2.0)))

    def score(self, s: FloatArray) -> FloatArray:
        logit = special.logit(self.base_rate) + self.d * s
        return special.expit(self.slope * logit + self.shift)  # type: ignore[no-any-return]

    def _density(self, s: float, y: int) -> float:
        mu = self.d / 2.0 if y else -self.d / 2.0
        w = self.base_rate if y else 1.0 - self.base_rate
        return w * math.exp(-0.5 * (s - mu) ** 2) / math.sqrt(2.0 * math.pi)

    @cached_property
    def brier(self) -> float:
        def f(s: float) -> float:
            p = float(self.score(np.array(s)))
            return self._density(s, 1) * (1.0 - p) ** 2 + self._density(s, 0) * p * p

        return float(integrate.quad(f, -np.inf, np.inf, limit=200)[0])

    @cached_property
    def ece(self) -> float:
        edges = np.linspace(0.0, 1.0, N_CALIBRATION_BINS + 1)
        with np.errstate(divide="ignore"):
            logit_edges = (special.logit(edges) - self.shift) / self.slope
        s_edges = (logit_edges - special.logit(self.base_rate)) / self.d

        def resid(s: float) -> float:
            p = float(self.score(np.array(s)))
            return self._density(s, 1) * (1.0 - p) - self._density(s, 0) * p

        def density(s: float) -> float:
            return self._density(s, 1) + self._density(s, 0)

        total = 0.0
        for lo, hi in zip(s_edges[:-1], s_edges[1:], strict=True):
            gap = integrate.quad(resid, lo, hi, limit=200)[0]  # p_k d_k
            share = integrate.quad(density, lo, hi, limit=200)[0]  # p_k
            total += gap * gap / share if share > 0 else 0.0
        return math.sqrt(total)

    def truth(self, metric: str) -> float:
        return float(getattr(self, metric))

    # --------------------------------------------------------------- sampling
    def _latent(self, rng: np.random.Generator, y: npt.NDArray[np.int8]) -> FloatArray:
        return rng.standard_normal(y.size) + np.where(y == 1, self.d / 2.0, -self.d / 2.0)

    def rows(self, rng: np.random.Generator, n: int) -> tuple[Any, ...]:
        """``n`` i.i.d. rows: (y, y_pred, score)."""
        y = (rng.random(n) < self.base_rate).astype(np.int8)
        s = self._latent(rng, y)
        return y, (s >= self.threshold).astype(np.int8), self.score(s)

    def label_stratified(self, rng: np.random.Generator, n: int) -> tuple[Any, ...]:
        """Exactly ``n`` positives and ``n`` negatives."""
        y = np.repeat(np.array([1, 0], dtype=np.int8), n)
        s = self._latent(rng, y)
        return y, (s >= self.threshold).astype(np.int8), self.score(s)

    def prediction_stratified(self, rng: np.random.Generator, n: int) -> tuple[Any, ...]:
        """Exactly ``n`` predicted positives and ``n`` predicted negatives."""
        yp = np.repeat(np.array([1, 0], dtype=np.int8), n)
        p_pos = np.where(yp == 1, self.precision, self.npv_complement)
        y = (rng.random(2 * n) < p_pos).astype(np.int8)
        mu = np.where(y == 1, self.d / 2.0, -self.d / 2.0)
        # s | y, and s >= t (yp = 1) or s < t (yp = 0): inverse-CDF truncated normal.
        cut = special.ndtr(self.threshold - mu)
        u = rng.random(2 * n)
        q = np.where(yp == 1, cut + u * (1.0 - cut), u * cut)
        s = mu + special.ndtri(np.clip(q, 1e-300, 1.0 - 1e-16))
        s = np.where(
            yp == 1,
            np.maximum(s, self.threshold),
            np.minimum(s, np.nextafter(self.threshold, -np.inf)),
        )
        return y, yp, self.score(s)


A = GroupModel(base_rate=0.40, d=2.0, threshold=0.0)
B = GroupModel(base_rate=0.25, d=1.2, threshold=0.6, shift=0.8)  # over-predicts by 0.8 logit
C = GroupModel(base_rate=0.50, d=1.6, threshold=-0.2)


# ======================================================================= quantities
@dataclass(frozen=True)
class Quantity:
    """One interval checked: where it is in the result, and its true value."""

    label: str
    key: tuple[str, ...]
    truth: float
    family: str  # wilson / newcombe / katz / eo / spread / spread-ratio / eo-spread / bootstrap
    exact: Callable[[int], float] | None = None
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    groups: dict[str, GroupModel]
    design: str  # rows / ystrat / pstrat
    bootstrap: bool
    quantities: list[Quantity] = field(default_factory=list)


def _diff_truth(metric: str, g: GroupModel, ref: GroupModel) -> float:
    return g.truth(metric) - ref.truth(metric)


def _ratio_truth(metric: str, g: GroupModel, ref: GroupModel) -> float:
    return g.truth(metric) / ref.truth(metric)


def _spread_truths(metric: str, models: Iterable[GroupModel]) -> tuple[float, float]:
    v = [m.truth(metric) for m in models]
    return max(v) - min(v), min(v) / max(v)


def _denominator(metric: str, m: GroupModel, n: int, design: str) -> FloatArray:
    """Probabilities of the metric's denominator 0..n' in a group of size ``n``."""
    if design == "rows":
        p_den = {
            "selection_rate": 1.0,
            "tpr": m.base_rate,
            "fpr": 1.0 - m.base_rate,
            "precision": m.selection_rate,
        }[metric]
        return stats.binom.pmf(np.arange(n + 1), n, p_den)  # type: ignore[no-any-return]
    out = np.zeros(n + 1)
    out[n] = 1.0
    return out


def exact_wilson(metric: str, m: GroupModel, n: int, design: str) -> float:
    """Exact coverage of the Wilson interval (binomial mixture over the denominator)."""
    dens = _denominator(metric, m, n, design)
    p = m.truth(metric)
    total = 0.0
    for k in np.flatnonzero(dens > 1e-14):
        x = np.arange(k + 1, dtype=np.float64)
        lo, hi = wilson_interval(x, np.full_like(x, k), Z)
        cov = (lo <= p) & (p <= hi)
        total += dens[k] * float(stats.binom.pmf(x, k, p) @ cov)
    return total


def exact_pair(
    metric: str, kind: str, g: GroupModel, ref: GroupModel, n: int, design: str
) -> float:
    """Exact coverage of Newcombe/Katz (and their 2-group spread forms) for g vs ref."""
    dens_g, dens_r = _denominator(metric, g, n, design), _denominator(metric, ref, n, design)
    p1, p2 = g.truth(metric), ref.truth(metric)
    if kind in ("difference", "spread"):
        kernel = newcombe_interval
        truth = p1 - p2
    else:
        kernel = katz_ratio_interval
        truth = p1 / p2
    total = 0.0
    ks_g = np.flatnonzero(dens_g > 1e-12)
    ks_r = np.flatnonzero(dens_r > 1e-12)

    def support(k: int, p: float) -> tuple[FloatArray, FloatArray]:
        x = np.arange(k + 1, dtype=np.float64)
        pmf = stats.binom.pmf(x, k, p)
        keep = pmf > 1e-14
        return x[keep], pmf[keep]

    sup_r = {int(k): support(int(k), p2) for k in ks_r}
    for k1 in ks_g:
        x1, w1 = support(int(k1), p1)
        for k2 in ks_r:
            x2, w2 = sup_r[int(k2)]
            lo, hi = kernel(x1[:, None], float(k1), x2[None, :], float(k2), Z)
            if kind == "spread":  # |d| from the d interval, truth |p1 - p2|
                straddle = (lo <= 0) & (hi >= 0)
                lo, hi = (
                    np.where(straddle, 0.0, np.minimum(abs(lo), abs(hi))),
                    np.maximum(abs(lo), abs(hi)),
                )
                t = abs(truth)
            elif kind == "spread-ratio":  # min(r, 1/r) from the r interval
                with np.errstate(divide="ignore", invalid="ignore"):
                    a, b = np.log(lo), np.log(hi)
                straddle = (a <= 0) & (b >= 0)
                la = np.where(straddle, 0.0, np.minimum(abs(a), abs(b)))
                lb = np.maximum(abs(a), abs(b))
                lo, hi = np.exp(-lb), np.exp(-la)
                t = min(truth, 1.0 / truth)
            else:
                t = truth
            tol = 1e-12 * max(1.0, abs(t))
            cov = (lo <= t + tol) & (t - tol <= hi)
            total += dens_g[k1] * dens_r[k2] * float(w1 @ cov @ w2)
    return total


def build_scenarios() -> list[Scenario]:
    out: list[Scenario] = []

    def pairwise(
        quantities: list[Quantity],
        g_name: str,
        g: GroupModel,
        ref: GroupModel,
        metrics: Sequence[str],
        design: str,
        exact_pairs: bool,
    ) -> None:
        for metric in metrics:
            for kind, fam, sym, tr in (
                ("difference", "newcombe", "-", _diff_truth(metric, g, ref)),
                ("ratio", "katz", "/", _ratio_truth(metric, g, ref)),
            ):
                ex = None
                if exact_pairs:
                    ex = _bind_pair(metric, kind, g, ref, design)
                quantities.append(
                    Quantity(
                        f"{fam} {metric} {g_name}{sym}A",
                        ("disparity", g_name, metric, kind),
                        tr,
                        fam,
                        ex,
                    )
                )

    def eo(quantities: list[Quantity], g_name: str, g: GroupModel, ref: GroupModel) -> None:
        truth = max(abs(g.tpr - ref.tpr), abs(g.fpr - ref.fpr))
        quantities.append(
            Quantity(
                f"eo-diff {g_name} vs A",
                ("disparity", g_name, "equalized_odds", "difference"),
                truth,
                "eo",
                note="simultaneous over (TPR, FPR): alpha/2 each",
            )
        )

    def spreads(
        quantities: list[Quantity],
        models: dict[str, GroupModel],
        metrics: Sequence[str],
        design: str,
    ) -> None:
        two = len(models) == 2
        ms = list(models.values())
        for metric in metrics:
            d, r = _spread_truths(metric, ms)
            note = "2 groups: |Newcombe|, no Bonferroni" if two else "Bonferroni over 3 pairs"
            quantities.append(
                Quantity(
                    f"spread {metric} max-min",
                    ("summary", metric, "difference"),
                    d,
                    "spread",
                    _bind_pair(metric, "spread", ms[1], ms[0], design) if two else None,
                    note,
                )
            )
            quantities.append(
                Quantity(
                    f"spread {metric} min/max",
                    ("summary", metric, "ratio"),
                    r,
                    "spread-ratio",
                    _bind_pair(metric, "spread-ratio", ms[1], ms[0], design) if two else None,
                    note,
                )
            )
        eo_truth = max(_spread_truths("tpr", ms)[0], _spread_truths("fpr", ms)[0])
        quantities.append(
            Quantity(
                "eo-spread max(tpr,fpr)",
                ("summary", "equalized_odds", "difference"),
                eo_truth,
                "eo-spread",
                note="Bonferroni over pairs x (TPR, FPR)",
            )
        )

    def per_group(
        quantities: list[Quantity],
        models: dict[str, GroupModel],
        metrics: Sequence[str],
        design: str,
    ) -> None:
        for metric in metrics:
            for name, m in models.items():
                quantities.append(
                    Quantity(
                        f"wilson {metric} [{name}]",
                        ("metric", name, metric),
                        m.truth(metric),
                        "wilson",
                        _bind_wilson(metric, m, design),
                    )
                )

    # gap: everything
    s = Scenario("gap", {"A": A, "B": B}, "rows", bootstrap=True)
    per_group(s.quantities, s.groups, PROPORTIONS, "rows")
    pairwise(s.quantities, "B", B, A, PROPORTIONS, "rows", exact_pairs=True)
    eo(s.quantities, "B", B, A)
    spreads(s.quantities, s.groups, PROPORTIONS, "rows")
    for metric in SCORES:
        for name, m in s.groups.items():
            note = ""
            if metric == "ece":
                note = "truth 0: calibrated" if m is A else "miscalibrated (+0.8 logit)"
            s.quantities.append(
                Quantity(
                    f"boot {metric} [{name}]",
                    ("metric", name, metric),
                    m.truth(metric),
                    "bootstrap",
                    note=note,
                )
            )
        s.quantities.append(
            Quantity(
                f"boot {metric} B-A",
                ("disparity", "B", metric, "difference"),
                B.truth(metric) - A.truth(metric),
                "bootstrap",
            )
        )
        s.quantities.append(
            Quantity(
                f"boot {metric} spread",
                ("summary", metric, "difference"),
                abs(B.truth(metric) - A.truth(metric)),
                "bootstrap",
            )
        )
    out.append(s)

    # null: identical groups, true gaps 0 and ratios 1
    s = Scenario("null", {"A": A, "B": A}, "rows", bootstrap=False)
    pairwise(s.quantities, "B", A, A, PROPORTIONS, "rows", exact_pairs=True)
    eo(s.quantities, "B", A, A)
    spreads(s.quantities, s.groups, PROPORTIONS, "rows")
    out.append(s)

    # ystrat: the TPR / FPR denominator is exactly n
    s = Scenario("ystrat", {"A": A, "B": B}, "ystrat", bootstrap=False)
    per_group(s.quantities, s.groups, ("tpr", "fpr"), "ystrat")
    pairwise(s.quantities, "B", B, A, ("tpr", "fpr"), "ystrat", exact_pairs=True)
    eo(s.quantities, "B", B, A)
    s.quantities.append(
        Quantity(
            "eo-spread max(tpr,fpr)",
            ("summary", "equalized_odds", "difference"),
            max(abs(B.tpr - A.tpr), abs(B.fpr - A.fpr)),
            "eo-spread",
        )
    )
    out.append(s)

    # pstrat: the precision denominator is exactly n
    s = Scenario("pstrat", {"A": A, "B": B}, "pstrat", bootstrap=False)
    per_group(s.quantities, s.groups, ("precision",), "pstrat")
    pairwise(s.quantities, "B", B, A, ("precision",), "pstrat", exact_pairs=True)
    out.append(s)

    # three groups: the spread is a Bonferroni construction over 3 pairs
    s = Scenario("three", {"A": A, "B": B, "C": C}, "rows", bootstrap=False)
    spreads(s.quantities, s.groups, PROPORTIONS, "rows")
    out.append(s)
    return out


def _bind_wilson(metric: str, m: GroupModel, design: str) -> Callable[[int], float]:
    return lambda n: exact_wilson(metric, m, n, design)


def _bind_pair(
    metric: str, kind: str, g: GroupModel, ref: GroupModel, design: str
) -> Callable[[int], float]:
    return lambda n: exact_pair(metric, kind, g, ref, n, design)


# ======================================================================== simulation
def _draw_data(scenario: Scenario, n: int, rng: np.random.Generator) -> tuple[FloatArray, ...]:
    ys, yps, scores, labels = [], [], [], []
    for name, m in scenario.groups.items():
        sampler = {
            "rows": m.rows,
            "ystrat": m.label_stratified,
            "pstrat": m.prediction_stratified,
        }[scenario.design]
        y, yp, sc = sampler(rng, n)
        ys.append(y)
        yps.append(yp)
        scores.append(sc)
        labels.append(np.full(y.size, name))
    return (
        np.concatenate(ys),
        np.concatenate(yps),
        np.concatenate(scores),
        np.concatenate(labels),
    )


def _index(res: Any) -> dict[tuple[str, ...], tuple[float, float]]:
    out: dict[tuple[str, ...], tuple[float, float]] = {}
    t = res.metrics
    for i in range(len(t)):
        out[("metric", t.group[i], t.metric[i])] = (t.lower[i], t.upper[i])
    t = res.disparities
    for i in range(len(t)):
        out[("disparity", t.group[i], t.metric[i], t.kind[i])] = (t.lower[i], t.upper[i])
    t = res.summary
    for i in range(len(t)):
        out[("summary", t.metric[i], t.kind[i])] = (t.lower[i], t.upper[i])
    return out


def _code(lo: float, hi: float, truth: float) -> int:
    # An infinite bound is a real bound (a ratio with no success on one side).
    if math.isnan(lo) or math.isnan(hi):
        return UNDEFINED
    tol = 1e-12 * max(1.0, abs(truth))
    if truth < lo - tol:
        return TRUTH_BELOW
    if truth > hi + tol:
        return TRUTH_ABOVE
    return COVERED


def simulate_chunk(args: tuple[int, Sequence[int], Sequence[int], int, Sequence[str]]) -> Any:
    """Run draws ``draw_ids`` for every size and scenario; return coverage codes."""
    seed, draw_ids, sizes, n_bootstrap, names = args
    scenarios = [s for s in build_scenarios() if s.name in names]
    codes = {
        (s.name, n): np.zeros((len(draw_ids), len(s.quantities)), dtype=np.int8)
        for s in scenarios
        for n in sizes
    }
    for row, draw in enumerate(draw_ids):
        for si, s in enumerate(scenarios):
            for ni, n in enumerate(sizes):
                rng = np.random.default_rng([seed, draw, si, ni])
                y, yp, sc, g = _draw_data(s, n, rng)
                res = group_metrics(
                    y,
                    yp,
                    sensitive_features=g,
                    y_score=sc if s.bootstrap and n_bootstrap > 0 else None,
                    reference="A",
                    confidence_level=LEVEL,
                    n_bootstrap=n_bootstrap if s.bootstrap else 0,
                    random_state=int(rng.integers(2**31)),
                )
                idx = _index(res)
                out = codes[(s.name, n)]
                for qi, q in enumerate(s.quantities):
                    lo, hi = idx.get(q.key, (math.nan, math.nan))
                    out[row, qi] = _code(float(lo), float(hi), q.truth)
    return codes


def run(
    draws: int,
    seed: int,
    sizes: Sequence[int],
    n_bootstrap: int,
    workers: int,
    names: Sequence[str],
) -> dict[tuple[str, int], npt.NDArray[np.int8]]:
    n_chunks = max(1, min(draws, 8 * workers))
    chunks = [list(c) for c in np.array_split(np.arange(draws), n_chunks) if c.size]
    jobs = [(seed, c, list(sizes), n_bootstrap, list(names)) for c in chunks]
    if workers > 1:
        ctx = mp.get_context("fork")
        with ctx.Pool(workers) as pool:
            parts = pool.map(simulate_chunk, jobs)
    else:
        parts = [simulate_chunk(j) for j in jobs]
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


# =========================================================================== report
@dataclass(frozen=True)
class Row:
    scenario: str
    quantity: str
    family: str
    n: int
    truth: float
    coverage: float
    mcse: float
    below: float
    above: float
    undefined: float
    exact: float | None
    verdict: str
    note: str


def verdict(c: float) -> str:
    if c < BAND[0]:
        return "FAIL-low"
    if c > BAND[1]:
        return "FAIL-high"
    return "PASS"


def summarise(
    codes: dict[tuple[str, int], npt.NDArray[np.int8]],
    sizes: Sequence[int],
    names: Sequence[str],
    exact_max_n: int,
    with_exact: bool,
) -> list[Row]:
    rows = []
    for s in build_scenarios():
        if s.name not in names:
            continue
        for n in sizes:
            c = codes[(s.name, n)]
            r = c.shape[0]
            for qi, q in enumerate(s.quantities):
                col = c[:, qi]
                cov = float(np.mean(col == COVERED))
                ex = None
                if with_exact and q.exact is not None:
                    mixture = s.design == "rows" and q.family != "wilson"
                    if not mixture or n <= exact_max_n:
                        ex = q.exact(n)
                rows.append(
                    Row(
                        s.name,
                        q.label,
                        q.family,
                        n,
                        q.truth,
                        cov,
                        math.sqrt(cov * (1 - cov) / r),
                        float(np.mean(col == TRUTH_BELOW)),
                        float(np.mean(col == TRUTH_ABOVE)),
                        float(np.mean(col == UNDEFINED)),
                        ex,
                        verdict(cov),
                        q.note,
                    )
                )
    return rows


def format_table(rows: list[Row], draws: int) -> str:
    head = (
        f"{'scenario':8} {'quantity':30} {'n':>5} {'truth':>8} {'cover%':>7} {'mcse%':>6} "
        f"{'lo-miss%':>8} {'hi-miss%':>8} {'undef%':>6} {'exact%':>7}  {'verdict':9} note"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        ex = f"{100 * r.exact:7.2f}" if r.exact is not None else f"{'':>7}"
        ex_flag = ""
        if r.exact is not None and verdict(r.exact) != "PASS":
            ex_flag = f" [exact {verdict(r.exact)}]"
        lines.append(
            f"{r.scenario:8} {r.quantity:30} {r.n:5d} {r.truth:8.4f} {100 * r.coverage:7.2f} "
            f"{100 * r.mcse:6.2f} {100 * r.above:8.2f} {100 * r.below:8.2f} "
            f"{100 * r.undefined:6.2f} {ex}  {r.verdict:9} {r.note}{ex_flag}"
        )
    fails = [r for r in rows if r.verdict != "PASS"]
    lines.append("")
    lines.append(
        f"{len(rows)} intervals, {draws} draws each; {len(rows) - len(fails)} PASS, "
        f"{sum(r.verdict == 'FAIL-low' for r in fails)} FAIL-low, "
        f"{sum(r.verdict == 'FAIL-high' for r in fails)} FAIL-high "
        f"(band {100 * BAND[0]:.1f}-{100 * BAND[1]:.1f}%)."
    )
    lines.append(
        "lo-miss% = truth above the interval (interval too low); "
        "hi-miss% = truth below it (interval too high)."
    )
    return "\n".join(lines)


def truths_table() -> str:
    lines = ["True values:"]
    for name, m in (("A", A), ("B", B), ("C", C)):
        lines.append(
            f"  {name}: base_rate={m.base_rate:.3f} d={m.d} t={m.threshold} "
            f"slope={m.slope} shift={m.shift} | sel={m.selection_rate:.4f} tpr={m.tpr:.4f} "
            f"fpr={m.fpr:.4f} precision={m.precision:.4f} auc={m.auc:.4f} "
            f"brier={m.brier:.5f} ece10={m.ece:.5f}"
        )
    return "\n".join(lines)


# ======================================================================= diagnostics
# Candidate replacements for the intervals that miss the band. None of this is
# Seawall code: each is computed here, on the same kind of draws, to show whether
# a change would fix the coverage.


def _jeffreys(x: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    a = (1.0 - LEVEL) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = stats.beta.ppf(a, x + 0.5, n - x + 0.5)
        hi = stats.beta.ppf(1.0 - a, x + 0.5, n - x + 0.5)
    return np.where(x <= 0, 0.0, lo), np.where(x >= n, 1.0, hi)


def _clopper_pearson(x: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    a = (1.0 - LEVEL) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = stats.beta.ppf(a, x, n - x + 1.0)
        hi = stats.beta.ppf(1.0 - a, x + 1.0, n - x)
    return np.where(x <= 0, 0.0, lo), np.where(x >= n, 1.0, hi)


def _agresti_coull(x: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    nt = n + Z * Z
    pt = (x + Z * Z / 2.0) / nt
    half = Z * np.sqrt(pt * (1.0 - pt) / nt)
    return np.clip(pt - half, 0.0, 1.0), np.clip(pt + half, 0.0, 1.0)


def _wilson(x: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    return wilson_interval(x, n, Z)


BINOMIAL_METHODS: dict[str, Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]] = {
    "wilson (seawall)": _wilson,
    "jeffreys": _jeffreys,
    "clopper-pearson": _clopper_pearson,
    "agresti-coull": _agresti_coull,
}


def exact_binomial(
    method: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    metric: str,
    m: GroupModel,
    n: int,
    design: str,
) -> float:
    dens = _denominator(metric, m, n, design)
    p = m.truth(metric)
    total = 0.0
    for k in np.flatnonzero(dens > 1e-14):
        x = np.arange(k + 1, dtype=np.float64)
        lo, hi = method(x, np.full_like(x, k))
        total += dens[k] * float(stats.binom.pmf(x, k, p) @ ((lo <= p) & (p <= hi)))
    return total


def _koopman_accepts(
    x1: FloatArray, n1: float, x2: FloatArray, n2: float, phi: float
) -> npt.NDArray[np.bool_]:
    """Whether Koopman's score interval for p1/p2 contains ``phi``.

    The interval is ``{phi: Pearson chi2 with the MLE under p1 = phi p2 <= z^2}``,
    so containment is one evaluation of the statistic at ``phi``.
    """
    big_n = n1 + n2
    a = phi * big_n
    b = -(phi * n1 + x1 + n2 + phi * x2)
    c = x1 + x2
    with np.errstate(divide="ignore", invalid="ignore"):
        p2 = (-b - np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)
        p1 = phi * p2
        t = (x1 - n1 * p1) ** 2 / (n1 * p1 * (1.0 - p1)) + (x2 - n2 * p2) ** 2 / (
            n2 * p2 * (1.0 - p2)
        )
    return np.where(np.isfinite(t), t <= Z * Z, True)  # type: ignore[no-any-return]


def exact_ratio_method(
    method: str, metric: str, g: GroupModel, ref: GroupModel, n: int, design: str
) -> float:
    dens_g, dens_r = _denominator(metric, g, n, design), _denominator(metric, ref, n, design)
    p1, p2 = g.truth(metric), ref.truth(metric)
    phi = p1 / p2
    total = 0.0
    for k1 in np.flatnonzero(dens_g > 1e-12):
        x1 = np.arange(k1 + 1, dtype=np.float64)
        w1 = stats.binom.pmf(x1, k1, p1)
        for k2 in np.flatnonzero(dens_r > 1e-12):
            x2 = np.arange(k2 + 1, dtype=np.float64)
            w2 = stats.binom.pmf(x2, k2, p2)
            if method == "koopman":
                cov = _koopman_accepts(x1[:, None], float(k1), x2[None, :], float(k2), phi)
                # Counted as misses, as Katz's NaN is: an empty sample, or no success
                # in either (Koopman's interval is then (0, inf), uninformative).
                cov = cov & ~((x1[:, None] == 0) & (x2[None, :] == 0)) & (k1 > 0) & (k2 > 0)
            else:
                lo, hi = katz_ratio_interval(x1[:, None], k1, x2[None, :], k2, Z)
                cov = (lo <= phi) & (phi <= hi)
            total += dens_g[k1] * dens_r[k2] * float(w1 @ cov @ w2)
    return total


def diagnose_closed_form(sizes: Sequence[int], exact_max_n: int) -> str:
    lines = ["", "Diagnostics (exact coverage, %): binomial intervals per group"]
    head = f"  {'design':7} {'metric':15} {'grp':3} {'n':>5} {'E[den]':>7}" + "".join(
        f" {k:>17}" for k in BINOMIAL_METHODS
    )
    lines.append(head)
    settings = (
        [("rows", mt, gname, m) for mt in PROPORTIONS for gname, m in (("A", A), ("B", B))]
        + [("ystrat", mt, gname, m) for mt in ("tpr", "fpr") for gname, m in (("A", A), ("B", B))]
        + [("pstrat", "precision", gname, m) for gname, m in (("A", A), ("B", B))]
    )
    for n in sizes:
        for design, metric, gname, m in settings:
            dens = _denominator(metric, m, n, design)
            e_den = float(dens @ np.arange(n + 1))
            cells = "".join(
                f" {100 * exact_binomial(f, metric, m, n, design):17.2f}"
                for f in BINOMIAL_METHODS.values()
            )
            lines.append(f"  {design:7} {metric:15} {gname:3} {n:5d} {e_den:7.1f}{cells}")
    lines.append("")
    lines.append("Diagnostics (exact coverage, %): ratio B/A, Katz (seawall) vs Koopman score")
    lines.append(f"  {'scen':6} {'design':7} {'metric':15} {'n':>5} {'katz':>8} {'koopman':>8}")
    for n in sizes:
        for scen, g in (("gap", B), ("null", A)):
            for design, metrics in (("rows", PROPORTIONS), ("ystrat", ("tpr", "fpr"))):
                if design == "rows" and n > exact_max_n:
                    continue
                if scen == "null" and design != "rows":
                    continue
                for metric in metrics:
                    k = exact_ratio_method("katz", metric, g, A, n, design)
                    ko = exact_ratio_method("koopman", metric, g, A, n, design)
                    lines.append(
                        f"  {scen:6} {design:7} {metric:15} {n:5d} {100 * k:8.2f} {100 * ko:8.2f}"
                    )
    return "\n".join(lines)


# --- simultaneous constructions (EO, spread): count-level simulation -------------
def _count_draws(
    m: GroupModel, n: int, design: str, rng: np.random.Generator, r: int
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """(successes, trials) of every proportion in ``r`` draws of one group, from counts."""
    if design == "rows":
        n_pos = rng.binomial(n, m.base_rate, r).astype(np.float64)
    else:
        n_pos = np.full(r, float(n))
    n_neg = (n if design == "rows" else 2 * n) - n_pos
    tp = rng.binomial(n_pos.astype(np.int64), m.tpr).astype(np.float64)
    fp = rng.binomial(n_neg.astype(np.int64), m.fpr).astype(np.float64)
    return {
        "selection_rate": (tp + fp, n_pos + n_neg),
        "tpr": (tp, n_pos),
        "fpr": (fp, n_neg),
        "precision": (tp, tp + fp),
    }


def _abs_image(lo: FloatArray, hi: FloatArray) -> tuple[FloatArray, FloatArray]:
    a, b = np.abs(lo), np.abs(hi)
    straddle = (lo <= 0) & (hi >= 0)
    return np.where(straddle, 0.0, np.minimum(a, b)), np.maximum(a, b)


def _gap_bounds(
    c1: tuple[FloatArray, FloatArray],
    c2: tuple[FloatArray, FloatArray],
    z_lower: float,
    z_upper: float,
    ratio: bool,
) -> tuple[FloatArray, FloatArray]:
    """Bounds of |p1 - p2| (or min(r, 1/r)): lower from a z_lower interval, upper from z_upper."""
    out = []
    for z, side in ((z_lower, 0), (z_upper, 1)):
        if ratio:
            lo, hi = katz_ratio_interval(c1[0], c1[1], c2[0], c2[1], z)
            with np.errstate(divide="ignore", invalid="ignore"):
                a, b = _abs_image(np.log(lo), np.log(hi))
            # min(r, 1/r) = exp(-|log r|): bounds exp(-upper |log r|), exp(-lower |log r|).
            out.append((np.exp(-b), np.exp(-a))[side])
        else:
            lo, hi = newcombe_interval(c1[0], c1[1], c2[0], c2[1], z)
            out.append(_abs_image(lo, hi)[side])
    return out[0], out[1]


def _max_bounds(bounds: list[tuple[FloatArray, FloatArray]], smallest: bool) -> tuple[Any, Any]:
    lo = np.stack([b[0] for b in bounds])
    hi = np.stack([b[1] for b in bounds])
    pick = np.min if smallest else np.max
    return pick(lo, axis=0), pick(hi, axis=0)


def diagnose_simultaneous(sizes: Sequence[int], seed: int, r: int = 20000) -> str:
    """Coverage of the EO and spread constructions and of a one-sided-Bonferroni variant.

    Seawall bounds the largest of ``m`` gaps by Bonferroni on both sides (each gap at
    level 1 - alpha/m). Only the lower bound needs it: ``max_i U_i`` fails only if the
    largest gap's own ``U`` does (probability alpha/2), while ``max_i L_i`` fails if any
    ``L_i`` exceeds the largest gap (at most ``m`` times alpha/(2m)). The 'one-sided'
    variant takes the lower bounds at level 1 - alpha/m and the upper bounds at
    1 - alpha (mirrored for the smallest ratio).
    """
    alpha = 1.0 - LEVEL
    rng = np.random.default_rng([seed, 11])
    lines = [
        "",
        f"Diagnostics (count-level simulation, {r} draws, MCSE ~0.15%): simultaneous",
        "constructions. 'seawall' = Bonferroni on both bounds; 'one-sided' = Bonferroni only",
        "on the bound that needs it (the lower bound of a largest gap, the upper bound of a",
        "smallest ratio), the other at the nominal level; 'unadjusted' = neither.",
        f"  {'what':34} {'scen':6} {'design':6} {'n':>5} {'seawall':>8} {'one-sided':>10} "
        f"{'unadjusted':>10}",
    ]

    def zq(a: float) -> float:
        return float(stats.norm.ppf(1.0 - a / 2.0))

    cases: list[tuple[str, str, dict[str, GroupModel], str]] = [
        ("eo B vs A", "gap", {"A": A, "B": B}, "rows"),
        ("eo B vs A", "null", {"A": A, "B": A}, "rows"),
        ("eo B vs A", "gap", {"A": A, "B": B}, "ystrat"),
    ]
    for n in sizes:
        for what, scen, models, design in cases:
            draws = {g: _count_draws(m, n, design, rng, r) for g, m in models.items()}
            truth = max(abs(models["B"].tpr - A.tpr), abs(models["B"].fpr - A.fpr))
            covs = []
            for z_lo, z_hi in (
                (zq(alpha / 2), zq(alpha / 2)),
                (zq(alpha / 2), zq(alpha)),
                (zq(alpha), zq(alpha)),
            ):
                bounds = [
                    _gap_bounds(draws["B"][mt], draws["A"][mt], z_lo, z_hi, ratio=False)
                    for mt in ("tpr", "fpr")
                ]
                lo, hi = _max_bounds(bounds, smallest=False)
                covs.append(float(np.mean((lo <= truth + 1e-12) & (truth - 1e-12 <= hi))))
            lines.append(
                f"  {what:34} {scen:6} {design:6} {n:5d} "
                + " ".join(f"{100 * c:{w}.2f}" for c, w in zip(covs, (8, 10, 10), strict=True))
            )
        models3 = {"A": A, "B": B, "C": C}
        draws = {g: _count_draws(m, n, "rows", rng, r) for g, m in models3.items()}
        pair_list = [("A", "B"), ("A", "C"), ("B", "C")]
        n_pairs = len(pair_list)
        for metric in (*PROPORTIONS, "equalized_odds"):
            for ratio in (False, True):
                if metric == "equalized_odds" and ratio:
                    continue
                metrics = ("tpr", "fpr") if metric == "equalized_odds" else (metric,)
                m_gaps = n_pairs * len(metrics)
                vals = {mt: [m.truth(mt) for m in models3.values()] for mt in metrics}
                if ratio:
                    truth = min(vals[metric]) / max(vals[metric])
                else:
                    truth = max(max(v) - min(v) for v in vals.values())
                covs = []
                for z_lo, z_hi in (
                    (zq(alpha / m_gaps), zq(alpha / m_gaps)),
                    (zq(alpha / m_gaps), zq(alpha)),
                    (zq(alpha), zq(alpha)),
                ):
                    if ratio:
                        # The smallest of several ratios: its lower bound fails only if
                        # the smallest ratio's own does; its upper bound needs Bonferroni.
                        lo, hi = _max_bounds(
                            [
                                _gap_bounds(draws[g1][metric], draws[g2][metric], z_hi, z_lo, True)
                                for g1, g2 in pair_list
                            ],
                            smallest=True,
                        )
                    else:
                        lo, hi = _max_bounds(
                            [
                                _gap_bounds(draws[g1][mt], draws[g2][mt], z_lo, z_hi, False)
                                for mt in metrics
                                for g1, g2 in pair_list
                            ],
                            smallest=False,
                        )
                    ok = np.isfinite(lo) & np.isfinite(hi)
                    covs.append(float(np.mean(ok & (lo <= truth + 1e-12) & (truth - 1e-12 <= hi))))
                label = f"3-group spread {metric} " + ("min/max" if ratio else "max-min")
                lines.append(
                    f"  {label:34} {'three':6} {'rows':6} {n:5d} "
                    + " ".join(f"{100 * c:{w}.2f}" for c, w in zip(covs, (8, 10, 10), strict=True))
                )
    return "\n".join(lines)


# --- score metrics: row-level Poisson bootstrap and alternatives ----------------
def _auc_weighted(y_sorted: FloatArray, w: FloatArray) -> FloatArray:
    """AUC of rows sorted by score (no ties), with weights ``w`` of shape (B, n)."""
    neg = w * (1.0 - y_sorted)
    pos = w * y_sorted
    below = np.cumsum(neg, axis=-1) - neg
    with np.errstate(divide="ignore", invalid="ignore"):
        return (pos * below).sum(axis=-1) / (pos.sum(axis=-1) * neg.sum(axis=-1))  # type: ignore[no-any-return]


def _ece_weighted(resid: FloatArray, onehot: FloatArray, w: FloatArray) -> tuple[FloatArray, ...]:
    """Plug-in and debiased squared l2 ECE with frequency weights ``w`` of shape (B, n)."""
    n_k = w @ onehot
    s_k = (w * resid) @ onehot
    q_k = (w * resid * resid) @ onehot
    total = n_k.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        plugin = np.where(n_k > 0, s_k**2 / n_k, 0.0).sum(axis=-1) / total
        debiased = np.where(n_k > 1, (s_k**2 - q_k) / (n_k - 1.0), 0.0).sum(axis=-1) / total
    return plugin, debiased


def _bca(reps: FloatArray, theta: float, jack: FloatArray) -> tuple[float, float]:
    ok = reps[np.isfinite(reps)]
    if ok.size < 10 or not np.isfinite(theta):
        return math.nan, math.nan
    frac = (np.sum(ok < theta) + 0.5 * np.sum(ok == theta)) / ok.size
    frac = min(max(frac, 1.0 / ok.size), 1.0 - 1.0 / ok.size)
    z0 = float(special.ndtri(frac))
    jm = jack.mean()
    num = float(np.sum((jm - jack) ** 3))
    den = 6.0 * float(np.sum((jm - jack) ** 2)) ** 1.5
    acc = num / den if den > 0 else 0.0
    za = np.array([-Z, Z])
    adj = special.ndtr(z0 + (z0 + za) / (1.0 - acc * (z0 + za)))
    lo, hi = np.quantile(ok, adj)
    return float(lo), float(hi)


def _pct(reps: FloatArray) -> tuple[float, float]:
    ok = reps[np.isfinite(reps)]
    if ok.size < 10:
        return math.nan, math.nan
    a = (1.0 - LEVEL) / 2.0
    lo, hi = np.quantile(ok, [a, 1.0 - a])
    return float(lo), float(hi)


def _score_intervals(
    y: npt.NDArray[np.int8], p: FloatArray, rng: np.random.Generator, n_boot: int
) -> dict[str, tuple[float, float]]:
    """Every candidate interval of AUC, Brier and ECE for one group's rows."""
    out: dict[str, tuple[float, float]] = {}
    n = y.size
    order = np.argsort(p)
    ys = y[order].astype(np.float64)
    ps = p[order]
    n_pos, n_neg = ys.sum(), n - ys.sum()
    w = rng.poisson(1.0, size=(n_boot, n)).astype(np.float64)
    # ---- AUC
    auc = float(_auc_weighted(ys, np.ones((1, n)))[0])
    reps = _auc_weighted(ys, w)
    out["auc percentile (poisson, rows)"] = _pct(reps)
    lo, hi = _pct(reps)
    out["auc basic (poisson)"] = (2 * auc - hi, 2 * auc - lo)
    below_neg = np.cumsum(1.0 - ys) - (1.0 - ys)  # negatives below each row
    above_pos = ys[::-1].cumsum()[::-1] - ys  # positives above each row
    total = auc * n_pos * n_neg
    with np.errstate(divide="ignore", invalid="ignore"):
        jack = np.where(
            ys == 1,
            (total - below_neg) / ((n_pos - 1) * n_neg),
            (total - above_pos) / (n_pos * (n_neg - 1)),
        )
    out["auc bca (poisson)"] = _bca(reps, auc, jack[np.isfinite(jack)])
    # stratified multinomial bootstrap: class sizes fixed
    if n_pos > 0 and n_neg > 0:
        ws = np.zeros((n_boot, n))
        pos_idx, neg_idx = np.flatnonzero(ys == 1), np.flatnonzero(ys == 0)
        ws[:, pos_idx] = rng.multinomial(
            int(n_pos), np.full(pos_idx.size, 1 / pos_idx.size), n_boot
        )
        ws[:, neg_idx] = rng.multinomial(
            int(n_neg), np.full(neg_idx.size, 1 / neg_idx.size), n_boot
        )
        sreps = _auc_weighted(ys, ws)
        out["auc percentile (stratified)"] = _pct(sreps)
        out["auc bca (stratified)"] = _bca(sreps, auc, jack[np.isfinite(jack)])
        # DeLong variance, interval on the logit scale
        v10 = below_neg[ys == 1] / n_neg
        v01 = above_pos[ys == 0] / n_pos
        var = (np.var(v10, ddof=1) / n_pos if n_pos > 1 else np.nan) + (
            np.var(v01, ddof=1) / n_neg if n_neg > 1 else np.nan
        )
        if 0.0 < auc < 1.0 and np.isfinite(var):
            lg, se = special.logit(auc), math.sqrt(var) / (auc * (1.0 - auc))
            out["auc delong-logit"] = (
                float(special.expit(lg - Z * se)),
                float(special.expit(lg + Z * se)),
            )
        elif auc == 1.0:
            out["auc delong-logit"] = (math.nan, math.nan)
        # studentized (bootstrap-t) with the DeLong SE inside each stratified replicate is
        # costly; skipped.
    # ---- Brier
    e = (ys - ps) ** 2
    brier = float(e.mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        breps = (w * e).sum(axis=1) / w.sum(axis=1)
    out["brier percentile (poisson)"] = _pct(breps)
    lo, hi = _pct(breps)
    out["brier basic (poisson)"] = (2 * brier - hi, 2 * brier - lo)
    out["brier bca (poisson)"] = _bca(breps, brier, (e.sum() - e) / (n - 1))
    sd = float(e.std(ddof=1))
    tq = float(stats.t.ppf(0.5 + LEVEL / 2.0, n - 1))
    out["brier t-interval"] = (brier - tq * sd / math.sqrt(n), brier + tq * sd / math.sqrt(n))
    # ---- ECE (intervals of the squared l2 ECE, square-rooted: coverage is the same)
    resid = ys - ps
    bins = np.minimum((ps * N_CALIBRATION_BINS).astype(np.intp), N_CALIBRATION_BINS - 1)
    onehot = np.zeros((n, N_CALIBRATION_BINS))
    onehot[np.arange(n), bins] = 1.0
    plug, deb = (float(v[0]) for v in _ece_weighted(resid, onehot, np.ones((1, n))))
    plug_reps, deb_reps = _ece_weighted(resid, onehot, w)

    def root(lo: float, hi: float) -> tuple[float, float]:
        return math.sqrt(max(lo, 0.0)), math.sqrt(max(hi, 0.0))

    out["ece plug-in percentile"] = root(*_pct(plug_reps))
    out["ece debiased percentile"] = root(*_pct(deb_reps))
    lo, hi = _pct(deb_reps)
    # the bootstrap world's truth is the plug-in value: recentre the replicates on it
    out["ece debiased percentile, recentred"] = root(deb + lo - plug, deb + hi - plug)
    sd = float(np.std(deb_reps, ddof=1))
    out["ece debiased normal"] = root(deb - Z * sd, deb + Z * sd)
    return out


def diagnose_scores_chunk(args: tuple[int, Sequence[int], Sequence[int], int]) -> Any:
    seed, draw_ids, sizes, n_boot = args
    results: dict[tuple[str, int, str], list[int]] = {}
    for draw in draw_ids:
        for ni, n in enumerate(sizes):
            for gi, (gname, m) in enumerate((("A", A), ("B", B))):
                rng = np.random.default_rng([seed, 7, draw, ni, gi])
                y, _, p = m.rows(rng, n)
                for method, (lo, hi) in _score_intervals(y, p, rng, n_boot).items():
                    metric = method.split()[0]
                    code = _code(lo, hi, m.truth(metric))
                    results.setdefault((gname, n, method), []).append(code)
    return results


def diagnose_scores(draws: int, seed: int, sizes: Sequence[int], n_boot: int, workers: int) -> str:
    n_chunks = max(1, min(draws, 8 * workers))
    chunks = [list(c) for c in np.array_split(np.arange(draws), n_chunks) if c.size]
    jobs = [(seed, c, list(sizes), n_boot) for c in chunks]
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(diagnose_scores_chunk, jobs)
    else:
        parts = [diagnose_scores_chunk(j) for j in jobs]
    merged: dict[tuple[str, int, str], list[int]] = {}
    for part in parts:
        for k, v in part.items():
            merged.setdefault(k, []).extend(v)
    lines = [
        "",
        f"Diagnostics (simulation, {draws} draws, B={n_boot}): score-metric intervals per group,",
        "computed here on the rows (not Seawall's count-table bootstrap); '(poisson, rows)' is",
        "the same percentile method as Seawall's.",
        f"  {'group':5} {'n':>5} {'method':32} {'cover%':>7} {'mcse%':>6} {'lo-miss%':>8} "
        f"{'hi-miss%':>8} {'undef%':>6}  verdict",
    ]
    for key in sorted(merged, key=lambda k: (k[2].split()[0], k[0], k[1], k[2])):
        gname, n, method = key
        c = np.asarray(merged[key])
        cov = float(np.mean(c == COVERED))
        lines.append(
            f"  {gname:5} {n:5d} {method:32} {100 * cov:7.2f} "
            f"{100 * math.sqrt(cov * (1 - cov) / c.size):6.2f} "
            f"{100 * np.mean(c == TRUTH_ABOVE):8.2f} {100 * np.mean(c == TRUTH_BELOW):8.2f} "
            f"{100 * np.mean(c == UNDEFINED):6.2f}  {verdict(cov)}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--sizes", default="30,100,1000", help="comma-separated group sizes")
    parser.add_argument("--bootstrap", type=int, default=1000, help="replicates per draw")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--scenarios", default="gap,null,ystrat,pstrat,three", help="comma-separated subset"
    )
    parser.add_argument("--exact-max-n", type=int, default=300)
    parser.add_argument("--no-exact", action="store_true", help="skip exact coverage")
    parser.add_argument("--quick", action="store_true", help="200 draws, sizes 30,100, B=200")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument(
        "--diagnose", action="store_true", help="also run the diagnostics of candidate fixes"
    )
    parser.add_argument("--diagnose-only", action="store_true", help="only the diagnostics")
    parser.add_argument("--diagnose-draws", type=int, default=None)
    parser.add_argument("--diagnose-sizes", default=None, help="default: --sizes")
    parser.add_argument("--save-codes", help="save the per-draw coverage codes (.npz)")
    parser.add_argument("--load-codes", help="re-summarise saved codes instead of simulating")
    args = parser.parse_args(argv)
    if args.quick:
        args.draws, args.sizes, args.bootstrap = 200, "30,100", 200
    sizes = [int(v) for v in args.sizes.split(",")]
    names = [v.strip() for v in args.scenarios.split(",")]

    print(truths_table())
    print(
        f"draws={args.draws} sizes={sizes} n_bootstrap={args.bootstrap} seed={args.seed} "
        f"workers={args.workers} scenarios={names}",
        flush=True,
    )
    if not args.diagnose_only:
        t0 = time.perf_counter()
        if args.load_codes:
            with np.load(args.load_codes) as saved:
                codes = {(k.split(":")[0], int(k.split(":")[1])): saved[k] for k in saved.files}
            args.draws = next(iter(codes.values())).shape[0]
        else:
            codes = run(args.draws, args.seed, sizes, args.bootstrap, args.workers, names)
        if args.save_codes:
            np.savez_compressed(args.save_codes, **{f"{k[0]}:{k[1]}": v for k, v in codes.items()})
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = summarise(codes, sizes, names, args.exact_max_n, not args.no_exact)
        t_exact = time.perf_counter() - t0
        print(format_table(rows, args.draws))
        print(f"simulation {t_sim:.0f} s, exact coverage {t_exact:.0f} s", flush=True)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump([r.__dict__ for r in rows], fh, indent=1)
    if args.diagnose or args.diagnose_only:
        t0 = time.perf_counter()
        d_sizes = [int(v) for v in (args.diagnose_sizes or args.sizes).split(",")]
        print(diagnose_closed_form(d_sizes, args.exact_max_n), flush=True)
        print(diagnose_simultaneous(d_sizes, args.seed), flush=True)
        d_draws = args.diagnose_draws or args.draws
        # The row-level candidates cost ~1 s per group and draw at n = 1000: small n only.
        s_sizes = [n for n in d_sizes if n <= 300]
        print(diagnose_scores(d_draws, args.seed, s_sizes, args.bootstrap, args.workers))
        print(f"diagnostics {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
