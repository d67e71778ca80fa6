"""The audit's "what mitigation would do" section.

When the audit finds a disparity, the engineer asks what a remedy would cost.
This section answers on the audited data itself, split in two (seeded,
stratified by group and label): each remedy is fitted on one half and judged on
the other, with the disparate impact, the gap in true positive rates and the
accuracy, each with its interval:

* **threshold post-processing** of the model's own scores (with a score
  column): :class:`~seawall.mitigation.ThresholdPostprocessor` under equal
  opportunity and under demographic parity, against the model's decisions;
* **reweighing** and **disparate-impact repair** change the training data, so
  their effect shows only on a *retrained* model. The audit has the data but
  not the model, so it trains a stand-in (a histogram gradient-boosting
  classifier on the data's other columns, the same for every remedy) with and
  without each remedy; the repair is tried at several repair levels, which
  gives the trade-off curve between fairness and accuracy. The stand-in's
  numbers say what retraining would do to *a* model of this data, not to the
  audited one.

The section never fails the audit and no gate looks at it; data without
usable columns or too small to split skip the parts that need them, with a
reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.exceptions import SeawallError
from seawall.metrics import Estimate, group_metrics
from seawall.metrics._estimates import accuracy_estimate, summary_estimate

__all__ = ["AuditMitigation", "MitigationOutcome", "run_mitigation"]

#: The repair levels of the trade-off curve.
REPAIR_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: The stand-in model trains on at most this many rows (a seeded sample).
MAX_TRAIN_ROWS = 200_000
#: Fewer rows than this in either half, or in a group of it, skip the section.
MIN_ROWS = 200


@dataclass(frozen=True, slots=True)
class MitigationOutcome:
    """One model's decisions on the evaluation half.

    Attributes
    ----------
    remedy : str
        ``"none"``, ``"threshold"``, ``"reweighing"`` or ``"repair"``.
    setting : str
        The remedy's setting, e.g. ``"equal_opportunity"`` or ``"repair_level=0.5"``.
    model : str
        ``"audited"`` (the model's own decisions or scores) or ``"stand-in"``.
    accuracy : Estimate
        Accuracy with its Wilson interval.
    disparate_impact : Estimate
        The lowest group's selection rate over the highest's, with its interval.
    tpr_gap : Estimate
        The largest difference in true positive rates between groups, with its interval.
    """

    remedy: str
    setting: str
    model: str
    accuracy: Estimate
    disparate_impact: Estimate
    tpr_gap: Estimate

    def to_dict(self) -> dict[str, Any]:
        """The outcome as JSON-safe primitives."""
        return {
            "remedy": self.remedy,
            "setting": self.setting,
            "model": self.model,
            **{
                name: _estimate_dict(getattr(self, name))
                for name in ("accuracy", "disparate_impact", "tpr_gap")
            },
        }


def _estimate_dict(e: Estimate) -> dict[str, float | None]:
    return {
        k: (float(v) if np.isfinite(v) else None)
        for k, v in (("value", e.value), ("lower", e.lower), ("upper", e.upper))
    }


@dataclass(frozen=True, slots=True)
class AuditMitigation:
    """The "what mitigation would do" section of an audit.

    Attributes
    ----------
    sensitive : str
        The sensitive feature the remedies equalise (the audit's first).
    features : tuple of str
        The columns the stand-in model is trained on.
    n_fit, n_eval : int
        Rows of the half the remedies are fitted on and of the half that judges them.
    outcomes : tuple of MitigationOutcome
        Before and after each remedy: the audited model and its post-processed
        decisions (with a score column), the stand-in model, reweighed, and
        repaired at each level of the trade-off curve.
    skipped : tuple of (str, str)
        Remedies not tried, each with the reason.
    confidence_level : float
        The level of every interval.
    random_state : int
        The seed of the split, the stand-in and the randomised decisions.
    """

    sensitive: str
    features: tuple[str, ...]
    n_fit: int
    n_eval: int
    outcomes: tuple[MitigationOutcome, ...]
    skipped: tuple[tuple[str, str], ...]
    confidence_level: float
    random_state: int

    def to_dict(self) -> dict[str, Any]:
        """The section as JSON-safe primitives with stable keys."""
        return {
            "sensitive": self.sensitive,
            "features": list(self.features),
            "n_fit": self.n_fit,
            "n_eval": self.n_eval,
            "confidence_level": self.confidence_level,
            "random_state": self.random_state,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "skipped": [{"remedy": r, "reason": why} for r, why in self.skipped],
        }


def evaluate(
    remedy: str,
    setting: str,
    model: str,
    y_true: npt.NDArray[Any],
    y_pred: npt.NDArray[Any],
    sensitive: npt.NDArray[Any],
    confidence_level: float,
) -> MitigationOutcome:
    """Accuracy, disparate impact and TPR gap of decisions, with intervals.

    The fairness figures come from :func:`seawall.metrics.group_metrics` (the
    summary's gap between the lowest and the highest judged group); the
    accuracy has a Wilson interval.

    Examples
    --------
    >>> y = np.array([1, 0, 1, 0] * 50)
    >>> p = np.array([1, 0, 0, 0] * 50)
    >>> s = np.array(["a", "a", "b", "b"] * 50)
    >>> o = evaluate("none", "", "audited", y, p, s, 0.95)
    >>> o.accuracy.value, o.disparate_impact.value, o.tpr_gap.value
    (0.75, 0.0, 1.0)
    """
    metrics = group_metrics(
        y_true,
        y_pred,
        sensitive_features=sensitive,
        n_bootstrap=0,
        confidence_level=confidence_level,
        min_group_size=1,
    )
    return MitigationOutcome(
        remedy,
        setting,
        model,
        accuracy_estimate(y_true, y_pred, confidence_level),
        summary_estimate(metrics, "disparate_impact")[0],
        summary_estimate(metrics, "equal_opportunity_difference")[0],
    )


def _stand_in_features(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The stand-in's inputs: numbers as floats, everything else as categories."""
    out: dict[str, pd.Series] = {}
    # Names are as the audit writes them (text); a column label may be a number.
    label = {str(c): c for c in frame.columns}
    for c in columns:
        col = frame[label[c]]
        if col.dtype.kind in "biuf":
            out[c] = col.astype(np.float64)
        else:
            out[c] = col.astype("string").astype("category")
    return pd.DataFrame(out, index=frame.index)


def run_mitigation(
    frame: pd.DataFrame,
    features: Sequence[str],
    y_true: npt.NDArray[Any],
    y_pred: npt.NDArray[Any],
    scores: npt.NDArray[np.float64] | None,
    sensitive: pd.Series,
    *,
    confidence_level: float = 0.95,
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
) -> AuditMitigation:
    """Fit each remedy on one half of the audited data and judge it on the other.

    Parameters
    ----------
    frame : pandas.DataFrame
        The audited data.
    features : sequence of str
        The columns a stand-in model may use (not the label, decision, score or
        sensitive columns).
    y_true, y_pred : ndarray of shape (n,)
        The validated 0/1 labels and decisions.
    scores : ndarray of shape (n,) or None
        The model's scores, if the audit has them.
    sensitive : pandas.Series
        The sensitive feature the remedies equalise.
    confidence_level : float, default=0.95
        The level of every interval.
    random_state : int, default=0
        The seed of the split, the stand-in and the randomised decisions.
    progress : callable, optional
        Called with a short description before each model is trained.

    Returns
    -------
    AuditMitigation
        The section.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    from seawall.mitigation import (
        DisparateImpactRemover,
        ThresholdPostprocessor,
        reweighing_weights,
    )

    step = progress or (lambda _: None)
    level = confidence_level
    s = sensitive.astype("string").fillna("<missing>").to_numpy(dtype=object)
    strata = pd.Series(s).astype(str) + "|" + pd.Series(y_true).astype(str)
    # Rows of a group x label cell too small to split all go to the fit half,
    # so every group judged was seen by the remedies.
    splittable = (strata.map(strata.value_counts()) >= 2).to_numpy()
    rows = np.flatnonzero(splittable)
    if rows.size < 2 * MIN_ROWS or np.unique(y_true).size < 2:
        why = (
            f"{rows.size:,} rows can be split (at least {2 * MIN_ROWS:,} are needed to fit "
            f"remedies on one half and judge them on the other)"
            if rows.size < 2 * MIN_ROWS
            else "the label has a single value"
        )
        return AuditMitigation(
            str(sensitive.name), tuple(features), 0, 0, (), (("all", why),), level, random_state
        )
    fit_part, eval_idx = train_test_split(
        rows, test_size=0.5, random_state=random_state, stratify=strata.to_numpy()[rows]
    )
    fit_idx = np.sort(np.concatenate([fit_part, np.flatnonzero(~splittable)]))
    eval_idx = np.sort(eval_idx)
    s_fit, s_eval = s[fit_idx], s[eval_idx]
    y_fit, y_eval = y_true[fit_idx], y_true[eval_idx]

    def judged(remedy: str, setting: str, model: str, pred: npt.NDArray[Any]) -> MitigationOutcome:
        return evaluate(remedy, setting, model, y_eval, pred, s_eval, level)

    outcomes = [judged("none", "", "audited", y_pred[eval_idx])]
    skipped: list[tuple[str, str]] = []
    if scores is None:
        skipped.append(("threshold", "the audit has no score column to post-process"))
    else:
        for constraint in ("equal_opportunity", "demographic_parity"):
            step(f"post-processing the scores ({constraint.replace('_', ' ')})")
            try:
                post = ThresholdPostprocessor(constraint=constraint).fit(
                    scores[fit_idx], y_fit, sensitive_features=s_fit
                )
            except SeawallError as e:
                # E.g. a group with one label in the fit half: its TPR is undefined.
                skipped.append(("threshold", f"{constraint.replace('_', ' ')}: {e}"))
                continue
            pred = post.predict(
                scores[eval_idx], sensitive_features=s_eval, random_state=random_state
            )
            outcomes.append(judged("threshold", constraint, "audited", pred))

    if not features:
        skipped.append(("reweighing", "no other column to train a stand-in model on"))
        skipped.append(("repair", "no other column to train a stand-in model on"))
    else:
        X = _stand_in_features(frame, features)
        X_fit, X_eval = X.iloc[fit_idx], X.iloc[eval_idx]
        rng = np.random.default_rng(random_state)
        train = (
            np.sort(rng.choice(fit_idx.size, MAX_TRAIN_ROWS, replace=False))
            if fit_idx.size > MAX_TRAIN_ROWS
            else np.arange(fit_idx.size)
        )

        def stand_in(Xf: pd.DataFrame, weight: npt.NDArray[np.float64] | None = None) -> Any:
            model = HistGradientBoostingClassifier(
                categorical_features="from_dtype", random_state=random_state
            )
            return model.fit(
                Xf.iloc[train],
                y_fit[train],
                sample_weight=None if weight is None else weight[train],
            )

        step("training the stand-in model")
        outcomes.append(judged("none", "", "stand-in", stand_in(X_fit).predict(X_eval)))
        step("training the stand-in model on reweighed rows")
        weights = reweighing_weights(y_fit, s_fit)
        outcomes.append(
            judged("reweighing", "", "stand-in", stand_in(X_fit, weights).predict(X_eval))
        )
        for repair_level in REPAIR_LEVELS[1:]:
            step(f"training the stand-in model on features repaired at level {repair_level}")
            remover = DisparateImpactRemover(
                repair_level=repair_level, categorical="proportions", random_state=random_state
            )
            remover.set_output(transform="pandas")
            try:
                remover.fit(X_fit, sensitive_features=s_fit)
            except SeawallError as e:
                # E.g. a group whose values of a feature are all missing.
                skipped.append(("repair", str(e)))
                break
            R_fit = remover.transform(X_fit, sensitive_features=s_fit)
            R_eval = remover.transform(X_eval, sensitive_features=s_eval)
            model = stand_in(_stand_in_features(R_fit, features))
            pred = model.predict(_stand_in_features(R_eval, features))
            outcomes.append(judged("repair", f"repair_level={repair_level:g}", "stand-in", pred))
    return AuditMitigation(
        str(sensitive.name),
        tuple(features),
        int(fit_idx.size),
        int(eval_idx.size),
        tuple(outcomes),
        tuple(skipped),
        level,
        random_state,
    )
