"""Row-level prediction logs for a few models of a simulated fleet, true to its events."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from seawall._validation import check_real, check_seed, param_error
from seawall.datasets._fleet_catalog import N_BINS, Catalog
from seawall.datasets._fleet_events import Effects
from seawall.datasets._fleet_signals import pair_probs, parameters

__all__ = ["prediction_logs"]

_CALLER = "SimulatedFleet.prediction_logs"


def prediction_logs(
    cat: Catalog,
    eff: Effects,
    timestamps: pd.DatetimeIndex,
    models: Sequence[str],
    rows_per_hour: float | None,
    seed: int,
) -> pd.DataFrame:
    """Draw one row per prediction for some models, from the fleet's own parameters.

    Parameters
    ----------
    cat : Catalog
        The fleet.
    eff : Effects
        The events' effects.
    timestamps : pandas.DatetimeIndex
        The steps.
    models : sequence of str
        The models to log.
    rows_per_hour : float or None
        Rescale each model's traffic to this mean number of rows per hour (seasons
        and events kept); ``None`` keeps the simulated volume.
    seed : int
        Seed of the row draws.

    Returns
    -------
    pandas.DataFrame
        See :meth:`seawall.datasets.SimulatedFleet.prediction_logs`.
    """
    names = cat.models["model"].tolist()
    unknown = [m for m in models if m not in names]
    if unknown or not models:
        raise param_error(
            "models", _CALLER, "a non-empty list of model names of the fleet", list(models)
        )
    if rows_per_hour is not None:
        check_real(rows_per_hour, "rows_per_hour", _CALLER, low=0, low_open=True)
    rng = np.random.default_rng(check_seed(seed, "seed", _CALLER))
    params = parameters(cat, eff, timestamps)
    step_hours = (timestamps[1] - timestamps[0]) / pd.Timedelta(hours=1)
    n_steps = len(timestamps)
    feat_names = cat.features["feature"].to_numpy(dtype=object)
    frames = []
    for name in models:
        m = names.index(name)
        lam = params.volume[m]
        if rows_per_hour is not None:
            lam = lam * (rows_per_hour * step_hours / lam.mean())
        n = rng.poisson(lam)
        step = np.repeat(np.arange(n_steps), n)
        k = step.size
        g = float(cat.models["group_share"].to_numpy(dtype=np.float64)[m])
        in_a = rng.random(k) < g
        p_b = params.positive[m] / (g * params.di[m] + 1.0 - g)
        p = np.where(in_a, np.clip(params.di[m] * p_b, 0, 1)[step], np.clip(p_b, 0, 1)[step])
        y_pred = (rng.random(k) < p).astype(np.int64)
        y_score = np.where(y_pred == 1, 0.5 + 0.5 * rng.random(k), 0.5 * rng.random(k))
        correct = rng.random(k) < params.accuracy[m][step]
        y_true = np.where(correct, y_pred, 1 - y_pred).astype(np.float64)
        # A label is in the log when it has arrived by the end of the history.
        y_true[rng.random(k) >= params.labelled[m][step]] = np.nan
        offset = rng.random(k) * (timestamps[1] - timestamps[0])
        frame = pd.DataFrame(
            {
                "timestamp": timestamps[step] + offset,
                "model": name,
                "group": np.where(in_a, "A", "B"),
                "y_score": y_score,
                "y_pred": y_pred,
                "y_true": y_true,
            }
        )
        pairs = np.flatnonzero(cat.pair_model == m)
        probs, _, null = pair_probs(cat, eff, pairs, params.local_hour)
        for j, pair in enumerate(pairs):
            cum = np.cumsum(probs[j], axis=1)[step]
            b = np.minimum((rng.random(k)[:, None] > cum).sum(axis=1), N_BINS - 1)
            x = b + rng.random(k)
            x[rng.random(k) < null[j][step]] = np.nan
            frame[str(feat_names[cat.pair_feature[pair]])] = x
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values("timestamp", kind="stable", ignore_index=True)
