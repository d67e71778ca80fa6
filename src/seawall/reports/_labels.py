"""The words a report uses for metrics, disparities, methods and corrections."""

from __future__ import annotations

__all__ = [
    "CORRECTIONS",
    "DISPARITY_CHART",
    "METRIC_LABELS",
    "RATE_CHART",
    "correction_phrase",
    "disparity_label",
    "interval_methods",
    "metric_label",
]

#: Short names of per-group metrics (chart titles, table headers).
METRIC_LABELS: dict[str, str] = {
    "base_rate": "Base rate",
    "selection_rate": "Selection rate",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "tnr": "True negative rate",
    "fnr": "False negative rate",
    "precision": "Precision",
    "npv": "Negative predictive value",
    "accuracy": "Accuracy",
    "error_rate": "Error rate",
    "equalized_odds": "Equalized odds",
    "auc": "ROC AUC",
    "brier": "Brier score",
    "ece": "Calibration error (RMS ECE, debiased)",
    "mean_target": "Mean target",
    "mean_prediction": "Mean prediction",
    "mean_error": "Mean error (bias)",
    "mae": "Mean absolute error",
    "rmse": "RMSE",
}

#: The per-group metrics charted for each task, in panel order.
RATE_CHART: dict[str, tuple[str, ...]] = {
    "classification": ("selection_rate", "tpr", "fpr", "precision", "error_rate"),
    "regression": ("mae", "rmse", "mean_prediction"),
}

#: The disparities charted for each task (by common name), in panel order.
DISPARITY_CHART: dict[str, tuple[str, ...]] = {
    "classification": ("disparate_impact", "equal_opportunity_ratio", "fpr_ratio"),
    "regression": ("mae_difference", "rmse_difference", "mean_prediction_difference"),
}

_DISPARITY_LABELS: dict[str, str] = {
    "disparate_impact": "Disparate impact (selection-rate ratio)",
    "statistical_parity_difference": "Statistical parity difference",
    "equal_opportunity_ratio": "Equal opportunity ratio (TPR ratio)",
    "equal_opportunity_difference": "Equal opportunity difference (TPR)",
    "fpr_ratio": "FPR ratio",
    "equalized_odds_difference": "Equalized odds difference",
}

#: How each multiplicity correction is described.
CORRECTIONS: dict[str, str] = {
    "holm": "Holm-adjusted",
    "bh": "Benjamini–Hochberg-adjusted (false discovery rate)",
    "none": "not adjusted for multiple comparisons",
}

_METHODS: dict[str, str] = {
    "wilson": "Wilson score intervals",
    "bootstrap": "bootstrap intervals (BCa for AUC, studentized for Brier score and debiased ECE)",
    "t": "Student-t intervals",
}


def metric_label(metric: str) -> str:
    """The display name of a per-group metric.

    Parameters
    ----------
    metric : str
        The metric's key, e.g. ``"tpr"``.

    Returns
    -------
    str
        E.g. ``"True positive rate"``; unknown keys are returned as they are.

    Examples
    --------
    >>> metric_label("tpr"), metric_label("custom")
    ('True positive rate', 'custom')
    """
    return METRIC_LABELS.get(metric, metric)


def disparity_label(name: str) -> str:
    """The display name of a disparity.

    Parameters
    ----------
    name : str
        The disparity's common name, e.g. ``"fpr_ratio"``.

    Returns
    -------
    str
        A readable name; otherwise the metric's label with ``difference`` or ``ratio``.

    Examples
    --------
    >>> disparity_label("disparate_impact")
    'Disparate impact (selection-rate ratio)'
    >>> disparity_label("mae_difference")
    'Mean absolute error difference'
    """
    if name in _DISPARITY_LABELS:
        return _DISPARITY_LABELS[name]
    for kind in ("difference", "ratio"):
        suffix = f"_{kind}"
        if name.endswith(suffix):
            return f"{metric_label(name[: -len(suffix)])} {kind}"
    return name


def correction_phrase(correction: str) -> str:
    """How p-values were adjusted, as a phrase.

    Parameters
    ----------
    correction : str
        ``"holm"``, ``"bh"`` or ``"none"``.

    Returns
    -------
    str
        E.g. ``"Holm-adjusted"``.

    Examples
    --------
    >>> correction_phrase("bh")
    'Benjamini–Hochberg-adjusted (false discovery rate)'
    """
    return CORRECTIONS.get(correction, f"adjusted ({correction})")


def interval_methods(methods: list[str], n_bootstrap: int) -> str:
    """Describe the interval methods used in a metric table.

    Parameters
    ----------
    methods : list of str
        The table's ``method`` column.
    n_bootstrap : int
        The number of bootstrap replicates.

    Returns
    -------
    str
        E.g. ``"Wilson score intervals for rates and bootstrap intervals (1000
        replicates; ...)"``.

    Examples
    --------
    >>> interval_methods(["wilson", "wilson"], 0)
    'Wilson score intervals'
    >>> interval_methods(["wilson", "bootstrap"], 200)
    'Wilson score intervals for rates and bootstrap intervals (200 replicates; BCa for AUC, studentized for Brier score and debiased ECE)'
    """  # noqa: E501
    seen = list(dict.fromkeys(methods))
    if seen == ["wilson", "bootstrap"]:
        return (
            f"Wilson score intervals for rates and bootstrap intervals ({n_bootstrap} "
            f"replicates; BCa for AUC, studentized for Brier score and debiased ECE)"
        )
    parts = []
    for m in seen:
        text = _METHODS.get(m, f"{m} intervals")
        if m == "bootstrap":
            text += f" ({n_bootstrap} replicates)"
        parts.append(text)
    return " and ".join(parts) if parts else "intervals"
