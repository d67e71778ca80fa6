"""``ingest_fleet``: a simulated fleet's prediction logs and labels, loaded into a store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seawall.storage._store import Store

if TYPE_CHECKING:
    from seawall.datasets import SimulatedFleet

__all__ = ["FleetLoad", "ingest_fleet"]


@dataclass(frozen=True, slots=True)
class FleetLoad:
    """What :func:`ingest_fleet` stored.

    Attributes
    ----------
    models : tuple of str
        The models registered and logged.
    n_predictions, n_labels : int
        Prediction rows and labels stored.
    """

    models: tuple[str, ...]
    n_predictions: int
    n_labels: int

    def to_dict(self) -> dict[str, Any]:
        """The load as JSON-safe primitives.

        Returns
        -------
        dict
            ``models``, ``n_predictions`` and ``n_labels``.
        """
        return {
            "models": list(self.models),
            "n_predictions": self.n_predictions,
            "n_labels": self.n_labels,
        }


def ingest_fleet(
    store: Store,
    fleet: SimulatedFleet,
    *,
    models: Sequence[str] | None = None,
    rows_per_hour: float | None = None,
    seed: int = 0,
) -> FleetLoad:
    """Register a simulated fleet's models and store their prediction logs and labels.

    The path a user's data takes, for demos, tests and benchmarks: the models
    with their ``team`` and ``region`` labels (:meth:`Store.register_models`), then
    model by model (one batch each, so memory is that of one model's logs) the
    row-level logs of :meth:`SimulatedFleet.prediction_logs` with the sensitive
    attribute ``group`` (:meth:`Store.ingest_predictions`; request ids ``r0``,
    ``r1``, ... per model) and the labels that have arrived
    (:meth:`Store.ingest_labels`).

    Parameters
    ----------
    store : Store
        Where to load.
    fleet : SimulatedFleet
        From :func:`seawall.datasets.simulate_fleet`.
    models : sequence of str or None, default=None
        The models to load; ``None`` means all.
    rows_per_hour : float or None, default=None
        Passed to :meth:`SimulatedFleet.prediction_logs` (``None``: the simulated
        traffic).
    seed : int, default=0
        Seed of the row draws (model ``k`` of ``models`` draws with ``seed + k``).

    Returns
    -------
    FleetLoad
        The models, predictions and labels stored.

    Examples
    --------
    >>> from seawall.datasets import simulate_fleet
    >>> fleet = simulate_fleet(6, 7, seed=0)
    >>> with Store() as store:
    ...     load = ingest_fleet(store, fleet, models=["m0001"], rows_per_hour=10)
    >>> load.models, load.n_predictions > 0
    (('m0001',), True)
    """
    names = list(fleet.models["model"]) if models is None else [str(m) for m in models]
    registered = fleet.models.loc[fleet.models["model"].isin(names), ["model", "team", "region"]]
    store.register_models(registered)
    n_predictions = n_labels = 0
    # One model per batch: memory stays that of one model's logs, as a user's
    # batches would come.
    for k, name in enumerate(names):
        logs = fleet.prediction_logs([name], rows_per_hour=rows_per_hour, seed=seed + k)
        logs = logs.reset_index(drop=True)
        logs["request_id"] = [f"r{i}" for i in range(len(logs))]
        stored = store.ingest_predictions(
            logs.drop(columns=["y_true"]),
            time_col="timestamp",
            prediction_col="y_pred",
            score_col="y_score",
            sensitive_cols=["group"],
        )
        labels = logs.loc[logs["y_true"].notna(), ["model", "request_id", "y_true"]]
        labelled = store.ingest_labels(labels, label_col="y_true", label_time_col=None)
        n_predictions += stored.inserted
        n_labels += labelled.inserted
    return FleetLoad(tuple(names), n_predictions, n_labels)
