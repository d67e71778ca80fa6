"""Shared fixtures: seeds, random generators and the reference data folder.

``SEAWALL_TEST_SEED`` widens the seeds that seeded tests run with: unset, every
test that asks for ``seed`` (or ``rng``) runs once with seed 0; set to an int
(``7``), a comma-separated list (``0,3,9``) or an inclusive range (``0-9``), it
runs once per seed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

_SEED_ENV = "SEAWALL_TEST_SEED"


def _parse_seeds(raw: str) -> list[int]:
    seeds: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1)
                seeds.extend(range(int(lo), int(hi) + 1))
            else:
                seeds.append(int(part))
        except ValueError as e:
            raise pytest.UsageError(
                f"{_SEED_ENV} must be an int, a comma-separated list of ints or a range such "
                f"as '0-9'; got {raw!r}."
            ) from e
    if not seeds or min(seeds) < 0:
        raise pytest.UsageError(
            f"{_SEED_ENV} must name at least one non-negative seed; got {raw!r}."
        )
    return list(dict.fromkeys(seeds))


SEEDS = _parse_seeds(os.environ.get(_SEED_ENV, "") or "0")


def _parametrizes_seed(metafunc: pytest.Metafunc) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if "seed" in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Only widen when asked: with the default single seed the test ids stay plain.
    # A test that parametrizes ``seed`` itself keeps its own seeds.
    if "seed" in metafunc.fixturenames and len(SEEDS) > 1 and not _parametrizes_seed(metafunc):
        metafunc.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])


@pytest.fixture
def seed() -> int:
    """The seed of this test run (0 unless ``SEAWALL_TEST_SEED`` says otherwise)."""
    return SEEDS[0]


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    """One generator per test, seeded by :func:`seed`."""
    return np.random.default_rng(seed)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The workplace's reference data folder, ``../shared/data`` from the repository root."""
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(
            f"reference data folder {path} is absent (a checkout outside the workplace); "
            f"tests that need the public data sets are skipped."
        )
    return path


@pytest.fixture(scope="session")
def compas(shared_data: Path) -> pd.DataFrame:
    """ProPublica's COMPAS data with their filter (6,172 rows), from ``shared_data``."""
    from seawall.datasets import load_compas

    df = load_compas(shared_data / "compas")
    assert len(df) == 6172
    return df


@pytest.fixture(scope="session")
def adult(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """UCI Adult, train and test (``Y`` is 0/1), from ``shared_data``."""
    from seawall.datasets import load_adult

    return load_adult(shared_data / "adult")
