"""Ground-truth events of a simulated fleet: what happens, where, when and to which series.

Four kinds of event are planted, each changing the *generating* parameters (not
the metrics), so their signature in the metric series carries realistic noise:

- ``"source_break"``: an upstream source breaks for 12-36 hours. Every feature it
  feeds moves (40% of its values pile into one bin) and its null rate jumps to
  30%, in every model that reads it; each such model loses accuracy in
  proportion to the share of its features the source feeds (up to 25 points) and
  its mean score shifts. Root cause ``{"source": ...}``.
- ``"region_drift"``: the population of one region drifts slowly: over four days
  every feature of every model in the region moves half of the way towards a
  shifted distribution, and stays there. Root cause ``{"region": ...}``.
- ``"fairness_creep"``: one model's disparate impact falls from its usual value to
  65% of it over five days while its overall positive rate stays put (the
  creep is invisible in aggregate metrics). Root cause ``{"model": ...}``.
- ``"accuracy_drop"``: one model's accuracy drops by 15 points for three days
  (concept drift: inputs and outputs look as usual). Root cause ``{"model": ...}``.

Events start between 50% and 85% of the history, so a detector has a clean
history to learn from and labels have arrived for them. An event's
``importance`` is the number of models whose outcome metrics (accuracy or
fairness) it harms: a broken source feeding many models outranks a single
model's accuracy drop, and a drift that harms no outcome counts 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._json import json_value
from seawall.datasets._fleet_catalog import N_BINS, Catalog

__all__ = ["EVENT_KINDS", "Effects", "FleetEvent", "plan_events", "series_key"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EventKind = Literal["source_break", "region_drift", "fairness_creep", "accuracy_drop", "spike"]
#: The kinds of event :func:`seawall.datasets.simulate_fleet` can plant.
EVENT_KINDS: tuple[EventKind, ...] = (
    "source_break",
    "region_drift",
    "fairness_creep",
    "accuracy_drop",
)
_EVENT_WINDOW = (0.5, 0.85)


def series_key(model: str, metric: str, feature: str | None = None) -> str:
    """The key of one metric series: ``model/metric`` or ``model/metric/feature``.

    Parameters
    ----------
    model, metric : str
        The model and the metric.
    feature : str or None, default=None
        The feature of a per-feature metric (drift, null rate).

    Returns
    -------
    str
        The key.

    Examples
    --------
    >>> series_key("m0001", "drift", "crm-feed.age")
    'm0001/drift/crm-feed.age'
    """
    return f"{model}/{metric}" if feature is None else f"{model}/{metric}/{feature}"


@dataclass(frozen=True, slots=True)
class FleetEvent:
    """One planted event: the answer a fleet monitor should find.

    Attributes
    ----------
    id : str
        ``"E1"``, ``"E2"``...
    kind : {"source_break", "region_drift", "fairness_creep", "accuracy_drop", "spike"}
        What happened (see :mod:`seawall.datasets._fleet_events`; ``"spike"``,
        one series jumping for a few steps, comes from
        :func:`~seawall.datasets.write_fleet_parquet` only).
    start, end : pandas.Timestamp
        The first and the last step the event changes (inclusive).
    start_step, end_step : int
        The same as step indices (inclusive).
    affected : tuple of str
        The keys of every series whose generating parameters the event changes.
    root_cause : dict of str to str
        The label that explains it, e.g. ``{"source": "crm-feed"}``.
    importance : float
        The number of models whose accuracy or fairness the event harms (for
        :func:`~seawall.datasets.write_fleet_parquet`, whose series it moves).
    description : str
        One sentence for a person.
    """

    id: str
    kind: EventKind
    start: pd.Timestamp
    end: pd.Timestamp
    start_step: int
    end_step: int
    affected: tuple[str, ...]
    root_cause: dict[str, str] = field(hash=False)
    importance: float
    description: str

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            Every field; timestamps as ISO 8601 strings, ``affected`` as a list.

        Examples
        --------
        >>> import pandas as pd
        >>> e = FleetEvent("E1", "accuracy_drop", pd.Timestamp("2024-01-20"),
        ...                pd.Timestamp("2024-01-23"), 456, 528, ("m0003/accuracy",),
        ...                {"model": "m0003"}, 1.0, "m0003 loses 15 points of accuracy.")
        >>> e.to_dict()["start"], e.to_dict()["affected"]
        ('2024-01-20T00:00:00', ['m0003/accuracy'])
        """
        return {
            "id": self.id,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "start_step": self.start_step,
            "end_step": self.end_step,
            "affected": list(self.affected),
            "root_cause": dict(self.root_cause),
            "importance": json_value(self.importance),
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class Effects:
    """What the events do to the generating parameters (internal; updated by planning).

    Attributes
    ----------
    acc_delta : ndarray of float64, shape (n_models, n_steps)
        Added to each model's accuracy.
    score_delta : ndarray of float64, shape (n_models, n_steps)
        Added to each model's mean score.
    di_factor : ndarray of float64, shape (n_models, n_steps)
        Multiplies each model's disparate impact.
    mix : ndarray of float64, shape (n_pairs, n_steps)
        The weight of each pair's alternative distribution (0 = untouched).
    alt : ndarray of float64, shape (n_pairs, N_BINS)
        Each pair's alternative distribution.
    null_to : ndarray of float64, shape (n_pairs, n_steps)
        The null rate the pair moves to (NaN = its usual one).
    """

    acc_delta: FloatArray
    score_delta: FloatArray
    di_factor: FloatArray
    mix: FloatArray
    alt: FloatArray
    null_to: FloatArray

    @classmethod
    def none(cls, n_models: int, n_pairs: int, n_steps: int) -> Effects:
        """No effect at all."""
        return cls(
            acc_delta=np.zeros((n_models, n_steps)),
            score_delta=np.zeros((n_models, n_steps)),
            di_factor=np.ones((n_models, n_steps)),
            mix=np.zeros((n_pairs, n_steps)),
            alt=np.full((n_pairs, N_BINS), 1.0 / N_BINS),
            null_to=np.full((n_pairs, n_steps), np.nan),
        )


def _ramp(n_steps: int, start: int, length: int) -> FloatArray:
    """0 before ``start``, rising linearly to 1 over ``length`` steps, then 1."""
    t = np.arange(n_steps, dtype=np.float64)
    return np.clip((t - start + 1) / max(length, 1), 0.0, 1.0)


def _busy_model(rng: np.random.Generator, cat: Catalog, exclude: set[int]) -> int:
    """A model from the busier half (an hourly accuracy means something there)."""
    vol = cat.models["base_volume"].to_numpy()
    order = [int(m) for m in np.argsort(-vol)[: max(1, vol.size // 2)] if int(m) not in exclude]
    return order[int(rng.integers(len(order)))] if order else int(rng.integers(vol.size))


def plan_events(
    rng: np.random.Generator,
    cat: Catalog,
    kinds: tuple[EventKind, ...],
    timestamps: pd.DatetimeIndex,
    steps_per_day: int,
) -> tuple[list[FleetEvent], Effects]:
    """Draw the events and what they do to the generating parameters (a kernel).

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    cat : Catalog
        The fleet.
    kinds : tuple of str
        The events to plant, in order (a kind may repeat).
    timestamps : pandas.DatetimeIndex
        The steps.
    steps_per_day : int
        Steps per day.

    Returns
    -------
    events : list of FleetEvent
        The ground truth.
    effects : Effects
        Their effect on the generating parameters.

    Examples
    --------
    >>> from seawall.datasets._fleet_catalog import make_catalog
    >>> rng = np.random.default_rng(0)
    >>> cat = make_catalog(rng, 30, 4, 3, 24)
    >>> ts = pd.date_range("2024-01-01", periods=24 * 20, freq="1h")
    >>> events, eff = plan_events(rng, cat, ("accuracy_drop",), ts, 24)
    >>> events[0].kind, events[0].affected[0].endswith("/accuracy")
    ('accuracy_drop', True)
    >>> float(eff.acc_delta.min())
    -0.15
    """
    n_models, n_steps, n_pairs = len(cat.models), len(timestamps), cat.pair_model.size
    eff = Effects.none(n_models, n_pairs, n_steps)
    names = cat.models["model"].to_numpy(dtype=object)
    feat_names = cat.features["feature"].to_numpy(dtype=object)
    feat_source = cat.features["source"].to_numpy(dtype=object)
    lo, hi = (int(f * n_steps) for f in _EVENT_WINDOW)
    events: list[FleetEvent] = []
    used_models: set[int] = set()

    def pair_keys(pairs: IntArray, metrics: tuple[str, ...]) -> list[str]:
        return [
            series_key(names[cat.pair_model[p]], m, feat_names[cat.pair_feature[p]])
            for p in pairs
            for m in metrics
        ]

    for kind in kinds:
        start = int(rng.integers(lo, max(lo + 1, hi)))
        if kind == "source_break":
            src_of_pair = feat_source[cat.pair_feature]
            n_models_per = (
                pd.Series(cat.pair_model)
                .groupby(src_of_pair)
                .nunique()
                .sort_values(ascending=False, kind="stable")
            )
            # A mid-sized source (2-10% of the models): big enough to be a root
            # cause, not so big that it is the whole fleet.
            counts = n_models_per.to_numpy()
            ok = (counts >= max(2, 0.02 * n_models)) & (counts <= max(3, 0.1 * n_models))
            top = list(n_models_per.index[ok])
            if not top:
                top = [n_models_per.index[int(np.argmin(np.abs(counts - 0.05 * n_models)))]]
            source = str(top[int(rng.integers(len(top)))])
            length = int(round(rng.uniform(12, 36) * steps_per_day / 24))
            end = min(n_steps - 1, start + length - 1)
            window = np.zeros(n_steps)
            window[start : end + 1] = 1.0
            pairs = np.flatnonzero(feat_source[cat.pair_feature] == source)
            spike = np.full(N_BINS, 0.6 / (N_BINS - 1))
            spike[0] = 0.4
            # 40% of the values pile into the first bin (a default-filled field).
            eff.mix[pairs] = np.maximum(eff.mix[pairs], window[None, :])
            eff.alt[pairs] = spike / spike.sum()
            eff.null_to[pairs] = np.where(window[None, :] > 0, 0.3, eff.null_to[pairs])
            models = np.unique(cat.pair_model[pairs])
            share = (
                np.bincount(cat.pair_model[pairs], minlength=n_models)[models]
                / (cat.models["n_features"].to_numpy()[models])
            )
            eff.acc_delta[models] -= 0.25 * share[:, None] * window[None, :]
            eff.score_delta[models] += 0.1 * share[:, None] * window[None, :]
            affected = pair_keys(pairs, ("drift", "null_rate"))
            affected += [
                series_key(names[m], k) for m in models for k in ("accuracy", "score_mean")
            ]
            root = {"source": source}
            importance = float(models.size)
            text = (
                f"Source {source} breaks for {end - start + 1} steps: its features shift and "
                f"go missing in {models.size} models, whose accuracy drops."
            )
        elif kind == "region_drift":
            regions = cat.models["region"].to_numpy(dtype=object)
            options = [r for r in pd.unique(regions) if (regions == r).sum() >= 3]
            region = str(options[int(rng.integers(len(options)))]) if options else str(regions[0])
            ramp = _ramp(n_steps, start, 4 * steps_per_day)
            end = n_steps - 1
            models = np.flatnonzero(regions == region)
            pairs = np.flatnonzero(np.isin(cat.pair_model, models))
            shifted = 0.5 * (np.roll(cat.ref, 1, axis=1) + np.roll(cat.ref, 2, axis=1))
            eff.mix[pairs] = np.maximum(eff.mix[pairs], 0.5 * ramp[None, :])
            eff.alt[pairs] = shifted[cat.pair_feature[pairs]]
            affected = pair_keys(pairs, ("drift",))
            root = {"region": region}
            importance = 0.0
            text = (
                f"The population of region {region} drifts slowly from step {start}: every "
                f"feature of its {models.size} models moves."
            )
        elif kind == "fairness_creep":
            m = _busy_model(rng, cat, used_models)
            used_models.add(m)
            ramp = _ramp(n_steps, start, 5 * steps_per_day)
            end = n_steps - 1
            eff.di_factor[m] *= 1.0 - 0.35 * ramp
            affected = [series_key(names[m], "disparate_impact")]
            root = {"model": str(names[m])}
            importance = 1.0
            text = f"Disparate impact of {names[m]} creeps down to 65% of its usual value."
        else:  # accuracy_drop
            m = _busy_model(rng, cat, used_models)
            used_models.add(m)
            end = min(n_steps - 1, start + 3 * steps_per_day - 1)
            eff.acc_delta[m, start : end + 1] -= 0.15
            affected = [series_key(names[m], "accuracy")]
            root = {"model": str(names[m])}
            importance = 1.0
            text = f"Accuracy of {names[m]} drops by 15 points for {end - start + 1} steps."
        events.append(
            FleetEvent(
                id=f"E{len(events) + 1}",
                kind=kind,
                start=timestamps[start],
                end=timestamps[end],
                start_step=start,
                end_step=end,
                affected=tuple(affected),
                root_cause=root,
                importance=importance,
                description=text,
            )
        )
    return events, eff
