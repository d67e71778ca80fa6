"""Data quality per window and feature: missing values, out-of-range numbers, unseen categories.

Each is a proportion with Wilson's interval: the share of a window's rows where
the feature is missing (``null_rate``); for numeric features the share of its
values outside the range the reference saw (``out_of_range_rate``); for
categorical features the share of its values in a category the reference never
saw (``unseen_rate``). Ranges and categories are learned on each model's
reference; a feature whose reference has no value gets NaN.
"""

from __future__ import annotations

import numpy as np

from seawall.monitoring._drift_sketch import CategoricalSketch, NumericSketch, Sketch
from seawall.monitoring._points import PointsBuilder
from seawall.monitoring._window_drift import category_cells, sketch_sizes
from seawall.monitoring._window_state import ReferenceProfile, WindowState, model_spans

__all__ = ["quality_points"]


def quality_points(
    builder: PointsBuilder,
    states: list[WindowState],
    profiles: dict[str, ReferenceProfile],
    z: float,
    min_rows: int,
) -> None:
    """Add null, out-of-range and unseen-category rates of every feature of every window.

    Parameters
    ----------
    builder : PointsBuilder
        Where the points go.
    states : list of WindowState
        The windows, in the builder's order, sorted by model.
    profiles : dict of str to ReferenceProfile
        Each model's reference.
    z : float
        The intervals' normal quantile.
    min_rows : int
        Windows with fewer rows (non-missing values for the range and category
        rates) get NaN.
    """
    for lo, hi in model_spans(states):
        idx = np.arange(lo, hi, dtype=np.intp)
        part = states[lo:hi]
        ref = profiles[part[0].model].summary
        n_rows = np.array([s.n_rows for s in part], dtype=np.float64)
        for j, (name, r) in enumerate(zip(ref.names, ref.sketches, strict=True)):
            cur: list[Sketch] = [s.features.sketches[j] for s in part]
            missing = np.array([c.n_missing for c in cur], dtype=np.float64)
            builder.add_rate("null_rate", name, idx, missing, n_rows, z, min_rows)
            n = sketch_sizes(cur).astype(np.float64)
            judged = r.n > 0 and not r.reason
            if isinstance(r, NumericSketch):
                outside = np.array([s.out_of_range[j] for s in part], dtype=np.float64)
                builder.add_rate(
                    "out_of_range_rate", name, idx, outside, n, z, min_rows, defined=judged
                )
            elif isinstance(r, CategoricalSketch):
                cats = [c for c in cur if isinstance(c, CategoricalSketch)]
                _, _, unseen = category_cells(r, cats)
                builder.add_rate("unseen_rate", name, idx, unseen, n, z, min_rows, defined=judged)
