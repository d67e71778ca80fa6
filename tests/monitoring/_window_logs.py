"""Seeded prediction logs for the windowed-metrics tests, and naive per-window helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

HOUR = pd.Timedelta("1h")
START = pd.Timestamp("2024-01-01")


def make_logs(
    rng: np.random.Generator,
    *,
    n_models: int = 2,
    hours: int = 6,
    per_hour: int = 150,
    labelled: float = 0.7,
    n_numeric: int = 2,
) -> pd.DataFrame:
    """Logs of calibrated classifiers: a score, its decision, late labels, features, a group."""
    n = n_models * hours * per_hour
    hour = np.tile(np.repeat(np.arange(hours), per_hour), n_models)
    seconds = hour * 3600 + rng.integers(0, 3600, n)
    score = rng.beta(2.0, 2.0, n)
    label = (rng.random(n) < score).astype(float)
    label[rng.random(n) >= labelled] = np.nan
    frame = pd.DataFrame(
        {
            "time": START + pd.to_timedelta(seconds, unit="s"),
            "model": np.repeat([f"m{i}" for i in range(n_models)], hours * per_hour),
            "request_id": np.arange(n),
            "score": np.round(score, 3),  # rounding makes ties, as real scores have
            "prediction": (score >= 0.5).astype(int),
            "label": label,
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2]),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    for j in range(n_numeric):
        frame[f"x{j}"] = np.round(rng.normal(0.0, 1.0, n), 2)
    # Shuffle: the functions must not rely on the input order.
    return frame.sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)


def windows_of(frame: pd.DataFrame, every: str = "1h") -> pd.core.groupby.DataFrameGroupBy:
    """The naive reference: the rows of each (model, window), by pandas."""
    start = frame["time"].dt.floor(every)
    return frame.assign(window_start=start).groupby(["model", "window_start"], sort=True)


def point(frame: pd.DataFrame, metric: str, qualifier: str = "") -> pd.DataFrame:
    """The points of one metric, indexed by (model, window_start)."""
    sub = frame[(frame.metric == metric) & (frame.qualifier == qualifier)]
    return sub.set_index(["model", "window_start"]).sort_index()
