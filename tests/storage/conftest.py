"""Fixtures for the store tests: seeded prediction logs and an in-memory store."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest

from seawall.storage._store import Store


def make_logs(
    rng: np.random.Generator, n: int = 120, models: tuple[str, ...] = ("a", "b")
) -> pd.DataFrame:
    """Prediction logs of ``models`` over ~5 hours, with typed features and one sensitive column."""
    start = pd.Timestamp("2024-05-01 00:00:00")
    seconds = np.sort(rng.integers(0, 5 * 3600, size=n))
    return pd.DataFrame(
        {
            "time": start + pd.to_timedelta(seconds, unit="s"),
            "model": rng.choice(list(models), size=n),
            "request_id": [f"r{i:05d}" for i in range(n)],
            "prediction": rng.integers(0, 2, size=n),
            "score": rng.random(n).round(6),
            "age": rng.integers(18, 90, size=n),
            "income": rng.normal(50_000, 10_000, size=n),
            "plan": rng.choice(["free", "pro", "team"], size=n),
            "is_member": rng.random(n) < 0.5,
            "sex": rng.choice(["F", "M"], size=n),
        }
    )


@pytest.fixture
def logs(rng: np.random.Generator) -> pd.DataFrame:
    return make_logs(rng)


@pytest.fixture
def logs_factory() -> Callable[..., pd.DataFrame]:
    """:func:`make_logs`, for tests that need other sizes or models."""
    return make_logs


@pytest.fixture
def store() -> Iterator[Store]:
    with Store() as s:
        yield s
