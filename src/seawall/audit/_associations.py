"""The audit's associations section: weak slices, error disparities and output associations.

The audit compares whole groups; this section searches the data's other
columns for *contexts* (conjunctions of conditions such as ``region = east and
age = [18, 30)``) where the model errs more than elsewhere, where one group's
error differs from the rest of the context, or where one group's output does.
It reuses :func:`seawall.associations.profile_errors` and
:func:`~seawall.associations.find_associations` on the audit's own validated
arrays. Columns that cannot define a context (lists, identifiers, constants)
are left out with a reason, and data too small to split skip the section with
a reason; neither fails the audit, and no gate looks at this section.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from seawall._validation import param_error
from seawall.associations import Investigation, find_associations, profile_errors
from seawall.audit._fingerprint import data_fingerprint
from seawall.exceptions import InsufficientDataError, InvalidParameterError
from seawall.metrics._table import frozen_array

__all__ = [
    "AuditAssociations",
    "assemble",
    "check_context",
    "choose_context",
    "holds_lists",
    "run_associations",
]

#: A text column with more than this share of distinct values is taken for an
#: identifier or free text: its contexts would be single rows.
MAX_DISTINCT_SHARE = 0.5

_LIST_TYPES = (list, tuple, set, frozenset, dict, np.ndarray)


@dataclass(frozen=True, slots=True)
class AuditAssociations:
    """The associations section of an audit.

    Attributes
    ----------
    error_profile : Investigation or None
        Weak slices and error disparities between the sensitive groups, from
        :func:`seawall.associations.profile_errors` (misclassification for
        classification, absolute error for regression); None when skipped.
    output_associations : Investigation or None
        Contexts where a sensitive group's output (decision, or regression
        prediction) differs from the rest of the context, from
        :func:`seawall.associations.find_associations`; None when skipped.
    context : tuple of str
        The columns that defined the contexts.
    left_out : tuple of (str, str)
        The other columns not used, each with the reason.
    skipped : str or None
        Why the section did not run (too few rows, no usable column); None when it ran.
    max_depth : int
        The most conditions in a context.
    context_fingerprint : str or None
        SHA-256 of the context columns' values (the audit's fingerprint covers
        only the audited columns); None without context columns.
    """

    error_profile: Investigation | None
    output_associations: Investigation | None
    context: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...]
    skipped: str | None
    max_depth: int
    context_fingerprint: str | None

    @property
    def investigations(self) -> tuple[tuple[str, Investigation], ...]:
        """The investigations that ran, as ``(name, investigation)`` pairs."""
        pairs = (
            ("error_profile", self.error_profile),
            ("output_associations", self.output_associations),
        )
        return tuple((name, inv) for name, inv in pairs if inv is not None)

    def to_dict(self) -> dict[str, Any]:
        """The section as JSON-safe primitives with stable keys.

        Each investigation is written as by
        :meth:`~seawall.associations.Investigation.to_dict`, except that
        ``hypotheses`` lists only the confirmation stage (the candidates tested
        again) and ``n_hypotheses`` counts both stages: the search stage holds
        every context x group tested, up to millions of rows on wide data.
        ``seawall investigate`` writes every hypothesis.

        Returns
        -------
        dict
            ``skipped``, ``max_depth``, ``context``, ``left_out`` (records of
            column and reason), ``context_fingerprint``, ``error_profile`` and
            ``output_associations`` (each None when skipped).
        """
        return {
            "skipped": self.skipped,
            "max_depth": self.max_depth,
            "context": list(self.context),
            "left_out": [{"column": c, "reason": r} for c, r in self.left_out],
            "context_fingerprint": self.context_fingerprint,
            "error_profile": _record(self.error_profile),
            "output_associations": _record(self.output_associations),
        }


def _record(inv: Investigation | None) -> dict[str, Any] | None:
    """An investigation's ``to_dict()`` with the confirmation stage only, and both counts."""
    if inv is None:
        return None
    table = inv.hypotheses
    keep = [i for i, stage in enumerate(table.stage) if stage == "confirm"]
    columns: dict[str, Any] = {
        name: tuple(col[i] for i in keep) if isinstance(col, tuple) else frozen_array(col[keep])
        for name, col in table.columns().items()
    }
    doc = replace(inv, hypotheses=type(table)(**columns)).to_dict()
    doc["n_hypotheses"] = {"search": len(table) - len(keep), "confirm": len(keep)}
    return doc


def holds_lists(values: pd.Series) -> bool:
    """Whether a column holds lists (a multi-label column) in any row.

    Parameters
    ----------
    values : pandas.Series
        The column.

    Returns
    -------
    bool
        True for an Arrow list column, or an object column with a list, tuple, set,
        dict or array in some row.

    Examples
    --------
    >>> holds_lists(pd.Series(["a", ["b", "c"]])), holds_lists(pd.Series(["a", "b"]))
    (True, False)
    """
    if "list" in str(values.dtype):  # Arrow list columns
        return True
    if values.dtype != object:
        return False
    return bool(values.map(lambda v: isinstance(v, _LIST_TYPES)).any())


def _reason(values: pd.Series) -> str | None:
    """Why a column cannot define contexts, or None when it can."""
    if holds_lists(values):
        return "holds lists, not one value per row"
    n = int(values.notna().sum())
    distinct = int(values.nunique(dropna=True))
    if distinct <= 1:
        return "has one value only" if n else "is empty"
    kind = values.dtype.kind
    if kind in "fb":
        return None  # measurements are cut into quantile bins, whatever their values
    if distinct == n:
        return f"every one of its {n:,} values is distinct: an identifier"
    if kind not in "iu" and distinct > MAX_DISTINCT_SHARE * n:
        return (
            f"{distinct:,} distinct values in {n:,} rows (more than "
            f"{MAX_DISTINCT_SHARE:.0%}): an identifier or free text"
        )
    return None


def check_context(
    context: object, split_key: object, used: list[str], caller: str
) -> tuple[str, ...] | None:
    """Check the named context columns and the row key against the audited columns.

    Returns
    -------
    tuple of str or None
        The context columns (a single name becomes a tuple), or None to choose them.

    Raises
    ------
    InvalidParameterError
        On a context or key that is not a column name, a repeated context, a
        context that is an audited column, or the key among the contexts.

    Examples
    --------
    >>> check_context("region", "id", ["y", "p"], "audit")
    ('region',)
    """
    if split_key is not None and (not isinstance(split_key, str) or not split_key):
        raise param_error("split_key", caller, "a column name or None", split_key)
    if context is None:
        return None
    names = (context,) if isinstance(context, str) else context
    if not isinstance(names, list | tuple) or not all(isinstance(c, str) and c for c in names):
        raise param_error("context", caller, "a column name or a list of them", context)
    clash = [c for c in names if c in used or c == split_key]
    if clash:
        raise InvalidParameterError(
            f"{caller}: the context column {clash[0]!r} is also the label, prediction, score, "
            "a sensitive column or the split key; a context must be another column."
        )
    if len(set(names)) < len(names):
        raise param_error("context", caller, "distinct column names", context)
    return tuple(names)


def choose_context(frame: pd.DataFrame, used: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Pick the columns that define contexts among those the audit does not use.

    Parameters
    ----------
    frame : pandas.DataFrame
        The audited data.
    used : list of str
        The label, prediction, score and sensitive columns.

    Returns
    -------
    context : list of str
        The usable columns, in the data's order.
    left_out : list of (str, str)
        The others, each with its reason: lists, identifiers (integer or text
        columns whose every value is distinct, text columns with more than half
        distinct values), constant or empty columns, and repeated names.
        Real-valued columns are always kept: they are cut into quantile bins.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [0, 1] * 50, "id": range(100), "city": ["a", "b"] * 50,
    ...                    "x": [1.5] * 100})
    >>> choose_context(df, ["y"])
    (['city'], [('id', 'every one of its 100 values is distinct: an identifier'), \
('x', 'has one value only')])
    """
    names = [str(c) for c in frame.columns]
    repeated = {c for c, k in Counter(names).items() if k > 1}
    skip = set(used)
    context: list[str] = []
    left_out: list[tuple[str, str]] = []
    for j, name in enumerate(names):
        if name in skip:
            continue
        if name in repeated:
            left_out.append((name, "its name is repeated in the data"))
            continue
        reason = _reason(frame.iloc[:, j])
        if reason is None:
            context.append(name)
        else:
            left_out.append((name, reason))
    return context, left_out


def run_associations(
    frame: pd.DataFrame,
    used: list[str],
    y_true: np.ndarray[Any, Any],
    y_pred: np.ndarray[Any, Any],
    sensitive: pd.DataFrame,
    *,
    task: Literal["classification", "regression"],
    max_depth: int,
    random_state: int,
    context: tuple[str, ...] | None = None,
    split_key: object = None,
) -> AuditAssociations:
    """Search the data's other columns for weak slices, error disparities and associations.

    Parameters
    ----------
    frame : pandas.DataFrame
        The audited data.
    used : list of str
        The label, prediction, score and sensitive columns (not contexts).
    y_true, y_pred : ndarray of shape (n_samples,)
        The audit's validated labels and decisions (0/1), or real values for regression.
    sensitive : pandas.DataFrame
        The sensitive columns.
    task : {"classification", "regression"}
        Classification profiles misclassification and tests the decisions;
        regression profiles the absolute error and tests the mean prediction.
    max_depth : int
        The most conditions in a context.
    random_state : int
        The seed of the search/confirm split.
    context : tuple of str or None, default=None
        The context columns; None chooses them (:func:`choose_context`).
    split_key : array-like or None, default=None
        Row keys whose seeded hash splits search from confirmation; None
        splits the rows at random.

    Returns
    -------
    AuditAssociations
        The two investigations, or a reason they were skipped.
    """
    if context is None:
        chosen, left_out = choose_context(frame, used)
    else:
        chosen, left_out = list(context), []
    names = [str(c) for c in frame.columns]
    # By position and renamed to text: the data's own labels need not be strings.
    table = frame.iloc[:, [names.index(c) for c in chosen]].set_axis(chosen, axis=1)
    common: dict[str, Any] = {
        "context": table,
        "sensitive_features": sensitive,
        "max_depth": max_depth,
        "random_state": random_state,
    }
    if split_key is not None:
        common["split_key"] = split_key
    regression = task == "regression"

    def investigate() -> tuple[Investigation, Investigation]:
        errors = profile_errors(
            y_true, y_pred, error="absolute" if regression else "misclassification", **common
        )
        outputs = find_associations(
            y_pred, outcome="continuous" if regression else "binary", **common
        )
        return errors, outputs

    fingerprint = data_fingerprint(table, chosen) if chosen else None
    return assemble(chosen, left_out, max_depth, fingerprint, investigate)


def assemble(
    context: list[str],
    left_out: list[tuple[str, str]],
    max_depth: int,
    fingerprint: str | None,
    investigate: Callable[[], tuple[Investigation, Investigation]],
) -> AuditAssociations:
    """The section: the two investigations, or why they did not run.

    Parameters
    ----------
    context : list of str
        The context columns.
    left_out : list of (str, str)
        The columns left out, each with its reason.
    max_depth : int
        The most conditions in a context.
    fingerprint : str or None
        The context columns' fingerprint.
    investigate : callable
        Runs the error profile and the output associations (in memory or on a
        cluster); its :class:`~seawall.exceptions.InsufficientDataError` skips
        the section with the reason.

    Returns
    -------
    AuditAssociations
        The section.
    """

    def skipped(reason: str) -> AuditAssociations:
        return AuditAssociations(
            None, None, tuple(context), tuple(left_out), reason, max_depth, fingerprint
        )

    if not context:
        if left_out:
            return skipped("no other column can define contexts (see the columns left out)")
        return skipped(
            "the data have no column besides the label, prediction, score and sensitive ones"
        )
    try:
        errors, outputs = investigate()
    except InsufficientDataError as e:
        detail = str(e).rstrip(".")
        return skipped(f"too few rows to search on one half and confirm on the other ({detail})")
    return AuditAssociations(
        errors, outputs, tuple(context), tuple(left_out), None, max_depth, fingerprint
    )
