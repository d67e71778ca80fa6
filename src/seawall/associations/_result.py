"""The result of an investigation: findings for a person, every hypothesis for the record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from seawall._json import json_value
from seawall.metrics._table import ColumnTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HypothesisTable", "Investigation"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class HypothesisTable(ColumnTable):
    """Tested hypotheses, one row each.

    Attributes
    ----------
    kind : tuple of str
        ``"weak_slice"`` (a context's error against the rest of the data),
        ``"error_disparity"`` (the error of one protected group against the rest
        of a context), ``"association"`` (the output of one group against the
        rest of a context) or ``"label_association"`` (how often one output
        label is given to one group against the rest of a context).
    stage : tuple of str
        ``"search"`` (tested on the search split) or ``"confirm"`` (tested again
        on the held-out split).
    status : tuple of str
        Search rows: ``"candidate"`` (passed Bonferroni over the search) or
        ``"rejected"``. Confirmation rows: ``"finding"``, ``"shadow"`` (its
        effect is carried by a finding it overlaps), ``"explained"`` (it
        vanishes within the explanatory strata) or ``"not confirmed"``.
    context : tuple of str
        The context in words, e.g. ``"region = north and age = [18, 30)"``.
    depth : ndarray of float64
        Its number of conditions.
    group : tuple of str
        The protected group compared with the rest of the context ("" for weak slices).
    label : tuple of str
        The output label whose rate is compared (discovery over many labels),
        or for a categorical output the class whose rate differs most; ""
        otherwise.
    n_inside, n_outside : ndarray of float64
        Rows on each side: the context (or the group in it) and what it is
        compared with.
    inside, outside : ndarray of float64
        The rate (or mean) on each side (for a categorical output, the rate
        of ``label``); stratified (Mantel-Haenszel weights) with explanatory
        attributes.
    measure : tuple of str
        What ``difference`` holds: ``"difference"`` (``inside - outside``) or
        ``"nmi"`` (categorical outputs: the normalised mutual information of
        group and output class in the context, conditional on the explanatory
        strata).
    difference, difference_lower, difference_upper : ndarray of float64
        The effect (see ``measure``) and its interval, at the stage's level
        (the Bonferroni level of the stage).
    ratio, ratio_lower, ratio_upper : ndarray of float64
        ``inside / outside`` (the lift) and its interval; NaN for means and
        stratified effects.
    crude_difference : ndarray of float64
        The difference without stratification (equal to ``difference``
        without explanatory attributes).
    p_value, p_adjusted : ndarray of float64
        Raw and adjusted p-values (Bonferroni over the search; Holm or BH over
        the confirmation).
    level : ndarray of float64
        The confidence level of the row's intervals.
    """

    kind: tuple[str, ...]
    stage: tuple[str, ...]
    status: tuple[str, ...]
    context: tuple[str, ...]
    depth: FloatArray
    group: tuple[str, ...]
    label: tuple[str, ...]
    n_inside: FloatArray
    n_outside: FloatArray
    inside: FloatArray
    outside: FloatArray
    measure: tuple[str, ...]
    difference: FloatArray
    difference_lower: FloatArray
    difference_upper: FloatArray
    ratio: FloatArray
    ratio_lower: FloatArray
    ratio_upper: FloatArray
    crude_difference: FloatArray
    p_value: FloatArray
    p_adjusted: FloatArray
    level: FloatArray


@dataclass(frozen=True, slots=True)
class Investigation:
    """What an investigation found, and everything it tested.

    Attributes
    ----------
    findings : HypothesisTable
        The findings to review, best first (ranked by the end of the
        difference's interval nearest to 0), one per root cause.
    explained : HypothesisTable
        Associations confirmed without stratification that vanish within the
        explanatory attributes' strata.
    hypotheses : HypothesisTable
        Every hypothesis tested, in both stages.
    parameters : dict
        The investigation's parameters (JSON-safe).
    n_rows, n_search_rows, n_confirm_rows : int
        Rows in all and in each split.
    n_pruned : int
        Contexts the support bound ruled out without counting them.
    shadows : tuple of int
        Per finding, how many confirmed hypotheses were folded into it.
    """

    findings: HypothesisTable
    explained: HypothesisTable
    hypotheses: HypothesisTable
    parameters: dict[str, Any] = field(default_factory=dict)
    n_rows: int = 0
    n_search_rows: int = 0
    n_confirm_rows: int = 0
    n_pruned: int = 0
    shadows: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The whole result as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            ``findings``, ``explained`` and ``hypotheses`` as lists of records,
            and the counts and parameters.
        """
        return {
            "parameters": {k: json_value(v) for k, v in self.parameters.items()},
            "n_rows": self.n_rows,
            "n_search_rows": self.n_search_rows,
            "n_confirm_rows": self.n_confirm_rows,
            "n_pruned": self.n_pruned,
            "findings": [
                {**r, "shadows": s}
                for r, s in zip(self.findings.records(), self.shadows, strict=True)
            ],
            "explained": self.explained.records(),
            "hypotheses": self.hypotheses.records(),
        }

    def to_frame(self) -> pd.DataFrame:
        """The findings as a pandas DataFrame, one row each.

        Returns
        -------
        pandas.DataFrame
            The columns of :class:`HypothesisTable`.
        """
        return self.findings.to_frame()
