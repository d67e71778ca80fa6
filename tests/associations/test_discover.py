"""Discovery over many output labels: planted tags, null twins, Tarone's bound, bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import sparse, stats

from seawall.associations import discover_labels
from seawall.associations._discover import tarone_testable
from seawall.datasets import make_tagging
from seawall.exceptions import InvalidParameterError

CONTEXT = ["region", "device", "topic", "time_of_day"]


@pytest.fixture(scope="module")
def tagging():  # type: ignore[no-untyped-def]
    return make_tagging(150_000, 3_000, random_state=0)


def _shown(res):  # type: ignore[no-untyped-def]
    f = res.findings
    return set(zip(f.label, f.context, f.group, strict=True))


def test_planted_tags_are_found_in_their_contexts(tagging) -> None:  # type: ignore[no-untyped-def]
    f = tagging.frame
    res = discover_labels(
        tagging.tags,
        sensitive_features=f["user_group"],
        context=f[CONTEXT],
        max_depth=2,
        label_names=tagging.tag_names,
        sensitive_labels=tagging.sensitive_tags,
    )
    assert _shown(res) == {
        ("primate", "topic = people and time_of_day = night", "B"),
        ("snow", "everyone", "C"),
        ("festival_lanterns", "topic = celebration", "A"),
    }
    # The sensitive label is shown first, with its interval above 0.
    assert res.findings.label[0] == "primate"
    assert res.findings.difference_lower[0] > 0
    assert res.findings.kind == ("label_association",) * 3


def test_region_explains_the_snow_association(tagging) -> None:  # type: ignore[no-untyped-def]
    f = tagging.frame
    res = discover_labels(
        tagging.tags,
        sensitive_features=f["user_group"],
        context=f[["device", "topic", "time_of_day"]],
        explanatory=f["region"],
        max_depth=2,
        label_names=tagging.tag_names,
        sensitive_labels=["primate"],
    )
    assert ("snow", "everyone", "C") not in _shown(res)
    assert ("primate", "topic = people and time_of_day = night", "B") in _shown(res)
    ex = res.explained
    assert list(zip(ex.label, ex.context, ex.group, strict=True)) == [("snow", "everyone", "C")]
    assert abs(res.explained.difference[0]) < 0.01 < res.explained.crude_difference[0]


def test_null_twin_shows_nothing() -> None:
    d = make_tagging(150_000, 3_000, effects="null", random_state=1)
    f = d.frame
    res = discover_labels(
        d.tags,
        sensitive_features=f["user_group"],
        context=f[CONTEXT],
        max_depth=2,
        label_names=d.tag_names,
        sensitive_labels=d.sensitive_tags,
        random_state=1,
    )
    assert len(res.findings) == 0


def test_tarone_matches_brute_force(rng: np.random.Generator) -> None:
    n1 = rng.integers(1, 40, 300).astype(float)
    n2 = rng.integers(1, 400, 300).astype(float)
    s = np.array([rng.integers(0, a + b + 1) for a, b in zip(n1, n2, strict=True)], dtype=float)
    testable, k = tarone_testable(n1, n2, s, 0.05)
    # Minimum two-sided p-value of each table: twice the smaller extreme probability.
    p_min = np.empty(300)
    for i in range(300):
        dist = stats.hypergeom(int(n1[i] + n2[i]), int(s[i]), int(n1[i]))
        lo, hi = max(0, int(s[i] - n2[i])), int(min(n1[i], s[i]))
        p_min[i] = min(1.0, 2 * min(dist.pmf(lo), dist.pmf(hi)))
    naive_k = next(kk for kk in range(1, 301) if (p_min < 0.05 / kk).sum() <= kk)
    assert k == naive_k
    np.testing.assert_array_equal(testable, p_min < 0.05 / naive_k)


def test_bad_input(tagging) -> None:  # type: ignore[no-untyped-def]
    f = tagging.frame
    with pytest.raises(InvalidParameterError, match=re.escape("2-D scipy.sparse")):
        discover_labels([["a"], ["b"]], sensitive_features=["x", "y"])
    with pytest.raises(InvalidParameterError, match=re.escape("sensitive_labels")):
        discover_labels(
            tagging.tags,
            sensitive_features=f["user_group"],
            label_names=tagging.tag_names,
            sensitive_labels=["not-a-tag"],
        )
    with pytest.raises(InvalidParameterError, match=re.escape("label_names")):
        discover_labels(
            sparse.csr_array(np.eye(4000, 3)),
            sensitive_features=np.arange(4000) % 2,
            label_names=["a"],
        )
    with pytest.raises(InvalidParameterError, match=re.escape("max_depth")):
        discover_labels(tagging.tags, sensitive_features=f["user_group"], max_depth=-1)
