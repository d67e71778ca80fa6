"""Every error a caller of group_metrics can cause, and its message."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from seawall.exceptions import (
    DataValidationError,
    InsufficientDataError,
    InvalidParameterError,
    SeawallWarning,
)
from seawall.metrics import group_metrics

Y_TRUE = [0, 1] * 20
Y_PRED = [1, 1, 0, 0] * 10
SEX = ["F"] * 20 + ["M"] * 20
RACE = ["a", "b", "c", "d"] * 10


def call(**overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "y_true": Y_TRUE,
        "y_pred": Y_PRED,
        "sensitive_features": SEX,
        "min_group_size": 5,
        "n_bootstrap": 0,
    }
    kwargs.update(overrides)
    return group_metrics(**kwargs)


def test_the_defaults_work() -> None:
    assert call().n_rows == 40


# --------------------------------------------------------------------------- #
# parameters
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("confidence_level", 1.0, "a float in (0, 1)"),
        ("confidence_level", 0, "a float in (0, 1)"),
        ("confidence_level", 95, "a float in (0, 1)"),
        ("confidence_level", "0.95", "a float in (0, 1)"),
        ("confidence_level", None, "a float in (0, 1)"),
        ("correction", "bonferroni", "one of 'holm', 'bh', 'none'"),
        ("correction", "Holm", "one of 'holm', 'bh', 'none'"),
        ("correction", None, "one of 'holm', 'bh', 'none'"),
        ("n_bootstrap", -1, "an int in [0, inf)"),
        ("n_bootstrap", 100.0, "an int in [0, inf)"),
        ("n_bootstrap", True, "an int in [0, inf)"),
        ("min_group_size", -5, "an int in [0, inf)"),
        ("min_group_size", 2.5, "an int in [0, inf)"),
        ("n_calibration_bins", 1, "an int in [2, inf)"),
        ("random_state", None, "an int in [0, inf)"),
        ("random_state", -1, "an int in [0, inf)"),
    ],
)
def test_bad_parameters(name: str, value: object, expected: str) -> None:
    message = f"The {name!r} parameter of group_metrics must be {expected}. Got {value!r} instead."
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        call(**{name: value})


def test_parameters_are_checked_before_the_data() -> None:
    with pytest.raises(InvalidParameterError, match=re.escape("'correction'")):
        call(correction="fdr", y_true=[2, 3])


# --------------------------------------------------------------------------- #
# labels and decisions
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("which", ["y_true", "y_pred"])
def test_non_binary_labels_list_the_values(which: str) -> None:
    values = [0, 1, 2] * 13 + [0]
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            f"{which} must hold binary values 0/1 (or True/False); got the values {{0, 1, 2}}."
        ),
    ):
        call(**{which: values})


def test_string_labels_list_the_values() -> None:
    with pytest.raises(DataValidationError, match=re.escape("got the values {'>50K', '<=50K'}")):
        call(y_true=[">50K", "<=50K"] * 20)


@pytest.mark.parametrize("which", ["y_true", "y_pred"])
def test_missing_labels_name_the_row(which: str) -> None:
    values = [0.0, 1.0] * 20
    values[7] = np.nan
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            f"{which} has 1 missing value(s) (NaN), the first at row 7; binary labels "
            f"must be 0 or 1 in every row."
        ),
    ):
        call(**{which: values})
    series = pd.Series([0, 1] * 20, dtype="Int64")
    series[11] = pd.NA
    with pytest.raises(DataValidationError, match=re.escape("the first at row 11;")):
        call(**{which: series})


def test_length_mismatch_names_both_inputs() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("y_pred has 39 rows but y_true has 40; they must align row for row."),
    ):
        call(y_pred=Y_PRED[:-1])
    with pytest.raises(
        DataValidationError, match=re.escape("has 41 rows but y_true has 40; they must align")
    ):
        call(sensitive_features=[*SEX, "F"])
    with pytest.raises(
        DataValidationError,
        match=re.escape("sensitive_features['race'] has 39 rows but y_true has 40"),
    ):
        call(sensitive_features={"sex": SEX, "race": RACE[:-1]})
    with pytest.raises(
        DataValidationError, match=re.escape("y_score has 39 rows but y_true has 40")
    ):
        call(y_score=[0.5] * 39)
    with pytest.raises(
        DataValidationError, match=re.escape("y_true has 40 rows but sample_weight has 41")
    ):
        call(sample_weight=[1.0] * 41)


def test_empty_input() -> None:
    with pytest.raises(
        InsufficientDataError,
        match=re.escape("y_true is empty; an audit needs at least one row."),
    ):
        call(y_true=[], y_pred=[], sensitive_features=[])
    with pytest.raises(InsufficientDataError, match=re.escape("y_true is empty")):
        call(
            y_true=np.array([], dtype=int),
            y_pred=pd.Series([], dtype=bool),
            sensitive_features=pd.DataFrame({"sex": []}),
        )


def test_two_dimensional_labels() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("y_true must be one-dimensional; got an array of shape (20, 2)."),
    ):
        call(y_true=np.zeros((20, 2)))


def test_scalar_labels() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "y_pred must be a one-dimensional array-like (list, ndarray, Series, "
            "Arrow array); got a scalar int 1."
        ),
    ):
        call(y_pred=1)


# --------------------------------------------------------------------------- #
# sensitive features and the reference group
# --------------------------------------------------------------------------- #


def test_one_group_sensitive_column() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "sensitive feature 'sensitive_features' has a single group 'F'; "
            "comparing groups needs at least two."
        ),
    ):
        call(sensitive_features=["F"] * 40)
    with pytest.raises(
        DataValidationError, match=re.escape("sensitive feature 'country' has a single group 'NL'")
    ):
        call(sensitive_features={"sex": SEX, "country": ["NL"] * 40})


def test_one_observed_category_is_one_group() -> None:
    # Unused categories are not groups: a categorical with one observed value has
    # a single group, whatever its categories.
    sex = pd.Series(pd.Categorical(["F"] * 40, categories=["F", "M"]))
    with pytest.raises(
        DataValidationError,
        match=re.escape("sensitive feature 'sensitive_features' has a single group 'F'"),
    ):
        call(sensitive_features=sex)
    with pytest.raises(
        DataValidationError, match=re.escape("sensitive feature 'sex' has a single group 'F'")
    ):
        call(sensitive_features=pd.DataFrame({"sex": sex, "race": RACE}))


def test_no_sensitive_columns() -> None:
    with pytest.raises(DataValidationError, match=re.escape("sensitive_features has no columns")):
        call(sensitive_features={})


def test_unknown_reference_lists_the_groups() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "reference group 'X' does not occur in 'sensitive_features'; its groups are ['F', 'M']."
        ),
    ):
        call(reference="X")
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "reference group 'e' does not occur in 'race'; its groups are ['a', 'b', 'c', 'd']."
        ),
    ):
        call(sensitive_features={"sex": SEX, "race": RACE}, reference={"race": "e"})


def test_reference_as_a_string_with_two_features() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "reference='F' is ambiguous with 2 sensitive features ['sex', 'race']; "
            "pass a mapping such as {'sex': 'F'}."
        ),
    ):
        call(sensitive_features={"sex": SEX, "race": RACE}, reference="F")


def test_reference_naming_an_unknown_feature() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "reference names feature(s) ['age'] that are not sensitive features; "
            "the sensitive features are ['sex', 'race']."
        ),
    ):
        call(sensitive_features={"sex": SEX, "race": RACE}, reference={"age": "30", "sex": "F"})


def test_reference_of_the_wrong_type() -> None:
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "reference must be a group label, a mapping of feature to label, or None; "
            "got list ['F']."
        ),
    ):
        call(reference=["F"])


def test_reference_group_smaller_than_min_group_size() -> None:
    sex = ["F"] * 4 + ["M"] * 36
    with pytest.raises(
        InsufficientDataError,
        match=re.escape(
            "the reference group 'F' of 'sensitive_features' has 4 rows, fewer than "
            "min_group_size=5; choose a larger reference group or lower "
            "min_group_size."
        ),
    ):
        call(sensitive_features=sex, reference="F")
    # The default reference is the largest group; it too must be large enough.
    with pytest.raises(
        InsufficientDataError,
        match=re.escape(
            "the reference group 'F' of 'sensitive_features' has 20 rows, fewer than "
            "min_group_size=30"
        ),
    ):
        call(min_group_size=30)


def test_reference_of_the_intersection_too_small() -> None:
    with pytest.raises(
        InsufficientDataError,
        match=re.escape(
            "the reference group 'F & a' of 'sex×race' has 5 rows, fewer than min_group_size=6"
        ),
    ):
        call(
            sensitive_features={"sex": SEX, "race": RACE},
            reference={"sex": "F", "race": "a"},
            min_group_size=6,
        )


# --------------------------------------------------------------------------- #
# weights and scores
# --------------------------------------------------------------------------- #


def test_negative_weights() -> None:
    w = [1.0] * 40
    w[3] = -0.5
    with pytest.raises(
        DataValidationError,
        match=re.escape("sample_weight must be non-negative; 1 value(s) are negative"),
    ):
        call(sample_weight=w)
    with pytest.raises(DataValidationError, match=re.escape("at row 3.")):
        call(sample_weight=w)


def test_bad_weights() -> None:
    with pytest.raises(DataValidationError, match=re.escape("sample_weight sums to zero")):
        call(sample_weight=[0] * 40)
    with pytest.raises(
        DataValidationError,
        match=re.escape("sample_weight has 1 missing value(s) (NaN), the first at row 0"),
    ):
        call(sample_weight=[np.nan] + [1.0] * 39)
    with pytest.raises(DataValidationError, match=re.escape("sample_weight must be numeric")):
        call(sample_weight=["heavy"] * 40)


def test_scores_with_nan() -> None:
    scores = [0.5] * 40
    scores[12] = np.nan
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "y_score has 1 missing value(s) (NaN), the first at row 12; drop or fill "
            "those rows first."
        ),
    ):
        call(y_score=scores)
    scores[12] = np.inf
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "y_score has 1 infinite value(s), the first at row 12; values must be finite."
        ),
    ):
        call(y_score=scores)


def test_scores_outside_the_unit_interval_warn_and_leave_out_brier_and_ece() -> None:
    scores = np.linspace(-2.0, 3.0, 40)
    with pytest.warns(
        SeawallWarning,
        match=re.escape(
            "y_score has values outside [0, 1] (min -2, max 3); the Brier score and "
            "calibration error need probabilities and are left out (NaN)."
        ),
    ):
        res = call(y_score=scores, n_bootstrap=20)
    m = res.metrics.to_frame()
    for metric in ("brier", "ece"):
        rows = m[m.metric == metric]
        assert len(rows) == 2
        assert rows.value.isna().all() and rows.lower.isna().all() and rows.upper.isna().all()
    auc = m[m.metric == "auc"]
    assert auc.value.notna().all() and auc.lower.notna().all()
    # AUC depends on the order of the scores only.
    with pytest.warns(SeawallWarning):
        other = call(y_score=scores * 10 + 5)
    assert res.metric("auc", "F").value == other.metric("auc", "F").value
    s = res.summary.to_frame().set_index("name")
    assert np.isnan(s.loc["brier_difference", "value"])
    assert np.isfinite(s.loc["auc_difference", "value"])


def test_the_score_warning_points_at_the_caller() -> None:
    with pytest.warns(SeawallWarning) as record:
        group_metrics(
            Y_TRUE,
            Y_PRED,
            sensitive_features=SEX,
            y_score=np.linspace(-2.0, 3.0, 40),
            min_group_size=5,
            n_bootstrap=0,
        )
    assert len(record) == 1
    # The warning must name the line that called group_metrics (this test), not
    # the caller's caller (pytest's machinery).
    assert record[0].filename == __file__


def test_scores_inside_the_unit_interval_do_not_warn() -> None:
    # filterwarnings = error: any warning would fail this test.
    res = call(y_score=np.r_[0.0, np.linspace(0, 1, 38), 1.0])
    assert np.isfinite(res.metric("brier", "F").value)


# --------------------------------------------------------------------------- #
# the result's look-ups
# --------------------------------------------------------------------------- #


def test_lookup_errors() -> None:
    res = call(sensitive_features={"sex": SEX, "race": RACE})
    with pytest.raises(InvalidParameterError, match=re.escape("group 'Z' is not a group; pass")):
        res.metric("tpr", "Z")
    with pytest.raises(InvalidParameterError, match=re.escape("no single row matches")):
        res.metric("no_such_metric", "F")
    with pytest.raises(InvalidParameterError, match=re.escape("no single row matches")):
        res.disparity("disparate_impact", "a", grouping="sex")
    assert res.metric("accuracy", "F & a", grouping="sex×race").value == 0.0


def test_a_numeric_reference_names_the_group_of_that_value() -> None:
    res = group_metrics(
        [1, 0] * 40,
        [1, 0] * 40,
        sensitive_features=[1] * 40 + [2] * 40,
        reference=2,
        n_bootstrap=0,
    )
    assert set(res.disparities.reference) == {"2"}
