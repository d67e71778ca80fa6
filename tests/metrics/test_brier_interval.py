from __future__ import annotations

import numpy as np
import pytest

from seawall._groups import to_group_columns
from seawall.metrics import group_metrics
from seawall.metrics._counts import build_count_tables
from seawall.metrics._scores import brier_standard_error, build_score_histogram


def test_brier_standard_error_matches_a_naive_loop(rng: np.random.Generator) -> None:
    n = 500
    group = rng.choice(["a", "b", "c"], n)
    y = (rng.random(n) < 0.4).astype(np.int8)
    s = rng.random(n)
    columns = to_group_columns(group, n)
    tables = build_count_tables(columns, y, 1, None)
    hist = build_score_histogram(s, y, None, tables.row_cells(), tables.n_fine, 10)
    grouping = tables.groupings[0]
    moments = [
        grouping.aggregate(a.reshape(a.shape[0], -1)).reshape(-1, 2, a.shape[-1])
        for a in (hist.rows, hist.weight, hist.s1, hist.s2, hist.s3, hist.s4)
    ]
    se = brier_standard_error(*moments)
    for k, label in enumerate(grouping.labels):
        q = (s[group == label] - y[group == label]) ** 2
        assert se[k] == pytest.approx(q.std(ddof=1) / np.sqrt(q.size), rel=1e-9)


def test_brier_interval_is_studentized_and_contains_the_estimate(
    rng: np.random.Generator,
) -> None:
    n = 400
    group = rng.choice(["a", "b"], n)
    y = (rng.random(n) < 0.3).astype(int)
    s = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
    res = group_metrics(
        y,
        (s > 0.5).astype(int),
        y_score=s,
        sensitive_features=group,
        n_bootstrap=300,
        random_state=1,
    )
    m = res.metrics.to_frame()
    brier = m[m.metric == "brier"]
    assert (brier.lower < brier.value).all() and (brier.value < brier.upper).all()
    # Skewed squared errors: the interval reaches further above the estimate than below.
    assert ((brier.upper - brier.value) > (brier.value - brier.lower)).all()
