"""Audits to render: classification with scores, gates, a small group and hostile labels;
regression; and a classification audit without gates or scores. Investigations to
render: an error profile with a hostile group label, associations with an explanatory
attribute, and the null twin with no finding."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from seawall.associations import (
    HypothesisTable,
    Investigation,
    find_associations,
    profile_errors,
)
from seawall.audit import AuditResult, audit
from seawall.datasets import make_slices

#: Group labels that must come out escaped, never as markup.
HOSTILE = "<script>alert('x')</script>"
AMPERSAND = 'Smith & "Jones"'
#: An output label that must come out escaped.
HOSTILE_LABEL = "<img src=x onerror=alert(2)>"


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


@pytest.fixture(scope="session")
def error_investigation() -> Investigation:
    """profile_errors on planted slices, with group "B" renamed to a hostile label."""
    data = make_slices(20_000, random_state=0)
    f = data.frame
    group = f["group"].where(f["group"] != "B", HOSTILE)
    return profile_errors(
        f["y_true"],
        f["y_pred"],
        context=f[["f1", "f4", "f3", "f6", "f8"]],
        sensitive_features=group,
    )


@pytest.fixture(scope="session")
def association_investigation() -> Investigation:
    """find_associations with an explanatory attribute: a finding, an explained association."""
    data = make_slices(20_000, random_state=0)
    f = data.frame
    return find_associations(
        f["y_pred"],
        sensitive_features=f["group"],
        context=f[["f5", "f7", "f0"]],
        explanatory=f["qualification"],
    )


@pytest.fixture(scope="session")
def null_investigation() -> Investigation:
    """The null twin: nothing planted, nothing found."""
    f = make_slices(20_000, effects="null", random_state=0).frame
    return profile_errors(f["y_true"], f["y_pred"], context=f[["f1", "f4"]], max_depth=2)


@pytest.fixture(scope="session")
def label_investigation(association_investigation: Investigation) -> Investigation:
    """The association investigation dressed as a label discovery, with a hostile label."""
    inv = association_investigation

    def as_labels(t: HypothesisTable) -> HypothesisTable:
        n = len(t)
        return dataclasses.replace(t, kind=("label_association",) * n, label=(HOSTILE_LABEL,) * n)

    return dataclasses.replace(
        inv,
        findings=as_labels(inv.findings),
        explained=as_labels(inv.explained),
        hypotheses=as_labels(inv.hypotheses),
        parameters={k: v for k, v in inv.parameters.items() if k != "outcome"},
    )
