"""Run the pre-deployment fairness checklist on a table of predictions."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from seawall._io import file_sha256
from seawall._validation import (
    check_choice,
    check_real,
    check_seed,
    param_error,
    to_binary,
    to_float,
)
from seawall.audit._associations import (
    AuditAssociations,
    check_context,
    choose_context,
    run_associations,
)
from seawall.audit._findings import describe_findings, four_fifths
from seawall.audit._fingerprint import data_fingerprint, environment_versions
from seawall.audit._gates import Gate, GateResult, evaluate_gates, parse_gate
from seawall.audit._mitigation import AuditMitigation, run_mitigation
from seawall.audit._result import AuditParameters, AuditResult
from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.metrics import (
    DISPARITY_NAMES,
    REGRESSION_METRICS,
    SCORE_METRICS,
    GroupMetrics,
    group_metrics,
    regression_metrics,
)

__all__ = ["audit", "check_gates", "gate_names", "label_codes"]


def gate_names(task: str, with_score: bool) -> list[str]:
    """The quantities a gate may name for a task.

    Parameters
    ----------
    task : {"classification", "regression"}
        The task.
    with_score : bool
        Whether a score column is audited (adds AUC, Brier and ECE gaps).

    Returns
    -------
    list of str
        The names.

    Examples
    --------
    >>> "disparate_impact" in gate_names("classification", False)
    True
    """

    def wanted(metric: str) -> bool:
        if task == "regression":
            return metric in REGRESSION_METRICS
        if metric in SCORE_METRICS:
            return with_score
        return metric not in REGRESSION_METRICS

    return sorted(name for (metric, _), name in DISPARITY_NAMES.items() if wanted(metric))


def _as_pandas(data: object) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    to_pandas = getattr(data, "to_pandas", None)
    if callable(to_pandas):
        frame = to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise DataValidationError(
        f"data must be a pandas or polars DataFrame or a pyarrow Table; got {type(data).__name__}."
    )


def _check_columns(frame: pd.DataFrame, wanted: Mapping[str, str]) -> None:
    available = [str(c) for c in frame.columns]
    for role, col in wanted.items():
        if col not in frame.columns:
            close = difflib.get_close_matches(col, available, n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise DataValidationError(
                f"the {role} column {col!r} is not in the data.{hint} Available columns: "
                f"{available}."
            )


def label_codes(
    values: pd.Series, name: str, positive_label: str | None, *, require_positive: bool = True
) -> np.ndarray[Any, Any]:
    """The label column as 0/1: binary values, or ``positive_label`` against the rest.

    ``require_positive=False`` skips the check that ``positive_label`` occurs
    (one partition of a larger table may lack it; the caller checks the total).
    """
    if positive_label is None:
        return to_binary(values, f"the label column {name!r}")
    missing = values.isna()
    if missing.any():
        first = int(np.flatnonzero(missing.to_numpy())[0])
        raise DataValidationError(
            f"the label column {name!r} has {int(missing.sum())} missing value(s), the first at "
            f"row {first}; drop or fill those rows first."
        )
    text = values.astype(str).str.strip()
    if require_positive and not (text == positive_label).any():
        seen = sorted(text.unique().tolist())[:10]
        raise DataValidationError(
            f"positive_label={positive_label!r} does not occur in the label column {name!r}; "
            f"its values are {seen}."
        )
    return (text == positive_label).to_numpy().astype(np.int8)


def check_gates(
    parsed: Sequence[Gate],
    metrics: GroupMetrics,
    run: Callable[[float, int], GroupMetrics],
    level: float,
    n_bootstrap: int,
) -> tuple[GateResult, ...]:
    """Judge the gates on the worst-case gaps at a Bonferroni-corrected level.

    Parameters
    ----------
    parsed : sequence of Gate
        The gates.
    metrics : GroupMetrics
        The metrics at ``level``.
    run : callable
        ``run(level, n_bootstrap)`` recomputes the metrics at another level.
    level : float
        The audit's confidence level.
    n_bootstrap : int
        Bootstrap replicates, drawn again only for gates on score metrics.

    Returns
    -------
    tuple of GateResult
        One per gate.
    """
    n_checks = len(parsed) * len({g for g in metrics.summary.grouping})
    corrected = metrics
    if n_checks > 1:
        needs_boot = any(
            g.name in {"auc_difference", "brier_difference", "ece_difference"} for g in parsed
        )
        corrected = run(1.0 - (1.0 - level) / n_checks, n_bootstrap if needs_boot else 0)
    return evaluate_gates(parsed, corrected)


def audit(
    data: object,
    *,
    label: str,
    prediction: str,
    sensitive: str | Sequence[str],
    score: str | None = None,
    positive_label: str | None = None,
    reference: Mapping[str, str] | None = None,
    task: Literal["auto", "classification", "regression"] = "auto",
    min_group_size: int = 30,
    gates: Sequence[str] = (),
    confidence_level: float = 0.95,
    correction: Literal["holm", "bh", "none"] = "holm",
    n_bootstrap: int = 1000,
    random_state: int = 0,
    associations: bool = True,
    association_depth: int = 2,
    context: Sequence[str] | None = None,
    split_key: str | None = None,
    mitigation: bool = True,
    source: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """Audit a model's decisions for group fairness, with gates for a deployment pipeline.

    Runs :func:`seawall.metrics.group_metrics` (or ``regression_metrics``) on the
    named columns, checks the gates on the worst-case gaps at a
    Bonferroni-corrected level, applies the four-fifths rule, writes
    plain-language findings and records what reproduces the audit (parameters,
    seed, versions, a SHA-256 fingerprint of the data).

    With ``associations`` it also searches the data's other columns for
    *contexts* (conjunctions of up to ``association_depth`` conditions) where
    the model errs more than elsewhere (weak slices), where one group's error
    differs from the rest of the context (error disparities), or where one
    group's output does (:func:`seawall.associations.profile_errors` and
    :func:`~seawall.associations.find_associations`). Columns holding lists,
    identifiers and constant columns are left out with a reason; data too small
    to split skip the section with a reason. The section never fails the audit:
    gates look only at the group metrics.

    Parameters
    ----------
    data : pandas or polars DataFrame, or pyarrow Table
        One row per decision.
    label : str
        The true outcome column (0/1, bool, or any two values with ``positive_label``;
        numbers for regression).
    prediction : str
        The model's decision column (0/1) or, for regression, its prediction.
    sensitive : str or sequence of str
        The sensitive feature column(s); with several, their intersection is audited too.
    score : str, optional
        The model's score or probability column (adds AUC, Brier score, calibration).
    positive_label : str, optional
        The label value that counts as positive, when labels are not 0/1.
    reference : mapping of str to str, optional
        Reference group per sensitive feature; default the largest group.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` is classification when the label has at most two values.
    min_group_size : int, default=30
        Smaller groups are shown but not judged.
    gates : sequence of str, default=()
        Failing conditions such as ``"disparate_impact<0.8"`` (see :func:`gate_names`).
    confidence_level : float, default=0.95
        Level of every interval.
    correction : {"holm", "bh", "none"}, default="holm"
        Multiplicity correction of the p-values.
    n_bootstrap : int, default=1000
        Bootstrap replicates for score metrics.
    random_state : int, default=0
        Seed of the bootstrap and of the associations' search/confirm split.
    associations : bool, default=True
        Search the columns other than label, prediction, score and sensitive
        ones for weak slices, error disparities and output associations
        (``AuditResult.associations``; None when False).
    association_depth : int, default=2
        The most conditions in a context (1 to 4). Two keeps the search to
        pairs of columns, fast on wide data (the number of contexts grows with
        the number of columns to this power) and findings easy to read;
        ``seawall investigate`` searches deeper.
    context : sequence of str, optional
        The columns that define the associations' contexts; default every
        column besides the audited ones that can (see
        :func:`~seawall.audit._associations.choose_context`).
    split_key : str, optional
        A row-key column: the associations' rows are split into search and
        confirmation halves by a seeded hash of the key (as
        ``seawall.associations.find_associations(split_key=...)``), so the split
        does not depend on the row order and a Dask audit of the same rows
        (:func:`seawall.distributed.audit`) finds the same. Default: a seeded
        random split of the rows. Never a context.
    mitigation : bool, default=True
        For classification, say what remedies would do: fit each on one half of
        the rows and judge it on the other (``AuditResult.mitigation``, see
        :mod:`seawall.mitigation`): threshold post-processing of the scores
        (with ``score``), and reweighing and disparate-impact repair on a
        stand-in model retrained on the other columns. None when False or for
        regression; no gate looks at it.
    source : str or Path, optional
        The file the data was read from; its SHA-256 is recorded.
    progress : callable, optional
        Called with a short description before each step.

    Returns
    -------
    AuditResult
        Metrics, gate outcomes, findings and the reproduction record.

    Raises
    ------
    DataValidationError
        On missing columns (the message lists the available ones), bad labels,
        misaligned or degenerate groups.
    InvalidParameterError
        On a bad parameter or gate.

    See Also
    --------
    seawall.metrics.group_metrics : The metrics behind the audit.
    seawall.associations.profile_errors : The weak slices and error disparities.

    References
    ----------
    .. [1] U.S. EEOC, Uniform Guidelines on Employee Selection Procedures,
       29 CFR 1607.4(D) (1978) (the four-fifths rule).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1, 0, 1, 0] * 20, "p": [1, 0, 0, 0] * 20,
    ...                    "g": ["a", "a", "b", "b"] * 20})
    >>> res = audit(df, label="y", prediction="p", sensitive="g", gates=["disparate_impact<0.8"])
    >>> res.passed, res.four_fifths[0].verdict
    (False, 'fails')
    >>> res.associations.skipped  # no column besides label, prediction and sensitive
    'the data have no column besides the label, prediction, score and sensitive ones'
    """
    caller = "audit"
    step = progress or (lambda _msg: None)
    sens = (sensitive,) if isinstance(sensitive, str) else tuple(sensitive)
    if not sens:
        raise InvalidParameterError(
            "The 'sensitive' parameter of audit must name at least one column. Got () instead."
        )
    task_ = check_choice(task, "task", caller, ("auto", "classification", "regression"))
    level = check_real(
        confidence_level,
        "confidence_level",
        caller,
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )
    n_boot = int(check_real(n_bootstrap, "n_bootstrap", caller, low=0, integer=True))
    seed = check_seed(random_state, "random_state", caller)
    if not isinstance(associations, bool | np.bool_):
        raise param_error("associations", caller, "a bool", associations)
    if not isinstance(mitigation, bool | np.bool_):
        raise param_error("mitigation", caller, "a bool", mitigation)
    depth = int(
        check_real(association_depth, "association_depth", caller, low=1, high=4, integer=True)
    )
    step("checking the data")
    frame = _as_pandas(data)
    roles = {"label": label, "prediction": prediction}
    if score is not None:
        roles["score"] = score
    roles.update({f"sensitive ({i + 1})": s for i, s in enumerate(sens)})
    used = [label, prediction, *([score] if score else []), *sens]
    contexts = check_context(context, split_key, used, caller)
    if split_key is not None:
        roles["split key"] = split_key
    roles.update({f"context ({i + 1})": c for i, c in enumerate(contexts or ())})
    _check_columns(frame, roles)
    if task_ == "auto":
        n_values = frame[label].nunique(dropna=True)
        task_ = "classification" if (n_values <= 2 or positive_label is not None) else "regression"
    if task_ == "regression" and score is not None:
        raise InvalidParameterError(
            "a score column only applies to classification; drop score= or set "
            "task='classification'."
        )
    known = gate_names(task_, score is not None)
    parsed: list[Gate] = [parse_gate(g, known) for g in gates]
    sensitive_frame = frame[list(sens)]
    common: dict[str, Any] = {
        "sensitive_features": sensitive_frame,
        "reference": dict(reference) if reference else None,
        "min_group_size": min_group_size,
        "correction": correction,
        "random_state": seed,
    }

    # Validated once: the group metrics and the associations see the same arrays.
    y_true: np.ndarray[Any, Any]
    y_pred: np.ndarray[Any, Any]
    if task_ == "regression":
        y_true = to_float(frame[label], f"the label column {label!r}")
        y_pred = to_float(frame[prediction], f"the prediction column {prediction!r}")
    else:
        y_true = label_codes(frame[label], label, positive_label)
        y_pred = to_binary(frame[prediction], f"the prediction column {prediction!r}")

    def run(at_level: float, boot: int) -> GroupMetrics:
        if task_ == "regression":
            return regression_metrics(y_true, y_pred, confidence_level=at_level, **common)
        return group_metrics(
            y_true,
            y_pred,
            y_score=frame[score] if score is not None else None,
            confidence_level=at_level,
            n_bootstrap=boot,
            **common,
        )

    step("computing group metrics")
    metrics = run(level, n_boot)
    gate_results: tuple[Any, ...] = ()
    if parsed:
        step("checking gates")
        gate_results = check_gates(parsed, metrics, run, level, n_boot)
    section: AuditAssociations | None = None
    keyed = used if split_key is None else [*used, split_key]
    if associations:
        step("searching the other columns for weak slices and associations")
        section = run_associations(
            frame,
            keyed,
            y_true,
            y_pred,
            sensitive_frame,
            task="regression" if task_ == "regression" else "classification",
            max_depth=depth,
            random_state=seed,
            context=contexts,
            split_key=None if split_key is None else frame[split_key],
        )
    remedies: AuditMitigation | None = None
    if mitigation and task_ == "classification":
        step("trying remedies: post-processing, reweighing, repair")
        remedies = run_mitigation(
            frame,
            choose_context(frame, keyed)[0],
            y_true,
            y_pred,
            None if score is None else to_float(frame[score], f"the score column {score!r}"),
            frame[sens[0]],
            confidence_level=level,
            random_state=seed,
        )
    step("fingerprinting the data")
    versions = environment_versions()
    return AuditResult(
        metrics=metrics,
        gates=gate_results,
        four_fifths=four_fifths(metrics) if task_ == "classification" else (),
        findings=describe_findings(metrics),
        parameters=AuditParameters(
            label=label,
            prediction=prediction,
            score=score,
            sensitive=sens,
            positive_label=positive_label,
            reference=tuple((str(k), str(v)) for k, v in (reference or {}).items()),
            task=task_,
            min_group_size=metrics.min_group_size,
            confidence_level=level,
            correction=metrics.correction,
            n_bootstrap=metrics.n_bootstrap,
            random_state=seed,
            gates=tuple(str(g) for g in parsed),
            associations=bool(associations),
            association_depth=depth,
            mitigation=bool(mitigation),
            context=contexts,
            split_key=split_key,
        ),
        fingerprint=data_fingerprint(frame, used),
        source=str(source) if source is not None else None,
        source_sha256=file_sha256(source) if source is not None else None,
        n_rows=int(frame.shape[0]),
        versions=tuple(versions.items()),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        associations=section,
        mitigation=remedies,
    )
