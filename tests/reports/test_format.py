"""Number formatting and the reproduction command."""

from __future__ import annotations

import shlex

import pytest

from seawall.audit import AuditParameters, AuditResult
from seawall.reports._command import audit_command
from seawall.reports._format import fmt_level, fmt_number, fmt_p, interval


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.44871, "0.449"),
        (-0.2641, "-0.264"),
        (0.0, "0.000"),
        (float("nan"), "—"),
        (None, "—"),
        (123.456, "123.5"),
        (12345.6, "12,346"),
        (float("inf"), "∞"),
    ],
)
def test_fmt_number(value: float | None, text: str) -> None:
    assert fmt_number(value) == text


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "< 0.001"),
        (0.00099, "< 0.001"),
        (0.001, "0.001"),
        (0.0412, "0.041"),
        (1.0, "1.000"),
        (float("nan"), "—"),
        (None, "—"),
    ],
)
def test_fmt_p(p: float | None, text: str) -> None:
    assert fmt_p(p) == text


def test_interval_text() -> None:
    assert str(interval(0.4487, 0.4271, 0.4718)) == "0.449 [0.427, 0.472]"
    assert str(interval(0.5, float("nan"), float("nan"))) == "0.500"
    assert str(interval(0.5, 0.1, float("nan"))) == "0.500 [0.100, —]"
    assert str(interval(float("nan"), float("nan"), float("nan"))) == "—"


@pytest.mark.parametrize(
    ("level", "text"), [(0.95, "95%"), (0.99, "99%"), (0.9916667, "99.2%"), (0.9, "90%")]
)
def test_fmt_level(level: float, text: str) -> None:
    assert fmt_level(level) == text


def _params(**changes: object) -> AuditParameters:
    base = AuditParameters(
        label="repaid",
        prediction="approved",
        score="p score",
        sensitive=("sex", "race"),
        positive_label="yes",
        reference=(("sex", "male"), ("race", "white")),
        task="classification",
        min_group_size=20,
        confidence_level=0.9,
        correction="bh",
        n_bootstrap=500,
        random_state=7,
        gates=("disparate_impact<0.8", "fpr_ratio>1.25"),
    )
    return AuditParameters(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[arg-type]


def test_command_names_every_parameter() -> None:
    args = shlex.split(audit_command(_params(), "data/loans 2024.csv"))
    assert args == [
        "seawall", "audit", "data/loans 2024.csv",
        "--label", "repaid", "--prediction", "approved", "--score", "p score",
        "--sensitive", "sex", "--sensitive", "race",
        "--reference", "sex=male", "--reference", "race=white",
        "--positive-label", "yes", "--task", "classification", "--min-group-size", "20",
        "--fail-on", "disparate_impact<0.8", "--fail-on", "fpr_ratio>1.25",
        "--confidence-level", "0.9", "--correction", "bh", "--n-bootstrap", "500",
        "--seed", "7", "--associations", "--association-depth", "2", "--out", "seawall-report",
    ]  # fmt: skip
    off = shlex.split(audit_command(_params(associations=False), "x.csv"))
    assert off[-3:] == ["--no-associations", "--out", "seawall-report"]
    assert "--association-depth" not in off


def test_multiline_command_parses_the_same() -> None:
    params = _params()
    one = shlex.split(audit_command(params, "x.csv"))
    many = audit_command(params, "x.csv", multiline=True)
    assert many.count("\\\n") == len(many.splitlines()) - 1
    assert shlex.split(many.replace("\\\n", " ")) == one


def test_command_from_an_audit(classification_audit: AuditResult) -> None:
    args = shlex.split(audit_command(classification_audit.parameters, None))
    assert args[2] == "DATA"
    assert args.count("--sensitive") == 2 and args.count("--fail-on") == 2
    assert "--positive-label" not in args and "--reference" not in args
    assert args[args.index("--seed") + 1] == "3"
    assert args[args.index("--n-bootstrap") + 1] == "50"
