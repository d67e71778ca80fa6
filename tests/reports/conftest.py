"""Audits to render: classification with scores, gates, a small group and hostile labels;
regression; and a classification audit without gates or scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seawall.audit import AuditResult, audit

#: Group labels that must come out escaped, never as markup.
HOSTILE = "<script>alert('x')</script>"
AMPERSAND = 'Smith & "Jones"'


def _classification_frame(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice([HOSTILE, AMPERSAND, "plain"], size=n, p=[0.45, 0.45, 0.10])
    region = rng.choice(["north", "south"], size=n)
    y = rng.binomial(1, 0.5, size=n)
    # The hostile group is selected less often: a real, significant gap.
    shift = np.where(group == HOSTILE, -1.2, 0.0)
    score = 1.0 / (1.0 + np.exp(-(1.5 * (y - 0.5) + shift + rng.normal(0, 1, n))))
    frame = pd.DataFrame(
        {"y": y, "pred": (score > 0.5).astype(int), "score": score, "g": group, "r": region}
    )
    frame.loc[:9, "g"] = "tiny"  # ten rows: too small to judge
    return frame


@pytest.fixture(scope="session")
def hostile_labels() -> tuple[str, str]:
    """The group labels that must come out escaped."""
    return HOSTILE, AMPERSAND


@pytest.fixture(scope="module")
def classification_audit() -> AuditResult:
    return audit(
        _classification_frame(0),
        label="y",
        prediction="pred",
        score="score",
        sensitive=["g", "r"],
        gates=["disparate_impact<0.8", "equal_opportunity_difference>0.1"],
        n_bootstrap=50,
        random_state=3,
    )


@pytest.fixture(scope="module")
def plain_audit() -> AuditResult:
    """Classification without gates or scores."""
    return audit(_classification_frame(1, 300), label="y", prediction="pred", sensitive="r")


@pytest.fixture(scope="module")
def regression_audit() -> AuditResult:
    rng = np.random.default_rng(2)
    n = 400
    g = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.45, 0.05])
    y = rng.normal(size=n)
    noise = np.where(g == "b", 1.5, 0.5)
    frame = pd.DataFrame({"target": y, "yhat": y + rng.normal(size=n) * noise, "g": g})
    return audit(
        frame, label="target", prediction="yhat", sensitive="g", gates=["mae_difference>0.2"]
    )
