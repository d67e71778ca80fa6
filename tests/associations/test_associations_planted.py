"""Investigations on planted data and their null twins; bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from seawall.associations import find_associations, profile_errors
from seawall.datasets import make_slices
from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError

N = 100_000


@pytest.fixture(scope="module")
def planted():  # type: ignore[no-untyped-def]
    return make_slices(N, effects="planted", random_state=0)


def _context_of(effect) -> str:  # type: ignore[no-untyped-def]
    return " and ".join(f"{c} = {v}" for c, v in effect.context) or "everyone"


def test_profile_errors_finds_every_planted_error_effect(planted) -> None:  # type: ignore[no-untyped-def]
    f = planted.frame
    res = profile_errors(
        f["y_true"],
        f["y_pred"],
        context=f[list(planted.context_columns)],
        sensitive_features=f["group"],
    )
    shown = set(zip(res.findings.kind, res.findings.context, res.findings.group, strict=True))
    for e in planted.effects:
        if e.kind == "weak_slice":
            assert ("weak_slice", _context_of(e), "") in shown
        elif e.kind == "error_disparity":
            assert ("error_disparity", _context_of(e), e.group) in shown
    # Anything else shown lies in a planted context (the disparity's context is
    # also a weak slice): no unrelated finding.
    planted_contexts = {_context_of(e) for e in planted.effects}
    assert {c for _, c, _ in shown} <= planted_contexts
    # Intervals at the confirmation's Bonferroni level: alpha, shared by the two
    # analyses, over the K candidates each confirmed.
    h = res.hypotheses
    for kind, level in zip(res.findings.kind, res.findings.level, strict=True):
        k = sum(1 for s, c in zip(h.stage, h.kind, strict=True) if s == "confirm" and c == kind)
        assert level == pytest.approx(1 - 0.025 / k)
    assert np.all(res.findings.difference_lower > 0)
    assert np.all(res.findings.p_adjusted < 0.025)
    assert res.parameters["sensitive_features"] == ["group"]


def test_find_associations_and_explanatory_attribute(planted) -> None:  # type: ignore[no-untyped-def]
    f = planted.frame
    ctx = f[list(planted.context_columns)]
    crude = find_associations(f["y_pred"], sensitive_features=f["group"], context=ctx)
    assert set(zip(crude.findings.context, crude.findings.group, strict=True)) == {
        ("f5 = c", "B"),
        ("everyone", "B"),
    }
    strat = find_associations(
        f["y_pred"], sensitive_features=f["group"], context=ctx, explanatory=f["qualification"]
    )
    assert strat.findings.context == ("f5 = c",)
    # The planted gap within qualification strata is -0.20; crude it is larger.
    assert strat.findings.difference_lower[0] < -0.2 < strat.findings.difference_upper[0]
    assert strat.findings.crude_difference[0] < strat.findings.difference[0]
    assert strat.explained.context == ("everyone",)
    assert abs(strat.explained.difference[0]) < 0.05 < abs(strat.explained.crude_difference[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_null_twin_shows_nothing(seed: int) -> None:
    d = make_slices(N, effects="null", random_state=seed)
    f = d.frame
    ctx = f[list(d.context_columns)]
    res = profile_errors(
        f["y_true"], f["y_pred"], context=ctx, sensitive_features=f["group"], random_state=seed
    )
    assert len(res.findings) == 0
    res = find_associations(
        f["y_pred"], sensitive_features=f["group"], context=ctx, random_state=seed
    )
    assert len(res.findings) == 0


def test_every_tested_hypothesis_is_recorded_as_json(planted) -> None:  # type: ignore[no-untyped-def]
    f = planted.frame.iloc[:20_000]
    res = profile_errors(f["y_true"], f["y_pred"], context=f[["f1", "f4", "f6"]], max_depth=2)
    d = json.loads(json.dumps(res.to_dict()))
    stages = {h["stage"] for h in d["hypotheses"]}
    assert stages == {"search", "confirm"}
    search = [h for h in d["hypotheses"] if h["stage"] == "search"]
    # 2+... contexts of depth <= 2 over three attributes, each tested once
    assert len(search) == len({h["context"] for h in search})
    for key in ("n_inside", "difference", "difference_lower", "p_value", "p_adjusted"):
        assert key in search[0]
    assert d["parameters"]["max_depth"] == 2
    assert d["n_search_rows"] + d["n_confirm_rows"] == 20_000


def test_loss_and_fpr_profiles() -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    region = rng.choice(["a", "b", "c", "d"], n)
    y = rng.normal(size=n)
    pred = y + rng.normal(scale=np.where(region == "c", 2.0, 1.0))
    res = profile_errors(y, pred, context={"region": region}, error="absolute")
    assert res.findings.context == ("region = c",)
    y_true = rng.integers(0, 2, n)
    fp = (y_true == 0) & (rng.random(n) < np.where(region == "b", 0.4, 0.1))
    y_pred = np.where(y_true == 1, 1, fp.astype(int))
    res = profile_errors(y_true, y_pred, context={"region": region}, error="fpr")
    assert res.findings.context == ("region = b",)
    assert res.n_search_rows + res.n_confirm_rows == int((y_true == 0).sum())


def test_bad_input() -> None:
    n = 1000
    ctx = {"a": np.repeat(["x", "y"], n // 2)}
    y = np.zeros(n, dtype=int)
    with pytest.raises(InvalidParameterError, match=re.escape("max_depth")):
        profile_errors(y, y, context=ctx, max_depth=0)
    with pytest.raises(InsufficientDataError, match=re.escape("rows in each split")):
        profile_errors(y[:150], y[:150], context={"a": ctx["a"][:150]})
    with pytest.raises(DataValidationError, match=re.escape("single group")):
        find_associations(y, sensitive_features=np.zeros(n), context=ctx)
    with pytest.raises(DataValidationError, match=re.escape("align")):
        profile_errors(y, y[:-1], context=ctx)
    with pytest.raises(InvalidParameterError, match=re.escape("'error'")):
        profile_errors(y, y, context=ctx, error="hinge")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=re.escape("context")):
        profile_errors(y, y, context={"a": ctx["a"][:-1]})
    lists = np.empty(n, dtype=object)
    lists[:] = [["x", "y"]] * n
    with pytest.raises(DataValidationError, match=re.escape("one value per row")):
        profile_errors(y, y, context={"tags": lists})
