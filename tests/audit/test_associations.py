"""The audit's associations section: planted findings, columns left out, skips, no gate effect."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from seawall.audit import AuditAssociations, AuditResult, audit
from seawall.datasets import make_slices
from seawall.exceptions import DataValidationError, InvalidParameterError

PLANTED_SLICE = "f1 = b and f4 = b"


@pytest.fixture(scope="module")
def slices() -> pd.DataFrame:
    return make_slices(20_000, random_state=0).frame


@pytest.fixture(scope="module")
def planted(slices: pd.DataFrame) -> AuditResult:
    return audit(
        slices,
        label="y_true",
        prediction="y_pred",
        sensitive="group",
        gates=["error_rate_difference>0.05"],
    )


def _doc(result: AuditResult) -> dict[str, object]:
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


def test_planted_weak_slice_is_found_at_depth_2(planted: AuditResult) -> None:
    section = planted.associations
    assert isinstance(section, AuditAssociations)
    assert section.skipped is None and section.max_depth == 2
    assert section.context == (*(f"f{k}" for k in range(10)), "age", "qualification")
    assert section.left_out == ()
    assert section.error_profile is not None and section.output_associations is not None
    errors = section.error_profile.findings
    assert (("weak_slice", PLANTED_SLICE, "")) in set(
        zip(errors.kind, errors.context, errors.group, strict=True)
    )
    # The planted error disparity and output association, for group B.
    assert ("error_disparity", "f3 = e", "B") in set(
        zip(errors.kind, errors.context, errors.group, strict=True)
    )
    outputs = section.output_associations.findings
    assert ("f5 = c", "B") in set(zip(outputs.context, outputs.group, strict=True))
    assert set(outputs.kind) == {"association"}


def test_json_section(planted: AuditResult) -> None:
    doc = _doc(planted)
    section = doc["associations"]
    assert isinstance(section, dict)
    assert set(section) == {
        "skipped",
        "max_depth",
        "context",
        "left_out",
        "context_fingerprint",
        "error_profile",
        "output_associations",
    }
    assert section["skipped"] is None and section["max_depth"] == 2
    assert str(section["context_fingerprint"]).startswith("sha256:")
    profile = section["error_profile"]
    assert profile["parameters"]["error"] == "misclassification"
    assert profile["parameters"]["max_depth"] == 2
    assert any(
        f["kind"] == "weak_slice" and f["context"] == PLANTED_SLICE for f in profile["findings"]
    )
    # Only the confirmation stage is listed; the search stage is counted.
    inv = planted.associations.error_profile  # type: ignore[union-attr]
    stages = list(inv.hypotheses.stage)
    assert profile["n_hypotheses"] == {
        "search": stages.count("search"),
        "confirm": stages.count("confirm"),
    }
    assert stages.count("confirm") == len(profile["hypotheses"]) > 0
    assert {h["stage"] for h in profile["hypotheses"]} == {"confirm"}
    assert profile["findings"] == inv.to_dict()["findings"]
    assert section["output_associations"]["parameters"]["outcome"] == "binary"
    assert doc["parameters"]["associations"] is True
    assert doc["parameters"]["association_depth"] == 2


def test_gates_do_not_depend_on_associations(slices: pd.DataFrame, planted: AuditResult) -> None:
    off = audit(
        slices,
        label="y_true",
        prediction="y_pred",
        sensitive="group",
        gates=["error_rate_difference>0.05"],
        associations=False,
    )
    assert off.associations is None
    assert [g.to_dict() for g in off.gates] == [g.to_dict() for g in planted.gates]
    assert off.passed == planted.passed
    assert off.fingerprint == planted.fingerprint
    doc = _doc(off)
    assert doc["associations"] is None
    assert doc["parameters"]["associations"] is False
    assert doc["metrics"] == _doc(planted)["metrics"]


def test_same_seed_same_section(slices: pd.DataFrame, planted: AuditResult) -> None:
    again = audit(
        slices,
        label="y_true",
        prediction="y_pred",
        sensitive="group",
        gates=["error_rate_difference>0.05"],
    )
    assert _doc(again)["associations"] == _doc(planted)["associations"]


def test_tiny_data_record_a_skip_reason(slices: pd.DataFrame) -> None:
    res = audit(slices.head(150), label="y_true", prediction="y_pred", sensitive="group")
    section = res.associations
    assert section is not None
    assert section.error_profile is None and section.output_associations is None
    assert section.skipped is not None
    assert section.skipped.startswith("too few rows to search on one half and confirm")
    assert "150 rows" in section.skipped
    assert section.context  # the columns it would have used are still recorded
    assert _doc(res)["associations"]["skipped"] == section.skipped


def test_no_other_column_is_a_skip() -> None:
    df = pd.DataFrame({"y": [1, 0] * 200, "p": [1, 1, 0, 0] * 100, "g": ["a"] * 200 + ["b"] * 200})
    section = audit(df, label="y", prediction="p", sensitive="g").associations
    assert section is not None and section.context == () and section.left_out == ()
    assert section.skipped is not None and "no column besides" in section.skipped


def test_identifiers_lists_and_constants_are_left_out(slices: pd.DataFrame) -> None:
    n = len(slices)
    df = slices[["y_true", "y_pred", "group", "f1", "f4", "age"]].copy()
    df["row_id"] = np.arange(n)
    df["name"] = [f"customer {i}" for i in range(n)]
    df["notes"] = [f"note {i % (n // 2 + 100)}" for i in range(n)]  # > half distinct
    df["tags"] = [["a", "b"] if i % 2 else ["c"] for i in range(n)]
    df["constant"] = "x"
    df[7] = slices["f3"]  # a column label that is not text
    res = audit(df, label="y_true", prediction="y_pred", sensitive="group")
    section = res.associations
    assert section is not None and section.skipped is None
    assert section.context == ("f1", "f4", "age", "7")
    reasons = dict(section.left_out)
    assert set(reasons) == {"row_id", "name", "notes", "tags", "constant"}
    assert reasons["row_id"] == f"every one of its {n:,} values is distinct: an identifier"
    assert reasons["name"] == reasons["row_id"]
    assert re.fullmatch(
        r"[\d,]+ distinct values in 20,000 rows \(more than 50%\): .*", reasons["notes"]
    )
    assert reasons["tags"] == "holds lists, not one value per row"
    assert reasons["constant"] == "has one value only"
    assert {"column": "tags", "reason": reasons["tags"]} in _doc(res)["associations"]["left_out"]
    assert section.error_profile is not None
    assert PLANTED_SLICE in section.error_profile.findings.context


def test_regression_profiles_the_absolute_error(rng: np.random.Generator) -> None:
    n = 4000
    g = rng.choice(["a", "b"], n)
    city = rng.choice(["x", "y", "z"], n)
    y = rng.normal(size=n)
    noise = np.where(city == "z", 3.0, 1.0)
    df = pd.DataFrame({"y": y, "p": y + rng.normal(size=n) * noise, "g": g, "city": city})
    section = audit(df, label="y", prediction="p", sensitive="g").associations
    assert section is not None and section.error_profile is not None
    assert section.error_profile.parameters["error"] == "absolute"
    assert section.output_associations is not None
    assert section.output_associations.parameters["outcome"] == "continuous"
    t = section.error_profile.findings
    assert ("weak_slice", "city = z") in set(zip(t.kind, t.context, strict=True))


def test_depth_is_passed_through(slices: pd.DataFrame) -> None:
    res = audit(slices, label="y_true", prediction="y_pred", sensitive="group", association_depth=1)
    section = res.associations
    assert section is not None and section.max_depth == 1
    assert section.error_profile is not None
    assert max(section.error_profile.hypotheses.depth) == 1
    assert res.parameters.association_depth == 1


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"association_depth": 5}, "The 'association_depth' parameter of audit must be"),
        ({"associations": "yes"}, "The 'associations' parameter of audit must be a bool."),
        ({"context": ["g"]}, "the context column 'g' is also the label"),
        ({"context": ["x", "x"]}, "The 'context' parameter of audit must be distinct"),
        ({"context": [1]}, "The 'context' parameter of audit must be a column name"),
        ({"split_key": 3}, "The 'split_key' parameter of audit must be a column name"),
        ({"context": ["x"], "split_key": "x"}, "the context column 'x' is also"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], fragment: str) -> None:
    df = pd.DataFrame({"y": [1, 0] * 20, "p": [1, 0] * 20, "g": ["a", "b"] * 20})
    with pytest.raises(InvalidParameterError, match=re.escape(fragment)):
        audit(df, label="y", prediction="p", sensitive="g", **kwargs)  # type: ignore[arg-type]


def test_a_row_key_splits_whatever_the_row_order(slices: pd.DataFrame) -> None:
    """With split_key the section does not depend on the order of the rows."""
    data = slices.assign(row_id=np.arange(len(slices)))
    kwargs = {"label": "y_true", "prediction": "y_pred", "sensitive": "group"}
    keyed = audit(data, **kwargs, split_key="row_id", mitigation=False)  # type: ignore[arg-type]
    shuffled = data.sample(frac=1.0, random_state=1)
    again = audit(shuffled, **kwargs, split_key="row_id", mitigation=False)  # type: ignore[arg-type]
    assert keyed.associations is not None and again.associations is not None
    one, two = keyed.associations.to_dict(), again.associations.to_dict()
    one.pop("context_fingerprint"), two.pop("context_fingerprint")  # hashes the rows in order
    assert one == two
    assert "row_id" not in keyed.associations.context  # the key is no context
    errors = keyed.associations.error_profile
    assert errors is not None and PLANTED_SLICE in errors.findings.context
    assert keyed.parameters.split_key == "row_id" and keyed.parameters.context is None
    # Without the key a shuffle draws another random split.
    plain = audit(shuffled, **kwargs, mitigation=False)  # type: ignore[arg-type]
    assert plain.associations is not None
    assert plain.associations.to_dict()["error_profile"] != one["error_profile"]


def test_named_contexts_are_the_only_ones(slices: pd.DataFrame) -> None:
    res = audit(
        slices,
        label="y_true",
        prediction="y_pred",
        sensitive="group",
        context=["f1", "f4"],
        mitigation=False,
    )
    section = res.associations
    assert section is not None and section.context == ("f1", "f4") and section.left_out == ()
    assert section.error_profile is not None
    assert PLANTED_SLICE in section.error_profile.findings.context
    assert res.parameters.context == ("f1", "f4")
    with pytest.raises(DataValidationError, match="context \\(1\\)"):  # a missing column, named
        audit(slices, label="y_true", prediction="y_pred", sensitive="group", context=["nope"])
