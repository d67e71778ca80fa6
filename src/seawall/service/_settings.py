"""The service's settings: arguments, environment variables (``SEAWALL_...``) or both."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandas.tseries.frequencies import to_offset
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """How ``seawall serve`` (and :func:`create_app`) runs.

    Every field can be passed as an argument or set in the environment with the
    prefix ``SEAWALL_`` (``SEAWALL_STORE=fleet.duckdb``, ``SEAWALL_HOST=0.0.0.0``).

    Parameters
    ----------
    store : pathlib.Path or None, default=None
        The DuckDB file of the store; ``None`` keeps everything in memory (lost at
        exit: for tests and trials only).
    host : str, default="127.0.0.1"
        The address to bind. The default is reachable from this machine only; set
        ``0.0.0.0`` deliberately to serve a network.
    port : int, default=8000
        The port to bind.
    max_body_bytes : int, default=64 MiB
        The largest request body accepted; larger ones get 413.
    max_json_rows : int, default=100,000
        The most rows a JSON batch may carry (send Arrow or Parquet for more).
    prometheus_series : int, default=500
        The most model/metric series whose latest anomaly score ``/metrics``
        exposes (the highest), to bound the label cardinality.
    window : str, default="1h"
        The length of the monitoring windows (a pandas offset: ``"1h"``, ``"1D"``).
    schedule_seconds : float, default=60
        How often the monitoring cycle runs in the background; 0 turns it off
        (``POST /api/v1/monitor/run`` still runs one).
    webhook_timeout_seconds : float, default=10
        How long a webhook receiver has to answer.
    webhook_max_attempts : int, default=8
        Deliveries of one alert before giving up (30 s, 1 min, 2 min... apart).
    print_admin_token : bool, default=True
        On a store without an admin token, create one at start and print it once
        to standard error.

    Examples
    --------
    >>> ServiceSettings(port=9000).host
    '127.0.0.1'
    """

    model_config = SettingsConfigDict(env_prefix="SEAWALL_", frozen=True, extra="forbid")

    store: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_json_rows: int = Field(default=100_000, ge=1)
    prometheus_series: int = Field(default=500, ge=0, le=100_000)
    window: str = "1h"
    schedule_seconds: float = Field(default=60.0, ge=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1, le=100)
    print_admin_token: bool = True

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        try:
            length = pd.Timedelta(to_offset(value))  # type: ignore[arg-type]
        except ValueError as e:
            raise ValueError(f"{value!r} is not a window length such as '1h' or '1D'") from e
        if length <= pd.Timedelta(0):
            raise ValueError(f"{value!r} is not a positive window length")
        return value
