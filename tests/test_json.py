from __future__ import annotations

import json
import math

import numpy as np

from seawall._json import json_value
from seawall.metrics import group_metrics


def test_json_values_keep_infinity_apart_from_undefined() -> None:
    assert json_value(np.float64("nan")) is None
    assert json_value(float("inf")) == "inf"
    assert json_value(-math.inf) == "-inf"
    assert json_value(np.bool_(True)) is True
    assert json_value(np.int32(4)) == 4


def test_a_ratio_over_a_reference_without_successes_has_an_infinite_bound() -> None:
    # The reference "a" selects nobody; "b" selects half: the ratio's upper bound is inf.
    res = group_metrics(
        [1, 0] * 40,
        [0] * 40 + [1, 0] * 20,
        sensitive_features=["a"] * 40 + ["b"] * 40,
        reference="a",
        n_bootstrap=0,
    )
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    [row] = [r for r in doc["disparities"] if r["name"] == "disparate_impact"]
    assert row["value"] == "inf"  # 0.5 / 0
    assert row["upper"] == "inf"
