"""The JSON bodies of the ingestion endpoints, as pydantic models (and OpenAPI schemas)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "LabelBatch",
    "LabelRow",
    "MetricBatch",
    "MetricRow",
    "ModelBatch",
    "ModelRow",
    "PredictionBatch",
    "PredictionRow",
]

Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
"""A name: 1 to 200 characters, no control characters."""
ModelName = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^/\x00-\x1f\x7f]+$")
]
"""A model's name: a name without ``/`` (which separates a series' model and metric)."""
Scalar = (
    Annotated[float, Field(allow_inf_nan=False)]
    | int
    | bool
    | Annotated[str, Field(max_length=10_000)]
)


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelRow(_Row):
    """A model of the project: its name, version and free labels (team, region, source)."""

    model: ModelName
    version: Annotated[str, Field(max_length=200)] | None = None
    labels: dict[Name, Annotated[str, Field(max_length=1_000)]] = Field(default_factory=dict)


class ModelBatch(_Row):
    """Models to register or update (the last row of a model wins)."""

    models: Annotated[list[ModelRow], Field(min_length=1)]


class PredictionRow(_Row):
    """One logged prediction. ``time`` without a zone is taken as UTC."""

    model: Name
    request_id: Name
    time: dt.datetime
    prediction: Scalar
    score: Annotated[float, Field(allow_inf_nan=False)] | None = None
    features: dict[Name, Scalar | None] = Field(default_factory=dict)
    sensitive: dict[Name, Scalar | None] = Field(default_factory=dict)


class PredictionBatch(_Row):
    """A batch of prediction logs, stored whole or not at all."""

    rows: Annotated[list[PredictionRow], Field(min_length=1)]


class LabelRow(_Row):
    """The ground truth of a logged request, which may arrive long after it."""

    model: Name
    request_id: Name
    label: Scalar
    label_time: dt.datetime | None = None


class LabelBatch(_Row):
    """A batch of labels; a corrected label replaces the stored one."""

    rows: Annotated[list[LabelRow], Field(min_length=1)]


class MetricRow(_Row):
    """A point of a business or custom metric of a model (``qualifier`` splits a metric)."""

    model: Name
    metric: Name
    timestamp: dt.datetime
    value: Annotated[float, Field(allow_inf_nan=False)] | None
    qualifier: Annotated[str, Field(max_length=200)] = ""


class MetricBatch(_Row):
    """A batch of metric points; a point sent again for the same time replaces the old."""

    rows: Annotated[list[MetricRow], Field(min_length=1)]
