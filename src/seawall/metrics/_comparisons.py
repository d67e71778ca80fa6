"""Comparisons of proportions between groups: against the reference, and the spread.

Pairwise: Newcombe intervals for differences, Katz for ratios, Fisher or z
tests. Equalized odds (the larger of the TPR and FPR gaps) and the spread of
every grouping get simultaneous (Bonferroni) intervals built from the pairwise
ones, and a chi-square test of homogeneity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from seawall.metrics._definitions import COMPARED, DISPARITY_NAMES, METRIC_INDEX, Rows
from seawall.metrics._intervals import katz_ratio_interval, newcombe_interval
from seawall.metrics._significance import two_proportion_pvalue
from seawall.metrics._spread import abs_interval, max_interval, pairs, symmetric_ratio_interval

__all__ = ["GroupingContext", "Rates", "emit_pairwise", "emit_summary"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
_COLS = [METRIC_INDEX[m] for m in COMPARED]
_TPR, _FPR = COMPARED.index("tpr"), COMPARED.index("fpr")


@dataclass(frozen=True, slots=True)
class Rates:
    """Every proportion of one grouping, each array of shape (n_groups, n_metrics).

    ``successes`` and ``trials`` are effective counts (Kish) when rows are weighted.
    """

    value: FloatArray
    successes: FloatArray
    trials: FloatArray
    lower: FloatArray
    upper: FloatArray


@dataclass(frozen=True, slots=True)
class GroupingContext:
    """What the comparisons of one grouping need to know."""

    name: str
    labels: tuple[str, ...]
    rows: FloatArray
    small: npt.NDArray[np.bool_]
    ref: int
    alpha: float
    min_size: int

    @property
    def others(self) -> IntArray:
        """Every group but the reference."""
        return np.array([g for g in range(len(self.labels)) if g != self.ref], dtype=np.intp)

    @property
    def judged(self) -> IntArray:
        """Every group large enough to judge."""
        return np.flatnonzero(~self.small)

    def note(self, g: int) -> str:
        """Why group ``g`` is not judged, or an empty string."""
        if not self.small[g]:
            return ""
        return f"too small to judge: {int(self.rows[g])} rows < min_group_size={self.min_size}"


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


def _add_disparity(
    out: Rows,
    ctx: GroupingContext,
    g: int,
    metric: str,
    kind: str,
    value: float,
    lower: float,
    upper: float,
    p_value: float,
    test: str,
) -> None:
    out.add(
        out.disparities,
        grouping=ctx.name,
        group=ctx.labels[g],
        reference=ctx.labels[ctx.ref],
        metric=metric,
        kind=kind,
        name=DISPARITY_NAMES[(metric, kind)],
        value=value,
        lower=lower,
        upper=upper,
        p_value=np.nan if ctx.small[g] else p_value,
        test=test,
        note=ctx.note(g),
    )


def emit_pairwise(out: Rows, ctx: GroupingContext, rates: Rates, exact_allowed: bool) -> None:
    """Add every group's comparison with the reference to ``out.disparities``.

    Parameters
    ----------
    out : Rows
        The accumulator.
    ctx : GroupingContext
        The grouping.
    rates : Rates
        Its proportions.
    exact_allowed : bool
        Whether counts are whole (unweighted), so Fisher's test applies to small cells.
    """
    others, ref = ctx.others, ctx.ref
    if others.size == 0:
        return
    x1, n1 = rates.successes[others][:, _COLS], rates.trials[others][:, _COLS]
    x2 = np.broadcast_to(rates.successes[ref, _COLS], x1.shape)
    n2 = np.broadcast_to(rates.trials[ref, _COLS], n1.shape)
    z = _z(ctx.alpha)
    d_lo, d_hi = newcombe_interval(x1, n1, x2, n2, z)
    r_lo, r_hi = katz_ratio_interval(x1, n1, x2, n2, z)
    pv, exact = two_proportion_pvalue(
        x1.ravel(), n1.ravel(), x2.ravel(), n2.ravel(), exact_allowed=exact_allowed
    )
    pv, exact = pv.reshape(x1.shape), exact.reshape(x1.shape)
    p1, p2 = rates.value[others][:, _COLS], rates.value[ref, _COLS]
    with np.errstate(divide="ignore", invalid="ignore"):
        diff, ratio = p1 - p2, p1 / p2
    # Equalized odds: max(|dTPR|, |dFPR|), each gap bounded at level 1 - alpha/2.
    e_lo, e_hi = newcombe_interval(
        x1[:, [_TPR, _FPR]],
        n1[:, [_TPR, _FPR]],
        x2[:, [_TPR, _FPR]],
        n2[:, [_TPR, _FPR]],
        _z(ctx.alpha / 2.0),
    )
    a_lo, a_hi = abs_interval(e_lo, e_hi)
    for i, g in enumerate(others):
        for c, metric in enumerate(COMPARED):
            test = "fisher" if exact[i, c] else "z"
            _add_disparity(
                out,
                ctx,
                g,
                metric,
                "difference",
                diff[i, c],
                d_lo[i, c],
                d_hi[i, c],
                pv[i, c],
                test,
            )
            _add_disparity(
                out, ctx, g, metric, "ratio", ratio[i, c], r_lo[i, c], r_hi[i, c], pv[i, c], test
            )
        eo = float(np.fmax(abs(diff[i, _TPR]), abs(diff[i, _FPR])))
        eo_lo, eo_hi = max_interval(a_lo[i], a_hi[i])
        eo_p = min(1.0, 2.0 * float(np.fmin(pv[i, _TPR], pv[i, _FPR])))
        _add_disparity(
            out,
            ctx,
            g,
            "equalized_odds",
            "difference",
            eo,
            eo_lo,
            eo_hi,
            eo_p,
            "bonferroni(tpr, fpr)",
        )


def _homogeneity(successes: FloatArray, trials: FloatArray) -> FloatArray:
    """Pearson chi-square p-value of equal proportions across groups, per column.

    Parameters are (n_groups, n_metrics); a column whose groups never vary gets 1.
    """
    valid = trials > 0
    k = valid.sum(axis=0)
    x = np.where(valid, successes, 0.0)
    n = np.where(valid, trials, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = x.sum(axis=0) / n.sum(axis=0)
        expected_x = n * pooled
        expected_y = n * (1.0 - pooled)
        chi2 = np.where(
            valid,
            (x - expected_x) ** 2 / expected_x + ((n - x) - expected_y) ** 2 / expected_y,
            0.0,
        ).sum(axis=0)
        p = stats.chi2.sf(chi2, np.maximum(k - 1, 1))
    p = np.where((pooled <= 0) | (pooled >= 1), 1.0, p)
    return np.where(k >= 2, p, np.nan)


def _add_summary(
    out: Rows,
    ctx: GroupingContext,
    metric: str,
    kind: str,
    value: float,
    bounds: tuple[float, float],
    lowest: str,
    highest: str,
    p_value: float,
    test: str,
) -> None:
    out.add(
        out.summary,
        grouping=ctx.name,
        metric=metric,
        kind=kind,
        name=DISPARITY_NAMES[(metric, kind)],
        value=value,
        lower=bounds[0],
        upper=bounds[1],
        lowest_group=lowest,
        highest_group=highest,
        p_value=p_value,
        test=test,
    )


def emit_summary(out: Rows, ctx: GroupingContext, rates: Rates) -> None:
    """Add the spread of every compared proportion over the judged groups to ``out.summary``.

    The difference is highest minus lowest, the ratio lowest over highest; their
    intervals hold simultaneously over all pairs of groups (Bonferroni).

    Parameters
    ----------
    out : Rows
        The accumulator.
    ctx : GroupingContext
        The grouping.
    rates : Rates
        Its proportions.
    """
    keep = ctx.judged
    first, second = pairs(keep)
    n_pairs = max(first.size, 1)
    x, n = rates.successes[:, _COLS], rates.trials[:, _COLS]
    p_hom = _homogeneity(x[keep], n[keep])
    spreads: dict[str, tuple[float, tuple[float, float], str, str]] = {}
    for level_alpha, metrics in (
        (ctx.alpha / n_pairs, COMPARED),
        (ctx.alpha / (2 * n_pairs), ("tpr", "fpr")),
    ):
        z = _z(level_alpha)
        d_lo, d_hi = newcombe_interval(x[first], n[first], x[second], n[second], z)
        r_lo, r_hi = katz_ratio_interval(x[first], n[first], x[second], n[second], z)
        a_lo, a_hi = abs_interval(d_lo, d_hi)
        s_lo, s_hi = symmetric_ratio_interval(r_lo, r_hi)
        for metric in metrics:
            c = COMPARED.index(metric)
            v = rates.value[keep, _COLS[c]]
            ok = np.isfinite(v)
            if ok.sum() < 2:
                lowest = highest = ""
                spread = ratio = np.nan
            else:
                lo_g, hi_g = keep[ok][np.argmin(v[ok])], keep[ok][np.argmax(v[ok])]
                lowest, highest = ctx.labels[lo_g], ctx.labels[hi_g]
                lo_v, hi_v = float(rates.value[lo_g, _COLS[c]]), float(rates.value[hi_g, _COLS[c]])
                spread = hi_v - lo_v
                ratio = lo_v / hi_v if hi_v > 0 else np.nan
            if metrics is COMPARED:
                p = float(p_hom[c])
                _add_summary(
                    out,
                    ctx,
                    metric,
                    "difference",
                    spread,
                    max_interval(a_lo[:, c], a_hi[:, c]),
                    lowest,
                    highest,
                    p,
                    "chi2",
                )
                _add_summary(
                    out,
                    ctx,
                    metric,
                    "ratio",
                    ratio,
                    max_interval(s_lo[:, c], s_hi[:, c], smallest=True),
                    lowest,
                    highest,
                    p,
                    "chi2",
                )
            else:
                spreads[metric] = (spread, max_interval(a_lo[:, c], a_hi[:, c]), lowest, highest)
    t, f = spreads["tpr"], spreads["fpr"]
    larger = t if not (t[0] < f[0]) else f
    bounds = (float(np.fmax(t[1][0], f[1][0])), float(np.fmax(t[1][1], f[1][1])))
    p = min(1.0, 2.0 * float(np.fmin(p_hom[_TPR], p_hom[_FPR])))
    _add_summary(
        out,
        ctx,
        "equalized_odds",
        "difference",
        float(np.fmax(t[0], f[0])),
        bounds,
        larger[2],
        larger[3],
        p,
        "bonferroni(tpr, fpr)",
    )
