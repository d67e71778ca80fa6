"""Seeded generators of realistic synthetic data for demos, tests and benchmarks.

Each generator tells one story that an audit should uncover, with a known answer:

- :func:`make_lending`: a proxy (distance to a branch) carries a biased history into
  a model, which then fails the four-fifths rule for the low-income group.
- :func:`make_health`: a rare group (patients aged 65+) whose outcomes follow a
  different pattern is served far worse by a model fitted to everyone.

Both are deterministic given ``random_state``, vectorised, and return a
``pandas.DataFrame`` with string (not categorical) group columns.
"""

from __future__ import annotations

from seawall.datasets._health import make_health
from seawall.datasets._lending import make_lending

__all__ = ["make_health", "make_lending"]
