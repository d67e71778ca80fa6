"""``store_fleet_results``: a monitored fleet's series, scores and incidents, in a store.

What :func:`detect_incidents` writes after scoring a store's own metric points, for a
fleet scored in memory (the demo's): so that ``seawall serve`` can show it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import param_error
from seawall.storage._pipeline import incident_frame, scored_frame
from seawall.storage._store import Store

if TYPE_CHECKING:
    from seawall.datasets import SimulatedFleet
    from seawall.monitoring import Detection, Incidents

__all__ = ["store_fleet_results"]


def store_fleet_results(
    store: Store,
    fleet: SimulatedFleet,
    detection: Detection,
    flags: npt.NDArray[np.bool_],
    incidents: Incidents,
    *,
    last_steps: int | None = None,
) -> int:
    """Write a scored fleet to ``store``: models, metric points, scores and incidents.

    Models keep their team, region and sources as labels, and their simulated
    project as the label ``product`` (they are stored without a project, so the
    service shows them in ``default``, where incidents across teams stay whole).

    Parameters
    ----------
    store : Store
    fleet : SimulatedFleet
        From :func:`seawall.datasets.simulate_fleet`.
    detection : Detection
        :func:`seawall.monitoring.detect` of ``fleet.values``.
    flags : ndarray of bool, shape (n_series, n_steps)
        The flagged steps.
    incidents : Incidents
        The flags grouped.
    last_steps : int or None, default=None
        Keep only the last ``last_steps`` windows of points and scores (incidents
        are all kept); ``None`` keeps all.

    Returns
    -------
    int
        The number of metric points written.
    """
    n_series, n_steps = fleet.values.shape
    if last_steps is not None and (not isinstance(last_steps, int) or last_steps < 1):
        raise param_error("last_steps", "store_fleet_results", "a positive int or None", last_steps)
    start = 0 if last_steps is None else max(n_steps - last_steps, 0)
    models = fleet.models.rename(columns={"project": "product"})
    keep = [c for c in ("model", "team", "region", "sources", "product") if c in models.columns]
    store.register_models(models[keep].astype(str))
    series = fleet.series
    qualifier = series["feature"].fillna("").astype(str).to_numpy()
    grid = np.meshgrid(np.arange(n_series), np.arange(start, n_steps), indexing="ij")
    rows, steps = grid[0].ravel(), grid[1].ravel()
    values = fleet.values[rows, steps]
    upper = None if fleet.upper is None else fleet.upper[rows, steps]
    store.write_metric_points(
        pd.DataFrame(
            {
                "model": series["model"].to_numpy()[rows],
                "metric": series["metric"].to_numpy()[rows],
                "qualifier": qualifier[rows],
                "window_start": fleet.timestamps[steps],
                "value": values,
                **({} if upper is None else {"upper": upper}),
            }
        )
    )
    scored = np.isfinite(detection.scores[rows, steps])
    keys = series["series"].to_numpy()
    frame = scored_frame(
        keys, fleet.timestamps, fleet.values, detection, flags, rows[scored], steps[scored]
    )
    store.write_anomalies(frame, replace_series=True)
    if incidents.incidents:
        store.write_incidents(incident_frame(incidents))
    return int(rows.size)
