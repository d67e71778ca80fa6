"""From a fleet's parameters to counts to metric series, with realistic noise.

Every metric of every window is computed from simulated counts: the volume is a
Poisson draw, the positive rate and the disparate impact come from binomial draws
per group, the accuracy from the labels that have arrived by the end of the
history (a binomial count over a binomial number of labelled rows: recent windows
have fewer labels, the newest none), the drift of each feature is the population
stability index of its window histogram (multinomial counts over 10 bins) against
the reference, and the null rate a binomial count. Noise therefore shrinks where
traffic is high and grows at night and on weekends, as it does in a real fleet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.datasets._fleet_catalog import Catalog
from seawall.datasets._fleet_events import Effects, series_key
from seawall.metrics import wilson_interval
from seawall.monitoring._window_fairness import spread_and_ratio

__all__ = ["MODEL_METRICS", "PAIR_METRICS", "Params", "draw_values", "pair_probs", "parameters"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Metrics of a whole model, in the order of the series.
MODEL_METRICS = ("volume", "positive_rate", "score_mean", "accuracy", "disparate_impact")
#: Metrics of each (model, feature) pair.
PAIR_METRICS = ("drift", "null_rate")
_EPS = 1e-4  # PSI's floor for an empty cell, as in seawall.monitoring's psi
_CHUNK = 256  # pairs per multinomial block (bounds memory at n_steps * 10 per pair)
# A metric engine does not report a rate from a handful of rows: windows with fewer
# rows (labels, for accuracy; rows per group, for disparate impact) are missing.
MIN_ROWS = 10
MIN_LABELS = 30
_MONDAY = pd.Timestamp("2024-01-01")  # a Monday: day-of-week 0


@dataclass(frozen=True, slots=True)
class Params:
    """The generating parameters of every model at every step (internal).

    Attributes
    ----------
    volume : ndarray of float64, shape (n_models, n_steps)
        Expected predictions per step.
    positive : ndarray of float64, shape (n_models, n_steps)
        Probability of a positive decision.
    di : ndarray of float64, shape (n_models, n_steps)
        Disparate impact (group A's positive rate over group B's).
    accuracy : ndarray of float64, shape (n_models, n_steps)
        Probability that a prediction is right.
    score : ndarray of float64, shape (n_models, n_steps)
        Mean predicted score.
    labelled : ndarray of float64, shape (n_models, n_steps)
        Share of the step's rows whose label has arrived by the end.
    local_hour : ndarray of float64, shape (n_models, n_steps)
        Hour of the day in the model's region.
    """

    volume: FloatArray
    positive: FloatArray
    di: FloatArray
    accuracy: FloatArray
    score: FloatArray
    labelled: FloatArray
    local_hour: FloatArray


def parameters(cat: Catalog, eff: Effects, timestamps: pd.DatetimeIndex) -> Params:
    """Every model's generating parameters at every step (deterministic, a kernel).

    Parameters
    ----------
    cat : Catalog
        The fleet.
    eff : Effects
        The events' effects.
    timestamps : pandas.DatetimeIndex
        The steps (UTC, equally spaced).

    Returns
    -------
    Params
        The parameters.
    """
    n_steps = len(timestamps)
    hours = np.asarray((timestamps - _MONDAY) / pd.Timedelta(hours=1), dtype=np.float64)
    local = hours[None, :] + cat.utc_offset[:, None]
    hod = np.mod(local, 24.0)
    dow = np.mod(np.floor(local / 24.0), 7.0)
    m = cat.models
    daily = 1.0 + cat.amplitude[:, None] * np.sin(2 * np.pi * (hod - 8.0) / 24.0)
    weekly = np.where(dow >= 5, cat.weekend[:, None], 1.0)
    grow = 1.0 + cat.growth[:, None] * np.arange(n_steps)[None, :] / n_steps
    batch = (dow == 0) & (hod >= 8.0) & (hod < 10.0) & cat.weekly_peak[:, None]
    volume = m["base_volume"].to_numpy()[:, None] * daily * weekly * grow * (1.0 + 1.5 * batch)
    base_pos = m["positive_rate"].to_numpy()[:, None]
    positive = base_pos * (1.0 + 0.1 * np.sin(2 * np.pi * (hod - 20.0) / 24.0))
    score = base_pos + 0.05 + 0.03 * np.sin(2 * np.pi * (hod - 20.0) / 24.0) + eff.score_delta
    accuracy = np.clip(m["accuracy"].to_numpy()[:, None] + eff.acc_delta, 0.05, 0.99)
    di = m["disparate_impact"].to_numpy()[:, None] * eff.di_factor
    # Labels arrive over the model's delay D: none for the newest D/2 steps, then a
    # ramp up to the labelled share for steps at least D old.
    delay = m["label_delay_steps"].to_numpy().astype(np.float64)[:, None]
    age = (n_steps - 1 - np.arange(n_steps, dtype=np.float64))[None, :]
    arrived = np.clip((age - delay / 2.0) / np.maximum(delay / 2.0, 1.0), 0.0, 1.0)
    labelled = m["labelled_share"].to_numpy()[:, None] * arrived
    return Params(volume, positive, di, accuracy, score, labelled, hod)


def pair_probs(
    cat: Catalog, eff: Effects, pairs: IntArray, local_hour: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bin probabilities, reference and null rate of some (model, feature) pairs.

    Parameters
    ----------
    cat : Catalog
        The fleet.
    eff : Effects
        The events' effects.
    pairs : ndarray of int64, shape (k,)
        The pairs.
    local_hour : ndarray of float64, shape (n_models, n_steps)
        Hour of the day per model.

    Returns
    -------
    probs : ndarray of float64, shape (k, n_steps, N_BINS)
        Each pair's distribution at each step.
    reference : ndarray of float64, shape (k, N_BINS)
        The distribution the drift is measured against (the daily average).
    null : ndarray of float64, shape (k, n_steps)
        The null rate at each step.
    """
    f = cat.pair_feature[pairs]
    seasonal = cat.features["seasonal"].to_numpy()[f]
    hod = local_hour[cat.pair_model[pairs]]
    # Seasonal features lean towards their night distribution around 02:00 local.
    s = 0.3 * (1.0 + np.cos(2 * np.pi * (hod - 2.0) / 24.0)) / 2.0 * seasonal[:, None]
    ref, night = cat.ref[f], cat.night[f]
    probs = (1.0 - s)[..., None] * ref[:, None, :] + s[..., None] * night[:, None, :]
    reference = np.where(seasonal[:, None], 0.85 * ref + 0.15 * night, ref)
    w = eff.mix[pairs][..., None]
    probs = (1.0 - w) * probs + w * eff.alt[pairs][:, None, :]
    probs /= probs.sum(axis=2, keepdims=True)
    base_null = cat.features["null_rate"].to_numpy()[f][:, None]
    to = eff.null_to[pairs]
    null = np.where(np.isnan(to), base_null, to)
    return probs, reference, null


def _psi(counts: npt.NDArray[np.int64], reference: FloatArray) -> FloatArray:
    """PSI of every row's histogram against its reference; NaN for an empty window."""
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        cur = np.maximum(counts / total, _EPS)
    ref = np.maximum(reference, _EPS)[:, None, :]
    out: FloatArray = np.sum((cur - ref) * np.log(cur / ref), axis=-1)
    out[total[..., 0] < MIN_ROWS] = np.nan
    return out


def _ratio(
    num: npt.NDArray[np.int64], den: npt.NDArray[np.int64], least: int = MIN_ROWS
) -> FloatArray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den >= max(least, 1))
    return out


def _trailing_sum(counts: npt.NDArray[np.int64], width: int) -> FloatArray:
    """Sum of each row's last ``width`` steps (fewer at the start), along the last axis."""
    c = np.cumsum(counts, axis=-1, dtype=np.float64)
    out = c.copy()
    out[..., width:] -= c[..., :-width]
    return out


def draw_values(
    rng: np.random.Generator, cat: Catalog, eff: Effects, params: Params, *, pool: int
) -> tuple[FloatArray, FloatArray, pd.DataFrame]:
    """Draw the counts and compute every metric series (a kernel).

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator; draws happen in a fixed order.
    cat : Catalog
        The fleet.
    eff : Effects
        The events' effects.
    params : Params
        The generating parameters.
    pool : int
        The windows whose counts the interval of :attr:`upper` pools (a day).

    Returns
    -------
    values : ndarray of float64, shape (n_series, n_steps)
        Per model: its five model metrics, then drift and null rate per feature.
    upper : ndarray of float64, shape (n_series, n_steps)
        The upper bound of the 95% interval that
        :func:`seawall.monitoring.metric_points` gives disparate impact over the
        counts of the last ``pool`` windows, and accuracy over each window's own
        labels (Wilson); NaN for the other metrics.
    series : pandas.DataFrame
        One row per series: ``series``, ``model``, ``metric``, ``feature``,
        ``source``, ``team``, ``region``, ``project``.
    """
    n_models, n_steps = params.volume.shape
    n = rng.poisson(params.volume)
    g = cat.models["group_share"].to_numpy()[:, None]
    n_a = rng.binomial(n, g)
    p_b = params.positive / (g * params.di + 1.0 - g)
    pos_a = rng.binomial(n_a, np.clip(params.di * p_b, 0.0, 1.0))
    pos_b = rng.binomial(n - n_a, np.clip(p_b, 0.0, 1.0))
    with np.errstate(divide="ignore"):
        noise = rng.standard_normal(n.shape) * 0.2 / np.sqrt(n)
    score = np.where(n >= MIN_ROWS, params.score + noise, np.nan)
    n_lab = rng.binomial(n, params.labelled)
    correct = rng.binomial(n_lab, params.accuracy)
    rate_a, rate_b = _ratio(pos_a, n_a), _ratio(pos_b, n - n_a)
    di = np.full(n.shape, np.nan)
    np.divide(rate_a, rate_b, out=di, where=(rate_b > 0) & ~np.isnan(rate_a))
    # The interval a metric engine attaches to the last `pool` windows' counts.
    pooled = [_trailing_sum(c, pool) for c in (pos_a, pos_b, n_a, n - n_a)]
    x = np.stack(pooled[:2], axis=-1).reshape(-1, 2)
    trials = np.stack(pooled[2:], axis=-1).reshape(-1, 2)
    _, _, di_upper = spread_and_ratio(x, trials, trials >= MIN_ROWS, 0.05, ratio=True)
    di_upper = di_upper.reshape(n.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        _, acc_upper = wilson_interval(correct, n_lab, 1.959963984540054)
    acc_upper = np.where(n_lab >= MIN_LABELS, acc_upper, np.nan)
    model_block = np.stack(
        [
            n.astype(np.float64),
            _ratio(pos_a + pos_b, n),
            score,
            _ratio(correct, n_lab, MIN_LABELS),
            di,
        ],
        axis=1,
    )  # (n_models, 5, n_steps)

    n_pairs = cat.pair_model.size
    drift = np.empty((n_pairs, n_steps))
    nulls = np.empty((n_pairs, n_steps))
    for lo in range(0, n_pairs, _CHUNK):
        pairs = np.arange(lo, min(lo + _CHUNK, n_pairs))
        probs, reference, null = pair_probs(cat, eff, pairs, params.local_hour)
        n_pair = n[cat.pair_model[pairs]]
        n_null = rng.binomial(n_pair, null)
        counts = rng.multinomial(n_pair - n_null, probs)
        drift[pairs] = _psi(counts, reference)
        nulls[pairs] = _ratio(n_null, n_pair)

    models = cat.models
    feat = cat.features
    rows: list[tuple[int, str, int]] = []  # (model, metric, pair or -1)
    first_pair = np.searchsorted(cat.pair_model, np.arange(n_models))
    n_feat = models["n_features"].to_numpy(dtype=np.int64)
    for m in range(n_models):
        rows.extend((m, metric, -1) for metric in MODEL_METRICS)
        for p in range(first_pair[m], first_pair[m] + int(n_feat[m])):
            rows.extend((m, metric, p) for metric in PAIR_METRICS)
    values = np.empty((len(rows), n_steps))
    model_idx = np.array([r[0] for r in rows], dtype=np.int64)
    metric = [r[1] for r in rows]
    pair_idx = np.array([r[2] for r in rows], dtype=np.int64)
    for k, name in enumerate(MODEL_METRICS):
        sel = np.flatnonzero(np.array(metric, dtype=object) == name)
        values[sel] = model_block[model_idx[sel], k]
    for name, block in zip(PAIR_METRICS, (drift, nulls), strict=True):
        sel = np.flatnonzero(np.array(metric, dtype=object) == name)
        values[sel] = block[pair_idx[sel]]
    upper = np.full(values.shape, np.nan)
    for name, bound in (("disparate_impact", di_upper), ("accuracy", acc_upper)):
        sel = np.flatnonzero(np.array(metric, dtype=object) == name)
        upper[sel] = bound[model_idx[sel]]
    names = models["model"].to_numpy(dtype=object)
    fnames = feat["feature"].to_numpy(dtype=object)
    fsource = feat["source"].to_numpy(dtype=object)
    feature = [fnames[cat.pair_feature[p]] if p >= 0 else None for p in pair_idx]
    series = pd.DataFrame(
        {
            "series": [
                series_key(names[m], k, f)
                for m, k, f in zip(model_idx, metric, feature, strict=True)
            ],
            "model": names[model_idx],
            "metric": metric,
            "feature": feature,
            "source": [fsource[cat.pair_feature[p]] if p >= 0 else None for p in pair_idx],
            "team": models["team"].to_numpy(dtype=object)[model_idx],
            "region": models["region"].to_numpy(dtype=object)[model_idx],
            "project": models["project"].to_numpy(dtype=object)[model_idx],
        }
    )
    return values, upper, series
