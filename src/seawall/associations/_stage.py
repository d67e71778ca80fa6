"""One stage of an investigation: its hypotheses, their effects and adjusted p-values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from seawall.associations._effects import Effect
from seawall.associations._problem import Problem, Sides
from seawall.metrics._significance import adjust_pvalues

__all__ = ["Stage", "make_stage"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Stage:
    """Hypotheses of one stage (search or confirmation), arrays of shape (m,)."""

    attributes: IntArray
    values: IntArray
    group: IntArray
    sides: Sides
    crude: Effect
    stratified: Effect | None
    p_adjusted: FloatArray
    level: FloatArray

    @property
    def main(self) -> Effect:
        """The effect that decides: stratified when there are explanatory attributes."""
        return self.crude if self.stratified is None else self.stratified


def make_stage(
    problem: Problem,
    attributes: IntArray,
    values: IntArray,
    group: IntArray,
    sides: Sides,
    level: float,
    correction: Literal["holm", "bh", "bonferroni"],
) -> Stage:
    """Effects (crude and, with strata, stratified) and adjusted p-values of hypotheses."""
    m = attributes.shape[0]
    levels = np.full(m, level)
    crude = sides.effect(problem.outcome, problem.alternative, levels, stratified=False)
    strat = (
        sides.effect(problem.outcome, problem.alternative, levels, stratified=True)
        if problem.n_strata > 1
        else None
    )
    p = (crude if strat is None else strat).p_value
    if correction == "bonferroni":
        adjusted = np.minimum(p * m, 1.0)
    else:
        adjusted = adjust_pvalues(p, correction)
    return Stage(attributes, values, group, sides, crude, strat, adjusted, levels)
